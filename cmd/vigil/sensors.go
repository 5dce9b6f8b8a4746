package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-sec/vigil/internal/cadence"
	"github.com/vigil-sec/vigil/internal/client"
)

// Exit codes of the commands that talk to the API (documented in docs/devops.md):
// 0 success, 1 the check failed (timeout, threshold crossed, baseline or compliance
// failure), 2 usage or configuration error (bad flags, no API key, key refused),
// 3 the API could not be reached or failed, 4 the gate's deployment was not
// monitored (too few of its sensors sent a heartbeat during the window).
const (
	exitAPI         = 3
	exitUnmonitored = 4
)

// apiRetryBackoff is the client's first retry delay (tests shorten it).
var apiRetryBackoff = 250 * time.Millisecond

// apiFlags are the connection flags every API command takes; unset flags fall back
// to VIGIL_API_URL, VIGIL_API_KEY and VIGIL_ORG (default "local").
type apiFlags struct {
	url, key, org string
	timeout       time.Duration
}

func (a *apiFlags) register(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&a.url, "api-url", "", "API base `URL` (default $VIGIL_API_URL; vigil local's is http://127.0.0.1:8080)")
	f.StringVar(&a.key, "api-key", "", "API key (default $VIGIL_API_KEY; prefer the variable: flags show in process lists)")
	f.StringVar(&a.org, "org", "", `org (default $VIGIL_ORG, else "local")`)
	f.DurationVar(&a.timeout, "request-timeout", 30*time.Second, "timeout of each API request (failed requests are retried)")
}

func (a *apiFlags) client() (*client.Client, error) {
	url, key, org := a.url, a.key, a.org
	if url == "" {
		url = os.Getenv("VIGIL_API_URL")
	}
	if key == "" {
		key = os.Getenv("VIGIL_API_KEY")
	}
	if org == "" {
		org = os.Getenv("VIGIL_ORG")
	}
	if org == "" {
		org = "local"
	}
	c, err := client.New(url, key, org)
	if err != nil {
		return nil, usageError(err)
	}
	c.Timeout = a.timeout
	c.Backoff = apiRetryBackoff
	return c, nil
}

// apiFailure gives an API error its exit code: 2 when the key is refused (a
// configuration error), else 3.
func apiFailure(err error) error {
	var ee *exitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee):
		return err
	case errors.Is(err, client.ErrUnauthorized), errors.Is(err, client.ErrForbidden):
		return usageError(err)
	}
	return &exitError{code: exitAPI, err: err}
}

// checkTags refuses tags that are not K:V.
func checkTags(tags []string) error {
	for _, t := range tags {
		if k, v, ok := strings.Cut(t, ":"); !ok || k == "" || v == "" {
			return usageError(fmt.Errorf("tag %q: want KEY:VALUE (for example deployment:42 or env:production)", t))
		}
	}
	return nil
}

// checkOutput refuses an --output value not in allowed.
func checkOutput(v string, allowed ...string) error {
	if !slices.Contains(allowed, v) {
		return usageError(fmt.Errorf("--output %q: want one of %s", v, strings.Join(allowed, ", ")))
	}
	return nil
}

func writeJSONOut(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// isTerminal reports whether w is a terminal (a character device that is not
// /dev/null), where progress is redrawn in place; elsewhere it is printed as lines.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if os.Getenv("TERM") == "dumb" {
		return false
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return false
	}
	return true
}

// progress shows a changing status line: redrawn in place on a terminal, else
// printed as a plain line when it changes or every 30 s.
type progress struct {
	w     io.Writer
	tty   bool
	last  string
	at    time.Time
	drawn bool
}

func newProgress(w io.Writer) *progress { return &progress{w: w, tty: isTerminal(w)} }

// update shows msg; key is the part whose change deserves a new line off a terminal.
func (p *progress) update(key, msg string) {
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", msg)
		p.drawn = true
		return
	}
	if key != p.last || time.Since(p.at) >= 30*time.Second {
		fmt.Fprintln(p.w, msg)
		p.last, p.at = key, time.Now()
	}
}

// done ends the status line on a terminal.
func (p *progress) done() {
	if p.tty && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t).Round(time.Second)
	if d < 0 {
		d = 0
	}
	return d.String() + " ago"
}

