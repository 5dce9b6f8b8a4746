package main

import (
	"bufio"
	"context"
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

// checkResult is one check on one sensor (or on the deployment as a whole when
// SensorID is empty).
type checkResult struct {
	Check    string `json:"check"`
	SensorID string `json:"sensor_id,omitempty"`
	Hostname string `json:"hostname,omitempty"`
	Passed   bool   `json:"passed"`
	Detail   string `json:"detail"`
}

// readRuleNames reads a required-rules file: one rule name per line; blank lines,
// "#" comments and a leading "- " (a YAML list) are allowed.
func readRuleNames(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usageError(fmt.Errorf("--require-rules: %w", err))
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		s := sc.Text()
		if i := strings.Index(s, "#"); i >= 0 {
			s = s[:i]
		}
		s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "- "))
		s = strings.Trim(s, `"'`)
		if s == "" {
			continue
		}
		if strings.ContainsAny(s, " \t:") {
			return nil, usageError(fmt.Errorf("%s:%d: %q is not a rule name (one name per line)", path, line, s))
		}
		names = append(names, s)
	}
	if err := sc.Err(); err != nil {
		return nil, usageError(fmt.Errorf("--require-rules %s: %w", path, err))
	}
	if len(names) == 0 {
		return nil, usageError(fmt.Errorf("--require-rules %s: no rule names in it", path))
	}
	return names, nil
}

// missingRules returns the required names that no rule in force has as its name or
// its report name.
func missingRules(inForce []client.Rule, required []string) []string {
	have := map[string]bool{}
	for _, r := range inForce {
		have[r.Name] = true
		if r.Report != "" {
			have[r.Report] = true
		}
	}
	var missing []string
	for _, n := range required {
		if !have[n] {
			missing = append(missing, n)
		}
	}
	return missing
}

// sensorChecks checks one sensor's heartbeat age and, when version is set, version.
func sensorChecks(s client.Sensor, now time.Time, maxAge time.Duration, version string) []checkResult {
	age := now.Sub(s.LastSeen)
	hb := checkResult{Check: "heartbeat", SensorID: s.SensorID, Hostname: s.Hostname, Passed: age <= maxAge}
	if hb.Passed {
		hb.Detail = "last heartbeat " + ago(now, s.LastSeen)
	} else {
		hb.Detail = fmt.Sprintf("last heartbeat %s, older than %s: is the sensor running? (systemctl status vigil-sensor on %s)", ago(now, s.LastSeen), maxAge, s.Hostname)
	}
	out := []checkResult{hb}
	if version != "" {
		v := checkResult{Check: "version", SensorID: s.SensorID, Hostname: s.Hostname, Passed: s.Version == version}
		if v.Passed {
			v.Detail = "version " + s.Version
		} else {
			v.Detail = fmt.Sprintf("version %q, want %q: the instance runs an old image or bootstrap", s.Version, version)
		}
		out = append(out, v)
	}
	return out
}

func rulesCheck(ctx context.Context, cl *client.Client, required []string) (checkResult, error) {
	r := checkResult{Check: "rules", Passed: true, Detail: "no required rules given"}
	if len(required) == 0 {
		return r, nil
	}
	rules, err := cl.Rules(ctx)
	if err != nil {
		return r, err
	}
	if miss := missingRules(rules, required); len(miss) > 0 {
		r.Passed = false
		r.Detail = fmt.Sprintf("not in force: %s (add them to rules/ and deploy the stack)", strings.Join(miss, ", "))
	} else {
		r.Detail = fmt.Sprintf("all %d required rules in force", len(required))
	}
	return r, nil
}

func printChecks(w io.Writer, cs []checkResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RESULT\tCHECK\tSENSOR\tHOSTNAME\tDETAIL")
	for _, c := range cs {
		res := "PASS"
		if !c.Passed {
			res = "FAIL"
		}
		sensor, host := c.SensorID, c.Hostname
		if sensor == "" {
			sensor, host = "-", "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", res, c.Check, sensor, host, c.Detail)
	}
	tw.Flush()
}

