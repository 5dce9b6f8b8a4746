package main

import (
	"reflect"
	"testing"
)

func TestTrainSettings(t *testing.T) {
	for _, tc := range []struct {
		name          string
		ctx           map[string]any
		days, groupBy string
	}{
		{"defaults", nil, "7", "env"},
		{"trainDays and anomalyGroupBy", customContext, "3", "team"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := functionsByName(t, synthApp(t, tc.ctx).json)[fnTrain]
			if f.env["VIGIL_TRAIN_DAYS"] != tc.days || f.env["VIGIL_ANOMALY_GROUP_BY"] != tc.groupBy {
				t.Errorf("VIGIL_TRAIN_DAYS %v, VIGIL_ANOMALY_GROUP_BY %v; want %s, %s",
					f.env["VIGIL_TRAIN_DAYS"], f.env["VIGIL_ANOMALY_GROUP_BY"], tc.days, tc.groupBy)
			}
		})
	}
}

// TestModelKey: the detect function reads the model where the train function writes it.
func TestModelKey(t *testing.T) {
	fns := functionsByName(t, synthApp(t, nil).json)
	if d, tr := fns[fnDetect].env["VIGIL_MODEL_KEY"], fns[fnTrain].env["VIGIL_MODEL_KEY"]; d != tr || d != "models/host_activity.json" {
		t.Errorf("VIGIL_MODEL_KEY detect %v, train %v; want both models/host_activity.json", d, tr)
	}
}

func TestTrainSchedule(t *testing.T) {
	s := synthApp(t, nil)
	fns := functionsByName(t, s.json)
	train := fns[fnTrain]
	_, schedule := onlyResource(t, s.json, "AWS::Scheduler::Schedule")
	target, _ := schedule["Target"].(map[string]any)
	roleArn, _ := target["RoleArn"].(map[string]any)
	att, _ := roleArn["Fn::GetAtt"].([]any)
	if len(att) != 2 {
		t.Fatalf("schedule role %v", target["RoleArn"])
	}
	role := att[0].(string)

	tests := []struct {
		name string
		got  any
		want any
	}{
		{"expression", schedule["ScheduleExpression"], "cron(0 3 * * ? *)"},
		{"time zone", schedule["ScheduleExpressionTimezone"], "Etc/UTC"},
		{"no flexible window", schedule["FlexibleTimeWindow"], map[string]any{"Mode": "OFF"}},
		{"enabled", schedule["State"], "ENABLED"},
		{"target", target["Arn"], arn(train.id)},
		{"retry policy", target["RetryPolicy"], map[string]any{"MaximumRetryAttempts": 10.0, "MaximumEventAgeInSeconds": 21600.0}},
		{"no input", target["Input"], nil},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, tt.got, tt.want)
		}
	}

	matchResource(t, s, role, map[string]any{"Properties": map[string]any{
		"AssumeRolePolicyDocument": map[string]any{"Statement": []any{map[string]any{
			"Action":    "sts:AssumeRole",
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": "scheduler.amazonaws.com"},
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": ref("AWS::AccountId")}},
		}}},
	}})
	stmts := statementsOf(s.json, role)
	if !allows(stmts, "lambda:InvokeFunction", arn(train.id)) {
		t.Errorf("the schedule's role cannot invoke the train function: %v", stmts)
	}
	for _, st := range stmts {
		for _, a := range st.Actions {
			if a != "lambda:InvokeFunction" {
				t.Errorf("the schedule's role may %s", a)
			}
		}
		for _, r := range st.Resources {
			if rs := refName(asMap(r)); !reflect.DeepEqual(r, arn(train.id)) && rs != refName(join(arn(train.id), ":*")) {
				t.Errorf("the schedule's role acts on %s", rs)
			}
		}
	}

	// A failed run is tried once more, not twice (each may take 15 minutes).
	for _, r := range resourcesOf(s.json, "AWS::Lambda::EventInvokeConfig") {
		if p := props(r); reflect.DeepEqual(p["FunctionName"], ref(train.id)) {
			if p["MaximumRetryAttempts"] != 1.0 {
				t.Errorf("train retries %v, want 1", p["MaximumRetryAttempts"])
			}
			return
		}
	}
	t.Error("no asynchronous invocation settings for the train function")
}

// TestTrainListsEventsOnly: s3:ListBucket on the lake carries the events/ prefix condition.
func TestTrainListsEventsOnly(t *testing.T) {
	s := synthApp(t, nil)
	train := functionsByName(t, s.json)[fnTrain]
	lake := resourceIDs(t, s.tmpl).lake
	want := map[string]any{"StringLike": map[string]any{"s3:prefix": []any{"events/*"}}}
	found := false
	for _, st := range statementsOf(s.json, train.role) {
		for _, a := range st.Actions {
			if a != "s3:ListBucket" {
				continue
			}
			found = true
			if !reflect.DeepEqual(st.Resources, []any{arn(lake)}) || !reflect.DeepEqual(st.Condition, want) {
				t.Errorf("s3:ListBucket on %v if %v, want on the lake if %v", st.Resources, st.Condition, want)
			}
		}
	}
	if !found {
		t.Error("the train function cannot list the lake")
	}
}
