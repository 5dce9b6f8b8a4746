package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-sec/vigil/internal/client"
	"github.com/vigil-sec/vigil/internal/engine"
)

// severityRank is a severity's rank in engine.Severities (info lowest), -1 if unknown.
func severityRank(s string) int { return slices.Index(engine.Severities, strings.ToLower(s)) }

func checkSeverity(s string) error {
	if s != "" && severityRank(s) < 0 {
		return usageError(fmt.Errorf("--severity %q: want one of %s", s, strings.Join(engine.Severities, ", ")))
	}
	return nil
}

// atLeast reports whether d's severity is min or higher ("" matches everything).
func atLeast(d *client.Detection, min string) bool {
	return min == "" || severityRank(d.Severity) >= severityRank(min)
}

// parseSinceFlag accepts an RFC 3339 time or a duration back from now.
func parseSinceFlag(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, usageError(fmt.Errorf("--since %q: want a duration back from now (15m, 24h) or an RFC 3339 time (2026-11-22T10:00:00Z)", v))
}

type detectionsOptions struct {
	tag, sensor, since, severity, output string
	json                                 bool
	limit                                int
	interval                             time.Duration
}

func (o *detectionsOptions) check() (client.DetectionQuery, error) {
	var q client.DetectionQuery
	if o.json {
		o.output = "json"
	}
	if err := checkOutput(o.output, "table", "json"); err != nil {
		return q, err
	}
	if o.tag != "" {
		if err := checkTags([]string{o.tag}); err != nil {
			return q, err
		}
	}
	if o.tag != "" && o.sensor != "" {
		return q, usageError(errors.New("give --tag or --sensor, not both"))
	}
	if err := checkSeverity(o.severity); err != nil {
		return q, err
	}
	since, err := parseSinceFlag(o.since, time.Now())
	if err != nil {
		return q, err
	}
	return client.DetectionQuery{Tag: o.tag, SensorID: o.sensor, Since: since}, nil
}

func newDetectionsCmd() *cobra.Command {
	var api apiFlags
	cmd := &cobra.Command{Use: "detections", Short: "List or watch detections"}
	api.register(cmd)
	var o, wo detectionsOptions
	flags := func(c *cobra.Command, o *detectionsOptions) {
		f := c.Flags()
		f.StringVar(&o.tag, "tag", "", "only detections on sensors with this tag K:V (deployment:ID, env:production)")
		f.StringVar(&o.sensor, "sensor", "", "only detections of this sensor id")
		f.StringVar(&o.severity, "severity", "", "only detections of this severity or higher ("+strings.Join(engine.Severities, ", ")+")")
		f.StringVarP(&o.output, "output", "o", "table", "table or json")
		f.BoolVar(&o.json, "json", false, "same as --output json")
	}
	list := &cobra.Command{
		Use:   "list [--tag K:V] [--since 1h] [--severity high]",
		Short: "List detections, newest first",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			q, err := o.check()
			if err != nil {
				return err
			}
			if o.limit < 1 {
				return usageError(errors.New("--limit must be positive"))
			}
			cl, err := api.client()
			if err != nil {
				return err
			}
			var ds []client.Detection
			err = cl.EachDetection(c.Context(), q, func(d client.Detection) error {
				if atLeast(&d, o.severity) {
					ds = append(ds, d)
				}
				if len(ds) >= o.limit {
					return client.ErrStop
				}
				return nil
			})
			if err != nil {
				return apiFailure(err)
			}
			if o.output == "json" {
				if ds == nil {
					ds = []client.Detection{}
				}
				return writeJSONOut(c.OutOrStdout(), ds)
			}
			printDetections(c.OutOrStdout(), ds, true)
			return nil
		},
	}
	flags(list, &o)
	list.Flags().StringVar(&o.since, "since", "24h", "only detections at or after: a duration back from now (1h) or an RFC 3339 time")
	list.Flags().IntVar(&o.limit, "limit", 100, "at most this many detections")

	watch := &cobra.Command{
		Use:   "watch [--tag K:V] [--severity high]",
		Short: "Print detections as they arrive until interrupted (one JSON object per line with --json)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			o := wo
			q, err := o.check()
			if err != nil {
				return err
			}
			if o.interval <= 0 {
				return usageError(errors.New("--interval must be positive"))
			}
			cl, err := api.client()
			if err != nil {
				return err
			}
			if q.Since.IsZero() {
				q.Since = time.Now()
			}
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return watchDetections(ctx, cl, q, o, c.OutOrStdout())
		},
	}
	flags(watch, &wo)
	watch.Flags().StringVar(&wo.since, "since", "", "also show detections since: a duration back from now (1h) or an RFC 3339 time (default: from now on)")
	watch.Flags().DurationVar(&wo.interval, "interval", 5*time.Second, "how often to ask the API")
	cmd.AddCommand(list, watch)
	cmd.AddCommand(newDetectionsGetCmd(&api))
	cmd.AddCommand(newDetectionsContextCmd(&api))
	cmd.AddCommand(detectionStatusCmds(&api)...)
	return cmd
}

func printDetections(w io.Writer, ds []client.Detection, header bool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if header {
		fmt.Fprintln(tw, "TIME\tSEVERITY\tNAME\tSENSOR\tHOSTNAME\tID")
	}
	for _, d := range ds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Time.UTC().Format(time.RFC3339), d.Severity, d.Name, d.SensorID, d.Hostname, d.ID)
	}
	tw.Flush()
}

// newDetections fetches the detections q selects that are not in seen, oldest
// first, and adds them to seen.
func newDetections(ctx context.Context, cl *client.Client, q client.DetectionQuery, seen map[string]bool, min string) ([]client.Detection, error) {
	var fresh []client.Detection
	err := cl.EachDetection(ctx, q, func(d client.Detection) error {
		if !seen[d.ID] {
			seen[d.ID] = true
			if atLeast(&d, min) {
				fresh = append(fresh, d)
			}
		}
		return nil
	})
	slices.Reverse(fresh)
	return fresh, err
}

// watchOverlap is how far back each watch poll looks, beyond the pipeline's latency.
const watchOverlap = 10 * time.Minute

func watchDetections(ctx context.Context, cl *client.Client, q client.DetectionQuery, o detectionsOptions, w io.Writer) error {
	seen := map[string]bool{}
	enc := json.NewEncoder(w)
	header := true
	from := q.Since
	for {
		// look back a while on every poll: detections are listed by event time and
		// arrive after it; seen keeps each one from being printed twice
		if back := time.Now().Add(-watchOverlap); back.After(from) {
			q.Since = back
		}
		fresh, err := newDetections(ctx, cl, q, seen, o.severity)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return apiFailure(err)
		}
		for _, d := range fresh {
			if o.output == "json" {
				if err := enc.Encode(d); err != nil {
					return err
				}
			}
		}
		if o.output != "json" && len(fresh) > 0 {
			printDetections(w, fresh, header)
			header = false
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(o.interval):
		}
	}
}
