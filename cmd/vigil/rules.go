package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/importer"
	"github.com/vigil-sec/vigil/internal/importer/convert"
	"github.com/vigil-sec/vigil/rules"
)

func newRulesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "rules", Short: "Validate and test detection & response rules"}
	var strict bool
	validate := &cobra.Command{
		Use:   "validate [DIR|FILE...]",
		Short: "Parse rule files and report every error with file, line and rule, and the warnings (default: the built-in pack)",
		Args:  cobra.ArbitraryArgs,
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
		Use:   "test [DIR|FILE...]",
		Short: "Run every rule's fixtures (testdata/<rule>/match.yaml and nomatch.yaml), print each rule's result; non-zero exit on any failure",
		Args:  cobra.ArbitraryArgs,
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

// forEachRuleDir loads each directory or file (the embedded pack when none is
// given) and calls f with it; the first error stops. A directory is a D&R pack; a
// file may be a D&R rule, a Falco rules file or a Sigma rule, told apart by its
// content, with its fixtures under testdata/ beside it.
func forEachRuleDir(paths []string, f func(name string, fsys fs.FS, pack *engine.Pack) error) error {
	if len(paths) == 0 {
		pack, err := engine.LoadPack(rules.FS, ".")
		if err != nil {
			return err
		}
		return f("built-in pack", rules.FS, pack)
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return usageError(fmt.Errorf("%s is not a directory or file of rules: %w", p, err))
		}
		var pack *engine.Pack
		dir := p
		if st.IsDir() {
			pack, err = engine.LoadPackDir(p)
		} else {
			dir = filepath.Dir(p)
			pack, err = loadRuleFile(p)
		}
		if err != nil {
			return err
		}
		if err := f(p, os.DirFS(dir), pack); err != nil {
			return err
		}
	}
	return nil
}

// loadRuleFile compiles one file of any supported format; rules an importer
// skipped on purpose (disabled, deprecated) become warnings.
func loadRuleFile(path string) (*engine.Pack, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	pack := &engine.Pack{Library: engine.NewLibrary()}
	switch importer.Sniff(data) {
	case importer.DR:
		if engine.IsLibrary(data) {
			return pack, pack.Library.Add(path, data)
		}
		// the rule may use the lists and macros of its directory
		lib, err := dirLibrary(filepath.Dir(path))
		if err != nil {
			return nil, err
		}
		r, err := engine.ParseWith(path, data, lib)
		if err != nil {
			return nil, err
		}
		pack.Rules, pack.Library = []*engine.Rule{r}, lib
	case importer.Falco, importer.Sigma:
		rs, skipped, err := convert.Load(path, data)
		if err != nil {
			return nil, err
		}
		pack.Rules = rs
		for _, s := range skipped {
			pack.Warnings = append(pack.Warnings, engine.Warning{File: path, Rule: s.Name, Msg: "skipped: " + s.Reason})
		}
	default:
		return nil, fmt.Errorf("%s: not a rule file: want a Vigil D&R rule, a Falco rules file or a Sigma rule", path)
	}
	return pack, nil
}

// dirLibrary reads the lists and macros files of dir.
func dirLibrary(dir string) (*engine.Library, error) {
	lib := engine.NewLibrary()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || !engine.IsRuleFile(e.Name()) {
			continue
		}
		file := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read rules: %w", err)
		}
		if engine.IsLibrary(data) {
			if err := lib.Add(file, data); err != nil {
				return nil, err
			}
		}
	}
	return lib, lib.Validate()
}
