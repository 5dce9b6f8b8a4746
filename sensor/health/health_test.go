package health_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/sensor/health"
)

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time         { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration)    { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }
func (c *clock) set(t time.Time)        { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func newClock() *clock                  { return &clock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)} }
func (c *clock) since(t0 time.Time) any { return c.now().Sub(t0) }

// counters is a sample the test changes between checks.
type counters struct {
	mu sync.Mutex
	s  health.Sample
}

func (c *counters) get() health.Sample            { c.mu.Lock(); defer c.mu.Unlock(); return c.s }
func (c *counters) update(f func(*health.Sample)) { c.mu.Lock(); defer c.mu.Unlock(); f(&c.s) }

func TestCheck(t *testing.T) {
	type step struct {
		after   time.Duration
		change  func(*health.Sample)
		healthy bool
		reason  string // a substring of one reason; "" for none
	}
	streamFails := func(s *health.Sample) { s.StreamFailures++ }
	lakeFails := func(s *health.Sample) { s.LakeFailures++ }
	streamPuts := func(s *health.Sample) { s.StreamPuts++ }
	both := func(s *health.Sample) { s.StreamPuts++; s.StreamFailures++ }
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"idle sensor is healthy", []step{{0, nil, true, ""}, {time.Hour, nil, true, ""}}},
		{"puts succeed", []step{{time.Second, streamPuts, true, ""}, {time.Hour, streamPuts, true, ""}}},
		{"stream fails past the threshold", []step{
			{time.Second, streamFails, true, ""},
			{4 * time.Minute, streamFails, true, ""},
			{time.Minute, streamFails, false, "stream: every put failed for 5m0s (threshold 5m0s)"},
		}},
		{"a failure with no retry still counts until a success", []step{
			{0, streamFails, true, ""},
			{10 * time.Minute, nil, false, "stream: every put failed for 10m0s"},
			{time.Second, streamPuts, true, ""},
		}},
		{"a success clears the path", []step{
			{0, streamFails, true, ""},
			{4 * time.Minute, streamPuts, true, ""},
			{2 * time.Minute, streamFails, true, ""},
			{4 * time.Minute, streamFails, true, ""},
		}},
		{"successes and failures in one interval: the path works", []step{
			{0, both, true, ""}, {10 * time.Minute, both, true, ""},
		}},
		{"the lake is timed on its own", []step{
			{0, lakeFails, true, ""},
			{3 * time.Minute, streamPuts, true, ""},
			{3 * time.Minute, streamPuts, false, "lake: every put failed for 6m0s"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			c := &counters{}
			m := health.New(health.Options{Now: clk.now})
			m.Started(c.get)
			for i, s := range tc.steps {
				clk.add(s.after)
				if s.change != nil {
					c.update(s.change)
				}
				r := m.Check()
				if r.Healthy != s.healthy {
					t.Fatalf("step %d: healthy %v, want %v: %+v", i, r.Healthy, s.healthy, r)
				}
				if s.reason == "" && len(r.Reasons) > 0 {
					t.Fatalf("step %d: reasons %q, want none", i, r.Reasons)
				}
				if s.reason != "" && !strings.Contains(strings.Join(r.Reasons, "\n"), s.reason) {
					t.Fatalf("step %d: reasons %q lack %q", i, r.Reasons, s.reason)
				}
			}
		})
	}
}

func TestCaptureStates(t *testing.T) {
	m := health.New(health.Options{FailureThreshold: time.Minute})
	for _, r := range []health.Report{m.Check(), m.Live()} {
		if r.Healthy || r.Capture != health.CaptureStarting || len(r.Reasons) != 1 || !strings.Contains(r.Reasons[0], "starting") {
			t.Fatalf("before Started: %+v", r)
		}
	}
	m.Started(func() health.Sample { return health.Sample{SpoolBytes: 42, Drops: 3} })
	if r := m.Check(); !r.Healthy || r.Capture != health.CaptureRunning || r.SpoolBytes != 42 || r.Drops != 3 {
		t.Fatalf("running: %+v", r)
	}
	m.Stopped()
	if r := m.Live(); r.Healthy || r.Capture != health.CaptureStopped {
		t.Fatalf("after Stopped: %+v", r)
	}
	var none *health.Monitor
	none.Stopped() // a nil Monitor (health off) is fine
}

