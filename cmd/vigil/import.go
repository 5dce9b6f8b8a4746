package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/vigil-sec/vigil/internal/importer"
	"github.com/vigil-sec/vigil/internal/importer/convert"
)

// newRulesImportCmd is `vigil rules import`: Falco and Sigma rules to D&R rule files.
func newRulesImportCmd() *cobra.Command {
	var from, out string
	var force, strict bool
	cmd := &cobra.Command{
		Use:   "import [--from falco|sigma] [--out DIR] FILE...",
		Short: "Convert Falco rules files and Sigma rules into D&R rule files",
		Long: `Convert Falco rules files and Sigma rules for Linux into Vigil D&R rules, one
rule per file. Without --from each file's format is told from its content.

With --out the rules are written to DIR/<rule>.yaml (existing files are kept unless
--force); without it they are printed as YAML documents. Every rule that is not
converted is reported on stderr with the reason. A Falco rule that cannot be
converted faithfully makes the command fail (disabled rules are only reported);
Sigma rules outside what Vigil's events can express are reported and skipped, and
fail the command only with --strict.`,
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
			written := map[string]string{}
			converted, failed := 0, 0
			for _, file := range args {
				data, err := os.ReadFile(file)
				if err != nil {
					return usageError(fmt.Errorf("read rules: %w", err))
				}
				rules, skipped, f, err := convert.File(file, data, format)
				if err != nil {
					return err
				}
				for _, s := range skipped {
					fmt.Fprintf(c.ErrOrStderr(), "skipped %s\n", s.Reason)
					if !s.Ignored && (f == importer.Falco || strict) {
						failed++
					}
				}
				for _, r := range rules {
					if prev, dup := written[r.Name]; dup {
						return fmt.Errorf("%s: rule %s is also converted from %s: rename one of them", r.Source, r.Name, prev)
					}
					written[r.Name] = r.Source
					if out == "" {
						if converted > 0 {
							fmt.Fprintln(c.OutOrStdout(), "---")
						}
						if _, err := c.OutOrStdout().Write(r.YAML); err != nil {
							return fmt.Errorf("print rule: %w", err)
						}
					} else if err := writeRule(filepath.Join(out, r.FileName()), r.YAML, force); err != nil {
						return err
					}
					converted++
				}
			}
			fmt.Fprintf(c.ErrOrStderr(), "%d rules converted", converted)
			if out != "" {
				fmt.Fprintf(c.ErrOrStderr(), " into %s", out)
			}
			fmt.Fprintln(c.ErrOrStderr())
			if failed > 0 {
				return fmt.Errorf("%d rules could not be converted (reasons above)", failed)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "format of the input files: falco or sigma (default: told from the content)")
	cmd.Flags().StringVar(&out, "out", "", "directory to write the D&R rule files to (default: print them)")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite existing rule files in --out")
	cmd.Flags().BoolVar(&strict, "strict", false, "fail when any Sigma rule is skipped")
	return cmd
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
