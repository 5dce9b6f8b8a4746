package tuning

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/vigil-sec/vigil/internal/engine"
)

// Target is a loaded rule as the selectors see it.
type Target struct {
	Rule *engine.Rule
	// File is the file the rule was loaded from, as loaded (the shipped pack's are
	// builtin/<file>).
	File string
	// Format is the format the rule was written in: vigil, falco or sigma.
	Format string
}

// Change is one thing an entry changed in one rule.
type Change struct {
	File string // the tuning file and the entry's line (an exception's own line)
	Line int
	Rule string
	What string // "disabled", "enabled", "severity high → low", "exception go_builds: …"
}

func (c Change) String() string {
	return fmt.Sprintf("%s:%d: rule %s: %s", c.File, c.Line, c.Rule, c.What)
}

// Result is a rule set after tuning.
type Result struct {
	// Rules are the enabled rules, tuned, in the order of the targets.
	Rules []*engine.Rule
	// Disabled are the rules an entry disabled (and none enabled again), tuned.
	Disabled []*engine.Rule
	// Changes lists what each entry changed in each rule, in the order applied.
	Changes []Change
	// Warnings are the entries that selected no rule.
	Warnings []engine.Warning
}

// Apply applies the entries of files, in order, to the targets. Exceptions are
// compiled with lib's lists and macros. An exception that does not compile for a
// rule it selects is an error naming the rule; all such errors are returned
// together, with the result of the other changes.
func Apply(targets []Target, files []*File, lib *engine.Library) (*Result, error) {
	rules := make([]*engine.Rule, len(targets))
	enabled := make([]bool, len(targets))
	for i, t := range targets {
		rules[i], enabled[i] = t.Rule, true
	}
	res := &Result{}
	var errs []error
	for _, f := range files {
		for _, e := range f.Entries {
			selected := 0
			for i, t := range targets {
				if !e.Selects(t) {
					continue
				}
				selected++
				change := func(line int, what string) {
					res.Changes = append(res.Changes, Change{File: e.File, Line: line, Rule: t.Rule.Name, What: what})
				}
				if e.Enabled != nil && *e.Enabled != enabled[i] {
					enabled[i] = *e.Enabled
					change(e.Line, map[bool]string{true: "enabled", false: "disabled"}[enabled[i]])
				}
				if e.Severity != "" {
					before := "info"
					if rep := rules[i].Report(); rep != nil {
						before = rep.Severity()
					}
					tuned, err := rules[i].WithSeverity(e.Severity)
					if err != nil {
						errs = append(errs, fmt.Errorf("%s:%d: %w", e.File, e.Line, err))
					} else {
						rules[i] = tuned
						change(e.Line, fmt.Sprintf("severity %s → %s", before, e.Severity))
					}
				}
				for _, ex := range e.Exceptions {
					tuned, err := rules[i].WithException(ex, lib)
					if err != nil {
						errs = append(errs, err)
						continue
					}
					rules[i] = tuned
					change(ex.Line, fmt.Sprintf("exception %s: %s", ex.Name, ex.Text))
				}
			}
			if selected == 0 {
				res.Warnings = append(res.Warnings, engine.Warning{File: e.File, Line: e.Line,
					Msg: "tuning entry selects no rule" + e.hint(targets)})
			}
		}
	}
	for i := range targets {
		if enabled[i] {
			res.Rules = append(res.Rules, rules[i])
		} else {
			res.Disabled = append(res.Disabled, rules[i])
		}
	}
	return res, errors.Join(errs...)
}

// Selects reports whether the entry selects the target: every selector given holds
// for it.
func (e *Entry) Selects(t Target) bool {
	if len(e.Rules) > 0 && !anyMatch(e.Rules, t.Rule.Name) {
		return false
	}
	rep := t.Rule.Report()
	meta := func(k string) string {
		if rep == nil {
			return ""
		}
		return rep.Metadata[k]
	}
	if len(e.Tags) > 0 {
		hit := false
		for _, tag := range Tags(t.Rule) {
			if anyMatch(e.Tags, tag) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	if len(e.Maturity) > 0 && !contains(e.Maturity, meta("maturity")) {
		return false
	}
	if len(e.Sources) > 0 {
		hit := false
		for _, s := range e.Sources {
			if s == t.Format || underPath(t.File, s) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

// Tags returns a rule's tags, lower-cased: its report's tags, category and MITRE
// technique ids.
func Tags(r *engine.Rule) []string {
	rep := r.Report()
	if rep == nil {
		return nil
	}
	var out []string
	for _, k := range []string{"tags", "category", "mitre"} {
		for _, v := range strings.Split(rep.Metadata[k], ",") {
			if v = strings.ToLower(strings.TrimSpace(v)); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// underPath reports whether the segments of sel appear, whole and in a row, among
// the segments of file: "sigma" and "rules/sigma" are under rules/sigma/lnx/x.yml.
func underPath(file, sel string) bool {
	f := "/" + strings.Trim(path.Clean("/"+strings.ReplaceAll(file, "\\", "/")), "/") + "/"
	return strings.Contains(f, "/"+sel+"/")
}

func anyMatch(patterns []string, s string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}

// hint says why an entry selecting no rule may have missed: the nearest rule name
// to a name given without wildcards.
func (e *Entry) hint(targets []Target) string {
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Rule.Name
	}
	for _, name := range e.Rules {
		if strings.ContainsAny(name, "*?[") || contains(names, name) {
			continue
		}
		if near := nearest(name, names); near != "" {
			return fmt.Sprintf(": no rule is named %s (did you mean %s?)", name, near)
		}
		return fmt.Sprintf(": no rule is named %s", name)
	}
	return ""
}
