package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/vigil-sec/vigil/internal/client"
)

// detectionStatusCmds are the detections subcommands that change a detection:
// ack, resolve and comment. They use the detections command's API flags.
func detectionStatusCmds(api *apiFlags) []*cobra.Command {
	var asJSON, falsePositive bool
	var assignee string
	change := func(c *cobra.Command, id string, ch client.DetectionChange) error {
		cl, err := api.client()
		if err != nil {
			return err
		}
		d, err := cl.ChangeDetection(c.Context(), id, ch)
		if err != nil {
			return changeFailure(err)
		}
		return printChanged(c.OutOrStdout(), d, asJSON)
	}
	ack := &cobra.Command{
		Use:   "ack ID [--assign NAME]",
		Short: "Acknowledge a detection: someone is looking at it (it still counts in vigil gate)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			st := client.StatusAcknowledged
			ch := client.DetectionChange{Status: &st}
			if c.Flags().Changed("assign") {
				ch.Assignee = &assignee
			}
			return change(c, args[0], ch)
		},
	}
	ack.Flags().StringVar(&assignee, "assign", "", "assign the detection to NAME (\"\" to unassign)")
	resolve := &cobra.Command{
		Use:   "resolve ID [--false-positive]",
		Short: "Resolve a detection; --false-positive marks it a false positive and prints a tuning entry to review",
		Long: `Marks the detection resolved, or with --false-positive a false positive. Neither
counts in vigil gate any more.

For a false positive the API returns, and this prints, a tuning file entry that
would suppress the detection's rule for its event's key fields (the process
path, what it acted on, the host). Nothing applies it: review it, then add it to
a tuning file of your rule sources (vigil rules validate checks it).`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			st := client.StatusResolved
			if falsePositive {
				st = client.StatusFalsePositive
			}
			return change(c, args[0], client.DetectionChange{Status: &st})
		},
	}
	resolve.Flags().BoolVar(&falsePositive, "false-positive", false, "mark the detection a false positive (prints a tuning entry for review)")
	comment := &cobra.Command{
		Use:   "comment ID TEXT",
		Short: "Add a comment to a detection",
		Args:  cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			text := strings.TrimSpace(args[1])
			if text == "" {
				return usageError(errors.New("comment: TEXT is empty"))
			}
			cl, err := api.client()
			if err != nil {
				return err
			}
			d, err := cl.CommentDetection(c.Context(), args[0], text)
			if err != nil {
				return changeFailure(err)
			}
			return printChanged(c.OutOrStdout(), client.ChangedDetection{Detection: d}, asJSON)
		},
	}
	cmds := []*cobra.Command{ack, resolve, comment}
	for _, c := range cmds {
		c.Flags().BoolVar(&asJSON, "json", false, "print the detection as JSON")
	}
	return cmds
}

// changeFailure gives a refused change its exit code: 2 for what the API
// refuses (an unknown detection, a bad value, a key that may not), else as
// apiFailure.
func changeFailure(err error) error {
	var ae *client.APIError
	if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 && !ae.Temporary() {
		return usageError(err)
	}
	return apiFailure(err)
}

// printChanged prints a detection after a change: its status, assignee and
// latest history entry, then the tuning entry of a false positive.
func printChanged(w io.Writer, d client.ChangedDetection, asJSON bool) error {
	if asJSON {
		return writeJSONOut(w, d)
	}
	fmt.Fprintf(w, "%s %s: %s", d.ID, d.Name, d.Status)
	if d.Assignee != "" {
		fmt.Fprintf(w, ", assigned to %s", d.Assignee)
	}
	fmt.Fprintf(w, " (%d comments)\n", len(d.Comments))
	if n := len(d.History); n > 0 {
		h := d.History[n-1]
		fmt.Fprintf(w, "  last change: %s by %s at %s\n", h.Field, h.By, h.Time.UTC().Format("2006-01-02T15:04:05Z"))
	}
	if d.Tuning != "" {
		fmt.Fprintf(w, "\nTuning entry for review (not applied):\n\n%s", d.Tuning)
	}
	return nil
}
