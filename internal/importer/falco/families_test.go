package falco

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/importer"
)

// TestFamilies converts the rule families of testdata/families (one file per
// family: file writes, shells, network, links, ptrace, mounts and namespaces,
// memfd and kernel, container drift, credentials, logs, privilege, the user's
// tuning of them) as one set, in name order, and runs every converted rule's
// fixtures (testdata/families/testdata/<rule>/match.yaml and nomatch.yaml) through
// the engine, as `vigil rules test` does. Rules on the event types the sensor is
// being extended with wait for them; their fixtures run once the event model has
// the types.
func TestFamilies(t *testing.T) {
	const dir = "testdata/families"
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(paths) < 10 {
		t.Fatalf("family files: %v %v", paths, err)
	}
	sort.Strings(paths)
	var files []File
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, File{Name: filepath.Base(p), Data: data})
	}
	res, err := ConvertSet(files)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) > 0 {
		t.Errorf("warnings: %v", res.Warnings)
	}
	var rules []*engine.Rule
	expected := map[string]bool{}
	for _, o := range res.Outcomes {
		if o.Status == Skipped {
			if !strings.Contains(o.Reason, "this build's event model does not have yet") {
				t.Errorf("not converted: %s", o.Reason)
			}
			expected[importer.SnakeName(o.Rule)] = true
			continue
		}
		for _, r := range o.Rules {
			er, err := engine.Parse(r.FileName(), r.YAML)
			if err != nil {
				t.Fatalf("%s: %v\n%s", r.Source, err, r.YAML)
			}
			rules = append(rules, er)
			expected[r.Name] = true
		}
	}
	if len(rules) < 40 {
		t.Fatalf("only %d rules converted", len(rules))
	}
	for _, r := range engine.RunFixtures(os.DirFS(dir), ".", rules) {
		if !r.Pass() {
			t.Error(r.String())
		}
	}
	entries, err := os.ReadDir(filepath.Join(dir, "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !expected[e.Name()] {
			t.Errorf("fixtures testdata/%s belong to no rule of the families", e.Name())
		}
	}
}
