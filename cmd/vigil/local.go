package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-sec/vigil/internal/anomaly"
	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/dashboard"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/internal/respond"
	"github.com/vigil-sec/vigil/internal/task"
	"github.com/vigil-sec/vigil/internal/version"
	"github.com/vigil-sec/vigil/sensor/agent"
	"github.com/vigil-sec/vigil/sensor/collector"
	srespond "github.com/vigil-sec/vigil/sensor/respond"
)

// LocalOrg is the one org of `vigil local`: API paths are /v1/orgs/local/...
const LocalOrg = "local"

// localKeyName names the API key `vigil local` makes at first start.
const localKeyName = "local"

type localOptions struct {
	json      bool
	lake      string
	rules     []string // rule sources besides the built-in pack
	noBuiltin bool     // leave the built-in pack out
	sensorID  string
	tags      []string
	batch     time.Duration

	data         string   // the store's directory
	listen       string   // API and dashboard address; "" serves nothing
	enforce      bool     // run response actions for real
	isolateAllow []string // kept reachable when this host is isolated (--enforce)
	webhook      string   // notify destination
	replay       string   // a lake directory or Parquet file to run instead of the sensor
	serve        bool     // with replay: keep serving the API and dashboard afterwards
	newKey       bool     // replace the local API key
	model        string   // anomaly model file (vigil anomaly train); "" runs the rules alone
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
Hive layout as the S3 lake. Stop with Ctrl-C: queued events are flushed first.

The API and dashboard listen on --listen (127.0.0.1:8080). At first start an API key
is made, printed once and stored hashed in --data; every start prints a one-time
login link for the dashboard.

Response actions (isolate, kill, snapshot) are dry runs unless --enforce is given:
each is recorded as a finished task "dry run: would isolate" and nothing happens
to this host. With --enforce they become pending tasks for the sensor, which
carries them out on this host (isolate keeps loopback, the DNS resolvers and
--isolate-allow reachable; a rejoin task undoes it). notify posts the detection to
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
			if o.replay == "" && runtime.GOOS != "linux" {
				return usageError(fmt.Errorf("local: the live sensor needs Linux (eBPF), this is %s: replay a lake recorded on Linux (vigil local --replay DIR), or run vigil local on a Linux host", runtime.GOOS))
			}
			if o.replay == "" { // the live sensor runs as vigil-sensor does
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
	f.BoolVar(&o.json, "json", false, "print each detection as one JSON object per line")
	f.StringVar(&o.lake, "lake", "var/lake", "directory of the local event lake")
	f.StringArrayVar(&o.rules, "rules", nil, "a directory or file of rules (Vigil, Falco, Sigma) or tuning to add to the built-in pack (repeatable)")
	f.BoolVar(&o.noBuiltin, "no-builtin", false, noBuiltinUsage+" (give --rules)")
	f.StringVar(&o.sensorID, "sensor-id", "", "sensor id (default: local-<hostname>)")
	f.StringArrayVar(&o.tags, "tag", nil, "sensor tag K:V, repeatable")
	f.DurationVar(&o.batch, "batch-interval", 500*time.Millisecond, "how often events are batched onto the stream")
	f.StringVar(&o.data, "data", "var/local", "directory of the store (detections, sensors, tasks, API keys)")
	f.StringVar(&o.listen, "listen", "127.0.0.1:8080", `address of the API and dashboard ("" for none)`)
	f.BoolVar(&o.enforce, "enforce", false, "carry response actions out for real (default: record what would be done)")
	f.StringArrayVar(&o.isolateAllow, "isolate-allow", nil, "with --enforce: an address, CIDR or name this host keeps reaching when isolated (repeatable; loopback and DNS always stay)")
	f.StringVar(&o.webhook, "webhook", "", "URL that notify actions POST the detection to")
	f.StringVar(&o.replay, "replay", "", "run over a recorded lake directory or Parquet file instead of the live sensor")
	f.BoolVar(&o.serve, "serve", false, "with --replay: keep serving the API and dashboard after the replay")
	f.BoolVar(&o.newKey, "new-key", false, `revoke every API key named "local", sign out every dashboard session, and print a new key`)
	f.StringVar(&o.model, "model", "", "host activity anomaly model (from vigil anomaly train) to score HOST_STATS with")
	cmd.AddCommand(newLocalKeysCmd())
	return cmd
}

func runLocal(ctx context.Context, o localOptions, stdout, stderr io.Writer) error {
	if o.replay == "" {
		if err := collector.Supported(); err != nil {
			return usageError(fmt.Errorf("local: the sensor cannot capture here: %w; run it as root: sudo vigil local (or make run), or replay a recorded lake: vigil local --replay DIR", err))
		}
	} else if _, err := os.Stat(o.replay); err != nil {
		return usageError(fmt.Errorf("local: --replay: %w", err))
	}
	if o.webhook != "" && !isHTTPURL(o.webhook) {
		return usageError(fmt.Errorf("local: --webhook %q: want an http(s) URL", o.webhook))
	}
	app, err := newLocalApp(o, stdout, stderr)
	if err != nil {
		return err
	}
	defer app.close()
	if o.listen != "" && (o.replay == "" || o.serve) {
		if err := app.serve(ctx); err != nil {
			return err
		}
	}
	if o.replay != "" {
		sum, err := app.replay(ctx, o.replay)
		if err != nil {
			return err
		}
		if err := sum.print(stdout, o.json); err != nil {
			return err
		}
		if o.serve && app.srv != nil {
			app.log.Info("replay done; serving until Ctrl-C", "address", app.addr)
			<-ctx.Done()
		}
		return nil
	}
	return app.live(ctx)
}

// localApp is one `vigil local`: the store, the detection path and the HTTP side.
type localApp struct {
	o      localOptions
	log    *slog.Logger
	stderr io.Writer
	eng    *engine.Engine
	store  *local.Store
	dash   *dashboard.Server
	sinks  *detect.Sinks
	scorer *detect.Anomalies // nil without --model

	det *detect.Detector
	ds  []detect.Detection
	evs []event.Event

	srv       *http.Server
	addr      string
	stopHTTP  context.CancelFunc
	httpDone  chan error
	loginLink string
	apiKey    string       // set only when made by this start
	control   *http.Server // the control socket (keys.go)
}

func loadAnomalyScorer(path string) (*detect.Anomalies, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := anomaly.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sc, err := anomaly.NewScorer(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &detect.Anomalies{Scorer: func(context.Context) (*anomaly.Scorer, error) { return sc, nil }}, nil
}

func newLocalApp(o localOptions, stdout, stderr io.Writer) (*localApp, error) {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	set, err := loadRules(o.rules, o.noBuiltin)
	if err != nil {
		return nil, usageError(err)
	}
	eng, err := set.Engine()
	if err != nil {
		return nil, usageError(err)
	}
	if o.sensorID == "" {
		host, _ := os.Hostname()
		o.sensorID = "local-" + host
	}
	if o.data == "" {
		o.data = "var/local"
	}
	store, err := local.OpenStore(o.data)
	if errors.Is(err, local.ErrLocked) {
		// most likely a live vigil local: a replay (or a second one) needs a store of its own
		return nil, usageError(fmt.Errorf("local: %w: stop the vigil local using it, or pass --data DIR to use another store (for example --data %s)",
			err, filepath.Join(filepath.Dir(o.data), "replay")))
	}
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	a := &localApp{o: o, log: log, stderr: stderr, eng: eng, store: store, det: detect.NewDetector(eng)}
	if o.model != "" {
		if a.scorer, err = loadAnomalyScorer(o.model); err != nil {
			store.Close()
			return nil, usageError(fmt.Errorf("local: --model: %w", err))
		}
	}
	a.dash = dashboard.New(LocalOrg, store, store)
	a.dash.Log = log
	a.dash.SeedDetections(store.DetectionTimes())
	var notifier respond.Notifier
	if o.webhook != "" {
		notifier = &webhook{URL: o.webhook}
	}
	resp := &localResponder{Tasks: store.TaskStore(), Enforce: o.enforce, Notify: notifier, Log: log}
	a.sinks = &detect.Sinks{Store: store, Bus: fanout{&detect.Printer{W: stdout, JSON: o.json}, a.dash, resp}}
	return a, nil
}

func (a *localApp) close() {
	if a.stopHTTP != nil {
		a.stopHTTP()
		a.stopControl()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = a.srv.Shutdown(sctx)
		cancel()
		<-a.httpDone
	}
	if err := a.store.Close(); err != nil {
		a.log.Error("close store", "error", err)
	}
}

// serve starts the API and the dashboard on o.listen and prints how to reach them.
func (a *localApp) serve(ctx context.Context) error {
	apiSrv := &api.Server{Keys: a.store, KeyAdmin: a.store, Sensors: a.store.SensorStore(), Detections: a.store, Tasks: a.store.TaskStore(),
		Rules: a.eng.Rules(), Log: a.log}
	mux := http.NewServeMux()
	mux.Handle("/v1/", a.dash.API(apiSrv.Handler())) // the dashboard's session cookie works there too
	mux.Handle("/", a.dash.Handler())
	ln, err := net.Listen("tcp", a.o.listen)
	if err != nil {
		return usageError(fmt.Errorf("local: --listen %s: %w", a.o.listen, err))
	}
	a.addr = ln.Addr().String()
	if err := a.ensureKey(ctx); err != nil { // after listening: a key is never made without being shown
		ln.Close()
		return err
	}
	base, stop := context.WithCancel(context.WithoutCancel(ctx))
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return base }}
	a.stopHTTP, a.httpDone = stop, make(chan error, 1)
	go func() {
		err := a.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		a.httpDone <- err
	}()
	a.serveControl(base, apiSrv.Handler())
	if host, _, _ := net.SplitHostPort(a.addr); !net.ParseIP(host).IsLoopback() {
		a.log.Warn("the API and dashboard are reachable from the network", "address", a.addr)
	}
	url := "http://" + a.addr
	a.loginLink = url + "/login#" + a.dash.LoginToken()
	fmt.Fprintf(a.stderr, "vigil local: API and dashboard on %s (org %q)\n", url, LocalOrg)
	if a.apiKey != "" {
		fmt.Fprintf(a.stderr, "vigil local: API key %s (shown only now; stored hashed in %s)\n", a.apiKey, a.store.Dir())
	} else {
		fmt.Fprintf(a.stderr, "vigil local: API key: the one printed at first start (stored hashed in %s; --new-key replaces it)\n", a.store.Dir())
	}
	fmt.Fprintf(a.stderr, "vigil local: dashboard login (one-time link): %s\n", a.loginLink)
	return nil
}

