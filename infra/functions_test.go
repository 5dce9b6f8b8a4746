package main

import (
	"reflect"
	"slices"
	"testing"

	"github.com/vigil-sec/vigil/internal/anomaly"
)

// stackIDs are the logical ids of the resources the functions' settings point at.
type stackIDs struct {
	stream, key, lake, bus, stateMachine, secret   string
	detections, sensors, tasks, apiKeys, ruleState string
	bells, workGroup                               string
}

func idsOf(t *testing.T, s *synthed) stackIDs {
	t.Helper()
	tables := tableIDs(t, s.json)
	var ids stackIDs
	ids.stream, _ = onlyResource(t, s.json, "AWS::Kinesis::Stream")
	ids.key, _ = onlyResource(t, s.json, "AWS::KMS::Key")
	ids.bus, _ = onlyResource(t, s.json, "AWS::Events::EventBus")
	ids.stateMachine, _ = onlyResource(t, s.json, "AWS::StepFunctions::StateMachine")
	if secrets := resourcesOf(s.json, "AWS::SecretsManager::Secret"); len(secrets) == 1 {
		ids.secret = sortedKeys(secrets)[0]
	}
	ids.lake = resourceIDs(t, s.tmpl).lake
	ids.workGroup, _ = onlyResource(t, s.json, "AWS::Athena::WorkGroup")
	ids.detections, ids.sensors, ids.tasks = tables["DetectionsTable"], tables["SensorsTable"], tables["TasksTable"]
	ids.apiKeys, ids.ruleState, ids.bells = tables["ApiKeysTable"], tables["RuleStateTable"], tables["TaskBellsTable"]
	return ids
}

func TestFunctions(t *testing.T) {
	s := synthApp(t, nil)
	fns := functionsByName(t, s.json)
	if got, want := sortedKeys(fns), []string{"api", "authorizer", "detect", "respond", "train"}; !slices.Equal(got, want) {
		t.Fatalf("functions %v, want %v (no forward without a SIEM)", got, want)
	}
	ids := idsOf(t, s)

	tests := []struct {
		name    string
		memory  float64
		timeout float64
		env     map[string]any // exactly these variables
	}{
		{
			name: fnDetect, memory: 1024, timeout: 60,
			env: map[string]any{
				"VIGIL_FUNCTION":          "detect",
				"VIGIL_DETECTIONS_TABLE":  ref(ids.detections),
				"VIGIL_SENSORS_TABLE":     ref(ids.sensors),
				"VIGIL_STATE_TABLE":       ref(ids.ruleState),
				"VIGIL_BUS_NAME":          ref(ids.bus),
				"VIGIL_STATE_MACHINE_ARN": ref(ids.stateMachine),
				"VIGIL_LAKE_BUCKET":       ref(ids.lake),
				"VIGIL_MODEL_KEY":         anomaly.DefaultModelKey,
				"VIGIL_TASKS_TABLE":       ref(ids.tasks),
				"GOGC":                    "off",
				"GOMEMLIMIT":              "768MiB",
			},
		},
		{
			name: fnTrain, memory: 1024, timeout: 900,
			env: map[string]any{
				"VIGIL_FUNCTION":         "train",
				"VIGIL_LAKE_BUCKET":      ref(ids.lake),
				"VIGIL_MODEL_KEY":        anomaly.DefaultModelKey,
				"VIGIL_TRAIN_DAYS":       "7",
				"VIGIL_ANOMALY_GROUP_BY": "env",
			},
		},
		{
			name: fnRespond, memory: 256, timeout: 30,
			env: map[string]any{
				"VIGIL_FUNCTION":             "respond",
				"VIGIL_TASKS_TABLE":          ref(ids.tasks),
				"VIGIL_TASK_BELLS_TABLE":     ref(ids.bells),
				"VIGIL_PAGERDUTY_SECRET_ARN": ref(ids.secret),
			},
		},
		{
			name: fnAPI, memory: 256, timeout: 29,
			env: map[string]any{
				"VIGIL_FUNCTION":               "api",
				"VIGIL_ATHENA_WORKGROUP":       ref(ids.workGroup),
				"VIGIL_GLUE_DATABASE":          "vigil",
				"VIGIL_GLUE_TABLE":             "events",
				"VIGIL_GLUE_ALL_SENSORS_TABLE": "events_all_sensors",
				"VIGIL_DETECTIONS_TABLE":       ref(ids.detections),
				"VIGIL_SENSORS_TABLE":          ref(ids.sensors),
				"VIGIL_TASKS_TABLE":            ref(ids.tasks),
				"VIGIL_TASK_BELLS_TABLE":       ref(ids.bells),
				"VIGIL_API_KEYS_TABLE":         ref(ids.apiKeys),
				"VIGIL_INGEST_STREAM":          ref(ids.stream),
			},
		},
		{
			name: fnAuthorizer, memory: 128, timeout: 5,
			env: map[string]any{
				"VIGIL_FUNCTION":       "authorizer",
				"VIGIL_API_KEYS_TABLE": ref(ids.apiKeys),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fns[tt.name]
			want := map[string]any{
				"Runtime":       "provided.al2023",
				"Architectures": []any{"arm64"},
				"Handler":       "bootstrap",
				"MemorySize":    tt.memory,
				"Timeout":       tt.timeout,
			}
			for k, v := range want {
				if !reflect.DeepEqual(f.props[k], v) {
					t.Errorf("%s = %v, want %v", k, f.props[k], v)
				}
			}
			if !reflect.DeepEqual(f.env, tt.env) {
				t.Errorf("environment\n got %v\nwant %v", f.env, tt.env)
			}
			if f.props["Layers"] != nil {
				t.Errorf("layers %v without Datadog context", f.props["Layers"])
			}
			// the api function, invoked for every task poll, leaves the
			// runtime's START and REPORT lines out of its log
			var logging any
			if tt.name == fnAPI {
				logging = map[string]any{"LogFormat": "JSON", "SystemLogLevel": "WARN", "ApplicationLogLevel": "INFO"}
			}
			if !reflect.DeepEqual(f.props["LoggingConfig"], logging) {
				t.Errorf("LoggingConfig = %v, want %v", f.props["LoggingConfig"], logging)
			}
		})
	}
}

