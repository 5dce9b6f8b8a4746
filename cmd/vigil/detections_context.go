package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/vigil-sec/vigil/internal/client"
)

func newDetectionsContextCmd(api *apiFlags) *cobra.Command {
	var minutes int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "context ID [--minutes N]",
		Short: "Show what happened around a detection: its process tree and their events",
		Long: `Prints the process tree of a detection's process — its ancestors and all its
descendants — and the events of those processes from N minutes before to N minutes
after the detection (GET /v1/orgs/{org}/detections/{id}/context), read from the lake:
vigil local's, or the cloud's through Athena. --json prints the API's answer.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if minutes < 1 || minutes > 24*60 {
				return usageError(fmt.Errorf("--minutes %d: want 1 to %d", minutes, 24*60))
			}
			cl, err := api.client()
			if err != nil {
				return err
			}
			d, err := cl.DetectionContext(c.Context(), args[0], minutes)
			if err != nil {
				return apiFailure(err)
			}
			if asJSON {
				return writeJSONOut(c.OutOrStdout(), d)
			}
			return printDetectionContext(c.OutOrStdout(), d)
		},
	}
	cmd.Flags().IntVar(&minutes, "minutes", 5, "minutes before and after the detection")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")
	return cmd
}

func printDetectionContext(w io.Writer, d client.DetectionContext) error {
	fmt.Fprintf(w, "detection %s: %s .. %s\n\nprocess tree:\n", d.DetectionID, d.From, d.To)
	if d.Tree != nil {
		printProcess(w, d.Tree, "", "")
	}
	more := ""
	if d.Truncated {
		more = " (cut at the limit: narrow --minutes)"
	}
	fmt.Fprintf(w, "\n%d events%s:\n", len(d.Events), more)
	p := newEventPrinter(w, false)
	for _, raw := range d.Events {
		e, err := eventFromJSON(raw)
		if err != nil {
			return fmt.Errorf("detection %s: %w", d.DetectionID, err)
		}
		if err := p.print(&e); err != nil {
			return err
		}
	}
	return p.flush()
}

// printProcess prints n and its children as an indented tree.
func printProcess(w io.Writer, n *client.ProcessNode, lead, childLead string) {
	mark := ""
	if n.Detection {
		mark = "  ◀ detection"
	}
	cmd := n.CommandLine
	if cmd == "" {
		cmd = n.Path
	}
	fmt.Fprintf(w, "%s%d %s [%s] %d events%s\n", lead, n.PID, truncate(strings.TrimSpace(cmd), 80), n.User, n.Events, mark)
	for i, c := range n.Children {
		if i == len(n.Children)-1 {
			printProcess(w, c, childLead+"└─ ", childLead+"   ")
		} else {
			printProcess(w, c, childLead+"├─ ", childLead+"│  ")
		}
	}
}
