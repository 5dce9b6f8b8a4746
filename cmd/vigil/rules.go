package main

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/rules"
)

func newRulesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "rules", Short: "Validate and test detection & response rules"}
	var strict bool
	validate := &cobra.Command{
		Use:   "validate [DIR...]",
		Short: "Parse rule files and report every error with file, line and rule, and the warnings (default: the built-in pack)",
		RunE: func(c *cobra.Command, args []string) error {
			warned := 0
			err := forEachRuleDir(args, func(name string, fsys fs.FS, pack *engine.Pack) error {
				if _, err := engine.New(pack.Rules); err != nil {
					return err
				}
				for _, w := range pack.Warnings {
					fmt.Fprintln(c.ErrOrStderr(), w)
				}
				warned += len(pack.Warnings)
				fmt.Fprintf(c.OutOrStdout(), "%s: %d rules valid, %d lists, %d macros, %d warnings\n", name,
					len(pack.Rules), len(pack.Library.Lists()), len(pack.Library.Macros()), len(pack.Warnings))
				return nil
			})
			if err == nil && strict && warned > 0 {
				return fmt.Errorf("%d warnings (--strict)", warned)
			}
			return err
		},
	}
	validate.Flags().BoolVar(&strict, "strict", false, "fail on warnings too (unused list or macro, shadowed rule, rule without fixtures)")
	cmd.AddCommand(validate)
	cmd.AddCommand(&cobra.Command{
		Use:   "test [DIR...]",
		Short: "Run every rule's fixtures (testdata/<rule>/match.yaml and nomatch.yaml), print each rule's result; non-zero exit on any failure",
		RunE: func(c *cobra.Command, args []string) error {
			return forEachRuleDir(args, func(name string, fsys fs.FS, pack *engine.Pack) error {
				failed, rulesFailed := 0, 0
				results := engine.RunFixtures(fsys, ".", pack.Rules)
				// one line per rule, then the failed checks under it
				for i := 0; i < len(results); {
					j := i
					var bad []engine.FixtureResult
					for ; j < len(results) && results[j].Rule == results[i].Rule; j++ {
						if !results[j].Pass() {
							bad = append(bad, results[j])
						}
					}
					if len(bad) == 0 {
						fmt.Fprintf(c.OutOrStdout(), "PASS %s\n", results[i].Rule)
					} else {
						rulesFailed++
						failed += len(bad)
						fmt.Fprintf(c.OutOrStdout(), "FAIL %s\n", results[i].Rule)
						for _, b := range bad {
							fmt.Fprintf(c.OutOrStdout(), "     %s\n", b)
						}
					}
					i = j
				}
				if failed > 0 {
					return fmt.Errorf("%s: %d of %d rules failed (%d of %d fixture checks failed)", name, rulesFailed, len(pack.Rules), failed, len(results))
				}
				fmt.Fprintf(c.OutOrStdout(), "%s: %d rules, %d fixture checks passed\n", name, len(pack.Rules), len(results))
				return nil
			})
		},
	})
	cmd.AddCommand(newRulesImportCmd())
	return cmd
}

// forEachRuleDir loads each directory (the embedded pack when none is given) and
// calls f with it; the first error stops.
func forEachRuleDir(dirs []string, f func(name string, fsys fs.FS, pack *engine.Pack) error) error {
	if len(dirs) == 0 {
		pack, err := engine.LoadPack(rules.FS, ".")
		if err != nil {
			return err
		}
		return f("built-in pack", rules.FS, pack)
	}
	for _, dir := range dirs {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return usageError(fmt.Errorf("%s is not a directory of rules", dir))
		}
		pack, err := engine.LoadPackDir(dir)
		if err != nil {
			return err
		}
		if err := f(dir, os.DirFS(dir), pack); err != nil {
			return err
		}
	}
	return nil
}
