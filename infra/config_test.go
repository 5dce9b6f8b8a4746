package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
)

func TestConfigFromContext(t *testing.T) {
	tests := []struct {
		name    string
		ctx     map[string]any
		want    Config
		wantErr string // substring; empty means no error
	}{
		{
			name: "defaults",
			want: withDefaults(Config{StreamMode: awskinesis.StreamMode_ON_DEMAND, LakeGlacierDays: 30, LakeRetention: 365, LambdaDir: "bin"}),
		},
		{
			name: "command line strings",
			ctx:  map[string]any{"streamMode": "provisioned", "shardCount": "4", "lakeGlacierDays": "60", "lakeRetentionDays": "730", "lambdaDir": "out/lambdas"},
			want: withDefaults(Config{StreamMode: awskinesis.StreamMode_PROVISIONED, ShardCount: 4, LakeGlacierDays: 60, LakeRetention: 730, LambdaDir: "out/lambdas"}),
		},
		{
			name: "cdk.json numbers",
			ctx:  map[string]any{"streamMode": "PROVISIONED", "shardCount": float64(2), "lakeGlacierDays": float64(180), "lakeRetentionDays": float64(400)},
			want: withDefaults(Config{StreamMode: awskinesis.StreamMode_PROVISIONED, ShardCount: 2, LakeGlacierDays: 180, LakeRetention: 400, LambdaDir: "bin"}),
		},
		{
			name: "provisioned defaults to one shard",
			ctx:  map[string]any{"streamMode": "provisioned"},
			want: withDefaults(Config{StreamMode: awskinesis.StreamMode_PROVISIONED, ShardCount: 1, LambdaDir: "bin"}),
		},
		{
			name: "enum spelling of on-demand",
			ctx:  map[string]any{"streamMode": "ON_DEMAND"},
			want: withDefaults(Config{StreamMode: awskinesis.StreamMode_ON_DEMAND, LambdaDir: "bin"}),
		},
		{
			name: "every key",
			ctx: map[string]any{
				"busName": "vigil-prod", "taskPollSeconds": "1",
				"pagerDutySecretArn":      "arn:aws:secretsmanager:us-east-1:123456789012:secret:vigil/pd-AbC123",
				"datadogApiKeySecretArn":  "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:dd-key-xYz789",
				"datadogSite":             "datadoghq.eu",
				"datadogExtensionVersion": float64(70),
			},
			want: withDefaults(Config{
				BusName: "vigil-prod", TaskPollSeconds: 1,
				PagerDutySecretArn:      "arn:aws:secretsmanager:us-east-1:123456789012:secret:vigil/pd-AbC123",
				DatadogAPIKeySecretArn:  "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:dd-key-xYz789",
				DatadogSite:             "datadoghq.eu",
				DatadogExtensionVersion: 70,
			}),
		},
		{
			name: "training and SIEM keys",
			ctx: map[string]any{
				"trainDays": float64(14), "anomalyGroupBy": "-",
				"splunkHecUrl":           "https://splunk.example.com:8088",
				"splunkTokenSecretArn":   "arn:aws:secretsmanager:us-east-1:123456789012:secret:splunk-hec-AbC123",
				"elasticUrl":             "https://es.example.com",
				"elasticApiKeySecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:es-key-DeF456",
			},
			want: withDefaults(Config{
				TrainDays: 14, AnomalyGroupBy: "-",
				SplunkHecURL:           "https://splunk.example.com:8088",
				SplunkTokenSecretArn:   "arn:aws:secretsmanager:us-east-1:123456789012:secret:splunk-hec-AbC123",
				ElasticURL:             "https://es.example.com",
				ElasticAPIKeySecretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:es-key-DeF456",
			}),
		},
		{
			name: "elasticsearch only",
			ctx: map[string]any{
				"elasticUrl":             "https://es.example.com",
				"elasticApiKeySecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:es-key-DeF456",
			},
			want: withDefaults(Config{
				ElasticURL:             "https://es.example.com",
				ElasticAPIKeySecretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:es-key-DeF456",
			}),
		},
		{
			// 10 hosts × 100 events/s: 10 records/s of 6,285 B, 0.07 of a shard planned
			// at 70 %: provisioned, 1 shard ($11.32 a month against $46.57 on-demand).
			name: "small fleet",
			ctx:  map[string]any{"fleetHosts": "10", "eventsPerHost": "100"},
			want: withDefaults(Config{StreamMode: awskinesis.StreamMode_PROVISIONED, ShardCount: 1,
				FleetHosts: 10, EventsPerHost: 100, FleetRegion: "us-east-1", StreamFromFleet: true}),
		},
		{
			// 10,000 hosts × one record a second of 4,540 + 100 × 17.45 = 6,285 B:
			// 62,850,000 B/s / 734,003.2 B/s a shard = 85.6 → 86.
			name: "large fleet from cdk.json numbers",
			ctx:  map[string]any{"fleetHosts": float64(10000), "eventsPerHost": float64(100), "fleetRegion": "eu-central-1"},
			want: withDefaults(Config{StreamMode: awskinesis.StreamMode_PROVISIONED, ShardCount: 86,
				FleetHosts: 10000, EventsPerHost: 100, FleetRegion: "eu-central-1", StreamFromFleet: true}),
		},
		{
			name: "streamMode given wins over the fleet",
			ctx:  map[string]any{"fleetHosts": "10000", "eventsPerHost": "100", "streamMode": "on-demand"},
			want: withDefaults(Config{StreamMode: awskinesis.StreamMode_ON_DEMAND,
				FleetHosts: 10000, EventsPerHost: 100, FleetRegion: "us-east-1"}),
		},
		{name: "fleet hosts alone", ctx: map[string]any{"fleetHosts": "10"}, wantErr: `"fleetHosts" and "eventsPerHost" go together`},
		{name: "fleet region alone", ctx: map[string]any{"fleetRegion": "us-east-1"}, wantErr: `"fleetRegion" is set`},
		{name: "zero fleet", ctx: map[string]any{"fleetHosts": "0", "eventsPerHost": "100"}, wantErr: `"fleetHosts": want a positive integer`},
		{name: "negative rate", ctx: map[string]any{"fleetHosts": "10", "eventsPerHost": "-1"}, wantErr: `"eventsPerHost": want a positive number`},
		{
			name:    "unknown fleet region",
			ctx:     map[string]any{"fleetHosts": "10", "eventsPerHost": "1", "fleetRegion": "xx-1"},
			wantErr: `no prices for region "xx-1": known regions are eu-central-1, eu-west-1, us-east-1, us-west-2`,
		},
		{name: "zero train days", ctx: map[string]any{"trainDays": "0"}, wantErr: `"trainDays"`},
		{name: "train days beyond 90", ctx: map[string]any{"trainDays": "91"}, wantErr: "at most 90"},
		{name: "group by with a space", ctx: map[string]any{"anomalyGroupBy": "a b"}, wantErr: `"anomalyGroupBy"`},
		{name: "empty group by", ctx: map[string]any{"anomalyGroupBy": ""}, wantErr: `"anomalyGroupBy"`},
		{
			name:    "splunk URL without its secret",
			ctx:     map[string]any{"splunkHecUrl": "https://splunk.example.com:8088"},
			wantErr: `"splunkHecUrl" is set but "splunkTokenSecretArn" is not`,
		},
		{
			name:    "elastic URL without its secret",
			ctx:     map[string]any{"elasticUrl": "https://es.example.com"},
			wantErr: `"elasticUrl" is set but "elasticApiKeySecretArn" is not`,
		},
		{
			name:    "splunk secret without its URL",
			ctx:     map[string]any{"splunkTokenSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:splunk-hec-AbC123"},
			wantErr: `"splunkTokenSecretArn" is set but "splunkHecUrl" is not`,
		},
		{
			name:    "partial splunk secret ARN",
			ctx:     map[string]any{"splunkHecUrl": "https://splunk.example.com", "splunkTokenSecretArn": "splunk-hec"},
			wantErr: `"splunkTokenSecretArn": want the complete ARN`,
		},
		{
			name:    "partial elastic secret ARN",
			ctx:     map[string]any{"elasticUrl": "https://es.example.com", "elasticApiKeySecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:es"},
			wantErr: `"elasticApiKeySecretArn": want the complete ARN`,
		},
		{
			name:    "plain http SIEM",
			ctx:     map[string]any{"elasticUrl": "http://es.example.com", "elasticApiKeySecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:es-key-DeF456"},
			wantErr: `"elasticUrl": want an https:// URL`,
		},
		{
			name: "SIEM base URLs with a trailing slash",
			ctx: map[string]any{
				"splunkHecUrl":           "https://splunk.example.com:8088/",
				"splunkTokenSecretArn":   "arn:aws:secretsmanager:us-east-1:123456789012:secret:splunk-hec-AbC123",
				"elasticUrl":             "https://es.example.com/",
				"elasticApiKeySecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:es-key-DeF456",
			},
			want: withDefaults(Config{
				SplunkHecURL:           "https://splunk.example.com:8088/",
				SplunkTokenSecretArn:   "arn:aws:secretsmanager:us-east-1:123456789012:secret:splunk-hec-AbC123",
				ElasticURL:             "https://es.example.com/",
				ElasticAPIKeySecretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:es-key-DeF456",
			}),
		},
		{
			// The forward function appends /services/collector/event: this would be doubled.
			name:    "splunk URL with the collector path",
			ctx:     map[string]any{"splunkHecUrl": "https://splunk.example.com:8088/services/collector/event", "splunkTokenSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:splunk-hec-AbC123"},
			wantErr: `"splunkHecUrl": want the base URL, https://splunk.example.com:8088, without path`,
		},
		{
			name:    "elastic URL with the bulk path",
			ctx:     map[string]any{"elasticUrl": "https://es.example.com/_bulk", "elasticApiKeySecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:es-key-DeF456"},
			wantErr: `"elasticUrl": want the base URL, https://es.example.com, without path`,
		},
		{
			name:    "SIEM URL with a query",
			ctx:     map[string]any{"splunkHecUrl": "https://splunk.example.com:8088?channel=x", "splunkTokenSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:splunk-hec-AbC123"},
			wantErr: `"splunkHecUrl": want the base URL`,
		},
		{
			name:    "SIEM URL without a host",
			ctx:     map[string]any{"splunkHecUrl": "https:///collector", "splunkTokenSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:splunk-hec-AbC123"},
			wantErr: `"splunkHecUrl"`,
		},
		{name: "bus named default", ctx: map[string]any{"busName": "default"}, wantErr: `"busName"`},
		{name: "bus name with a slash", ctx: map[string]any{"busName": "a/b"}, wantErr: `"busName"`},
		{name: "zero poll seconds", ctx: map[string]any{"taskPollSeconds": "0"}, wantErr: `"taskPollSeconds"`},
		{name: "secret name instead of ARN", ctx: map[string]any{"pagerDutySecretArn": "vigil/pd"}, wantErr: `"pagerDutySecretArn"`},
		{
			name:    "partial secret ARN",
			ctx:     map[string]any{"datadogApiKeySecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:dd-key"},
			wantErr: "complete ARN",
		},
		{name: "datadog site URL", ctx: map[string]any{"datadogSite": "https://datadoghq.eu"}, wantErr: `"datadogSite"`},
		{name: "datadog extension version", ctx: map[string]any{"datadogExtensionVersion": "latest"}, wantErr: `"datadogExtensionVersion"`},
		{name: "unknown stream mode", ctx: map[string]any{"streamMode": "turbo"}, wantErr: `"streamMode"`},
		{name: "stream mode not a string", ctx: map[string]any{"streamMode": float64(1)}, wantErr: `"streamMode"`},
		{name: "shard count with on-demand", ctx: map[string]any{"shardCount": "2"}, wantErr: "only valid with streamMode=provisioned"},
		{name: "zero shards", ctx: map[string]any{"streamMode": "provisioned", "shardCount": "0"}, wantErr: `"shardCount"`},
		{name: "shard count not a number", ctx: map[string]any{"streamMode": "provisioned", "shardCount": "many"}, wantErr: `"shardCount"`},
		{name: "fractional shard count", ctx: map[string]any{"streamMode": "provisioned", "shardCount": 2.5}, wantErr: `"shardCount"`},
		{name: "negative glacier days", ctx: map[string]any{"lakeGlacierDays": "-1"}, wantErr: `"lakeGlacierDays"`},
		{name: "glacier days of the wrong type", ctx: map[string]any{"lakeGlacierDays": true}, wantErr: `"lakeGlacierDays"`},
		{name: "zero retention", ctx: map[string]any{"lakeRetentionDays": "0"}, wantErr: `context "lakeRetentionDays": want a positive integer, got 0`},
		{name: "retention not a number", ctx: map[string]any{"lakeRetentionDays": "1y"}, wantErr: `context "lakeRetentionDays": want a positive integer`},
		{name: "fractional retention", ctx: map[string]any{"lakeRetentionDays": 36.5}, wantErr: `context "lakeRetentionDays": want a positive integer, got 36.5`},
		{name: "retention shorter than the move to Glacier", ctx: map[string]any{"lakeRetentionDays": "20"},
			wantErr: `context "lakeRetentionDays" (20) must be greater than "lakeGlacierDays" (30): lake events would expire before they move`},
		{name: "retention equal to the move to Glacier", ctx: map[string]any{"lakeRetentionDays": float64(90), "lakeGlacierDays": "90"},
			wantErr: `context "lakeRetentionDays" (90) must be greater than "lakeGlacierDays" (90)`},
		{name: "short retention with an earlier move", ctx: map[string]any{"lakeRetentionDays": "14", "lakeGlacierDays": "7"},
			want: withDefaults(Config{LakeGlacierDays: 7, LakeRetention: 14})},
		{name: "empty lambda dir", ctx: map[string]any{"lambdaDir": " "}, wantErr: `"lambdaDir"`},
		{name: "lambda dir not a string", ctx: map[string]any{"lambdaDir": float64(3)}, wantErr: `"lambdaDir"`},
	}
	tests = append(tests, []struct {
		name    string
		ctx     map[string]any
		want    Config
		wantErr string
	}{
		{name: "rule sources on the command line", ctx: map[string]any{"ruleSources": "rules/site, tuning.yaml"},
			want: withDefaults(Config{RuleSources: []string{"rules/site", "tuning.yaml"}})},
		{name: "rule sources in cdk.json, without the pack", ctx: map[string]any{"ruleSources": []any{"rules/site"}, "builtinRules": false},
			want: withDefaults(Config{RuleSources: []string{"rules/site"}, NoBuiltinRules: true})},
		{name: "the pack said on", ctx: map[string]any{"builtinRules": "true"}, want: withDefaults(Config{})},
		{name: "no rules at all", ctx: map[string]any{"builtinRules": "false"}, wantErr: `context "builtinRules" is false but "ruleSources" is not set`},
		{name: "empty rule sources", ctx: map[string]any{"ruleSources": " , "}, wantErr: `context "ruleSources": want at least one directory or file of rules`},
		{name: "rule sources not paths", ctx: map[string]any{"ruleSources": []any{"a", float64(3)}}, wantErr: `context "ruleSources": want paths, got 3`},
		{name: "builtinRules not a boolean", ctx: map[string]any{"builtinRules": "nope"}, wantErr: `context "builtinRules": want true or false, got "nope"`},
		{name: "EKS log groups on the command line", ctx: map[string]any{"eksAuditLogGroups": "/aws/eks/prod-eu/cluster, /aws/eks/staging_2/cluster"},
			want: withDefaults(Config{EKSAuditLogGroups: []string{"/aws/eks/prod-eu/cluster", "/aws/eks/staging_2/cluster"}})},
		{name: "EKS log groups in cdk.json", ctx: map[string]any{"eksAuditLogGroups": []any{"/aws/eks/prod/cluster"}},
			want: withDefaults(Config{EKSAuditLogGroups: []string{"/aws/eks/prod/cluster"}})},
		{name: "a log group of no EKS cluster", ctx: map[string]any{"eksAuditLogGroups": "/aws/eks/prod/cluster,/app/logs"},
			wantErr: `context "eksAuditLogGroups": log group "/app/logs" is not an EKS cluster's: want /aws/eks/<cluster>/cluster`},
		{name: "a cluster name EKS refuses", ctx: map[string]any{"eksAuditLogGroups": "/aws/eks/-prod/cluster"},
			wantErr: `log group "/aws/eks/-prod/cluster" is not an EKS cluster's`},
		{name: "a log group twice", ctx: map[string]any{"eksAuditLogGroups": []any{"/aws/eks/a/cluster", "/aws/eks/a/cluster"}},
			wantErr: `context "eksAuditLogGroups": log group "/aws/eks/a/cluster" named twice`},
		{name: "no log group", ctx: map[string]any{"eksAuditLogGroups": " "},
			wantErr: `context "eksAuditLogGroups": want at least one log group, /aws/eks/<cluster>/cluster, got " "`},
		{name: "log groups not names", ctx: map[string]any{"eksAuditLogGroups": float64(1)},
			wantErr: `context "eksAuditLogGroups": want comma-separated log group names or a list of log group names, got 1 (float64)`},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConfigFromContext(func(key string) any { return tt.ctx[key] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ConfigFromContext(%v) error = %v, want one containing %q", tt.ctx, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ConfigFromContext(%v): %v", tt.ctx, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ConfigFromContext(%v) = %+v, want %+v", tt.ctx, got, tt.want)
			}
		})
	}
}

