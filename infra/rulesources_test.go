package main

import (
	"io/fs"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
)

// TestRuleSources: ruleSources become a layer of the detect and api functions
// with VIGIL_RULE_SOURCES naming where each source is in it (and
// VIGIL_BUILTIN_RULES=false with builtinRules=false); no other function gets them.
func TestRuleSources(t *testing.T) {
	sources := "testdata/rulesources/site,testdata/rulesources/tuning.yaml"
	tests := []struct {
		name    string
		ctx     map[string]any
		wantEnv map[string]any
	}{
		{"with the pack", map[string]any{"ruleSources": sources},
			map[string]any{"VIGIL_RULE_SOURCES": "/opt/vigil-rules/0/site:/opt/vigil-rules/1/rulesources/tuning.yaml"}},
		{"without the pack", map[string]any{"ruleSources": sources, "builtinRules": "false"},
			map[string]any{"VIGIL_RULE_SOURCES": "/opt/vigil-rules/0/site:/opt/vigil-rules/1/rulesources/tuning.yaml", "VIGIL_BUILTIN_RULES": "false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := synthApp(t, tt.ctx)
			layerID, p := onlyResource(t, s.json, "AWS::Lambda::LayerVersion")
			if !reflect.DeepEqual(p["CompatibleRuntimes"], []any{"provided.al2023"}) || !reflect.DeepEqual(p["CompatibleArchitectures"], []any{"arm64"}) {
				t.Errorf("layer %v", p)
			}
			for name, f := range functionsByName(t, s.json) {
				got := map[string]any{}
				for _, k := range []string{"VIGIL_RULE_SOURCES", "VIGIL_BUILTIN_RULES"} {
					if v, ok := f.env[k]; ok {
						got[k] = v
					}
				}
				want, wantLayers := map[string]any{}, any(nil)
				if name == fnDetect || name == fnAPI {
					want, wantLayers = tt.wantEnv, []any{ref(layerID)}
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: rule environment %v, want %v", name, got, want)
				}
				if !reflect.DeepEqual(f.props["Layers"], wantLayers) {
					t.Errorf("%s: layers %v, want %v", name, f.props["Layers"], wantLayers)
				}
			}
		})
	}
}

// TestRuleSourcesRefused: rules that do not load, or that would load differently
// in the layer, fail the synth with the reason and add no stack.
func TestRuleSourcesRefused(t *testing.T) {
	tests := []struct {
		name    string
		sources string
		wantErr []string
	}{
		{"a broken rule", "testdata/rulesources/site,testdata/rulesources/broken",
			[]string{`context "ruleSources": the rules do not load:`, `testdata/rulesources/broken/bad.yaml:4: rule bad: unknown path "event/COMAND_LINE": did you mean event/COMMAND_LINE?`}},
		{"a missing source", "testdata/rulesources/nothing", []string{"testdata/rulesources/nothing: not a directory or file of rules"}},
		{"a selector above a source", "testdata/rulesources/site,testdata/rulesources/above_source_tuning.yaml",
			[]string{"the rules copied into the layer do not load as the sources do", "disabled only where the sources are: curl_pipe_shell, xmrig_started"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newTestApp(t, map[string]any{"ruleSources": tt.sources})
			_, err := NewVigilStack(app, StackName, nil)
			for _, want := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v, want %q", err, want)
				}
			}
			if n := len(*app.Node().Children()); n != 0 {
				if _, ok := app.Node().TryFindChild(&[]string{StackName}[0]).(awscdk.Stack); ok {
					t.Errorf("the stack was added despite the error")
				}
			}
		})
	}
}

// TestStageRuleSources: the layer holds the files the rules were loaded from, each
// source under <index>/<base name>, and nothing else.
func TestStageRuleSources(t *testing.T) {
	out := t.TempDir()
	l, err := stageRuleSources(Config{RuleSources: []string{"testdata/rulesources/site", "testdata/rulesources/tuning.yaml",
		"testdata/rulesources/site/curl_pipe_shell.yaml"}}, out)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/opt/vigil-rules/0/site", "/opt/vigil-rules/1/rulesources/tuning.yaml"}; !slices.Equal(l.deployed, want) {
		t.Errorf("deployed %v, want %v (a file an earlier source read adds nothing)", l.deployed, want)
	}
	var files []string
	err = filepath.WalkDir(l.staging, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(l.staging, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"vigil-rules/0/site/curl_pipe_shell.yaml", "vigil-rules/0/site/falco/xmrig.yaml", "vigil-rules/1/rulesources/tuning.yaml"}
	if !slices.Equal(files, want) {
		t.Errorf("layer files %v, want %v", files, want)
	}
	if l, err := stageRuleSources(Config{}, out); l != nil || err != nil {
		t.Errorf("without ruleSources: %v, %v", l, err)
	}
}
