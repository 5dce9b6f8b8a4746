package main

import (
	"github.com/spf13/cobra"
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
		SilenceUsage:  true,
		SilenceErrors: true,
	}
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
	return root
}
