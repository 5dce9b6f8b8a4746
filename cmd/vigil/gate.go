package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-sec/vigil/internal/cadence"
	"github.com/vigil-sec/vigil/internal/client"
	"github.com/vigil-sec/vigil/internal/engine"
)

type gateOptions struct {
	tag       string
	duration  time.Duration
	threshold int
	severity  string
	since     string
	interval  time.Duration
	output    string
	// minSensors sensors carrying the tag must send a heartbeat during the
	// window, unless allowUnmonitored.
	minSensors       int
	allowUnmonitored bool
}

// gateResult is the gate's summary (printed as a table, or JSON with --output json).
type gateResult struct {
	Tag        string `json:"tag"`
	Passed     bool   `json:"passed"`
	Threshold  int    `json:"threshold"`
	Severity   string `json:"min_severity"`
	Detections int    `json:"detections"`
	// NotCounted counts the detections in the window that someone marked
	// resolved or a false positive: they do not count against the threshold.
	NotCounted int       `json:"not_counted"`
	Watched    string    `json:"watched"`
	Since      time.Time `json:"since"`
	// Failure is why the gate failed: "threshold" or "unmonitored"; empty when it passed.
	Failure string `json:"failure,omitempty"`
	// Reason says in words why the gate passed or failed.
	Reason string `json:"reason"`
	// Sensors is the monitoring check; nil when it was not made (--allow-unmonitored,
	// or the threshold was crossed first).
	Sensors    *gateSensors       `json:"sensors,omitempty"`
	BySeverity map[string]int     `json:"by_severity"`
	ByRule     map[string]int     `json:"by_rule"`
	ByHost     map[string]int     `json:"by_host"`
	List       []client.Detection `json:"list"`
}

// gateSensors is the check that the deployment was monitored during the window.
type gateSensors struct {
	Monitored bool `json:"monitored"`
	// Heartbeating counts the sensors carrying the tag whose last heartbeat is in the window.
	Heartbeating int `json:"heartbeating"`
	// Registered counts the sensors carrying the tag, whenever they were last seen.
	Registered int `json:"registered"`
	MinSensors int `json:"min_sensors"`
	// LastHeartbeat is the latest heartbeat of any of them (zero when none).
	LastHeartbeat time.Time `json:"last_heartbeat,omitzero"`
}

