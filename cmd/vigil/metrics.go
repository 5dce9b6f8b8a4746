package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"slices"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"
	"github.com/spf13/cobra"
	"github.com/vigil-sec/vigil/internal/cadence"
	"github.com/vigil-sec/vigil/internal/client"
	"github.com/vigil-sec/vigil/internal/task"
)

// The metrics `vigil metrics push` computes from the API's data; docs/devops.md
// defines each one.
const (
	metricScore    = "deployment_security_score"
	metricTTD      = "time_to_detect"
	metricTTR      = "time_to_respond"
	metricCoverage = "coverage"
	metricCritical = "critical_alerts_by_service"
)

// Score penalties per detection in the window, by severity.
var scorePenalty = map[string]float64{"critical": 25, "high": 10, "medium": 3, "low": 1}

type metricsOptions struct {
	tags       []string
	deployment string
	window     time.Duration
	maxAge     time.Duration
	expected   int
	statsd     string
	dryRun     bool
	output     string
	max        int
}

type metricPoint struct {
	Name  string   `json:"name"`
	Value float64  `json:"value"`
	Unit  string   `json:"unit"`
	Tags  []string `json:"tags,omitempty"`
}

type metricsReport struct {
	Window     string        `json:"window"`
	Sensors    int           `json:"sensors"`
	Online     int           `json:"online"`
	Detections int           `json:"detections"`
	Metrics    []metricPoint `json:"metrics"`
	NoData     []string      `json:"no_data,omitempty"`
	Pushed     string        `json:"pushed_to,omitempty"`
}