// live runs the sensor into the in-process stream and the pipeline over it.
func (a *localApp) live(ctx context.Context) error {
	stream := local.NewStream(1024)
	detected := make(chan error, 1)
	go func() { detected <- a.consume(ctx, stream) }()
	if a.o.enforce {
		// the sensor side of --enforce: carry out this host's tasks from the store
		r := &srespond.Runner{
			Source:    &srespond.StoreSource{Store: a.store.TaskStore(), SensorID: a.o.sensorID},
			SensorID:  a.o.sensorID,
			StatePath: filepath.Join(a.o.data, "respond.json"),
			Lake:      &local.Lake{Dir: a.o.lake},
			Isolation: srespond.Isolation{Allow: a.o.isolateAllow},
			Log:       a.log,
		}
		if err := r.Restore(ctx); err != nil {
			return fmt.Errorf("local: restore isolation: %w", err)
		}
		go func() {
			if err := r.Run(ctx, 2*time.Second, 5*time.Minute); err != nil && ctx.Err() == nil {
				a.log.Error("response tasks stopped", "error", err)
			}
		}()
	}
	st, runErr := agent.Run(ctx, agent.Options{
		SensorID: a.o.sensorID, Tags: a.o.tags, Stream: stream, Lake: &local.Lake{Dir: a.o.lake},
		BatchInterval: a.o.batch, RollInterval: time.Minute, Log: a.log, Version: version.String(),
		Started: func(func() agent.Stats) {
			a.log.Info("vigil local running", "sensor", a.o.sensorID, "rules", len(a.eng.Rules()), "lake", a.o.lake,
				"store", a.o.data, "enforce", a.o.enforce)
		},
	})
	stream.Close()
	detectErr := <-detected
	a.log.Info("vigil local stopped", "events", st.Shipper.Events, "records", st.Shipper.Records,
		"lake_files", st.Shipper.LakeFiles, "kernel_drops", st.Collector.Dropped)
	return errors.Join(runErr, detectErr)
}

