package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/vigil-sec/vigil/internal/client"
	"github.com/vigil-sec/vigil/internal/explain"
)

// newDetectionsGetCmd is `vigil detections get ID`: one detection and why it
// fired.
func newDetectionsGetCmd(api *apiFlags) *cobra.Command {
	var asJSON bool
	get := &cobra.Command{
		Use:   "get ID [--json]",
		Short: "Show one detection: its key fields and why it fired, each condition of the rule with ✓ or ✗",
		Long: `Show one detection: the rule, severity, sensor and time, the event's key fields,
and why it fired: the rule's conditions evaluated on the event, as a tree with
✓ or ✗ per condition, each comparison with its path, operator, expected value and
the event's value; for a stateful rule, the earlier events that completed it (the
parent process, the counted events). --json prints the detection as the API
returns it, explanation included.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := api.client()
			if err != nil {
				return err
			}
			d, err := cl.GetDetection(c.Context(), args[0])
			if errors.Is(err, client.ErrNotFound) {
				return fmt.Errorf("detection %s: not found in org %s", args[0], cl.Org)
			}
			if err != nil {
				return apiFailure(err)
			}
			if asJSON {
				return writeJSONOut(c.OutOrStdout(), d)
			}
			return explain.WriteDetection(c.OutOrStdout(), d.Explained())
		},
	}
	get.Flags().BoolVar(&asJSON, "json", false, "print the detection as JSON")
	return get
}