func newGateCmd() *cobra.Command {
	var api apiFlags
	var o gateOptions
	cmd := &cobra.Command{
		Use:   "gate --tag deployment:ID --duration 5m --threshold 5 [--severity high]",
		Short: "Watch a deployment's detections for a while; fail (exit 1) when they exceed the threshold",
		Long: `Watches the detections on sensors carrying --tag for --duration, polling the API.
The gate fails as soon as more than --threshold detections (of --severity or
higher) have been seen, so a pipeline can roll back without waiting out the
window; it passes when the window ends at or under the threshold. --threshold 0
fails on the first detection. A summary (counts by severity, rule and host, and
the detections) is printed either way.

Detections count while they are new or acknowledged (acknowledged means someone
is looking at it, not that it is harmless). Those marked resolved or a false
positive (vigil detections resolve [--false-positive]) do not count, even when
marked during the window: each poll counts the detections as they stand then.

No detections prove nothing when no sensor is watching: at the end of the window
the gate also requires at least --min-sensors sensors carrying --tag to have sent
a heartbeat during it (since the gate started, or since --since). Sensors send
one every 30 s, and the sensor registry records one at most every 5 minutes, so
a sensor counts when its last recorded heartbeat is at most 5 minutes older than
the window's start. --allow-unmonitored skips this check.

Exit codes: 0 passed, 1 threshold exceeded (roll back), 2 usage or configuration
error, 3 the API could not be reached (the gate could not decide), 4 unmonitored:
fewer than --min-sensors sensors with the tag sent a heartbeat in the window.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if o.tag == "" {
				return usageError(errors.New("gate: --tag is required, for example --tag deployment:$DEPLOYMENT_ID"))
			}
			if err := checkTags([]string{o.tag}); err != nil {
				return err
			}
			if err := checkSeverity(o.severity); err != nil {
				return err
			}
			if err := checkOutput(o.output, "table", "json"); err != nil {
				return err
			}
			if o.duration <= 0 || o.interval <= 0 || o.threshold < 0 {
				return usageError(errors.New("gate: --duration and --interval must be positive and --threshold at least 0"))
			}
			if o.minSensors < 1 {
				return usageError(errors.New("gate: --min-sensors must be at least 1 (--allow-unmonitored skips the check)"))
			}
			cl, err := api.client()
			if err != nil {
				return err
			}
			return runGate(c.Context(), cl, o, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	api.register(cmd)
	f := cmd.Flags()
	f.StringVar(&o.tag, "tag", "", "the deployment's tag K:V (deployment:ID)")
	f.DurationVar(&o.duration, "duration", 5*time.Minute, "how long to watch")
	f.IntVar(&o.threshold, "threshold", 5, "the most detections tolerated; one more fails the gate")
	f.StringVar(&o.severity, "severity", "", "count only detections of this severity or higher ("+strings.Join(engine.Severities, ", ")+"; default all)")
	f.StringVar(&o.since, "since", "", "count detections since this time or duration back from now (default: when the gate starts)")
	f.DurationVar(&o.interval, "interval", 10*time.Second, "how often to ask the API")
	f.StringVarP(&o.output, "output", "o", "table", "summary as table or json")
	f.IntVar(&o.minSensors, "min-sensors", 1, "how many sensors carrying --tag must send a heartbeat during the window (else exit 4)")
	f.BoolVar(&o.allowUnmonitored, "allow-unmonitored", false, "pass on the detections alone, even when no sensor with the tag reported during the window")
	return cmd
}

func runGate(ctx context.Context, cl *client.Client, o gateOptions, stdout, stderr io.Writer) error {
	start := time.Now()
	since, err := parseSinceFlag(o.since, start)
	if err != nil {
		return err
	}
	if since.IsZero() {
		since = start
	}
	res := gateResult{Tag: o.tag, Threshold: o.threshold, Severity: o.severity, Since: since,
		BySeverity: map[string]int{}, ByRule: map[string]int{}, ByHost: map[string]int{}, List: []client.Detection{}}
	if res.Severity == "" {
		res.Severity = engine.Severities[0]
	}
	seen := map[string]client.Detection{}
	p := newProgress(stderr)
	deadline := start.Add(o.duration)
	q := client.DetectionQuery{Tag: o.tag, Since: since}
	for {
		err := cl.EachDetection(ctx, q, func(d client.Detection) error {
			if atLeast(&d, o.severity) {
				seen[d.ID] = d // as it stands now: its status may have changed
			}
			return nil
		})
		if err != nil {
			p.done()
			if ctx.Err() != nil {
				return &exitError{code: exitAPI, err: fmt.Errorf("gate interrupted after %s with %d detections: %w", time.Since(start).Round(time.Second), len(res.List), ctx.Err())}
			}
			return apiFailure(fmt.Errorf("gate could not decide: %w", err))
		}
		countGate(&res, seen)
		now := time.Now()
		res.Detections = len(res.List)
		if res.Detections > o.threshold || !now.Before(deadline) {
			p.done()
			res.Watched = now.Sub(start).Round(100 * time.Millisecond).String()
			res.Passed = res.Detections <= o.threshold
			if !res.Passed {
				res.Failure = "threshold"
				res.Reason = fmt.Sprintf("%d detections on %s exceed the threshold of %d", res.Detections, o.tag, o.threshold)
			} else {
				res.Reason = fmt.Sprintf("%d detections on %s, at most the threshold of %d", res.Detections, o.tag, o.threshold)
				if !o.allowUnmonitored {
					ss, err := cl.Sensors(ctx, o.tag)
					if err != nil {
						return apiFailure(fmt.Errorf("gate could not decide: %w", err))
					}
					// the registry records a live sensor's heartbeat at most every
					// cadence.RegistryWrite: one written that long before the window
					// may be of a sensor heartbeating through it
					heard := since.Add(-cadence.RegistryWrite)
					res.Sensors = monitoring(ss, heard, o.minSensors)
					if !res.Sensors.Monitored {
						res.Passed, res.Failure = false, "unmonitored"
						res.Reason = unmonitoredReason(o.tag, heard, now, res.Sensors)
					} else {
						res.Reason += fmt.Sprintf("; %d sensors sent a heartbeat during the window", res.Sensors.Heartbeating)
					}
				} else {
					res.Reason += "; sensors not checked (--allow-unmonitored)"
				}
			}
			if err := printGate(stdout, &res, o.output); err != nil {
				return err
			}
			switch res.Failure {
			case "threshold":
				return fmt.Errorf("gate failed: %s: roll the deployment back", res.Reason)
			case "unmonitored":
				return &exitError{code: exitUnmonitored, err: fmt.Errorf("gate failed: %s: check the sensors are installed and tagged (vigil sensors list --tag %s), or pass --allow-unmonitored", res.Reason, o.tag)}
			}
			return nil
		}
		left := deadline.Sub(now)
		p.update(fmt.Sprint(res.Detections), fmt.Sprintf("gate %s: %d/%d detections, %s left", o.tag, res.Detections, o.threshold, left.Round(time.Second)))
		wait := min(o.interval, left)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}

// countGate counts the detections of seen that count against the gate's
// threshold (see gateCounts) into res, oldest first.
func countGate(res *gateResult, seen map[string]client.Detection) {
	res.List, res.NotCounted = res.List[:0], 0
	clear(res.BySeverity)
	clear(res.ByRule)
	clear(res.ByHost)
	for _, d := range seen {
		if !gateCounts(&d) {
			res.NotCounted++
			continue
		}
		res.List = append(res.List, d)
		res.BySeverity[d.Severity]++
		res.ByRule[d.Name]++
		res.ByHost[d.Hostname]++
	}
	slices.SortFunc(res.List, func(a, b client.Detection) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// gateCounts reports whether a detection counts against a gate: new and
// acknowledged ones do, resolved ones and false positives do not.
func gateCounts(d *client.Detection) bool {
	return d.Status != client.StatusResolved && d.Status != client.StatusFalsePositive
}

// monitoring counts the sensors (all carrying the gate's tag) whose last recorded
// heartbeat is at or after since.
func monitoring(ss []client.Sensor, since time.Time, minSensors int) *gateSensors {
	m := &gateSensors{Registered: len(ss), MinSensors: minSensors}
	for _, s := range ss {
		if !s.LastSeen.Before(since) {
			m.Heartbeating++
		}
		if s.LastSeen.After(m.LastHeartbeat) {
			m.LastHeartbeat = s.LastSeen
		}
	}
	m.Monitored = m.Heartbeating >= minSensors
	return m
}

// unmonitoredReason says why the monitoring check failed.
func unmonitoredReason(tag string, since, now time.Time, m *gateSensors) string {
	what := fmt.Sprintf("%s was not monitored: %d sensors carrying it sent a heartbeat since %s, want at least %d",
		tag, m.Heartbeating, since.UTC().Format(time.RFC3339), m.MinSensors)
	if m.Registered == 0 {
		return what + " (no sensor carries the tag)"
	}
	return fmt.Sprintf("%s (%d carry the tag, the latest heartbeat %s)", what, m.Registered, ago(now, m.LastHeartbeat))
}

func sortedCounts(m map[string]int) string {
	keys := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(keys, func(a, b string) int { return m[b] - m[a] })
	var parts []string
	for _, k := range keys {
		name := k
		if name == "" {
			name = "(none)"
		}
		parts = append(parts, fmt.Sprintf("%s=%d", name, m[k]))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

func printGate(w io.Writer, r *gateResult, output string) error {
	if output == "json" {
		return writeJSONOut(w, r)
	}
	verdict := "PASSED"
	switch {
	case r.Failure == "unmonitored":
		verdict = "FAILED (unmonitored)"
	case !r.Passed:
		verdict = "FAILED"
	}
	fmt.Fprintf(w, "gate %s: %d detections (severity >= %s) on %s in %s, threshold %d\n", verdict, r.Detections, r.Severity, r.Tag, r.Watched, r.Threshold)
	if r.NotCounted > 0 {
		fmt.Fprintf(w, "  %d more resolved or marked false positive, not counted\n", r.NotCounted)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  by severity\t%s\n", sortedCounts(r.BySeverity))
	fmt.Fprintf(tw, "  by rule\t%s\n", sortedCounts(r.ByRule))
	fmt.Fprintf(tw, "  by host\t%s\n", sortedCounts(r.ByHost))
	if m := r.Sensors; m != nil {
		fmt.Fprintf(tw, "  sensors\t%d sent a heartbeat in the window (want at least %d), %d carry the tag\n", m.Heartbeating, m.MinSensors, m.Registered)
	}
	tw.Flush()
	if len(r.List) > 0 {
		printDetections(w, r.List, true)
	}
	return nil
}
