package rulesource

import (
	"io/fs"
	"path"

	"github.com/vigil-sec/vigil/internal/engine"
)

// fixtureDir returns the directory of f's source (in its fsys) whose
// testdata/<rule>/ holds the rule's fixtures: the file's own directory or the
// nearest one above it within the source; "" when there is none.
func fixtureDir(f *File, rule string) string {
	dir := path.Dir(f.Rel)
	for {
		if st, err := fs.Stat(f.src.fsys, path.Join(dir, "testdata", rule)); err == nil && st.IsDir() {
			return dir
		}
		if dir == "." || dir == "/" {
			return ""
		}
		dir = path.Dir(dir)
	}
}

// Fixtures is the outcome of RunFixtures.
type Fixtures struct {
	// Results are one per fixture file of each rule tested, match.yaml first, the
	// files named as messages name them.
	Results []engine.FixtureResult
	// Tested counts the rules whose fixtures ran.
	Tested int
	// Untested are the rules that run and have no fixtures; Disabled those tuning
	// disabled, whose fixtures are not run.
	Untested []string
	Disabled []string
}

// Failed counts the failed fixture checks and the rules with one.
func (x *Fixtures) Failed() (checks, rules int) {
	last := ""
	for _, r := range x.Results {
		if !r.Pass() {
			checks++
			if r.Rule != last {
				rules++
				last = r.Rule
			}
		}
	}
	return checks, rules
}

// RunFixtures runs the fixtures of every rule of the set that has them (see
// fixtureDir), on the rule as tuned: an exception that excludes a fixture's event
// makes that fixture fail. A rule with a testdata/<rule>/ directory but not both
// files fails.
func (s *Set) RunFixtures() *Fixtures {
	out := &Fixtures{}
	for _, r := range s.Rules {
		f := s.origins[r.Name]
		dir := ""
		if f != nil {
			dir = fixtureDir(f, r.Name)
		}
		if dir == "" {
			out.Untested = append(out.Untested, r.Name)
			continue
		}
		out.Tested++
		for _, res := range engine.RunFixtures(f.src.fsys, dir, []*engine.Rule{r}) {
			res.File = f.src.path(res.File)
			out.Results = append(out.Results, res)
		}
	}
	for _, r := range s.Disabled {
		out.Disabled = append(out.Disabled, r.Name)
	}
	return out
}
