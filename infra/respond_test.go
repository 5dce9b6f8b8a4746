package main

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const testRespondArn = "arn:aws:lambda:us-east-1:123456789012:function:vigil-respond"

// definition returns the rendered and decoded state machine definition of s.
func definition(t *testing.T, s *synthed) (string, map[string]any) {
	t.Helper()
	text, err := StateMachineDefinition(s.json, map[string]string{fnRespond: testRespondArn})
	if err != nil {
		t.Fatalf("StateMachineDefinition: %v", err)
	}
	var def map[string]any
	if err := json.Unmarshal([]byte(text), &def); err != nil {
		t.Fatalf("definition is not JSON: %v\n%s", err, text)
	}
	return text, def
}

// TestResponseWorkflow checks the state machine against the agreed shape, state by state.
func TestResponseWorkflow(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  map[string]any
		poll float64
	}{
		{"default poll", nil, 5},
		{"taskPollSeconds=1", customContext, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, def := definition(t, synthApp(t, tc.ctx))
			checkWorkflow(t, def, tc.poll)
		})
	}
}

func checkWorkflow(t *testing.T, def map[string]any, poll float64) {
	if def["StartAt"] != "isolate?" {
		t.Errorf("StartAt = %v, want isolate?", def["StartAt"])
	}
	states, _ := def["States"].(map[string]any)

	retry := []any{map[string]any{
		"ErrorEquals": []any{"Lambda.ServiceException", "Lambda.AWSLambdaException",
			"Lambda.SdkClientException", "Lambda.TooManyRequestsException"},
		"IntervalSeconds": 1.0, "MaxAttempts": 3.0, "BackoffRate": 2.0,
	}}
	catch := []any{map[string]any{"ErrorEquals": []any{"States.ALL"}, "ResultPath": "$.error", "Next": "Response failed"}}
	task := func(resultPath, next string) map[string]any {
		return map[string]any{"Type": "Task", "Resource": testRespondArn, "ResultPath": resultPath,
			"Next": next, "Retry": retry, "Catch": catch}
	}
	boolChoice := func(variable, next, dflt string) map[string]any {
		return map[string]any{"Type": "Choice", "Choices": []any{
			map[string]any{"Variable": variable, "BooleanEquals": true, "Next": next},
		}, "Default": dflt}
	}

	// The contract, written out.
	want := map[string]map[string]any{}
	actions := []string{"isolate", "kill", "snapshot"}
	for i, a := range actions {
		next := "notify?"
		if i+1 < len(actions) {
			next = actions[i+1] + "?"
		}
		want[a+"?"] = boolChoice("$.steps."+a, a+": request", next)
		want[a+": request"] = map[string]any{"Type": "Pass", "Result": map[string]any{"op": "create_task", "action": a},
			"ResultPath": "$.request", "Next": a + ": create task"}
		want[a+": create task"] = task("$."+a+"_task", a+": wait")
		want[a+": wait"] = map[string]any{"Type": "Wait", "Seconds": poll, "Next": a + ": check request"}
		want[a+": check request"] = map[string]any{"Type": "Pass", "Result": map[string]any{"op": "check_task", "action": a},
			"ResultPath": "$.request", "Next": a + ": check task"}
		want[a+": check task"] = task("$."+a+"_status", a+": done?")
		want[a+": done?"] = map[string]any{"Type": "Choice", "Choices": []any{
			map[string]any{"Variable": "$." + a + "_status.status", "StringEquals": "done", "Next": next},
			map[string]any{"Variable": "$." + a + "_status.status", "StringEquals": "pending", "Next": a + ": wait"},
		}, "Default": "Response failed"}
	}
	want["notify?"] = boolChoice("$.steps.notify", "notify: request", "Done")
	want["notify: request"] = map[string]any{"Type": "Pass", "Result": map[string]any{"op": "notify"},
		"ResultPath": "$.request", "Next": "notify"}
	want["notify"] = task("$.notify_result", "Done")
	want["Done"] = map[string]any{"Type": "Succeed"}

	if got, wantNames := sortedKeys(states), append(sortedKeys(want), "Response failed"); !slices.Equal(got, sortedStrings(wantNames)) {
		t.Errorf("states\n got %v\nwant %v", got, sortedStrings(wantNames))
	}
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			got, _ := states[name].(map[string]any)
			if !reflect.DeepEqual(got, w) {
				g, _ := json.Marshal(got)
				e, _ := json.Marshal(w)
				t.Errorf("state %q\n got %s\nwant %s", name, g, e)
			}
		})
	}
	failed, _ := states["Response failed"].(map[string]any)
	if failed["Type"] != "Fail" || failed["Error"] != "TaskFailed" {
		t.Errorf(`"Response failed" = %v, want a Fail state with Error "TaskFailed"`, failed)
	}
}

