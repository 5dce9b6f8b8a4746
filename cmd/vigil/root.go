package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/vigil-sec/vigil/internal/version"
)

// exitError carries an exit code other than 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageError(err error) error { return &exitError{code: 2, err: err} }

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "vigil",
		Short:         "Vigil: eBPF sensors, detection and response rules, serverless backend",
		Version:       version.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("vigil {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.AddCommand(newLocalCmd(), newRulesCmd())
	root.AddCommand(newEventsCmd())
	root.AddCommand(newSensorsCmd())
	root.AddCommand(newDetectionsCmd())
	root.AddCommand(newGateCmd())
	root.AddCommand(newBaselineCmd())
	root.AddCommand(newComplianceCmd())
	root.AddCommand(newTaskCmd())
	root.AddCommand(newMetricsCmd())
	root.AddCommand(newCompletionCmd())
	root.AddCommand(newAnomalyCmd())
	root.AddCommand(newKeysCmd())
	root.AddCommand(newCostCmd())
	root.AddCommand(newVersionCmd())
	root.SetHelpCommand(newHelpCmd())
	strictUsage(root)
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print vigil's version (the same as vigil --version)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(c.OutOrStdout(), "vigil %s\n", version.String())
			return err
		},
	}
}

// newHelpCmd is cobra's help command, except that help on a command that does not
// exist is a usage error (exit 2) with a "did you mean" hint.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Args:  cobra.ArbitraryArgs,
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			cmd, _, err := c.Root().Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []cobra.Completion
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					out = append(out, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := c.Root().Find(args)
			if err != nil {
				return usageError(err)
			}
			if len(rest) > 0 {
				return unknownCommand(cmd, rest[0])
			}
			cmd.InitDefaultHelpFlag()
			cmd.InitDefaultVersionFlag()
			return cmd.Help()
		},
	}
}

// strictUsage makes every usage mistake in the tree under c exit 2: the errors of
// the argument validators become usage errors, and a command that only groups
// subcommands refuses an unknown one, with a "did you mean" hint, instead of
// printing its help and exiting 0. Called without one, it prints its help.
func strictUsage(c *cobra.Command) {
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2 // cobra's default, which SuggestionsFor does not apply itself
	}
	switch {
	case c.HasSubCommands() && !c.Runnable():
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return c.Help()
			}
			return unknownCommand(c, args[0])
		}
	case c.Args != nil:
		validate := c.Args
		c.Args = func(c *cobra.Command, args []string) error {
			err := validate(c, args)
			var ee *exitError
			switch {
			case err == nil:
				return nil
			case c.HasSubCommands() && len(args) > 0 && len(c.SuggestionsFor(args[0])) > 0:
				return unknownCommand(c, args[0]) // a runnable command with subcommands (vigil local keys)
			case errors.As(err, &ee):
				return err
			}
			return usageError(fmt.Errorf("%w (see %s --help)", err, c.CommandPath()))
		}
	}
	for _, sub := range c.Commands() {
		strictUsage(sub)
	}
}

// unknownCommand is the usage error for a subcommand c does not have.
func unknownCommand(c *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command %q for %q", name, c.CommandPath())
	if s := c.SuggestionsFor(name); len(s) > 0 {
		msg += fmt.Sprintf(": did you mean %s?", strings.Join(s, " or "))
	}
	return usageError(fmt.Errorf("%s (see %s --help)", msg, c.CommandPath()))
}
