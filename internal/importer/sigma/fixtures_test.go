package sigma

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/engine"
)

// TestFixtures converts every Sigma rule of testdata/rules (one or more per log
// source and per modifier) and runs each converted rule against its fixtures,
// testdata/rules/testdata/<rule>/match.yaml and nomatch.yaml, through the engine:
// events the Sigma rule describes fire it, close ones do not.
func TestFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/rules/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no rules in testdata/rules: %v", err)
	}
	used := map[string]bool{}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			rs, skipped, err := Convert(filepath.Base(file), data)
			if err != nil || len(skipped) > 0 || len(rs) == 0 {
				t.Fatalf("Convert: %v, skipped %v, %d rules", err, skipped, len(rs))
			}
			compiled := compile(t, rs)
			for _, r := range compiled {
				used[r.Name] = true
			}
			for _, res := range engine.RunFixtures(os.DirFS("testdata/rules"), ".", compiled) {
				if !res.Pass() {
					var y string
					for _, r := range rs {
						if r.Name == res.Rule {
							y = string(r.YAML)
						}
					}
					t.Errorf("%s\n%s", res, y)
				}
			}
		})
	}
	dirs, err := os.ReadDir("testdata/rules/testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !used[d.Name()] {
			t.Errorf("testdata/rules/testdata/%s: no converted rule has this name", d.Name())
		}
	}
}

// TestRefused converts every rule of testdata/refused: each is refused, with a
// reason that names the file, line and rule and contains the text its first
// line gives ("# refused: <text>").
func TestRefused(t *testing.T) {
	files, err := filepath.Glob("testdata/refused/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no rules in testdata/refused: %v", err)
	}
	sort.Strings(files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(data), "\n")
			want, ok := strings.CutPrefix(first, "# refused: ")
			if !ok {
				t.Fatalf("the first line does not say why the rule is refused: %q", first)
			}
			name := filepath.Base(file)
			rs, skipped, err := Convert(name, data)
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != 0 || len(skipped) != 1 {
				var ys []string
				for _, r := range rs {
					ys = append(ys, string(r.YAML))
				}
				t.Fatalf("want one refusal, got %d rules %v\n%s", len(rs), skipped, strings.Join(ys, "---\n"))
			}
			reason := skipped[0].Reason
			if !strings.Contains(reason, want) {
				t.Errorf("reason %q\nwant it to contain %q", reason, want)
			}
			if !strings.HasPrefix(reason, name+":") || !strings.Contains(reason, `rule "`) {
				t.Errorf("reason does not name file, line and rule: %s", reason)
			}
		})
	}
}
