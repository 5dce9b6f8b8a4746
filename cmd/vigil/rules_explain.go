package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/explain"
	"github.com/vigil-sec/vigil/internal/rulesource"
)

// newRulesExplainCmd is `vigil rules explain RULE --event FILE`.
func newRulesExplainCmd() *cobra.Command {
	var (
		eventFile string
		paths     []string
		noBuiltin bool
		asJSON    bool
	)
	cmd := &cobra.Command{
		Use:   "explain RULE --event FILE [--rules DIR|FILE]...",
		Short: "Evaluate an event against one rule and print each condition with ✓ or ✗; exit 0 if the rule fired, 1 if not, 2 on error",
		Long: `Evaluate the event in FILE against the rule named RULE and print why it fired or
why it did not: the rule's conditions as a tree with ✓ or ✗ per condition, each
comparison with its path, operator, expected value and the event's value.

FILE holds one event in rule-path shape, JSON or YAML, as fixtures hold them
({"routing": {...}, "event": {...}}), or a list of events evaluated in order
(earlier events set up a stateful rule: a parent process, the first matches of a
count); the last one is explained. An event without routing/event_type gets the
rule's first event type.

` + sourcesHelp + `

Exit status: 0 when the rule fired on the event, 1 when it did not, 2 on an error
(the message names the file, line and field of bad input).`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if eventFile == "" {
				return usageError(errors.New("--event FILE is required: the event to evaluate, in rule-path shape"))
			}
			set, err := loadRules(paths, noBuiltin)
			if err != nil {
				return usageError(err)
			}
			r, err := findRule(set, args[0])
			if err != nil {
				return usageError(err)
			}
			data, err := os.ReadFile(eventFile)
			if err != nil {
				return usageError(fmt.Errorf("read event: %w", err))
			}
			events, err := engine.ParseEvents(eventFile, data, r.Events[0])
			if err != nil {
				return usageError(err)
			}
			x, err := engine.ExplainEvents(r, events)
			if err != nil {
				return usageError(fmt.Errorf("%s: %w", eventFile, err))
			}
			if asJSON {
				err = writeJSONOut(c.OutOrStdout(), x)
			} else {
				err = explain.Write(c.OutOrStdout(), x)
			}
			if err != nil {
				return usageError(err)
			}
			if !x.Matched {
				return &exitError{code: 1, err: fmt.Errorf("rule %s did not fire on the event", r.Name)}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&eventFile, "event", "", "`FILE` holding the event (or a list of events) in rule-path shape, JSON or YAML")
	f.StringArrayVar(&paths, "rules", nil, "a rules `DIR` or FILE to load besides the built-in pack (repeatable)")
	f.BoolVar(&noBuiltin, "no-builtin", false, noBuiltinUsage)
	f.BoolVar(&asJSON, "json", false, "print the explanation as JSON")
	return cmd
}

// findRule returns the rule of the set named name, or an error saying it is
// disabled by tuning or unknown.
func findRule(set *rulesource.Set, name string) (*engine.Rule, error) {
	for _, r := range set.Rules {
		if r.Name == name {
			return r, nil
		}
	}
	for _, r := range set.Disabled {
		if r.Name == name {
			return nil, fmt.Errorf("rule %s is disabled by tuning", name)
		}
	}
	return nil, fmt.Errorf("rule %q is not in the rule set (%d rules; `vigil rules validate` lists the sources)", name, len(set.Rules))
}

// printFixtureExplanation prints why a fixture check failed under its line: the
// conditions that decided it, then the whole explanation.
func printFixtureExplanation(out io.Writer, x *explain.Explanation) {
	if x == nil {
		return
	}
	fmt.Fprintf(out, "       because %s\n", explain.Because(x))
	_ = explain.WriteIndent(out, x, "         ")
}