func failures(cs []checkResult) []checkResult {
	return slices.DeleteFunc(slices.Clone(cs), func(c checkResult) bool { return c.Passed })
}

type baselineOptions struct {
	deployment, version, rulesFile, output string
	maxAge                                 time.Duration
	count                                  int
}

func newBaselineCmd() *cobra.Command {
	var api apiFlags
	var o baselineOptions
	cmd := &cobra.Command{
		Use:   "baseline --deployment ID [--version V] [--require-rules FILE] [--max-heartbeat-age 2m]",
		Short: "Check a deployment's security baseline: sensors online, on the expected version, required rules in force",
		Long: `Checks the sensors tagged deployment:ID: at least --count of them exist, each sent
a heartbeat within --max-heartbeat-age, each runs --version (when given), and
every rule named in --require-rules (one name per line, # comments) is in force.
Prints every check; on failure names each one.

Exit codes: 0 all checks passed, 1 a check failed, 2 usage or configuration error,
3 the API could not be reached.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if o.deployment == "" {
				return usageError(errors.New("baseline: --deployment is required (the id the sensors are tagged with, deployment:ID)"))
			}
			if err := checkOutput(o.output, "table", "json"); err != nil {
				return err
			}
			if o.count < 1 || o.maxAge <= 0 {
				return usageError(errors.New("baseline: --count and --max-heartbeat-age must be positive"))
			}
			var required []string
			if o.rulesFile != "" {
				var err error
				if required, err = readRuleNames(o.rulesFile); err != nil {
					return err
				}
			}
			cl, err := api.client()
			if err != nil {
				return err
			}
			return runBaseline(c.Context(), cl, o, required, c.OutOrStdout())
		},
	}
	api.register(cmd)
	f := cmd.Flags()
	f.StringVar(&o.deployment, "deployment", "", "deployment id (sensors carry the tag deployment:ID)")
	f.StringVar(&o.version, "version", "", "sensor version every sensor must run")
	f.StringVar(&o.rulesFile, "require-rules", "", "file of rule names that must be in force, one per line")
	f.DurationVar(&o.maxAge, "max-heartbeat-age", cadence.Stale, "oldest acceptable last heartbeat")
	f.IntVar(&o.count, "count", 1, "how many sensors the deployment must have")
	f.StringVarP(&o.output, "output", "o", "table", "table or json")
	return cmd
}

func runBaseline(ctx context.Context, cl *client.Client, o baselineOptions, required []string, w io.Writer) error {
	tag := "deployment:" + o.deployment
	ss, err := cl.Sensors(ctx, tag)
	if err != nil {
		return apiFailure(err)
	}
	now := time.Now()
	count := checkResult{Check: "sensors", Passed: len(ss) >= o.count,
		Detail: fmt.Sprintf("%d sensors tagged %s (want at least %d)", len(ss), tag, o.count)}
	if !count.Passed {
		count.Detail += `: did they start? run "vigil sensors wait --tag ` + tag + `" first`
	}
	checks := []checkResult{count}
	for _, s := range ss {
		checks = append(checks, sensorChecks(s, now, o.maxAge, o.version)...)
	}
	rc, err := rulesCheck(ctx, cl, required)
	if err != nil {
		return apiFailure(err)
	}
	checks = append(checks, rc)
	bad := failures(checks)
	if o.output == "json" {
		if err := writeJSONOut(w, map[string]any{"deployment": o.deployment, "passed": len(bad) == 0, "checks": checks}); err != nil {
			return err
		}
	} else {
		printChecks(w, checks)
	}
	if len(bad) == 0 {
		return nil
	}
	msgs := make([]string, 0, len(bad))
	for _, c := range bad {
		who := ""
		if c.SensorID != "" {
			who = fmt.Sprintf(" sensor %s (%s)", c.SensorID, c.Hostname)
		}
		msgs = append(msgs, fmt.Sprintf("%s%s: %s", c.Check, who, c.Detail))
	}
	return fmt.Errorf("baseline of deployment %s failed %d checks:\n  %s", o.deployment, len(bad), strings.Join(msgs, "\n  "))
}
