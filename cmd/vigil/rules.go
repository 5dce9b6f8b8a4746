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
	cmd.AddCommand(&cobra.Command{
		Use:   "validate [DIR...]",
		Short: "Parse rule files and report every error with file, line and rule (default: the built-in pack)",
		RunE: func(c *cobra.Command, args []string) error {
			return forEachRuleDir(args, func(name string, fsys fs.FS, rs []*engine.Rule) error {
				if _, err := engine.New(rs); err != nil {
					return err
				}
				fmt.Fprintf(c.OutOrStdout(), "%s: %d rules valid\n", name, len(rs))
				return nil
			})
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "test [DIR...]",
		Short: "Run every rule's fixtures (testdata/<rule>/match.yaml and nomatch.yaml); non-zero exit on any failure",
		RunE: func(c *cobra.Command, args []string) error {
			return forEachRuleDir(args, func(name string, fsys fs.FS, rs []*engine.Rule) error {
				failed := 0
				results := engine.RunFixtures(fsys, ".", rs)
				for _, r := range results {
					fmt.Fprintln(c.OutOrStdout(), r)
					if !r.Pass() {
						failed++
					}
				}
				if failed > 0 {
					return fmt.Errorf("%s: %d of %d fixture checks failed", name, failed, len(results))
				}
				fmt.Fprintf(c.OutOrStdout(), "%s: %d rules, %d fixture checks passed\n", name, len(rs), len(results))
				return nil
			})
		},
	})
	return cmd
}

// forEachRuleDir loads each directory (the embedded pack when none is given) and
// calls f with it; the first error stops.
func forEachRuleDir(dirs []string, f func(name string, fsys fs.FS, rs []*engine.Rule) error) error {
	if len(dirs) == 0 {
		rs, err := rules.Load()
		if err != nil {
			return err
		}
		return f("built-in pack", rules.FS, rs)
	}
	for _, dir := range dirs {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return usageError(fmt.Errorf("%s is not a directory of rules", dir))
		}
		rs, err := engine.LoadDir(dir)
		if err != nil {
			return err
		}
		if err := f(dir, os.DirFS(dir), rs); err != nil {
			return err
		}
	}
	return nil
}