func newMetricsCmd() *cobra.Command {
	var api apiFlags
	cmd := &cobra.Command{Use: "metrics", Short: "Security metrics for DevOps dashboards"}
	api.register(cmd)
	var o metricsOptions
	push := &cobra.Command{
		Use:   "push [--deployment ID | --tag K:V...] [--window 24h] [--statsd-addr HOST:PORT]",
		Short: "Compute deployment_security_score, time_to_detect, time_to_respond, coverage, critical_alerts_by_service and send them to Datadog (DogStatsD)",
		Long: `Computes the metrics from the API's sensors, detections and tasks over --window
and sends them as gauges named vigil.<metric> to a DogStatsD agent: --statsd-addr,
else $DD_AGENT_HOST:$DD_DOGSTATSD_PORT (defaults 127.0.0.1 and 8125). Every metric
is tagged org:<org> and with the selecting tags. --dry-run computes and prints
without sending. See docs/devops.md for each metric's definition.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if o.deployment != "" {
				o.tags = append([]string{"deployment:" + o.deployment}, o.tags...)
			}
			if err := checkTags(o.tags); err != nil {
				return err
			}
			if err := checkOutput(o.output, "table", "json"); err != nil {
				return err
			}
			if o.window <= 0 || o.maxAge <= 0 || o.expected < 0 {
				return usageError(errors.New("metrics push: --window and --max-heartbeat-age must be positive, --expected not negative"))
			}
			addr := o.statsd
			if addr == "" {
				host, port := os.Getenv("DD_AGENT_HOST"), os.Getenv("DD_DOGSTATSD_PORT")
				if host == "" {
					host = "127.0.0.1"
				}
				if port == "" {
					port = "8125"
				}
				addr = net.JoinHostPort(host, port)
			}
			if _, _, err := net.SplitHostPort(addr); err != nil && !o.dryRun {
				return usageError(fmt.Errorf("statsd address %q: want HOST:PORT (--statsd-addr or DD_AGENT_HOST and DD_DOGSTATSD_PORT)", addr))
			}
			cl, err := api.client()
			if err != nil {
				return err
			}
			rep, err := computeMetrics(c.Context(), cl, o, time.Now())
			if err != nil {
				return apiFailure(err)
			}
			if !o.dryRun {
				if err := pushMetrics(addr, cl.Org, o.tags, rep); err != nil {
					return err
				}
				rep.Pushed = addr
			}
			return printMetrics(c.OutOrStdout(), rep, o.output)
		},
	}
	f := push.Flags()
	f.StringVar(&o.deployment, "deployment", "", "only the deployment's sensors (tag deployment:ID)")
	f.StringArrayVar(&o.tags, "tag", nil, "only sensors with this tag K:V (repeatable)")
	f.DurationVar(&o.window, "window", 24*time.Hour, "detections and tasks of this last period count")
	f.DurationVar(&o.maxAge, "max-heartbeat-age", cadence.Stale, "a sensor covers its host when its last heartbeat is at most this old")
	f.IntVar(&o.expected, "expected", 0, "hosts that should have a sensor (coverage's denominator; default the sensors registered)")
	f.StringVar(&o.statsd, "statsd-addr", "", "DogStatsD address HOST:PORT (default $DD_AGENT_HOST:$DD_DOGSTATSD_PORT, 127.0.0.1:8125)")
	f.BoolVar(&o.dryRun, "dry-run", false, "compute and print, do not send")
	f.StringVarP(&o.output, "output", "o", "table", "table or json")
	f.IntVar(&o.max, "max-detections", 10000, "read at most this many detections")
	cmd.AddCommand(push)
	return cmd
}

func hasTags(have, want []string) bool {
	for _, t := range want {
		if !slices.Contains(have, t) {
			return false
		}
	}
	return true
}

func median(xs []float64) float64 {
	sort.Float64s(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

func computeMetrics(ctx context.Context, cl *client.Client, o metricsOptions, now time.Time) (*metricsReport, error) {
	since := now.Add(-o.window)
	ss, err := cl.Sensors(ctx, o.tags...)
	if err != nil {
		return nil, err
	}
	q := client.DetectionQuery{Since: since}
	if len(o.tags) > 0 {
		q.Tag = o.tags[0]
	}
	var ds []client.Detection
	err = cl.EachDetection(ctx, q, func(d client.Detection) error {
		if hasTags(d.Tags, o.tags) {
			ds = append(ds, d)
		}
		if len(ds) >= o.max {
			return client.ErrStop
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep := &metricsReport{Window: o.window.String(), Sensors: len(ss), Online: len(online(ss, now, o.maxAge)), Detections: len(ds)}

	// coverage
	denom := len(ss)
	if o.expected > 0 {
		denom = o.expected
	}
	coverage := 0.0
	if denom > 0 {
		coverage = math.Min(100, 100*float64(rep.Online)/float64(denom))
	}
	// score
	score := 100.0
	for _, d := range ds {
		score -= scorePenalty[d.Severity]
	}
	score = math.Max(0, score) * coverage / 100
	rep.Metrics = append(rep.Metrics,
		metricPoint{Name: metricScore, Value: math.Round(score*10) / 10, Unit: "points (0-100)"},
		metricPoint{Name: metricCoverage, Value: math.Round(coverage*10) / 10, Unit: "percent"})

	// detection and response times, from the response tasks of the window's detections
	byID := map[string]*client.Detection{}
	sensorsWithDetections := map[string]bool{}
	for i := range ds {
		byID[ds[i].ID] = &ds[i]
		sensorsWithDetections[ds[i].SensorID] = true
	}
	firstTask := map[string]time.Time{}
	var ttr []float64
	for _, sid := range slices.Sorted(func(yield func(string) bool) {
		for k := range sensorsWithDetections {
			if !yield(k) {
				return
			}
		}
	}) {
		ts, err := cl.SensorTasks(ctx, sid, since)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			d := byID[t.DetectionID]
			if d == nil {
				continue
			}
			if ft, ok := firstTask[d.ID]; !ok || t.Created.Before(ft) {
				firstTask[d.ID] = t.Created
			}
			if t.Status == task.Done {
				ttr = append(ttr, math.Max(0, t.Updated.Sub(d.Time).Seconds()))
			}
		}
	}
	var ttd []float64
	for id, created := range firstTask {
		ttd = append(ttd, math.Max(0, created.Sub(byID[id].Time).Seconds()))
	}
	if len(ttd) > 0 {
		rep.Metrics = append(rep.Metrics, metricPoint{Name: metricTTD, Value: median(ttd), Unit: "seconds (median)"})
	} else {
		rep.NoData = append(rep.NoData, metricTTD)
	}
	if len(ttr) > 0 {
		rep.Metrics = append(rep.Metrics, metricPoint{Name: metricTTR, Value: median(ttr), Unit: "seconds (median)"})
	} else {
		rep.NoData = append(rep.NoData, metricTTR)
	}

	// critical alerts per service: every service the sensors carry, 0 included
	crit := map[string]int{}
	for _, s := range ss {
		crit[tagValue(s.Tags, "service")] += 0
	}
	for _, d := range ds {
		if d.Severity == "critical" {
			crit[tagValue(d.Tags, "service")]++
		}
	}
	for _, svc := range slices.Sorted(func(yield func(string) bool) {
		for k := range crit {
			if !yield(k) {
				return
			}
		}
	}) {
		rep.Metrics = append(rep.Metrics, metricPoint{Name: metricCritical, Value: float64(crit[svc]), Unit: "detections", Tags: []string{"service:" + svc}})
	}
	return rep, nil
}

// tagValue is the value of key among tags, or "none".
func tagValue(tags []string, key string) string {
	d := client.Detection{Tags: tags}
	if v := d.Tag(key); v != "" {
		return v
	}
	return "none"
}

func pushMetrics(addr, org string, tags []string, rep *metricsReport) error {
	global := append([]string{"org:" + org}, tags...)
	c, err := statsd.New(addr, statsd.WithNamespace("vigil."), statsd.WithTags(global), statsd.WithoutTelemetry(),
		statsd.WithoutOriginDetection(), statsd.WithoutClientSideAggregation())
	if err != nil {
		return usageError(fmt.Errorf("statsd %s: %w", addr, err))
	}
	for _, m := range rep.Metrics {
		if err := c.Gauge(m.Name, m.Value, m.Tags, 1); err != nil {
			c.Close()
			return fmt.Errorf("statsd %s: %s: %w", addr, m.Name, err)
		}
	}
	if err := c.Flush(); err != nil {
		c.Close()
		return fmt.Errorf("statsd %s: %w", addr, err)
	}
	return c.Close()
}

func printMetrics(w io.Writer, rep *metricsReport, output string) error {
	if output == "json" {
		return writeJSONOut(w, rep)
	}
	fmt.Fprintf(w, "%d sensors (%d online), %d detections in the last %s\n", rep.Sensors, rep.Online, rep.Detections, rep.Window)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "METRIC\tVALUE\tUNIT\tTAGS")
	for _, m := range rep.Metrics {
		fmt.Fprintf(tw, "vigil.%s\t%g\t%s\t%v\n", m.Name, m.Value, m.Unit, m.Tags)
	}
	for _, n := range rep.NoData {
		fmt.Fprintf(tw, "vigil.%s\t-\tno data (no response task in the window)\t\n", n)
	}
	tw.Flush()
	if rep.Pushed != "" {
		fmt.Fprintf(w, "sent %d gauges to DogStatsD at %s\n", len(rep.Metrics), rep.Pushed)
	}
	return nil
}