// consume evaluates every batch on the stream until it is closed.
func (a *localApp) consume(ctx context.Context, s *local.Stream) error {
	ctx = context.WithoutCancel(ctx) // the final flush after Ctrl-C is evaluated too
	for rec := range s.Records() {
		var err error
		a.evs, err = event.Decode(a.evs[:0], rec.Data, detect.MaxBatchRows)
		if err != nil {
			a.log.Error("batch refused", "sequence", rec.SequenceNumber, "error", err)
			continue
		}
		if _, err := a.process(ctx, a.evs, nil); err != nil {
			return err
		}
	}
	return nil
}

// process runs one batch of events through the pipeline: rules (and the anomaly
// scorer), timeline, heartbeats, then the sinks. With clock set, each event is
// evaluated at its own time (replay); otherwise at the wall clock.
func (a *localApp) process(ctx context.Context, evs []event.Event, byRule map[string]int) (int, error) {
	a.ds = a.ds[:0]
	var err error
	if byRule != nil {
		// replay: windows and suppression run on the events' own clock
		var now time.Time
		a.det.Clock = func() time.Time { return now }
		for i := range evs {
			if t := time.Unix(0, evs[i].TimeNanos); t.After(now) {
				now = t
			}
			if a.ds, err = a.det.EvaluateContext(ctx, a.ds, evs[i:i+1]); err != nil {
				break
			}
		}
		a.det.Clock = nil
	} else {
		a.ds, err = a.det.EvaluateContext(ctx, a.ds, evs)
	}
	if err != nil {
		a.log.Error("rule state", "error", err)
	}
	if a.scorer != nil {
		if a.ds, err = a.scorer.Append(ctx, a.ds, evs); err != nil {
			a.log.Error("anomaly scorer", "error", err)
		}
	}
	a.dash.Observe(evs)
	for i := range evs {
		if evs[i].Type == event.SensorHeartbeat {
			if err := a.store.Heartbeat(ctx, &evs[i]); err != nil {
				return 0, fmt.Errorf("record heartbeat: %w", err)
			}
		}
	}
	for i := range a.ds {
		if byRule != nil {
			byRule[a.ds[i].Rule]++
		}
	}
	if len(a.ds) > 0 {
		if err := a.sinks.Publish(ctx, a.ds); err != nil {
			return 0, fmt.Errorf("publish detections: %w", err)
		}
	}
	return len(a.ds), nil
}

