package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// Synth synthesizes the app as `cdk synth` does — with the "context" of the nearest
// cdk.json above the working directory (the feature flags), and ctx on top, given as
// on the command line (-c key=value) — and returns the stack's template as decoded
// JSON. The assembly is written to a temporary directory that is removed again.
//
// ctx usually sets lambdaDir to a directory holding <function>/bootstrap for every
// function it deploys (detect, respond, api, authorizer, train, and forward when a
// SIEM is configured); stand-in files will do.
func Synth(ctx map[string]string) (map[string]any, error) {
	outdir, err := os.MkdirTemp("", "vigil-synth-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(outdir)

	all, err := projectContext()
	if err != nil {
		return nil, err
	}
	for k, v := range ctx {
		all[k] = v
	}
	res, err := synthesize(all, outdir)
	if err != nil {
		return nil, err
	}
	return res.template, nil
}

// synthResult is a synthesized app.
type synthResult struct {
	app      awscdk.App
	stack    awscdk.Stack
	template map[string]any
}

// synthesize builds the app with context ctx into outdir and reads back the template;
// aspects are added to the app before synthesis (the tests add cdk-nag).
func synthesize(ctx map[string]any, outdir string, aspects ...awscdk.IAspect) (res *synthResult, err error) {
	defer func() {
		// jsii reports errors raised in node (validation, synthesis) as panics.
		if r := recover(); r != nil {
			err = synthPanicError(r)
		}
	}()
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(outdir)})
	for _, a := range aspects {
		awscdk.Aspects_Of(app).Add(a, nil)
	}
	stack, err := NewVigilStack(app, StackName, nil)
	if err != nil {
		return nil, err
	}
	app.Synth(nil)
	b, err := os.ReadFile(filepath.Join(outdir, *stack.TemplateFile()))
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	var tmpl map[string]any
	if err := json.Unmarshal(b, &tmpl); err != nil {
		return nil, fmt.Errorf("synth: %s: %w", *stack.TemplateFile(), err)
	}
	return &synthResult{app: app, stack: stack, template: tmpl}, nil
}

// synthPanicError returns the error of a panic recovered during synthesis: the
// panic's error wrapped (jsii panics with errors), or else its value formatted.
func synthPanicError(r any) error {
	if e, ok := r.(error); ok {
		return fmt.Errorf("synth: %w", e)
	}
	return fmt.Errorf("synth: %v", r)
}

// projectContext returns the "context" of the nearest cdk.json in the working directory
// or above it (up to the module root), or an empty context when there is none.
func projectContext() (map[string]any, error) {
	dir, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	for {
		path := filepath.Join(dir, "cdk.json")
		b, err := os.ReadFile(path)
		if err == nil {
			var f struct {
				Context map[string]any `json:"context"`
			}
			if err := json.Unmarshal(b, &f); err != nil {
				return nil, fmt.Errorf("parse %s: %w", path, err)
			}
			if f.Context == nil {
				f.Context = map[string]any{}
			}
			return f.Context, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return map[string]any{}, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return map[string]any{}, nil
		}
		dir = parent
	}
}

// StateMachineDefinition returns the definition (Amazon States Language JSON) of the one
// AWS::StepFunctions::StateMachine of a synthesized template, with the references to
// the stack's functions replaced by real ARNs, ready for CreateStateMachine.
//
// In the template the definition is an Fn::Join whose parts are strings and
// {"Fn::GetAtt": [<logical id>, "Arn"]} of Lambda functions. lambdaArns gives the ARN
// to use for each function by name (detect, respond, api, authorizer). A function's
// name is its VIGIL_FUNCTION environment variable, or else found from its logical id,
// which starts with the construct id of the function ("RespondFunction…"). Any
// other intrinsic function, or a function with no ARN in lambdaArns, is an error.
func StateMachineDefinition(template map[string]any, lambdaArns map[string]string) (string, error) {
	resources, _ := template["Resources"].(map[string]any)
	var ids []string
	for id, r := range resources {
		if res, _ := r.(map[string]any); res["Type"] == "AWS::StepFunctions::StateMachine" {
			ids = append(ids, id)
		}
	}
	if len(ids) != 1 {
		slices.Sort(ids)
		return "", fmt.Errorf("template has %d state machines %v, want exactly one", len(ids), ids)
	}
	props, _ := resources[ids[0]].(map[string]any)["Properties"].(map[string]any)
	switch def := props["DefinitionString"].(type) {
	case string:
		return def, nil
	case map[string]any:
		join, ok := def["Fn::Join"].([]any)
		if !ok || len(def) != 1 || len(join) != 2 {
			return "", fmt.Errorf("state machine %s: DefinitionString is %v, want a string or an Fn::Join", ids[0], keys(def))
		}
		sep, ok1 := join[0].(string)
		parts, ok2 := join[1].([]any)
		if !ok1 || !ok2 {
			return "", fmt.Errorf("state machine %s: malformed Fn::Join in DefinitionString", ids[0])
		}
		var out []string
		for _, p := range parts {
			switch v := p.(type) {
			case string:
				out = append(out, v)
			case map[string]any:
				arn, err := functionArn(resources, v, lambdaArns)
				if err != nil {
					return "", fmt.Errorf("state machine %s: %w", ids[0], err)
				}
				out = append(out, arn)
			default:
				return "", fmt.Errorf("state machine %s: unexpected %T in DefinitionString", ids[0], p)
			}
		}
		return strings.Join(out, sep), nil
	default:
		return "", fmt.Errorf("state machine %s: DefinitionString is %T, want a string or an Fn::Join", ids[0], def)
	}
}

// functionArn resolves {"Fn::GetAtt": [<id>, "Arn"]} of a Lambda function of resources
// to the ARN lambdaArns gives for its name.
func functionArn(resources, intrinsic map[string]any, lambdaArns map[string]string) (string, error) {
	att, ok := intrinsic["Fn::GetAtt"].([]any)
	if !ok || len(intrinsic) != 1 || len(att) != 2 || att[1] != "Arn" {
		return "", fmt.Errorf("unsupported intrinsic %v in DefinitionString: only Fn::GetAtt [<function>, Arn]", keys(intrinsic))
	}
	id, _ := att[0].(string)
	res, _ := resources[id].(map[string]any)
	if res == nil || res["Type"] != "AWS::Lambda::Function" {
		return "", fmt.Errorf("DefinitionString refers to %q, which is not a Lambda function of the template", id)
	}
	name := functionNameOf(id, res)
	if name == "" {
		return "", fmt.Errorf("cannot tell which function %s is: no %s and an unknown logical id", id, envFunction)
	}
	arn, ok := lambdaArns[name]
	if !ok {
		return "", fmt.Errorf("no ARN given for function %q (%s)", name, id)
	}
	return arn, nil
}

// functionNameOf returns the name of the function with logical id id: its VIGIL_FUNCTION,
// or the name whose construct id prefixes the logical id.
func functionNameOf(id string, res map[string]any) string {
	props, _ := res["Properties"].(map[string]any)
	env, _ := props["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	if name, ok := vars[envFunction].(string); ok && name != "" {
		return name
	}
	for _, name := range functionNames {
		if strings.HasPrefix(id, functionID(name)) {
			return name
		}
	}
	return ""
}

func keys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}
