package falco

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// setCase is one case of testdata/sets/*.yaml: Falco files loaded in order as one
// set, and what must come of them.
type setCase struct {
	Files []struct {
		Name    string `yaml:"name"`
		Content string `yaml:"content"`
	} `yaml:"files"`
	// Error is a fragment of the error of a set that does not load.
	Error    string   `yaml:"error"`
	Warnings []string `yaml:"warnings"`
	Files2   []struct {
		Name    string   `yaml:"name"`
		Engine  string   `yaml:"engine"`
		Plugins []string `yaml:"plugins"`
		Missing []string `yaml:"missing"`
	} `yaml:"requirements"`
	Rules []struct {
		Rule     string `yaml:"rule"`
		Status   string `yaml:"status"`
		Disabled bool   `yaml:"disabled"`
		// Never says a skipped rule can never match in Falco either.
		Never   bool     `yaml:"never_in_falco"`
		Reason  string   `yaml:"reason"`
		Notes   []string `yaml:"notes"`
		Names   []string `yaml:"names"`
		YAML    []string `yaml:"yaml"`
		Match   []map[string]any
		NoMatch []map[string]any `yaml:"nomatch"`
	} `yaml:"rules"`
}

func TestSets(t *testing.T) {
	paths, err := filepath.Glob("testdata/sets/*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var tc setCase
			dec := yaml.NewDecoder(bytes.NewReader(data))
			dec.KnownFields(true)
			if err := dec.Decode(&tc); err != nil {
				t.Fatal(err)
			}
			var files []File
			for _, f := range tc.Files {
				files = append(files, File{Name: f.Name, Data: []byte(f.Content)})
			}
			res, err := ConvertSet(files)
			if tc.Error != "" {
				if err == nil || !strings.Contains(err.Error(), tc.Error) {
					t.Fatalf("error %v, want %q", err, tc.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("ConvertSet: %v", err)
			}
			warnings := strings.Join(res.Warnings, "\n")
			for _, w := range tc.Warnings {
				if !strings.Contains(warnings, w) {
					t.Errorf("warnings\n%s\nlack %q", warnings, w)
				}
			}
			if len(tc.Warnings) == 0 && len(res.Warnings) > 0 {
				t.Errorf("unexpected warnings:\n%s", warnings)
			}
			for i, want := range tc.Files2 {
				got := res.Files[i]
				if got.Name != want.Name || got.EngineVersion != want.Engine || strings.Join(got.Plugins, ",") != strings.Join(want.Plugins, ",") ||
					strings.Join(got.Missing, ",") != strings.Join(want.Missing, ",") {
					t.Errorf("requirements of %s: %+v, want %+v", want.Name, got, want)
				}
			}
			if len(res.Outcomes) != len(tc.Rules) {
				var got []string
				for _, o := range res.Outcomes {
					got = append(got, o.Rule)
				}
				t.Fatalf("outcomes %v, want %d", got, len(tc.Rules))
			}
			for i, want := range tc.Rules {
				o := res.Outcomes[i]
				status := want.Status
				if status == "" {
					status = "converted"
				}
				if o.Rule != want.Rule || o.Status.String() != status || o.Disabled != want.Disabled || o.NeverInFalco != want.Never {
					t.Errorf("outcome %d: %s %s disabled=%v (%s), want %s %s disabled=%v", i, o.Rule, o.Status, o.Disabled, o.Reason, want.Rule, status, want.Disabled)
					continue
				}
				if !strings.Contains(o.Reason, want.Reason) {
					t.Errorf("%s: reason\n %s\nwant it to contain\n %s", o.Rule, o.Reason, want.Reason)
				}
				notes := strings.Join(o.Notes, "\n")
				for _, n := range want.Notes {
					if !strings.Contains(notes, n) {
						t.Errorf("%s: notes\n%s\nlack %q", o.Rule, notes, n)
					}
				}
				var names []string
				var all strings.Builder
				for _, r := range o.Rules {
					names = append(names, r.Name)
					all.Write(r.YAML)
				}
				if want.Names != nil && strings.Join(names, ",") != strings.Join(want.Names, ",") {
					t.Errorf("%s: rules %v, want %v", o.Rule, names, want.Names)
				}
				for _, frag := range want.YAML {
					if !strings.Contains(all.String(), frag) {
						t.Errorf("%s: YAML lacks %q:\n%s", o.Rule, frag, all.String())
					}
				}
				if o.Status == Skipped {
					continue
				}
				compiled := compile(t, o.Rules)
				for j, tree := range want.Match {
					e := fixtureEvent(t, tree, compiled[0].Events[0])
					if !matches(compiled, &e) {
						t.Errorf("%s: match[%d] does not match\n%s", o.Rule, j, all.String())
					}
				}
				for j, tree := range want.NoMatch {
					e := fixtureEvent(t, tree, compiled[0].Events[0])
					if matches(compiled, &e) {
						t.Errorf("%s: nomatch[%d] matches\n%s", o.Rule, j, all.String())
					}
				}
			}
		})
	}
}
