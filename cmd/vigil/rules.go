package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/rulesource"
	"github.com/vigil-sec/vigil/rules"
)

// loadRules builds the rule set of the built-in pack (unless noBuiltin) and paths;
// a path that does not exist, or no source at all, is a usage error.
func loadRules(paths []string, noBuiltin bool) (*rulesource.Set, error) {
	opts := rulesource.Options{Pack: rules.FS, Paths: paths}
	if noBuiltin {
		opts.Pack = nil
	}
	if opts.Pack == nil && len(paths) == 0 {
		return nil, usageError(errors.New("no rules: --no-builtin leaves out the built-in pack, so give rule directories or files"))
	}
	set, err := rulesource.Load(opts)
	if errors.Is(err, rulesource.ErrNoSource) {
		return set, usageError(err)
	}
	return set, err
}

// noBuiltinUsage is the help of --no-builtin.
const noBuiltinUsage = "leave the built-in rule pack out of the rule set"

const sourcesHelp = `Rules come from the built-in pack (unless --no-builtin) and each directory or file
given: Vigil D&R rules and lists files, Falco rules files, Sigma rules and tuning
files, told apart by their content. Directories are read recursively (testdata/ and
hidden directories aside); every rule joins one set, and tuning files apply to it
in the order given.`

func newRulesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "rules", Short: "Validate and test detection & response rules"}
	var strict, noBuiltin bool
	validate := &cobra.Command{
		Use:   "validate [DIR|FILE...]",
		Short: "Load the rule set and report every error of every file with file and line, the tuning applied, and the warnings",
		Long:  sourcesHelp,
		Args:  cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			set, err := loadRules(args, noBuiltin)
			if set == nil {
				return err
			}
			printSet(c.OutOrStdout(), c.ErrOrStderr(), set)
			if err != nil {
				return err
			}
			if _, err := set.Engine(); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "%d rules valid", len(set.Rules))
			if n := len(set.Disabled); n > 0 {
				fmt.Fprintf(c.OutOrStdout(), " (%d disabled by tuning)", n)
			}
			fmt.Fprintf(c.OutOrStdout(), ", %d lists, %d macros, %d warnings\n",
				len(set.Library.Lists()), len(set.Library.Macros()), len(set.Warnings))
			if strict && len(set.Warnings) > 0 {
				return fmt.Errorf("%d warnings (--strict)", len(set.Warnings))
			}
			return nil
		},
	}
	validate.Flags().BoolVar(&strict, "strict", false, "fail on warnings too (unused list or macro, shadowed rule, rule without fixtures, rule not converted, tuning entry selecting no rule)")
	validate.Flags().BoolVar(&noBuiltin, "no-builtin", false, noBuiltinUsage)
	cmd.AddCommand(validate)
	test := &cobra.Command{
		Use:   "test [DIR|FILE...]",
		Short: "Run the fixtures of every rule that has them (testdata/<rule>/match.yaml and nomatch.yaml), print each rule's result; non-zero exit on any failure",
		Long:  sourcesHelp + "\n\nFixtures run on the rules as tuned; the rules tuning disabled are not tested.",
		Args:  cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			set, err := loadRules(args, noBuiltin)
			if err != nil {
				return err
			}
			return printFixtures(c.OutOrStdout(), set.RunFixtures())
		},
	}
	test.Flags().BoolVar(&noBuiltin, "no-builtin", false, noBuiltinUsage)
	cmd.AddCommand(test)
	cmd.AddCommand(newRulesImportCmd())
	cmd.AddCommand(newRulesExplainCmd())
	return cmd
}

// printSet prints each source, then what tuning changed, on out, and the warnings
// on errOut.
func printSet(out, errOut io.Writer, set *rulesource.Set) {
	for _, s := range set.Sources {
		fmt.Fprintln(out, s.Summary())
	}
	for _, ch := range set.Changes {
		fmt.Fprintf(out, "tuning %s\n", ch)
	}
	for _, w := range set.Warnings {
		fmt.Fprintln(errOut, w)
	}
}

// printFixtures prints one line per rule tested, then the failed checks under it,
// and a summary; an error when a check failed.
func printFixtures(out io.Writer, fx *rulesource.Fixtures) error {
	results := fx.Results
	for i := 0; i < len(results); {
		j := i
		var bad []engine.FixtureResult
		for ; j < len(results) && results[j].Rule == results[i].Rule; j++ {
			if !results[j].Pass() {
				bad = append(bad, results[j])
			}
		}
		if len(bad) == 0 {
			fmt.Fprintf(out, "PASS %s\n", results[i].Rule)
		} else {
			fmt.Fprintf(out, "FAIL %s\n", results[i].Rule)
			for _, b := range bad {
				fmt.Fprintf(out, "     %s\n", b)
				printFixtureExplanation(out, b.Explanation)
			}
		}
		i = j
	}
	if checks, rules := fx.Failed(); checks > 0 {
		return fmt.Errorf("%d of %d rules failed (%d of %d fixture checks failed)", rules, fx.Tested, checks, len(results))
	}
	fmt.Fprintf(out, "%d rules, %d fixture checks passed", fx.Tested, len(results))
	if n := len(fx.Untested); n > 0 {
		fmt.Fprintf(out, "; %d rules without fixtures", n)
	}
	if n := len(fx.Disabled); n > 0 {
		fmt.Fprintf(out, "; %d disabled by tuning", n)
	}
	fmt.Fprintln(out)
	return nil
}
