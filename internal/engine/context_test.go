package engine

import (
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-sec/vigil/internal/event"
)

// TestContextPaths runs testdata/context/cases.yaml: each case is one
// detection node (op, path, value, re, values, case sensitive) against the
// file's event, with the match it must give or the error it must fail with.
func TestContextPaths(t *testing.T) {
	data, err := os.ReadFile("testdata/context/cases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Event map[string]any   `yaml:"event"`
		Cases []map[string]any `yaml:"cases"`
	}
	if err := yaml.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	ev, err := event.FromTree(file.Event)
	if err != nil {
		t.Fatal(err)
	}
	if len(file.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range file.Cases {
		name, _ := c["name"].(string)
		t.Run(name, func(t *testing.T) {
			typ := event.NewProcess
			if s, ok := c["event"].(string); ok {
				typ = s
			}
			wantErr, _ := c["error"].(string)
			match, _ := c["match"].(bool)
			node := map[string]any{}
			for k, v := range c {
				switch k {
				case "name", "event", "error", "match":
				default:
					node[k] = v
				}
			}
			body, err := yaml.Marshal(map[string]any{
				"detection": map[string]any{"event": typ, "op": "and", "rules": []any{node}},
				"response":  []any{map[string]any{"action": "report", "name": "r"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			r, err := Parse("context.yaml", body)
			if wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), wantErr) {
					t.Fatalf("error %v, want one containing %q", err, wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Matches(&ev); got != match {
				t.Fatalf("Matches = %v, want %v", got, match)
			}
		})
	}
}
