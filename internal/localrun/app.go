package localrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/anomaly"
	"github.com/vigil-sec/vigil/internal/dashboard"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/internal/respond"
	"github.com/vigil-sec/vigil/sensor/collector"
)

// Org is the one org of `vigil local`: API paths are /v1/orgs/local/...
const Org = "local"

// keyName names the API key made at first start.
const keyName = "local"

// ErrSetup matches the errors of Run and New in what they were given: options,
// rule files, a store another process holds, an address that cannot be listened
// on. The error's text is the reason alone.
var ErrSetup = errors.New("vigil local setup")

// setupError marks err as an ErrSetup.
type setupError struct{ err error }

func (e *setupError) Error() string        { return e.err.Error() }
func (e *setupError) Unwrap() error        { return e.err }
func (e *setupError) Is(target error) bool { return target == ErrSetup }

func setupErr(err error) error {
	if err == nil || errors.Is(err, ErrSetup) {
		return err
	}
	return &setupError{err}
}

// Options configure an App. Messages name the fields by the flags of `vigil
// local` that set them.
type Options struct {
	// LoadRules builds the rule engine: the built-in pack and the rule sources.
	// New calls it before anything else; its error is a setup error.
	LoadRules func() (*engine.Engine, error)

	JSON          bool          // detections on Stdout as JSON lines
	Lake          string        // the local event lake (live)
	SensorID      string        // the live sensor's id; default local-<hostname>
	Tags          []string      // the live sensor's tags, K:V
	BatchInterval time.Duration // how often the live sensor batches events onto the stream

	Data         string   // the store's directory; default var/local
	Listen       string   // the API's and dashboard's address; "" serves nothing
	Enforce      bool     // carry response actions out (default: dry runs)
	IsolateAllow []string // kept reachable while this host is isolated (Enforce)
	Webhook      string   // where notify posts detections; "" for nowhere
	Replay       string   // a lake directory or Parquet file to run instead of the sensor
	Serve        bool     // with Replay: keep serving the API and dashboard afterwards
	NewKey       bool     // revoke the API keys named "local", end every dashboard session, make a new key
	Model        string   // anomaly model file (vigil anomaly train); "" runs the rules alone

	Stdout io.Writer // detections and the replay summary; nil discards them
	Stderr io.Writer // the log and what to reach the API with; nil discards them
}

// App is one `vigil local`: the store, the detection path and the HTTP side.
// Close releases it.
type App struct {
	o      Options
	log    *slog.Logger
	eng    *engine.Engine
	store  *local.Store
	dash   *dashboard.Server
	sinks  *detect.Sinks
	scorer *detect.Anomalies // nil without a model

	mu  sync.Mutex // serialises Process
	det *detect.Detector

	srv       *http.Server
	addr      string
	stopHTTP  context.CancelFunc
	httpDone  chan error
	loginLink string
	apiKey    string       // set only when made by this start
	control   *http.Server // the control socket
	closed    bool

	// wrapAPI, when set (by tests), wraps the API's handler before the
	// dashboard's session layer: a test serves routes of a newer API through it.
	wrapAPI func(http.Handler) http.Handler
}

// Run runs `vigil local` until ctx ends (live) or the replay is done: it checks
// o, builds the App, serves the API and dashboard on o.Listen (with a replay only
// if o.Serve), then replays o.Replay and prints its summary, or runs the sensor.
func Run(ctx context.Context, o Options) error {
	if o.Replay == "" {
		if err := collector.Supported(); err != nil {
			return setupErr(fmt.Errorf("local: the sensor cannot capture here: %w; run it as root: sudo vigil local (or make run), or replay a recorded lake: vigil local --replay DIR", err))
		}
	} else if _, err := os.Stat(o.Replay); err != nil {
		return setupErr(fmt.Errorf("local: --replay: %w", err))
	}
	if o.Webhook != "" && !isHTTPURL(o.Webhook) {
		return setupErr(fmt.Errorf("local: --webhook %q: want an http(s) URL", o.Webhook))
	}
	a, err := New(o)
	if err != nil {
		return err
	}
	defer a.Close()
	if o.Listen != "" && (o.Replay == "" || o.Serve) {
		if err := a.Serve(ctx); err != nil {
			return err
		}
	}
	if o.Replay == "" {
		return a.Live(ctx)
	}
	sum, err := a.Replay(ctx, o.Replay)
	if err != nil {
		return err
	}
	if err := sum.Print(a.o.Stdout, o.JSON); err != nil {
		return err
	}
	if o.Serve && a.srv != nil {
		a.log.Info("replay done; serving until Ctrl-C", "address", a.addr)
		<-ctx.Done()
	}
	return nil
}

// New builds the App of o: the rules, the store (which it holds until Close),
// the anomaly scorer and the publishers. It serves nothing yet.
func New(o Options) (*App, error) {
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	log := slog.New(slog.NewTextHandler(o.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if o.LoadRules == nil {
		return nil, setupErr(errors.New("local: no rules to run"))
	}
	eng, err := o.LoadRules()
	if err != nil {
		return nil, setupErr(err)
	}
	if o.SensorID == "" {
		host, _ := os.Hostname()
		o.SensorID = "local-" + host
	}
	if o.Data == "" {
		o.Data = "var/local"
	}
	store, err := local.OpenStore(o.Data)
	if errors.Is(err, local.ErrLocked) {
		// most likely a live vigil local: a replay (or a second one) needs a store of its own
		return nil, setupErr(fmt.Errorf("local: %w: stop the vigil local using it, or pass --data DIR to use another store (for example --data %s)",
			err, filepath.Join(filepath.Dir(o.Data), "replay")))
	}
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	a := &App{o: o, log: log, eng: eng, store: store, det: detect.NewDetector(eng)}
	if o.Model != "" {
		if a.scorer, err = loadAnomalyScorer(o.Model); err != nil {
			store.Close()
			return nil, setupErr(fmt.Errorf("local: --model: %w", err))
		}
	}
	a.dash = dashboard.New(Org, store, store)
	a.dash.Log = log
	a.dash.SeedDetections(store.DetectionTimes())
	var notifier respond.Notifier
	if o.Webhook != "" {
		notifier = &webhook{URL: o.Webhook}
	}
	resp := &responder{Tasks: store.TaskStore(), Enforce: o.Enforce, Notify: notifier, Log: log}
	a.sinks = &detect.Sinks{Store: store, Bus: fanout{&detect.Printer{W: o.Stdout, JSON: o.JSON}, a.dash, resp}}
	return a, nil
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

// Close stops serving and closes the store; calls after the first do nothing.
func (a *App) Close() {
	if a.closed {
		return
	}
	a.closed = true
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
