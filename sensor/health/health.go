package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// DefaultFailureThreshold is how long a shipping path may fail with no success
// before the sensor is unhealthy, when Options leave it zero.
const DefaultFailureThreshold = 5 * time.Minute

// Sample is the sensor's counters at one moment (cumulative since it started).
type Sample struct {
	StreamPuts     uint64 // records the stream took
	StreamFailures uint64 // failed puts to the stream
	LakePuts       uint64 // files the lake took
	LakeFailures   uint64 // failed puts to the lake
	SpoolBytes     int64  // waiting in the spool
	Drops          uint64 // events or batches lost, every cause
}

// Options configures a Monitor.
type Options struct {
	// FailureThreshold is how long a path may fail with no success before the
	// sensor is unhealthy; zero means DefaultFailureThreshold.
	FailureThreshold time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// The capture states a Report names.
const (
	CaptureStarting = "starting" // the kernel hooks are not attached yet
	CaptureRunning  = "running"
	CaptureStopped  = "stopped" // the run ended: the sensor flushes and exits
)

// PathReport is one shipping path's state.
type PathReport struct {
	Puts     uint64 `json:"puts"`
	Failures uint64 `json:"failures"`
	// FailingFor is how long the path has failed with no success ("" when it is not failing).
	FailingFor string `json:"failing_for,omitempty"`
}

// Report is what a probe answers.
type Report struct {
	Healthy    bool       `json:"healthy"`
	Capture    string     `json:"capture"`
	Reasons    []string   `json:"reasons,omitempty"`
	Stream     PathReport `json:"stream"`
	Lake       PathReport `json:"lake"`
	SpoolBytes int64      `json:"spool_bytes"`
	Drops      uint64     `json:"drops"`
}

// path follows one shipping path's counters.
type path struct {
	puts, failures uint64
	failingSince   time.Time // zero: not failing
}

// observe takes the path's counters at now: a success clears the path, a
// failure with no success since the last one starts (or continues) a failure.
func (p *path) observe(puts, failures uint64, now time.Time) {
	switch {
	case puts > p.puts:
		p.failingSince = time.Time{}
	case failures > p.failures && p.failingSince.IsZero():
		p.failingSince = now
	}
	p.puts, p.failures = puts, failures
}

func (p *path) report(now time.Time) PathReport {
	r := PathReport{Puts: p.puts, Failures: p.failures}
	if !p.failingSince.IsZero() {
		r.FailingFor = now.Sub(p.failingSince).Round(time.Second).String()
	}
	return r
}

// Monitor tells the sensor's health; its methods are safe for concurrent use.
type Monitor struct {
	threshold time.Duration
	now       func() time.Time

	mu           sync.Mutex
	capture      string
	sample       func() Sample
	stream, lake path
	last         Sample
}

// New returns a Monitor whose capture is starting.
func New(o Options) *Monitor {
	m := &Monitor{threshold: o.FailureThreshold, now: o.Now, capture: CaptureStarting}
	if m.threshold <= 0 {
		m.threshold = DefaultFailureThreshold
	}
	if m.now == nil {
		m.now = time.Now
	}
	return m
}

// Started records that the capture runs; sample returns the counters so far.
func (m *Monitor) Started(sample func() Sample) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.capture, m.sample = CaptureRunning, sample
}

// Stopped records that the run ended. A nil Monitor does nothing.
func (m *Monitor) Stopped() {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.capture = CaptureStopped
}

// Check samples the counters and reports the sensor's health.
func (m *Monitor) Check() Report {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if m.sample != nil && m.capture == CaptureRunning {
		m.last = m.sample()
		m.stream.observe(m.last.StreamPuts, m.last.StreamFailures, now)
		m.lake.observe(m.last.LakePuts, m.last.LakeFailures, now)
	}
	r := Report{Capture: m.capture, Stream: m.stream.report(now), Lake: m.lake.report(now),
		SpoolBytes: m.last.SpoolBytes, Drops: m.last.Drops}
	switch m.capture {
	case CaptureStarting:
		r.Reasons = append(r.Reasons, "capture: starting, the kernel hooks are not attached yet")
	case CaptureStopped:
		r.Reasons = append(r.Reasons, "capture: stopped, the sensor is flushing and exiting")
	}
	for _, p := range []struct {
		name string
		p    *path
	}{{"stream", &m.stream}, {"lake", &m.lake}} {
		if p.p.failingSince.IsZero() {
			continue
		}
		if d := now.Sub(p.p.failingSince); d >= m.threshold {
			r.Reasons = append(r.Reasons, fmt.Sprintf("%s: every put failed for %s (threshold %s); batches wait in the spool",
				p.name, d.Round(time.Second), m.threshold))
		}
	}
	r.Healthy = len(r.Reasons) == 0
	return r
}

// Live reports whether the capture runs, ignoring the shipping paths.
func (m *Monitor) Live() Report {
	r := m.Check()
	var reasons []string
	if r.Capture != CaptureRunning {
		reasons = r.Reasons[:1]
	}
	r.Reasons, r.Healthy = reasons, reasons == nil
	return r
}

// Run samples the counters every interval until ctx is done, so that a failing
// path is timed from its first failure even when no probe asks.
func (m *Monitor) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.Check()
		}
	}
}

// Handler serves /livez and /healthz (see the package documentation); any
// other path is 404, any method but GET and HEAD 405.
func (m *Monitor) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) { write(w, m.Live()) })
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { write(w, m.Check()) })
	return mux
}

func write(w http.ResponseWriter, r Report) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if r.Healthy {
		w.WriteHeader(http.StatusOK)
	} else {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(r)
}

// Serve answers the probes on ln until ctx is done; it closes ln.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	err := srv.Serve(ln)
	stop()
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("health: %w", err)
}
