package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/localrun"
	"github.com/vigil-sec/vigil/sensor/agent"
)

// localOptions are the flags of vigil local: the App's options and the rule
// sources they are built from.
type localOptions struct {
	localrun.Options
	rules     []string // rule sources besides the built-in pack
	noBuiltin bool     // leave the built-in pack out
}

func newLocalCmd() *cobra.Command {
	var o localOptions
	cmd := &cobra.Command{
		Use:   "local",
		Short: "Run the whole pipeline on this machine: sensor, rules, store, API and dashboard (needs root)",
		Long: `Runs the sensor, an in-process stream carrying the same Parquet batches Kinesis
would, the detection core with the rule pack, an embedded store for detections,
sensors and tasks, the response actions, and the same HTTP API as the api function
with a web dashboard, all in one process. Detections are printed on stdout (one
JSON object per line with --json); events are written to a local lake in the same
Hive layout as the S3 lake. The sensor evaluates the rules on each event as it
captures it (edge detection, as vigil-sensor with rules.edge), so a detection is
printed within milliseconds; each batch is evaluated afterwards too, and a
detection is printed and stored once. Stop with Ctrl-C: queued events are flushed
first.

The API and dashboard listen on --listen (127.0.0.1:8080). At first start an API key
is made, printed once and stored hashed in --data; every start prints a one-time
login link for the dashboard.

Response actions (isolate, kill, snapshot) are dry runs unless --enforce is given:
each is recorded as a finished task "dry run: would isolate" and nothing happens
to this host. With --enforce they become pending tasks for the sensor, which
carries them out on this host (isolate keeps loopback, the DNS resolvers and
--isolate-allow reachable; a rejoin task undoes it). Actions a rule marks edge: true
run in the sensor at once, dry runs unless --enforce. notify posts the detection to
--webhook (or the rule's own http(s) webhook).

--replay DIR|FILE runs the pipeline over a recorded lake (or one Parquet file) as
fast as it can instead of the live sensor, without root, and prints a summary;
add --serve to keep the API and dashboard up afterwards. --model adds the host
activity anomaly scorer (a model from vigil anomaly train) after the rules.

The rules are the built-in pack (unless --no-builtin) and every --rules directory
or file: Vigil, Falco and Sigma rules and tuning files, as vigil rules validate
reads them.`,
		Example: `  sudo vigil local
  sudo vigil local --json --enforce --webhook https://hooks.example.com/vigil
  vigil local --replay var/lake
  vigil local --replay var/lake --serve`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if o.Replay == "" && runtime.GOOS != "linux" {
				return usageError(fmt.Errorf("local: the live sensor needs Linux (eBPF), this is %s: replay a lake recorded on Linux (vigil local --replay DIR), or run vigil local on a Linux host", runtime.GOOS))
			}
			if o.Replay == "" { // the live sensor runs as vigil-sensor does
				if err := agent.WithRuntimeSettings(); err != nil {
					fmt.Fprintln(c.ErrOrStderr(), err)
				}
			}
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runLocal(ctx, o, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.JSON, "json", false, "print each detection as one JSON object per line")
	f.StringVar(&o.Lake, "lake", "var/lake", "directory of the local event lake")
	f.StringArrayVar(&o.rules, "rules", nil, "a directory or file of rules (Vigil, Falco, Sigma) or tuning to add to the built-in pack (repeatable)")
	f.BoolVar(&o.noBuiltin, "no-builtin", false, noBuiltinUsage+" (give --rules)")
	f.StringVar(&o.SensorID, "sensor-id", "", "sensor id (default: local-<hostname>)")
	f.StringArrayVar(&o.Tags, "tag", nil, "sensor tag K:V, repeatable")
	f.DurationVar(&o.BatchInterval, "batch-interval", 500*time.Millisecond, "how often events are batched onto the stream")
	f.StringVar(&o.Data, "data", "var/local", "directory of the store (detections, sensors, tasks, API keys)")
	f.StringVar(&o.Listen, "listen", "127.0.0.1:8080", `address of the API and dashboard ("" for none)`)
	f.BoolVar(&o.Enforce, "enforce", false, "carry response actions out for real (default: record what would be done)")
	f.StringArrayVar(&o.IsolateAllow, "isolate-allow", nil, "with --enforce: an address, CIDR or name this host keeps reaching when isolated (repeatable; loopback and DNS always stay)")
	f.StringVar(&o.Webhook, "webhook", "", "URL that notify actions POST the detection to")
	f.StringVar(&o.Replay, "replay", "", "run over a recorded lake directory or Parquet file instead of the live sensor")
	f.BoolVar(&o.Serve, "serve", false, "with --replay: keep serving the API and dashboard after the replay")
	f.BoolVar(&o.NewKey, "new-key", false, `revoke every API key named "local", sign out every dashboard session, and print a new key`)
	f.StringVar(&o.Model, "model", "", "host activity anomaly model (from vigil anomaly train) to score HOST_STATS with")
	cmd.AddCommand(newLocalKeysCmd())
	return cmd
}

// runLocal runs vigil local with o's rule set; errors in what it was given exit
// with code 2.
func runLocal(ctx context.Context, o localOptions, stdout, stderr io.Writer) error {
	o.Stdout, o.Stderr = stdout, stderr
	o.LoadRules = ruleEngine(o.rules, o.noBuiltin)
	err := localrun.Run(ctx, o.Options)
	if errors.Is(err, localrun.ErrSetup) {
		return usageError(err)
	}
	return err
}

// ruleEngine loads the rule set of the built-in pack (unless noBuiltin) and
// sources, as rules validate does, into an engine.
func ruleEngine(sources []string, noBuiltin bool) func() (*engine.Engine, error) {
	return func() (*engine.Engine, error) {
		set, err := loadRules(sources, noBuiltin)
		if err != nil {
			return nil, err
		}
		return set.Engine()
	}
}
