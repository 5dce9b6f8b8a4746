package main

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vigil-sec/vigil/internal/testcheck"
)

// TestServerListsRuleSources: the API lists the rule set its environment names,
// as the detect function evaluates it.
func TestServerListsRuleSources(t *testing.T) {
	tests := []struct {
		name    string
		sources string
		builtin string
		has     []string
		wantErr string
	}{
		{name: "the pack and the site's rules", sources: filepath.Join("testdata", "site"), has: []string{"root_shell", "reverse_shell_netcat"}},
		{name: "the site's rules alone", sources: filepath.Join("testdata", "site"), builtin: "false", wantErr: `unknown list "shells"`},
		{name: "a missing source", sources: filepath.Join("testdata", "none"), wantErr: "not a directory or file of rules"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"VIGIL_SENSORS_TABLE", "VIGIL_DETECTIONS_TABLE", "VIGIL_TASKS_TABLE"} {
				t.Setenv(k, "t")
			}
			t.Setenv("AWS_REGION", "us-east-1")
			t.Setenv("VIGIL_API_KEYS_TABLE", "")
			t.Setenv("VIGIL_RULE_SOURCES", tt.sources)
			t.Setenv("VIGIL_BUILTIN_RULES", tt.builtin)
			s, err := newServer(context.Background())
			if testcheck.Err(t, err, tt.wantErr) {
				return
			}
			var names []string
			for _, r := range s.Rules {
				names = append(names, r.Name)
			}
			for _, n := range tt.has {
				if !slices.Contains(names, n) {
					t.Errorf("rules %v lack %s", names, n)
				}
			}
		})
	}
}