func newSensorsCmd() *cobra.Command {
	var api apiFlags
	cmd := &cobra.Command{
		Use:   "sensors",
		Short: "List sensors, or wait for a deployment's sensors to come online",
	}
	api.register(cmd)

	var tags []string
	var output string
	list := &cobra.Command{
		Use:   "list [--tag K:V]...",
		Short: "List the sensors carrying every given tag",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkTags(tags); err != nil {
				return err
			}
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			cl, err := api.client()
			if err != nil {
				return err
			}
			ss, err := cl.Sensors(c.Context(), tags...)
			if err != nil {
				return apiFailure(err)
			}
			if output == "json" {
				if ss == nil {
					ss = []client.Sensor{}
				}
				return writeJSONOut(c.OutOrStdout(), map[string]any{"sensors": ss})
			}
			printSensors(c.OutOrStdout(), ss, time.Now())
			return nil
		},
	}
	list.Flags().StringArrayVar(&tags, "tag", nil, "only sensors with this tag K:V (repeatable: all must match)")
	list.Flags().StringVarP(&output, "output", "o", "table", "table or json")

	var w waitOptions
	wait := &cobra.Command{
		Use:   "wait --tag K:V [--count N] [--timeout 10m]",
		Short: "Wait until N sensors with the tags are online (exit 0), or time out (exit 1)",
		Long: `Polls the API until at least --count sensors carrying every --tag have sent a
heartbeat within --max-heartbeat-age. Shows progress (redrawn on a terminal, one
line per change otherwise) and prints the sensors found.

Exit codes: 0 the sensors are online, 1 timed out, 2 usage or configuration error,
3 the API could not be reached.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if len(w.tags) == 0 {
				return usageError(errors.New("sensors wait: give at least one --tag, for example --tag deployment:$DEPLOYMENT_ID"))
			}
			if err := checkTags(w.tags); err != nil {
				return err
			}
			if w.count < 1 || w.timeout <= 0 || w.interval <= 0 {
				return usageError(errors.New("sensors wait: --count, --timeout and --interval must be positive"))
			}
			cl, err := api.client()
			if err != nil {
				return err
			}
			return waitSensors(c.Context(), cl, w, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	wf := wait.Flags()
	wf.StringArrayVar(&w.tags, "tag", nil, "tag K:V the sensors carry (repeatable: all must match)")
	wf.IntVar(&w.count, "count", 1, "how many sensors must be online")
	wf.DurationVar(&w.timeout, "timeout", 10*time.Minute, "give up after this long (exit 1)")
	wf.DurationVar(&w.interval, "interval", 5*time.Second, "how often to ask the API")
	wf.DurationVar(&w.maxAge, "max-heartbeat-age", cadence.Stale, "a sensor is online when its last heartbeat is at most this old")

	cmd.AddCommand(list, wait)
	return cmd
}

func printSensors(w io.Writer, ss []client.Sensor, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SENSOR\tHOSTNAME\tVERSION\tLAST SEEN\tDROPS\tTAGS")
	for _, s := range ss {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", s.SensorID, s.Hostname, s.Version, ago(now, s.LastSeen), s.Drops, strings.Join(s.Tags, ","))
	}
	tw.Flush()
}

type waitOptions struct {
	tags     []string
	count    int
	timeout  time.Duration
	interval time.Duration
	maxAge   time.Duration
}

func online(ss []client.Sensor, now time.Time, maxAge time.Duration) (on []client.Sensor) {
	for _, s := range ss {
		if now.Sub(s.LastSeen) <= maxAge {
			on = append(on, s)
		}
	}
	return on
}

func waitSensors(ctx context.Context, cl *client.Client, o waitOptions, stdout, stderr io.Writer) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	p := newProgress(stderr)
	defer p.done()
	what := strings.Join(o.tags, " ")
	var seen, on []client.Sensor
	for {
		ss, err := cl.Sensors(ctx, o.tags...)
		if err != nil && ctx.Err() == nil {
			p.done()
			return apiFailure(err)
		}
		if err == nil {
			now := time.Now()
			seen, on = ss, online(ss, now, o.maxAge)
			if len(on) >= o.count {
				p.done()
				fmt.Fprintf(stdout, "%d of %d sensors online (%s) after %s\n", len(on), o.count, what, now.Sub(start).Round(time.Second))
				printSensors(stdout, on, now)
				return nil
			}
			left := o.timeout - now.Sub(start)
			p.update(fmt.Sprint(len(on), "/", len(seen)),
				fmt.Sprintf("waiting for sensors %s: %d/%d online (%d registered), %s left", what, len(on), o.count, len(seen), left.Round(time.Second)))
		}
		select {
		case <-ctx.Done():
			p.done()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("timed out after %s: %d of %d sensors online with %s (%d registered); check the instances ran the sensor's user-data (journalctl -u vigil-sensor) and can reach the ingest stream",
					o.timeout, len(on), o.count, what, len(seen))
			}
			return &exitError{code: exitAPI, err: ctx.Err()}
		case <-time.After(o.interval):
		}
	}
}
