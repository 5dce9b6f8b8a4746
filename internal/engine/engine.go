package engine

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
)

// Engine evaluates events against a set of rules, indexed by event type.
type Engine struct {
	rules  []*Rule
	byType map[event.Type][]*Rule
}

// New indexes rules for evaluation. Rule names must be unique.
func New(rules []*Rule) (*Engine, error) {
	e := &Engine{byType: map[event.Type][]*Rule{}}
	seen := map[string]string{}
	for _, r := range rules {
		if prev, dup := seen[r.Name]; dup {
			return nil, fmt.Errorf("rule %s is defined twice: %s and %s", r.Name, prev, r.File)
		}
		seen[r.Name] = r.File
		e.rules = append(e.rules, r)
		for _, t := range r.Events {
			e.byType[t] = append(e.byType[t], r)
		}
	}
	return e, nil
}

// Rules returns the engine's rules in load order.
func (e *Engine) Rules() []*Rule { return e.rules }

// Eval appends to dst every rule that matches ev and returns it. With a dst of
// sufficient capacity an event that matches nothing costs no allocation.
func (e *Engine) Eval(ev *event.Event, dst []*Rule) []*Rule {
	for _, r := range e.byType[ev.Type] {
		if r.root.match(ev) {
			dst = append(dst, r)
		}
	}
	return dst
}

// IsRuleFile reports whether name is a rule file (YAML, not under testdata).
func IsRuleFile(name string) bool {
	ext := path.Ext(name)
	return ext == ".yaml" || ext == ".yml"
}

// Load parses every rule file in the top level of dir in fsys and returns them sorted
// by name. All errors are reported, one per line, not only the first.
func Load(fsys fs.FS, dir string) ([]*Rule, error) {
	return load(fsys, dir, dir)
}

// LoadDir is Load for a directory of the operating system; errors name the files
// under dir as given.
func LoadDir(dir string) ([]*Rule, error) {
	return load(os.DirFS(dir), ".", dir)
}

func load(fsys fs.FS, dir, display string) ([]*Rule, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	var rules []*Rule
	var errs []string
	for _, ent := range entries {
		if ent.IsDir() || !IsRuleFile(ent.Name()) {
			continue
		}
		file := path.Join(dir, ent.Name())
		data, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, fmt.Errorf("read rule: %w", err)
		}
		r, err := Parse(filepath.Join(display, ent.Name()), data)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		rules = append(rules, r)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid rules:\n%s", strings.Join(errs, "\n"))
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].Name < rules[j].Name })
	return rules, nil
}