func sortedStrings(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// TestResponseWorkflowRunsLocally: only what stepfunctions-local implements.
func TestResponseWorkflowRunsLocally(t *testing.T) {
	text, def := definition(t, synthApp(t, nil))
	for _, banned := range []string{`"Parameters"`, `"TimeoutSeconds"`, `"HeartbeatSeconds"`, `arn:aws:states:::`,
		`"ItemsPath"`, `"ResultSelector"`, `"QueryLanguage"`, `"Arguments"`, `"Output"`, `"Assign"`} {
		if strings.Contains(text, banned) {
			t.Errorf("definition uses %s", banned)
		}
	}
	allowed := map[string][]string{
		"Pass":    {"Type", "Result", "ResultPath", "Next"},
		"Choice":  {"Type", "Choices", "Default"},
		"Wait":    {"Type", "Seconds", "Next"},
		"Task":    {"Type", "Resource", "ResultPath", "Next", "End", "Retry", "Catch"},
		"Succeed": {"Type"},
		"Fail":    {"Type", "Error", "Cause"},
	}
	states, _ := def["States"].(map[string]any)
	for name, s := range states {
		st, _ := s.(map[string]any)
		typ, _ := st["Type"].(string)
		fields, ok := allowed[typ]
		if !ok {
			t.Errorf("state %q has type %q", name, typ)
			continue
		}
		for k := range st {
			if !slices.Contains(fields, k) {
				t.Errorf("state %q (%s) has field %s", name, typ, k)
			}
		}
		if typ == "Task" && st["Resource"] != testRespondArn {
			t.Errorf("task %q runs %v, want the respond function's ARN", name, st["Resource"])
		}
		for _, next := range transitions(st) {
			if _, ok := states[next]; !ok {
				t.Errorf("state %q goes to %q, which does not exist", name, next)
			}
		}
	}
	// Every state is reachable from StartAt.
	seen := map[string]bool{}
	var visit func(string)
	visit = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		st, _ := states[name].(map[string]any)
		for _, n := range transitions(st) {
			visit(n)
		}
	}
	visit(def["StartAt"].(string))
	for name := range states {
		if !seen[name] {
			t.Errorf("state %q is unreachable", name)
		}
	}
}

// transitions returns the states st can go to.
func transitions(st map[string]any) []string {
	var out []string
	if n, ok := st["Next"].(string); ok {
		out = append(out, n)
	}
	if n, ok := st["Default"].(string); ok {
		out = append(out, n)
	}
	for _, key := range []string{"Choices", "Catch"} {
		list, _ := st[key].([]any)
		for _, c := range list {
			if n, ok := c.(map[string]any)["Next"].(string); ok {
				out = append(out, n)
			}
		}
	}
	return out
}

func TestResponseStateMachine(t *testing.T) {
	s := synthApp(t, nil)
	id, p := onlyResource(t, s.json, "AWS::StepFunctions::StateMachine")
	var logGroup string
	for lid := range resourcesOf(s.json, "AWS::Logs::LogGroup") {
		if strings.HasPrefix(lid, "ResponseLogs") {
			logGroup = lid
		}
	}
	if logGroup == "" {
		t.Fatal("no ResponseLogs log group")
	}
	matchResource(t, s, id, map[string]any{"Properties": map[string]any{
		"StateMachineType":     "STANDARD",
		"TracingConfiguration": map[string]any{"Enabled": true},
		"LoggingConfiguration": map[string]any{
			"Level":                "ALL",
			"IncludeExecutionData": true,
			"Destinations": []any{map[string]any{
				"CloudWatchLogsLogGroup": map[string]any{"LogGroupArn": arn(logGroup)},
			}},
		},
	}})
	if _, ok := p["DefinitionString"].(map[string]any)["Fn::Join"]; !ok {
		t.Errorf("DefinitionString is %T, want an Fn::Join carrying the function ARN", p["DefinitionString"])
	}

	role, _ := p["RoleArn"].(map[string]any)["Fn::GetAtt"].([]any)
	if len(role) != 2 {
		t.Fatalf("RoleArn = %v", p["RoleArn"])
	}
	respond := functionsByName(t, s.json)[fnRespond]
	stmts := statementsOf(s.json, role[0].(string))
	if !allows(stmts, "lambda:InvokeFunction", arn(respond.id)) {
		t.Errorf("the state machine's role cannot invoke the respond function: %v", stmts)
	}
	for _, st := range stmts {
		for _, a := range st.Actions {
			if a == "lambda:InvokeFunction" && !slices.ContainsFunc(st.Resources, func(r any) bool {
				return reflect.DeepEqual(r, arn(respond.id))
			}) {
				t.Errorf("the state machine may invoke %v", st.Resources)
			}
		}
	}
}
