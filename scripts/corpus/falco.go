package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigil-sec/vigil/internal/importer/convert"
	"github.com/vigil-sec/vigil/internal/importer/falco"
)

func init() {
	reports = append(reports, report{name: "falco", run: falcoReport})
}

// falcoSyscallFiles are Falco's syscall rules files, in the order Falco loads them.
var falcoSyscallFiles = []string{"falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml"}

// falcoOtherSources are rules files of other sources, each loaded as a set of its
// own and reported after the syscall files.
var falcoOtherSources = []string{"k8s_audit_rules.yaml"}

// falcoReport loads DIR/falco's syscall rules files as one set and prints, per
// file, what converts, the stable rules' figure, and every rule that does not
// convert with its reason.
func falcoReport(dir string, w *os.File) error {
	base := filepath.Join(dir, "falco")
	var files []falco.File
	for _, name := range falcoSyscallFiles {
		data, err := os.ReadFile(filepath.Join(base, name))
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		files = append(files, falco.File{Name: name, Data: data})
	}
	res, err := convert.FalcoSet(files)
	if err != nil {
		return err
	}
	var refused []refusedFile
	for _, name := range falcoOtherSources {
		data, err := os.ReadFile(filepath.Join(base, name))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		r, err := convert.FalcoSet([]falco.File{{Name: name, Data: data}})
		if err != nil {
			return err
		}
		refused = append(refused, refusedFile{name, r})
	}
	writeFalcoReport(w, falcoSyscallFiles, res, refused)
	return nil
}

type refusedFile struct {
	name string
	res  *falco.Result
}

// falcoCounts are the figures of one file (or of all).
type falcoCounts struct {
	rules, converted, narrowed, skipped, neverInFalco, disabled, disabledConverting int
}

func (c *falcoCounts) add(o falco.Outcome) {
	c.rules++
	switch o.Status {
	case falco.Converted:
		c.converted++
	case falco.Narrowed:
		c.narrowed++
	case falco.Skipped:
		c.skipped++
		if o.NeverInFalco {
			c.neverInFalco++
		}
	}
	if o.Disabled {
		c.disabled++
		if o.Status != falco.Skipped {
			c.disabledConverting++
		}
	}
}

func writeFalcoReport(w io.Writer, order []string, res *falco.Result, refused []refusedFile) {
	per := map[string]*falcoCounts{}
	var all, stable falcoCounts
	for _, o := range res.Outcomes {
		if per[o.File] == nil {
			per[o.File] = &falcoCounts{}
		}
		per[o.File].add(o)
		all.add(o)
		if o.Stable() {
			stable.add(o)
		}
	}
	fmt.Fprintf(w, "## Falco\n\nThe syscall rules files loaded in order as one set: %s.\n\n", strings.Join(order, ", "))
	fmt.Fprintln(w, "| file | rules | converted | narrowed | skipped (of which never match in Falco either) | disabled by the file (of which convert) |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
	row := func(name string, c falcoCounts) {
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d (%d) | %d (%d) |\n", name, c.rules, c.converted, c.narrowed, c.skipped, c.neverInFalco, c.disabled, c.disabledConverting)
	}
	for _, f := range order {
		if c := per[f]; c != nil {
			row(f, *c)
		}
	}
	row("all three", all)
	for _, f := range res.Files {
		fmt.Fprintf(w, "\n%s requires Falco engine %s; plugins: %s", f.Name, f.EngineVersion, strings.Join(f.Plugins, ", "))
		if len(f.Missing) > 0 {
			fmt.Fprintf(w, "; Vigil does not have %s", strings.Join(f.Missing, ", "))
		}
		fmt.Fprint(w, ".")
	}
	fmt.Fprintln(w)
	ok := func(c falcoCounts) int { return c.converted + c.narrowed }
	fmt.Fprintf(w, "\nStable rules (maturity_stable): %d of %d convert (%d of them narrowed).\n", ok(stable), stable.rules, stable.narrowed)
	pct := func(n, of int) float64 { return 100 * float64(n) / float64(max(of, 1)) }
	fmt.Fprintf(w, "All rules of the three files: %d of %d convert (%.1f %%); of the %d that can match in Falco, %.1f %%.\n",
		ok(all), all.rules, pct(ok(all), all.rules), all.rules-all.neverInFalco, pct(ok(all), all.rules-all.neverInFalco))
	for _, r := range refused {
		var c falcoCounts
		for _, o := range r.res.Outcomes {
			c.add(o)
		}
		fmt.Fprintf(w, "\n%s, loaded alone: %d of %d rules convert (%.1f %%); of the %d that can match in Falco, %.1f %%.\n",
			r.name, ok(c), c.rules, pct(ok(c), c.rules), c.rules-c.neverInFalco, pct(ok(c), c.rules-c.neverInFalco))
		fmt.Fprintf(w, "converted %d, narrowed %d, skipped %d (%d never match in Falco either).\n", c.converted, c.narrowed, c.skipped, c.neverInFalco)
		for _, o := range r.res.Outcomes {
			if o.Status == falco.Skipped {
				fmt.Fprintf(w, "- skipped %s%s\n", o.Reason, disabledMark(o))
			}
		}
	}
	if len(res.Warnings) > 0 {
		fmt.Fprintln(w, "\nWarnings:")
		for _, s := range res.Warnings {
			fmt.Fprintf(w, "- %s\n", s)
		}
	}
	fmt.Fprintln(w, "\n### Rules that do not convert")
	fmt.Fprintln(w)
	for _, o := range res.Outcomes {
		if o.Status == falco.Skipped {
			fmt.Fprintf(w, "- %s%s\n", o.Reason, disabledMark(o))
		}
	}
	fmt.Fprintln(w, "\n### Narrowed rules")
	fmt.Fprintln(w)
	for _, o := range res.Outcomes {
		if o.Status == falco.Narrowed {
			fmt.Fprintf(w, "- %s:%d: rule %q%s: %s\n", o.File, o.Line, o.Rule, disabledMark(o), strings.Join(o.Notes, "; "))
		}
	}
	fmt.Fprintln(w)
}

func disabledMark(o falco.Outcome) string {
	if o.Disabled {
		return " (disabled by the file)"
	}
	return ""
}