// withDefaults fills the fields of want that a test leaves zero with the defaults.
func withDefaults(want Config) Config {
	if want.LambdaDir == "" {
		want.LambdaDir = "bin"
	}
	if want.LakeGlacierDays == 0 {
		want.LakeGlacierDays = 30
	}
	if want.LakeRetention == 0 {
		want.LakeRetention = 365
	}
	if want.StreamMode == "" {
		want.StreamMode = awskinesis.StreamMode_ON_DEMAND
	}
	if want.BusName == "" {
		want.BusName = "vigil"
	}
	if want.TaskPollSeconds == 0 {
		want.TaskPollSeconds = 5
	}
	if want.TrainDays == 0 {
		want.TrainDays = 7
	}
	if want.AnomalyGroupBy == "" {
		want.AnomalyGroupBy = "env"
	}
	if want.DatadogSite == "" {
		want.DatadogSite = "datadoghq.com"
	}
	if want.DatadogExtensionVersion == 0 {
		want.DatadogExtensionVersion = 65
	}
	return want
}

func TestFunctionCodeDir(t *testing.T) {
	root := t.TempDir()
	mustWrite(t, filepath.Join(root, "ok", "detect", "bootstrap"))
	if err := os.MkdirAll(filepath.Join(root, "dir", "detect", "bootstrap"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "empty", "detect"), 0o755); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		lambdaDir string
		want      string
		wantErr   []string
	}{
		{name: "built", lambdaDir: filepath.Join(root, "ok"), want: filepath.Join(root, "ok", "detect")},
		{name: "no lambda dir", lambdaDir: filepath.Join(root, "missing"), wantErr: []string{"make lambdas", filepath.Join(root, "missing", "detect", "bootstrap")}},
		{name: "no bootstrap", lambdaDir: filepath.Join(root, "empty"), wantErr: []string{"make lambdas", "lambdaDir"}},
		{name: "bootstrap is a directory", lambdaDir: filepath.Join(root, "dir"), wantErr: []string{"is a directory", "make lambdas"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := functionCodeDir(tt.lambdaDir, "detect")
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("functionCodeDir(%q) = %q, want an error", tt.lambdaDir, got)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("functionCodeDir(%q) error %q does not mention %q", tt.lambdaDir, err, s)
					}
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("functionCodeDir(%q) = %q, %v; want %q, nil", tt.lambdaDir, got, err, tt.want)
			}
		})
	}
}

// mustWrite creates path (and its directories) holding a stand-in executable.
func mustWrite(t testing.TB, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}