// TestLiveIgnoresShipping: a backend outage makes /healthz fail, not /livez.
func TestLiveIgnoresShipping(t *testing.T) {
	clk := newClock()
	c := &counters{}
	m := health.New(health.Options{Now: clk.now, FailureThreshold: time.Minute})
	m.Started(c.get)
	c.update(func(s *health.Sample) { s.LakeFailures = 7 })
	m.Check()
	clk.add(2 * time.Minute)
	if r := m.Check(); r.Healthy || r.Lake.FailingFor != "2m0s" || r.Lake.Failures != 7 {
		t.Fatalf("check: %+v", r)
	}
	if r := m.Live(); !r.Healthy || len(r.Reasons) != 0 {
		t.Fatalf("live: %+v", r)
	}
}

// TestRunTimesFailuresWithoutProbes: the background sampler starts the clock
// of a failing path at its first failure, not at the first probe.
func TestRunTimesFailuresWithoutProbes(t *testing.T) {
	clk := newClock()
	t0 := clk.now()
	c := &counters{}
	m := health.New(health.Options{Now: clk.now, FailureThreshold: time.Minute})
	m.Started(c.get)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx, time.Millisecond) }()
	c.update(func(s *health.Sample) { s.StreamFailures = 1 })
	// wait until the sampler saw the failure at t0
	deadline := time.Now().Add(10 * time.Second)
	for m.Check().Stream.FailingFor == "" {
		if time.Now().After(deadline) {
			t.Fatal("the sampler never saw the failure")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	clk.set(t0.Add(90 * time.Second))
	if r := m.Check(); r.Healthy || r.Stream.FailingFor != "1m30s" {
		t.Fatalf("%+v (%v after the failure)", r, clk.since(t0))
	}
}

func TestHandlerOnLoopback(t *testing.T) {
	clk := newClock()
	c := &counters{}
	m := health.New(health.Options{Now: clk.now, FailureThreshold: time.Minute})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- health.Serve(ctx, ln, m.Handler()) }()
	base := "http://" + ln.Addr().String()
	get := func(method, path string) (int, health.Report) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var r health.Report
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed && method != http.MethodHead {
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("%s %s: Content-Type %q", method, path, ct)
			}
			if err := json.Unmarshal(body, &r); err != nil {
				t.Fatalf("%s %s: %v: %s", method, path, err, body)
			}
		}
		return resp.StatusCode, r
	}
	if code, r := get("GET", "/healthz"); code != 503 || r.Capture != "starting" {
		t.Fatalf("/healthz before start: %d %+v", code, r)
	}
	if code, _ := get("GET", "/livez"); code != 503 {
		t.Fatalf("/livez before start: %d", code)
	}
	m.Started(c.get)
	for _, p := range []string{"/healthz", "/livez"} {
		if code, r := get("GET", p); code != 200 || !r.Healthy {
			t.Fatalf("%s running: %d %+v", p, code, r)
		}
	}
	if code, _ := get("HEAD", "/healthz"); code != 200 {
		t.Fatalf("HEAD /healthz: %d", code)
	}
	c.update(func(s *health.Sample) { s.StreamFailures = 2 })
	get("GET", "/healthz")
	clk.add(time.Minute)
	code, r := get("GET", "/healthz")
	if code != 503 || len(r.Reasons) != 1 || !strings.HasPrefix(r.Reasons[0], "stream: every put failed for 1m0s") {
		t.Fatalf("/healthz with the stream failing: %d %+v", code, r)
	}
	if code, _ := get("GET", "/livez"); code != 200 {
		t.Fatalf("/livez with the stream failing: %d", code)
	}
	if code, _ := get("GET", "/metrics"); code != 404 {
		t.Fatalf("/metrics: %d", code)
	}
	if code, _ := get("POST", "/healthz"); code != 405 {
		t.Fatalf("POST /healthz: %d", code)
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Fatal("the listener is still open after Serve returned")
	}
}
