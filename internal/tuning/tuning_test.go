package tuning

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/testcheck"
)

// TestParseErrors: every file in testdata/invalid is refused with every error its
// leading "# error: " lines announce, in order (each a prefix of one line).
func TestParseErrors(t *testing.T) {
	testcheck.Fixtures(t, "testdata/invalid/*.yaml", func(t *testing.T, name string, data []byte, want []string) {
		if len(want) == 0 {
			t.Fatal("want '# error: ' lines first")
		}
		if !Is(data) && name != "bad_yaml.yaml" {
			t.Errorf("Is = false for a file with tuning:")
		}
		_, err := Parse(name, data)
		testcheck.ErrorLines(t, err, want)
	})
}

func TestIs(t *testing.T) {
	for _, tt := range []struct {
		data string
		want bool
	}{
		{"tuning: []\n", true},
		{"tuning:\n  - rules: [a]\n    enabled: false\n", true},
		{"lists: {a: [b]}\n", false},
		{"- rule: x\n", false},
		{"detection: {}\nresponse: []\n", false},
		{"tuning: [\n", false},
		{"", false},
	} {
		if got := Is([]byte(tt.data)); got != tt.want {
			t.Errorf("Is(%q) = %v, want %v", tt.data, got, tt.want)
		}
	}
}

// testTargets loads testdata/rules as the three sources apply/cases.yaml names.
func testTargets(t testing.TB) ([]Target, *engine.Library) {
	t.Helper()
	pack, err := engine.LoadPackDir("testdata/rules")
	if err != nil {
		t.Fatal(err)
	}
	where := map[string][2]string{
		"tmp_exec":           {"builtin/tmp_exec.yaml", "vigil"},
		"shell_in_container": {"/opt/rules/sigma/lnx/shell.yml", "sigma"},
		"miner_connect":      {"rules/falco/miners.yaml", "falco"},
	}
	var out []Target
	for _, name := range []string{"tmp_exec", "shell_in_container", "miner_connect"} {
		i := slices.IndexFunc(pack.Rules, func(r *engine.Rule) bool { return r.Name == name })
		if i < 0 {
			t.Fatalf("testdata/rules lacks %s", name)
		}
		out = append(out, Target{Rule: pack.Rules[i], File: where[name][0], Format: where[name][1]})
	}
	return out, pack.Library
}

// TestApply runs testdata/apply/cases.yaml.
func TestApply(t *testing.T) {
	type step struct {
		Rule    string         `yaml:"rule"`
		Fire    bool           `yaml:"fire"`
		Actions []string       `yaml:"actions"`
		Event   map[string]any `yaml:"event"`
	}
	cases := testcheck.Cases[struct {
		Name     string            `yaml:"name"`
		Tuning   []string          `yaml:"tuning"`
		Enabled  []string          `yaml:"enabled"`
		Disabled []string          `yaml:"disabled"`
		Severity map[string]string `yaml:"severity"`
		Changes  []string          `yaml:"changes"`
		Warnings []string          `yaml:"warnings"`
		Error    []string          `yaml:"error"`
		Events   []step            `yaml:"events"`
	}](t, "testdata/apply/cases.yaml")
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			targets, lib := testTargets(t)
			var files []*File
			for i, src := range c.Tuning {
				f, err := Parse(fmt.Sprintf("t%d.yaml", i), []byte(src))
				if err != nil {
					t.Fatal(err)
				}
				files = append(files, f)
			}
			res, err := Apply(targets, files, lib)
			if len(c.Error) > 0 {
				testcheck.ErrorLines(t, err, c.Error)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			names := func(rs []*engine.Rule) []string {
				var out []string
				for _, r := range rs {
					out = append(out, r.Name)
				}
				return out
			}
			if c.Enabled != nil && !slices.Equal(names(res.Rules), c.Enabled) {
				t.Errorf("enabled %v, want %v", names(res.Rules), c.Enabled)
			}
			if !slices.Equal(names(res.Disabled), c.Disabled) {
				t.Errorf("disabled %v, want %v", names(res.Disabled), c.Disabled)
			}
			for _, r := range append(slices.Clone(res.Rules), res.Disabled...) {
				if want, ok := c.Severity[r.Name]; ok && r.Report().Severity() != want {
					t.Errorf("rule %s: severity %s, want %s", r.Name, r.Report().Severity(), want)
				}
			}
			var changes strings.Builder
			for _, ch := range res.Changes {
				changes.WriteString(ch.String() + "\n")
			}
			testcheck.InOrder(t, "changes", changes.String(), c.Changes)
			var warnings []string
			for _, w := range res.Warnings {
				warnings = append(warnings, w.String())
			}
			if len(warnings) != len(c.Warnings) {
				t.Errorf("warnings %q, want %q", warnings, c.Warnings)
			}
			for i := range min(len(warnings), len(c.Warnings)) {
				if !strings.Contains(warnings[i], c.Warnings[i]) {
					t.Errorf("warning %q lacks %q", warnings[i], c.Warnings[i])
				}
			}
			for i, e := range c.Events {
				j := slices.IndexFunc(res.Rules, func(r *engine.Rule) bool { return r.Name == e.Rule })
				if j < 0 {
					t.Fatalf("event %d: rule %s is not enabled", i, e.Rule)
				}
				r := res.Rules[j]
				eng, err := engine.New([]*engine.Rule{r})
				if err != nil {
					t.Fatal(err)
				}
				ev, err := event.FromTree(e.Event)
				if err != nil {
					t.Fatal(err)
				}
				ev.Type = r.Events[0]
				ms, err := eng.Process(context.Background(), &ev, engine.NewMemoryState(), time.Unix(0, 0), nil)
				if err != nil {
					t.Fatal(err)
				}
				if fired := len(ms) > 0; fired != e.Fire {
					t.Errorf("event %d: rule %s fired = %v, want %v", i, e.Rule, fired, e.Fire)
					continue
				}
				if e.Actions != nil {
					var got []string
					for _, a := range ms[0].Actions {
						got = append(got, a.Action)
					}
					if !slices.Equal(got, e.Actions) {
						t.Errorf("event %d: actions %v, want %v", i, got, e.Actions)
					}
				}
			}
		})
	}
}

// FuzzParse: no input makes Parse panic, an accepted file's entries each select
// and change something, and applying it to the test rules neither panics nor loses
// a rule.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/invalid/*.yaml")
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	for _, c := range testcheck.Cases[struct {
		Tuning []string `yaml:"tuning"`
	}](f, "testdata/apply/cases.yaml") {
		for _, src := range c.Tuning {
			f.Add([]byte(src))
		}
	}
	targets, lib := testTargets(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml:") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		for _, e := range file.Entries {
			if len(e.Rules)+len(e.Tags)+len(e.Sources)+len(e.Maturity) == 0 {
				t.Fatalf("entry at line %d selects nothing", e.Line)
			}
			if e.Enabled == nil && e.Severity == "" && len(e.Exceptions) == 0 {
				t.Fatalf("entry at line %d changes nothing", e.Line)
			}
			for _, ex := range e.Exceptions {
				if ex.Name == "" || ex.Node == nil {
					t.Fatalf("exception at line %d without name or node", ex.Line)
				}
			}
		}
		res, _ := Apply(targets, []*File{file}, lib)
		if len(res.Rules)+len(res.Disabled) != len(targets) {
			t.Fatalf("%d enabled + %d disabled rules from %d", len(res.Rules), len(res.Disabled), len(targets))
		}
	})
}
