package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"
)

// TestSynth: the exported helper synthesizes with cdk.json's context and the given
// context, as the CLI does.
func TestSynth(t *testing.T) {
	tmpl, err := Synth(map[string]string{ctxLambdaDir: testLambdaDir, ctxTaskPollSeconds: "1", ctxBusName: "vigil-it"})
	if err != nil {
		t.Fatalf("Synth: %v", err)
	}
	text, err := StateMachineDefinition(tmpl, map[string]string{fnRespond: testRespondArn})
	if err != nil {
		t.Fatalf("StateMachineDefinition: %v", err)
	}
	var def map[string]any
	if err := json.Unmarshal([]byte(text), &def); err != nil {
		t.Fatalf("definition: %v", err)
	}
	checkWorkflow(t, def, 1)
	_, bus := onlyResource(t, tmpl, "AWS::Events::EventBus")
	if bus["Name"] != "vigil-it" {
		t.Errorf("bus %v, want the context's vigil-it", bus["Name"])
	}

	if _, err := Synth(map[string]string{ctxLambdaDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "make lambdas") {
		t.Errorf("Synth without built functions: %v, want an error saying to run make lambdas", err)
	}
}

func TestStateMachineDefinition(t *testing.T) {
	getAtt := func(id string) map[string]any { return map[string]any{"Fn::GetAtt": []any{id, "Arn"}} }
	function := func(env map[string]any) map[string]any {
		p := map[string]any{"Runtime": "provided.al2023"}
		if env != nil {
			p["Environment"] = map[string]any{"Variables": env}
		}
		return map[string]any{"Type": "AWS::Lambda::Function", "Properties": p}
	}
	machine := func(def any) map[string]any {
		return map[string]any{"Type": "AWS::StepFunctions::StateMachine", "Properties": map[string]any{"DefinitionString": def}}
	}
	arns := map[string]string{"respond": "arn:respond", "detect": "arn:detect"}

	tests := []struct {
		name      string
		resources map[string]any
		want      string
		wantErr   string
	}{
		{
			name: "function named by VIGIL_FUNCTION",
			resources: map[string]any{
				"Fn1":  function(map[string]any{"VIGIL_FUNCTION": "respond"}),
				"Fn2":  function(map[string]any{"VIGIL_FUNCTION": "detect"}),
				"Flow": machine(map[string]any{"Fn::Join": []any{"", []any{`{"a":"`, getAtt("Fn1"), `","b":"`, getAtt("Fn2"), `"}`}}}),
			},
			want: `{"a":"arn:respond","b":"arn:detect"}`,
		},
		{
			name: "function named by its logical id",
			resources: map[string]any{
				"RespondFunction1EA4C39C": function(nil),
				"Flow":                    machine(map[string]any{"Fn::Join": []any{"-", []any{"x", getAtt("RespondFunction1EA4C39C")}}}),
			},
			want: `x-arn:respond`,
		},
		{
			name:      "plain string",
			resources: map[string]any{"Flow": machine(`{"StartAt":"A"}`)},
			want:      `{"StartAt":"A"}`,
		},
		{
			name:      "no state machine",
			resources: map[string]any{"Fn": function(nil)},
			wantErr:   "0 state machines",
		},
		{
			name:      "two state machines",
			resources: map[string]any{"A": machine("{}"), "B": machine("{}")},
			wantErr:   "2 state machines [A B]",
		},
		{
			name: "no ARN for the function",
			resources: map[string]any{
				"Fn":   function(map[string]any{"VIGIL_FUNCTION": "api"}),
				"Flow": machine(map[string]any{"Fn::Join": []any{"", []any{getAtt("Fn")}}}),
			},
			wantErr: `no ARN given for function "api"`,
		},
		{
			name: "unknown function",
			resources: map[string]any{
				"Mystery": function(nil),
				"Flow":    machine(map[string]any{"Fn::Join": []any{"", []any{getAtt("Mystery")}}}),
			},
			wantErr: "cannot tell which function Mystery is",
		},
		{
			name: "not a function",
			resources: map[string]any{
				"Queue": map[string]any{"Type": "AWS::SQS::Queue"},
				"Flow":  machine(map[string]any{"Fn::Join": []any{"", []any{getAtt("Queue")}}}),
			},
			wantErr: `"Queue", which is not a Lambda function`,
		},
		{
			name:      "other intrinsic",
			resources: map[string]any{"Flow": machine(map[string]any{"Fn::Join": []any{"", []any{map[string]any{"Ref": "AWS::Region"}}}})},
			wantErr:   "unsupported intrinsic [Ref]",
		},
		{
			name:      "not a join",
			resources: map[string]any{"Flow": machine(map[string]any{"Fn::Sub": "x"})},
			wantErr:   "want a string or an Fn::Join",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := StateMachineDefinition(map[string]any{"Resources": tt.resources}, arns)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("= %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestSynthPanicError(t *testing.T) {
	sentinel := errors.New("node: validation failed")
	tests := []struct {
		name    string
		r       any
		want    string
		wrapped error // errors.Is(err, wrapped); nil: wraps nothing
	}{
		{name: "error", r: sentinel, want: "synth: node: validation failed", wrapped: sentinel},
		{name: "wrapped error", r: fmt.Errorf("jsii: %w", sentinel), want: "synth: jsii: node: validation failed", wrapped: sentinel},
		{name: "string", r: "Field Props.x is required", want: "synth: Field Props.x is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := synthPanicError(tt.r)
			if err.Error() != tt.want {
				t.Errorf("error %q, want %q", err, tt.want)
			}
			if tt.wrapped != nil && !errors.Is(err, tt.wrapped) {
				t.Errorf("error %q does not wrap %v", err, tt.wrapped)
			}
			if tt.wrapped == nil && errors.Unwrap(err) != nil {
				t.Errorf("error %q wraps %v, want nothing", err, errors.Unwrap(err))
			}
		})
	}
}

// TestSynthesizeKeepsNodeError: an error node raises during synthesis (here: the
// output directory is a file) comes back wrapped, not flattened into a string.
func TestSynthesizeKeepsNodeError(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	mustWrite(t, notDir)
	ctx := maps.Clone(cdkContext)
	ctx[ctxLambdaDir] = testLambdaDir
	_, err := synthesize(ctx, notDir)
	if err == nil {
		t.Fatal("synthesize into a file succeeded, want an error")
	}
	if !strings.HasPrefix(err.Error(), "synth: ") || errors.Unwrap(err) == nil {
		t.Errorf("error %q (%T) does not wrap node's error", err, err)
	}
}
