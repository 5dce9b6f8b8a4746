package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/vigil-sec/vigil/internal/importer"
	"github.com/vigil-sec/vigil/internal/importer/convert"
	"github.com/vigil-sec/vigil/internal/importer/falco"
)

// newRulesImportCmd is `vigil rules import`: Falco and Sigma rules to D&R rule files.
func newRulesImportCmd() *cobra.Command {
	var from, out string
	var force, strict, withDisabled bool
	cmd := &cobra.Command{
		Use:   "import [--from falco|sigma] [--out DIR] FILE...",
		Short: "Convert Falco rules files and Sigma rules into D&R rule files",
		Long: `Convert Falco rules files and Sigma rules for Linux into Vigil D&R rules, one
rule per file. Without --from each file's format is told from its content.

The Falco files of one invocation are one rule set, loaded in the order given, as
Falco loads them: later files use and extend the lists, macros and rules of earlier
ones (falco_rules.yaml, then falco-incubating_rules.yaml, then
falco-sandbox_rules.yaml, then your own).

With --out the rules are written to DIR/<rule>.yaml (existing files are kept unless
--force); without it they are printed as YAML documents. Every rule that is not
converted is reported on stderr with the reason, and the rest are converted; a rule
converted with part of its condition dropped is reported as narrowed, with what was
dropped. Rules the Falco files disable (enabled: false) are converted and reported
but written only with --with-disabled. --strict makes any rule not converted an
error.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			format := importer.Unknown
			if from != "" {
				f, err := importer.ParseFormat(from)
				if err != nil || f == importer.DR {
					return usageError(fmt.Errorf("--from: want falco or sigma, got %q", from))
				}
				format = f
			}
			if out != "" {
				if err := os.MkdirAll(out, 0o755); err != nil {
					return fmt.Errorf("--out: %w", err)
				}
			}
			var falcoFiles []falco.File
			type input struct {
				name string
				data []byte
			}
			var others []input
			for _, file := range args {
				data, err := os.ReadFile(file)
				if err != nil {
					return usageError(fmt.Errorf("read rules: %w", err))
				}
				if format == importer.Falco || format == importer.Unknown && importer.Sniff(data) == importer.Falco {
					falcoFiles = append(falcoFiles, falco.File{Name: file, Data: data})
					continue
				}
				others = append(others, input{file, data})
			}
			w := &ruleWriter{stdout: c.OutOrStdout(), out: out, force: force, written: map[string]string{}}
			stderr := c.ErrOrStderr()
			failed := 0
			if len(falcoFiles) > 0 {
				res, err := convert.FalcoSet(falcoFiles)
				if err != nil {
					return err
				}
				n, err := writeFalco(w, stderr, res, withDisabled)
				if err != nil {
					return err
				}
				failed += n
			}
			for _, in := range others {
				rules, skipped, _, err := convert.File(in.name, in.data, format)
				if err != nil {
					return err
				}
				for _, s := range skipped {
					fmt.Fprintf(stderr, "skipped %s\n", s.Reason)
					if !s.Ignored {
						failed++
					}
				}
				for _, r := range rules {
					if err := w.write(r); err != nil {
						return err
					}
				}
			}
			fmt.Fprintf(stderr, "%d rules converted", w.count)
			if out != "" {
				fmt.Fprintf(stderr, " into %s", out)
			}
			if failed > 0 {
				fmt.Fprintf(stderr, ", %d not converted", failed)
			}
			fmt.Fprintln(stderr)
			if strict && failed > 0 {
				return fmt.Errorf("%d rules could not be converted (reasons above; --strict)", failed)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "format of the input files: falco or sigma (default: told from the content)")
	cmd.Flags().StringVar(&out, "out", "", "directory to write the D&R rule files to (default: print them)")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite existing rule files in --out")
	cmd.Flags().BoolVar(&strict, "strict", false, "fail when any rule is not converted")
	cmd.Flags().BoolVar(&withDisabled, "with-disabled", false, "also write the rules the Falco files disable (enabled: false)")
	return cmd
}

// writeFalco writes the rules of a converted Falco set and reports on stderr what
// was skipped, narrowed or left disabled. It returns how many rules were skipped.
func writeFalco(w *ruleWriter, stderr io.Writer, res *falco.Result, withDisabled bool) (int, error) {
	for _, s := range res.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", s)
	}
	skipped := 0
	for _, o := range res.Outcomes {
		where := fmt.Sprintf("%s:%d: rule %q", o.File, o.Line, o.Rule)
		switch {
		case o.Status == falco.Skipped:
			fmt.Fprintf(stderr, "skipped %s\n", o.Reason)
			skipped++
			continue
		case o.Disabled && !withDisabled:
			fmt.Fprintf(stderr, "disabled %s: enabled: false in the files; it converts (%s), written with --with-disabled\n", where, o.Status)
			continue
		case o.Status == falco.Narrowed:
			fmt.Fprintf(stderr, "narrowed %s: %s\n", where, strings.Join(o.Notes, "; "))
		case len(o.Notes) > 0:
			fmt.Fprintf(stderr, "note %s: %s\n", where, strings.Join(o.Notes, "; "))
		}
		for _, r := range o.Rules {
			if err := w.write(r); err != nil {
				return skipped, err
			}
		}
	}
	return skipped, nil
}

// ruleWriter prints converted rules or writes them under out, refusing two rules of
// one name.
type ruleWriter struct {
	stdout  io.Writer
	out     string
	force   bool
	written map[string]string
	count   int
}

func (w *ruleWriter) write(r importer.Rule) error {
	if prev, dup := w.written[r.Name]; dup {
		return fmt.Errorf("%s: rule %s is also converted from %s: rename one of them", r.Source, r.Name, prev)
	}
	w.written[r.Name] = r.Source
	if w.out == "" {
		if w.count > 0 {
			fmt.Fprintln(w.stdout, "---")
		}
		if _, err := w.stdout.Write(r.YAML); err != nil {
			return fmt.Errorf("print rule: %w", err)
		}
	} else if err := writeRule(filepath.Join(w.out, r.FileName()), r.YAML, w.force); err != nil {
		return err
	}
	w.count++
	return nil
}

// writeRule writes one rule file, refusing to replace an existing one unless force.
func writeRule(path string, data []byte, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if !force {
		flags |= os.O_EXCL
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s exists (use --force to overwrite): %w", path, err)
		}
		return fmt.Errorf("write rule: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write rule: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write rule: %w", err)
	}
	return nil
}
