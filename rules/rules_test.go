package rules

import (
	"testing"

	"github.com/vigil-sec/vigil/internal/engine"
)

// TestFixtures runs every rule of the pack against its fixtures.
func TestFixtures(t *testing.T) {
	rs, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) == 0 {
		t.Fatal("the pack has no rules")
	}
	results := engine.RunFixtures(FS, ".", rs)
	seen := map[string]int{}
	for _, r := range results {
		t.Run(r.Rule, func(t *testing.T) {
			if !r.Pass() {
				t.Error(r)
			}
		})
		if r.Err == nil {
			seen[r.Rule]++
		}
	}
	for _, r := range rs {
		if seen[r.Name] < 2 {
			t.Errorf("rule %s has %d fixture events, want at least one that matches and one that does not", r.Name, seen[r.Name])
		}
	}
}
