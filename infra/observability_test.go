package main

import (
	"reflect"
	"slices"
	"testing"
)

func TestAlarms(t *testing.T) {
	s := synthApp(t, nil)
	fns := functionsByName(t, s.json)
	detectDLQ := resourceIDs(t, s.tmpl).queue
	smID, _ := onlyResource(t, s.json, "AWS::StepFunctions::StateMachine")
	var pagingDLQ string
	for id := range resourcesOf(s.json, "AWS::SQS::Queue") {
		if id != detectDLQ {
			pagingDLQ = id
		}
	}

	type alarm struct {
		namespace, metric, statistic string
		dimensions                   []any
		threshold                    float64
	}
	fnDim := func(name string) []any {
		return []any{map[string]any{"Name": "FunctionName", "Value": ref(fns[name].id)}}
	}
	queueDim := func(id string) []any {
		return []any{map[string]any{"Name": "QueueName", "Value": map[string]any{"Fn::GetAtt": []any{id, "QueueName"}}}}
	}
	want := map[string]alarm{
		"detect iterator age": {"AWS/Lambda", "IteratorAge", "Maximum", fnDim(fnDetect), 60000},
		"detect DLQ depth":    {"AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", queueDim(detectDLQ), 0},
		"paging DLQ depth":    {"AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", queueDim(pagingDLQ), 0},
		"response failures":   {"AWS/States", "ExecutionsFailed", "Sum", []any{map[string]any{"Name": "StateMachineArn", "Value": ref(smID)}}, 0},
		"detect errors":       {"AWS/Lambda", "Errors", "Sum", fnDim(fnDetect), 0},
		"respond errors":      {"AWS/Lambda", "Errors", "Sum", fnDim(fnRespond), 0},
		"api errors":          {"AWS/Lambda", "Errors", "Sum", fnDim(fnAPI), 0},
		"authorizer errors":   {"AWS/Lambda", "Errors", "Sum", fnDim(fnAuthorizer), 0},
		"train errors":        {"AWS/Lambda", "Errors", "Sum", fnDim(fnTrain), 0},
	}
	alarms := resourcesOf(s.json, "AWS::CloudWatch::Alarm")
	if len(alarms) != len(want) {
		t.Errorf("%d alarms, want %d", len(alarms), len(want))
	}
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			for _, a := range alarms {
				p := props(a)
				if p["Namespace"] != w.namespace || p["MetricName"] != w.metric || !reflect.DeepEqual(p["Dimensions"], w.dimensions) {
					continue
				}
				if p["Statistic"] != w.statistic || p["Threshold"] != w.threshold ||
					p["ComparisonOperator"] != "GreaterThanThreshold" || p["TreatMissingData"] != "notBreaching" {
					t.Errorf("alarm %v %v %v %v, want %s > %v", p["Statistic"], p["ComparisonOperator"], p["Threshold"],
						p["TreatMissingData"], w.statistic, w.threshold)
				}
				return
			}
			t.Errorf("no alarm on %s %s %v", w.namespace, w.metric, w.dimensions)
		})
	}
}

func TestDatadog(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  map[string]any
		on   bool
	}{
		{"off by default", nil, false},
		{"on with datadogApiKeySecretArn", customContext, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := synthApp(t, tc.ctx)
			fns := functionsByName(t, s.json)
			if tc.on && len(fns) != len(functionNames) {
				t.Errorf("functions %v, want every one of %v", sortedKeys(fns), functionNames)
			}
			for name, f := range fns {
				ddEnv := map[string]any{}
				for k, v := range f.env {
					if len(k) > 3 && k[:3] == "DD_" {
						ddEnv[k] = v
					}
				}
				stmts := statementsOf(s.json, f.role)
				granted := allows(stmts, "secretsmanager:GetSecretValue", testDatadogSecretArn)
				if !tc.on {
					if f.props["Layers"] != nil || len(ddEnv) > 0 || granted {
						t.Errorf("%s: Datadog without context: layers %v env %v secret %v", name, f.props["Layers"], ddEnv, granted)
					}
					continue
				}
				wantLayers := []any{join("arn:", ref("AWS::Partition"), ":lambda:", ref("AWS::Region"),
					":464622532012:layer:Datadog-Extension-ARM:70")}
				if !reflect.DeepEqual(f.props["Layers"], wantLayers) {
					t.Errorf("%s: layers %v, want %v", name, f.props["Layers"], wantLayers)
				}
				wantEnv := map[string]any{
					"DD_API_KEY_SECRET_ARN":      testDatadogSecretArn,
					"DD_SITE":                    "datadoghq.eu",
					"DD_SERVERLESS_LOGS_ENABLED": "false",
				}
				if !reflect.DeepEqual(ddEnv, wantEnv) {
					t.Errorf("%s: Datadog env %v, want %v", name, ddEnv, wantEnv)
				}
				if !granted {
					t.Errorf("%s: cannot read the Datadog API key secret", name)
				}
			}
		})
	}
}

func TestOutputsForUserData(t *testing.T) {
	s := synthApp(t, nil)
	outputs, _ := s.json["Outputs"].(map[string]any)
	want := []string{"ApiUrl", "AthenaWorkGroup", "BusName", "DetectDeadLetterQueueUrl", "LakeBucketName",
		"PagerDutySecretArn", "SensorInstanceProfileName", "StateMachineArn", "StreamName", "TaskBellsTableName"}
	if got := sortedKeys(outputs); !slices.Equal(got, want) {
		t.Errorf("outputs %v, want %v", got, want)
	}
}
