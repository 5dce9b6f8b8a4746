package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// Helpers reading the decoded template (map[string]any) of a synthesized app.

// resourcesOf returns the resources of type typ by logical id.
func resourcesOf(tmpl map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	resources, _ := tmpl["Resources"].(map[string]any)
	for id, r := range resources {
		if res, ok := r.(map[string]any); ok && res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

// onlyResource returns the id and properties of the one resource of type typ.
func onlyResource(t *testing.T, tmpl map[string]any, typ string) (string, map[string]any) {
	t.Helper()
	found := resourcesOf(tmpl, typ)
	if len(found) != 1 {
		t.Fatalf("want exactly one %s, found %d: %v", typ, len(found), sortedKeys(found))
	}
	for id, r := range found {
		props, _ := r["Properties"].(map[string]any)
		return id, props
	}
	return "", nil
}

func props(res map[string]any) map[string]any {
	p, _ := res["Properties"].(map[string]any)
	return p
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// matchResource checks the resource id against pattern (as Template.hasResource does:
// objects match when they have at least the pattern's keys), reporting the difference.
func matchResource(t *testing.T, s *synthed, id string, pattern map[string]any) {
	t.Helper()
	resources, _ := s.json["Resources"].(map[string]any)
	res, ok := resources[id].(map[string]any)
	if !ok {
		t.Errorf("no resource %s", id)
		return
	}
	typ, _ := res["Type"].(string)
	msg := recovered(func() {
		one := assertions.Template_FromJSON(&map[string]any{"Resources": map[string]any{id: res}},
			&assertions.TemplateParsingOptions{SkipCyclicalDependenciesCheck: jsii.Bool(true)})
		one.HasResource(jsii.String(typ), pattern)
	})
	if msg != "" {
		t.Errorf("%s (%s): %s", id, typ, msg)
	}
}

// fn is a Lambda function of the template.
type fn struct {
	id    string
	props map[string]any
	env   map[string]any
	role  string // logical id of its role
}

// functionsByName returns the template's Lambda functions by their VIGIL_FUNCTION.
func functionsByName(t *testing.T, tmpl map[string]any) map[string]fn {
	t.Helper()
	out := map[string]fn{}
	for id, res := range resourcesOf(tmpl, "AWS::Lambda::Function") {
		p := props(res)
		env, _ := p["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		name, _ := vars[envFunction].(string)
		if name == "" {
			continue // functions CDK adds itself (none today)
		}
		if _, dup := out[name]; dup {
			t.Fatalf("two functions named %q", name)
		}
		role := ""
		if att, ok := p["Role"].(map[string]any)["Fn::GetAtt"].([]any); ok {
			role, _ = att[0].(string)
		}
		out[name] = fn{id: id, props: p, env: vars, role: role}
	}
	return out
}

// statement is one IAM policy statement, normalised.
type statement struct {
	Effect    string
	Actions   []string
	Resources []any
	Condition any
	Sid       string
}

// statementsOf returns the statements of every AWS::IAM::Policy attached to role.
func statementsOf(tmpl map[string]any, role string) []statement {
	var out []statement
	for _, res := range resourcesOf(tmpl, "AWS::IAM::Policy") {
		p := props(res)
		roles, _ := p["Roles"].([]any)
		if !slices.ContainsFunc(roles, func(r any) bool { return reflect.DeepEqual(r, ref(role)) }) {
			continue
		}
		doc, _ := p["PolicyDocument"].(map[string]any)
		stmts, _ := doc["Statement"].([]any)
		for _, s := range stmts {
			m, _ := s.(map[string]any)
			st := statement{Condition: m["Condition"]}
			st.Effect, _ = m["Effect"].(string)
			st.Sid, _ = m["Sid"].(string)
			switch a := m["Action"].(type) {
			case string:
				st.Actions = []string{a}
			case []any:
				for _, x := range a {
					st.Actions = append(st.Actions, x.(string))
				}
			}
			switch r := m["Resource"].(type) {
			case []any:
				st.Resources = r
			default:
				st.Resources = []any{r}
			}
			out = append(out, st)
		}
	}
	return out
}

// allows reports whether one Allow statement grants action on resource.
func allows(stmts []statement, action string, resource any) bool {
	for _, s := range stmts {
		if s.Effect == "Allow" && slices.Contains(s.Actions, action) &&
			slices.ContainsFunc(s.Resources, func(r any) bool { return reflect.DeepEqual(r, resource) }) {
			return true
		}
	}
	return false
}

// grantedOn returns the actions the statements allow on resource.
func grantedOn(stmts []statement, resource any) []string {
	var out []string
	for _, s := range stmts {
		if s.Effect == "Allow" && slices.ContainsFunc(s.Resources, func(r any) bool { return reflect.DeepEqual(r, resource) }) {
			out = append(out, s.Actions...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func join(parts ...any) map[string]any { return map[string]any{"Fn::Join": []any{"", parts}} }

// render turns an Fn::Join (or a plain string) into a string, replacing each
// intrinsic function by what subst returns for it.
func render(t *testing.T, v any, subst func(map[string]any) string) string {
	t.Helper()
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		j, ok := x["Fn::Join"].([]any)
		if !ok {
			return subst(x)
		}
		var b strings.Builder
		for i, p := range j[1].([]any) {
			if i > 0 {
				b.WriteString(j[0].(string))
			}
			b.WriteString(render(t, p, subst))
		}
		return b.String()
	}
	t.Fatalf("cannot render %T %v", v, v)
	return ""
}

// refName renders {"Ref": id} as "<id>" and {"Fn::GetAtt": [id, att]} as "<id.att>".
func refName(m map[string]any) string {
	if r, ok := m["Ref"].(string); ok {
		return "<" + r + ">"
	}
	if a, ok := m["Fn::GetAtt"].([]any); ok {
		return fmt.Sprintf("<%v.%v>", a[0], a[1])
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// walkStrings calls f with every string of v, recursively.
func walkStrings(v any, f func(string)) {
	switch x := v.(type) {
	case string:
		f(x)
	case map[string]any:
		for k, e := range x {
			f(k)
			walkStrings(e, f)
		}
	case []any:
		for _, e := range x {
			walkStrings(e, f)
		}
	}
}

// walkValues calls f with every string value of v (not the keys), recursively.
func walkValues(v any, f func(string)) {
	switch x := v.(type) {
	case string:
		f(x)
	case map[string]any:
		for _, e := range x {
			walkValues(e, f)
		}
	case []any:
		for _, e := range x {
			walkValues(e, f)
		}
	}
}
