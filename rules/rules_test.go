package rules

import (
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/engine"
)

// TestFixtures runs every rule of the pack against its fixtures: match.yaml must
// produce a detection (for stateful rules, on its last event), nomatch.yaml none.
func TestFixtures(t *testing.T) {
	rs, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) == 0 {
		t.Fatal("the pack has no rules")
	}
	results := engine.RunFixtures(FS, ".", rs)
	files := map[string]int{}
	for _, r := range results {
		t.Run(r.Rule+"/"+path.Base(r.File), func(t *testing.T) {
			if !r.Pass() {
				t.Error(r)
			}
		})
		if r.Err == nil {
			files[r.Rule]++
		}
	}
	for _, r := range rs {
		if files[r.Name] != 2 {
			t.Errorf("rule %s: %d readable fixture files, want match.yaml and nomatch.yaml", r.Name, files[r.Name])
		}
	}
}

// TestNearMisses asks for at least two events in every nomatch.yaml: a rule is only
// as good as the benign look-alikes it has been shown to leave alone.
func TestNearMisses(t *testing.T) {
	rs, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range engine.RunFixtures(FS, ".", rs) {
		if !r.Want && r.Err == nil && r.Events < 2 {
			t.Errorf("rule %s: %s has %d event, want at least 2 near misses", r.Rule, r.File, r.Events)
		}
	}
}

var mitreID = regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)

// TestPackInvariants checks what every shipped rule must carry: a report with a
// severity, a category, ATT&CK technique ids, a maturity and a description.
func TestPackInvariants(t *testing.T) {
	pack, err := engine.LoadPack(FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(pack.Rules); n < 40 {
		t.Errorf("the pack has %d rules, want at least 40", n)
	}
	for _, w := range pack.Warnings {
		t.Errorf("warning: %s", w)
	}
	if _, err := engine.New(pack.Rules); err != nil {
		t.Fatal(err)
	}
	for _, r := range pack.Rules {
		rep := r.Report()
		if rep == nil {
			t.Errorf("rule %s: no report action", r.Name)
			continue
		}
		md := rep.Metadata
		if !slices.Contains(engine.Severities, md["severity"]) {
			t.Errorf("rule %s: severity %q, want one of %v", r.Name, md["severity"], engine.Severities)
		}
		if md["category"] == "" {
			t.Errorf("rule %s: no category", r.Name)
		}
		if len(rep.MITRE) == 0 {
			t.Errorf("rule %s: no mitre technique ids", r.Name)
		}
		for _, id := range rep.MITRE {
			if !mitreID.MatchString(id) {
				t.Errorf("rule %s: mitre id %q is not like T1059 or T1059.004", r.Name, id)
			}
		}
		if m := md["maturity"]; m != "stable" && m != "incubating" {
			t.Errorf("rule %s: maturity %q, want stable or incubating", r.Name, m)
		}
		if md["description"] == "" {
			t.Errorf("rule %s: no description", r.Name)
		}
	}
}

// TestStatefulRules keeps at least one rule of each stateful kind in the pack, so
// the shipped fixtures exercise them end to end.
func TestStatefulRules(t *testing.T) {
	rs, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	var child, count, suppressed bool
	for _, r := range rs {
		child = child || r.With != ""
		count = count || r.Count > 0
		for _, a := range r.Response {
			suppressed = suppressed || a.Suppression != nil
		}
	}
	if !child || !count || !suppressed {
		t.Errorf("stateful rules in the pack: with child/descendant %v, count %v, suppression %v; want all", child, count, suppressed)
	}
}

// TestCoverage checks that every rule coverage.md's table names is a rule of the pack
// and that every row names at least one.
func TestCoverage(t *testing.T) {
	rs, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, r := range rs {
		names[r.Name] = true
	}
	page, err := FS.ReadFile("coverage.md")
	if err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile("`([^`]+)`")
	rows := 0
	for _, line := range strings.Split(string(page), "\n") {
		cells := strings.Split(line, " | ")
		if len(cells) != 3 || !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| behaviour") {
			continue
		}
		rows++
		found := code.FindAllStringSubmatch(cells[2], -1)
		if len(found) == 0 {
			t.Errorf("coverage.md: %q names no rule", cells[0][2:])
		}
		for _, m := range found {
			if !names[m[1]] {
				t.Errorf("coverage.md: %q names %s, which is not a rule of the pack", cells[0][2:], m[1])
			}
		}
	}
	if rows == 0 {
		t.Error("coverage.md has no table rows")
	}
}