func TestFunctionGrants(t *testing.T) {
	s := synthApp(t, nil)
	fns := functionsByName(t, s.json)
	ids := idsOf(t, s)
	index := func(table string) any { return join(arn(table), "/index/*") }

	readTable := []string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:Scan"}
	writeTable := []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
	type grant struct {
		actions  []string
		resource any
	}
	tests := []struct {
		name string
		want []grant // each action on the resource
		not  []grant // none of these actions on the resource
	}{
		{
			name: fnDetect,
			want: []grant{
				{append(readTable, writeTable...), arn(ids.detections)},
				{[]string{"dynamodb:Query"}, index(ids.detections)},
				{append(readTable, writeTable...), arn(ids.sensors)},
				{append(readTable, writeTable...), arn(ids.ruleState)},
				{[]string{"events:PutEvents"}, arn(ids.bus)},
				{[]string{"states:StartExecution"}, ref(ids.stateMachine)},
				{[]string{"s3:GetObject"}, join(arn(ids.lake), "/models/*")},
				{[]string{"kms:Decrypt"}, arn(ids.key)},
				{[]string{"kinesis:GetRecords", "kinesis:GetShardIterator"}, arn(ids.stream)},
				{append(readTable, writeTable...), arn(ids.tasks)},
			},
			not: []grant{
				{append(readTable, writeTable...), arn(ids.apiKeys)},
				{[]string{"s3:GetObject"}, join(arn(ids.lake), "/*")},
				{append(readTable, writeTable...), arn(ids.bells)}, // it stores ended tasks only
			},
		},
		{
			name: fnRespond,
			want: []grant{
				{append(readTable, writeTable...), arn(ids.tasks)},
				{[]string{"dynamodb:Query"}, index(ids.tasks)},
				{[]string{"secretsmanager:GetSecretValue"}, ref(ids.secret)},
				{[]string{"dynamodb:UpdateItem"}, arn(ids.bells)}, // rings a task's bell
			},
			not: []grant{
				{[]string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:PutItem", "dynamodb:DeleteItem"}, arn(ids.bells)},
				{append(readTable, writeTable...), arn(ids.detections)},
				{append(readTable, writeTable...), arn(ids.apiKeys)},
				{[]string{"events:PutEvents"}, arn(ids.bus)},
			},
		},
		{
			name: fnAPI,
			want: []grant{
				{readTable, arn(ids.detections)},
				{[]string{"dynamodb:UpdateItem"}, arn(ids.detections)}, // a detection's triage
				{[]string{"dynamodb:Query"}, index(ids.detections)},
				{readTable, arn(ids.sensors)},
				{append(readTable, writeTable...), arn(ids.tasks)},
				{[]string{"dynamodb:Query"}, index(ids.tasks)},
				{append(readTable, writeTable...), arn(ids.apiKeys)}, // the keys routes
				{[]string{"kinesis:PutRecords"}, arn(ids.stream)},    // the audit webhook
				// the audit webhook's records; the lake's events and the search results (events/search)
				{[]string{"kms:GenerateDataKey", "kms:Decrypt"}, arn(ids.key)},
				{[]string{"dynamodb:UpdateItem"}, arn(ids.bells)}, // rings a task's bell
			},
			not: []grant{
				{[]string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:PutItem", "dynamodb:DeleteItem"}, arn(ids.bells)},
				{[]string{"kinesis:GetRecords", "kinesis:GetShardIterator"}, arn(ids.stream)},
				{[]string{"dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}, arn(ids.detections)},
				{writeTable, arn(ids.sensors)},
				{[]string{"events:PutEvents"}, arn(ids.bus)},
			},
		},
		{
			name: fnTrain,
			want: []grant{
				{[]string{"s3:ListBucket"}, arn(ids.lake)},
				{[]string{"s3:GetObject"}, join(arn(ids.lake), "/events/*")},
				{[]string{"s3:PutObject"}, join(arn(ids.lake), "/"+anomaly.DefaultModelKey)},
				{[]string{"kms:Decrypt", "kms:GenerateDataKey"}, arn(ids.key)},
			},
			not: []grant{
				{[]string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, join(arn(ids.lake), "/*")},
				{[]string{"s3:PutObject"}, join(arn(ids.lake), "/events/*")},
				{[]string{"s3:PutObject"}, join(arn(ids.lake), "/models/*")},
				{append(readTable, writeTable...), arn(ids.detections)},
				{[]string{"events:PutEvents"}, arn(ids.bus)},
				{[]string{"kinesis:GetRecords"}, arn(ids.stream)},
			},
		},
		{
			name: fnAuthorizer,
			want: []grant{{[]string{"dynamodb:GetItem", "dynamodb:Query"}, arn(ids.apiKeys)}},
			not: []grant{
				{writeTable, arn(ids.apiKeys)},
				{append(readTable, writeTable...), arn(ids.detections)},
				{append(readTable, writeTable...), arn(ids.tasks)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stmts := statementsOf(s.json, fns[tt.name].role)
			for _, g := range tt.want {
				for _, a := range g.actions {
					if !allows(stmts, a, g.resource) {
						t.Errorf("no %s on %s; granted there: %v", a, refName(asMap(g.resource)), grantedOn(stmts, g.resource))
					}
				}
			}
			for _, g := range tt.not {
				for _, a := range g.actions {
					if allows(stmts, a, g.resource) {
						t.Errorf("%s on %s granted, want not", a, refName(asMap(g.resource)))
					}
				}
			}
			for _, st := range stmts {
				if st.Effect == "Allow" && slices.Contains(st.Resources, any("*")) {
					t.Errorf("statement %v allows on every resource", st.Actions)
				}
			}
		})
	}
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
