{{/* The release's full name, at most 63 characters. */}}
{{- define "vigil-sensor.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels every object carries. */}}
{{- define "vigil-sensor.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "vigil-sensor.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Labels the DaemonSet selects its pods by. */}}
{{- define "vigil-sensor.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "vigil-sensor.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "vigil-sensor.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the API key ("" when none is mounted). */}}
{{- define "vigil-sensor.apiKeySecret" -}}
{{- if .Values.apiKey.existingSecret -}}
{{- .Values.apiKey.existingSecret -}}
{{- else if .Values.apiKey.value -}}
{{- include "vigil-sensor.fullname" . -}}
{{- end -}}
{{- end -}}

{{/* The sensor's configuration file: config, with the settings the chart owns. */}}
{{- define "vigil-sensor.config" -}}
{{- $c := deepCopy .Values.config -}}
{{- $health := dict "listen" (printf "127.0.0.1:%d" (int .Values.health.port)) "failure_threshold" .Values.health.failureThreshold -}}
{{- $_ := set $c "health" $health -}}
{{- $spool := merge (dict "dir" "/var/lib/vigil/spool") (default dict (get $c "spool")) -}}
{{- $_ := set $spool "dir" "/var/lib/vigil/spool" -}}
{{- $_ := set $c "spool" $spool -}}
{{- if include "vigil-sensor.apiKeySecret" . -}}
{{- $respond := default dict (get $c "respond") -}}
{{- $_ := set $respond "api_key_file" "/etc/vigil/secret/api-key" -}}
{{- $_ := set $respond "state_file" "/var/lib/vigil/respond.json" -}}
{{- $_ := set $c "respond" $respond -}}
{{- end -}}
{{- toYaml $c -}}
{{- end -}}