// replaySummary is what a replay prints at the end.
type replaySummary struct {
	Files      int            `json:"files"`
	Events     int            `json:"events"`
	Detections int            `json:"detections"`
	ByRule     map[string]int `json:"by_rule"`
	Refused    int            `json:"refused_files"`
	Seconds    float64        `json:"seconds"`
}

func (s replaySummary) print(w io.Writer, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(map[string]replaySummary{"replay": s})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	var b strings.Builder
	rate := 0.0
	if s.Seconds > 0 {
		rate = float64(s.Events) / s.Seconds
	}
	fmt.Fprintf(&b, "replay: %d files, %d events, %d detections in %.2fs (%.0f events/s)", s.Files, s.Events, s.Detections, s.Seconds, rate)
	if s.Refused > 0 {
		fmt.Fprintf(&b, ", %d files refused", s.Refused)
	}
	b.WriteByte('\n')
	rules := make([]string, 0, len(s.ByRule))
	for r := range s.ByRule {
		rules = append(rules, r)
	}
	sort.Slice(rules, func(i, j int) bool {
		if s.ByRule[rules[i]] != s.ByRule[rules[j]] {
			return s.ByRule[rules[i]] > s.ByRule[rules[j]]
		}
		return rules[i] < rules[j]
	})
	for _, r := range rules {
		fmt.Fprintf(&b, "  %6d  %s\n", s.ByRule[r], r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// replayFiles lists the Parquet files of path (a file, or a lake directory walked
// in key order: by day, hour, sensor, then file id, which sorts by time).
func replayFiles(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	var out []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".parquet") {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no .parquet files", path)
	}
	return out, nil
}

// replay runs the pipeline over the recorded events in path as fast as it can.
func (a *localApp) replay(ctx context.Context, path string) (replaySummary, error) {
	sum := replaySummary{ByRule: map[string]int{}}
	files, err := replayFiles(path)
	if err != nil {
		return sum, usageError(fmt.Errorf("local: --replay: %w", err))
	}
	start := time.Now()
	for _, f := range files {
		if ctx.Err() != nil {
			break
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return sum, fmt.Errorf("replay: %w", err)
		}
		a.evs, err = event.Decode(a.evs[:0], data, 0)
		if err != nil {
			a.log.Error("replay: file refused", "file", f, "error", err)
			sum.Refused++
			continue
		}
		n, err := a.process(ctx, a.evs, sum.ByRule)
		if err != nil {
			return sum, err
		}
		sum.Files++
		sum.Events += len(a.evs)
		sum.Detections += n
	}
	sum.Seconds = time.Since(start).Seconds()
	return sum, nil
}

// fanout publishes to each publisher in turn.
type fanout []detect.Publisher

func (f fanout) Publish(ctx context.Context, ds []detect.Detection) error {
	for _, p := range f {
		if err := p.Publish(ctx, ds); err != nil {
			return err
		}
	}
	return nil
}

// localResponder carries out the response steps of new detections, in the order
// the cloud workflow does (detect.ResponseSteps). Host actions (isolate, kill,
// snapshot) are dry runs unless Enforce: a finished task "dry run: would isolate"
// records what would have happened. With Enforce they are pending tasks for the
// sensor, created like the workflow's (id <detection>-<action>), which the
// sensor's task runner (started by live) carries out. notify posts the detection;
// a failed notify is logged, never stops detection.
type localResponder struct {
	Tasks    *local.Tasks
	Enforce  bool
	Notify   respond.Notifier // --webhook; may be nil
	Log      *slog.Logger
	Now      func() time.Time
	Deadline time.Duration // default 5m
}

func (r *localResponder) Publish(ctx context.Context, ds []detect.Detection) error {
	for i := range ds {
		if err := r.respond(ctx, &ds[i]); err != nil {
			return err
		}
	}
	return nil
}

func (r *localResponder) respond(ctx context.Context, d *detect.Detection) error {
	acts := map[string]*engine.Action{}
	for i := range d.Actions {
		if _, ok := acts[d.Actions[i].Action]; !ok {
			acts[d.Actions[i].Action] = &d.Actions[i]
		}
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	deadline := r.Deadline
	if deadline <= 0 {
		deadline = 5 * time.Minute
	}
	for _, step := range detect.ResponseSteps {
		act := acts[step]
		if act == nil {
			continue
		}
		if step == engine.ActNotify {
			r.notify(ctx, d, act)
			continue
		}
		t0 := now().UTC()
		t := task.Task{ID: d.ID + "-" + step, SensorID: d.Event.SensorID, Action: step, Created: t0, Updated: t0,
			Deadline: t0.Add(deadline), DetectionID: d.ID, RequestedBy: "vigil local"}
		if act.Command != "" {
			t.Args = map[string]string{"command": act.Command}
		}
		if (step == engine.ActKill || step == engine.ActSnapshot) && d.Event.PID != 0 {
			if t.Args == nil {
				t.Args = map[string]string{}
			}
			t.Args["pid"] = strconv.FormatUint(uint64(d.Event.PID), 10)
			t.Args["event_time"] = strconv.FormatInt(d.Event.TimeNanos, 10)
			if step == engine.ActKill && act.Descendants {
				t.Args["tree"] = "true"
			}
		}
		if r.Enforce {
			t.Status = task.Pending
		} else {
			t.Status, t.Result = task.Done, "dry run: "+wouldDo(step, d, act)
			t.RequestedBy = "vigil local (dry run)"
		}
		if _, err := r.Tasks.Create(ctx, t); err != nil {
			return fmt.Errorf("response %s for detection %s: %w", step, d.ID, err)
		}
		if r.Enforce {
			r.Log.Warn("response: task created for the sensor", "action", step, "task", t.ID, "rule", d.Rule, "sensor", t.SensorID)
		} else {
			r.Log.Warn("response (dry run, --enforce to act): "+wouldDo(step, d, act), "task", t.ID, "rule", d.Rule)
		}
	}
	return nil
}

func wouldDo(step string, d *detect.Detection, act *engine.Action) string {
	switch step {
	case engine.ActIsolate:
		return "would isolate " + d.Event.Hostname
	case engine.ActKill:
		s := fmt.Sprintf("would kill pid %d (%s)", d.Event.PID, d.Event.FilePath)
		if act.Descendants {
			s += " and its descendants"
		}
		return s
	case engine.ActSnapshot:
		cmd := act.Command
		if cmd == "" {
			cmd = engine.DefaultSnapshotCommand
		}
		return fmt.Sprintf("would snapshot (%s) pid %d", cmd, d.Event.PID)
	}
	return "would " + step
}

func (r *localResponder) notify(ctx context.Context, d *detect.Detection, act *engine.Action) {
	n := r.Notify
	if isHTTPURL(act.Webhook) {
		n = &webhook{URL: act.Webhook}
	}
	if n == nil {
		r.Log.Info("response: notify skipped: no --webhook given", "rule", d.Rule, "detection", d.ID)
		return
	}
	doc, err := json.Marshal(d)
	if err == nil {
		if wh, ok := n.(*webhook); ok && act.Body != "" {
			var body string
			if body, err = act.RenderBody(d); err == nil {
				err = wh.post(ctx, []byte(body), "text/plain; charset=utf-8")
			}
		} else {
			err = n.Notify(ctx, doc)
		}
	}
	if err != nil {
		r.Log.Error("response: notify failed", "rule", d.Rule, "detection", d.ID, "error", err)
		return
	}
	r.Log.Info("response: notified", "rule", d.Rule, "detection", d.ID)
}

func isHTTPURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// webhook POSTs each detection as its JSON document.
type webhook struct {
	URL    string
	Client *http.Client
	once   sync.Once
}

func (w *webhook) Notify(ctx context.Context, detection json.RawMessage) error {
	return w.post(ctx, detection, "application/json")
}

func (w *webhook) post(ctx context.Context, body []byte, contentType string) error {
	w.once.Do(func() {
		if w.Client == nil {
			w.Client = &http.Client{Timeout: 10 * time.Second}
		}
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "vigil-local")
	resp, err := w.Client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook: %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
