package agent

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/sensor/collector"
	"github.com/vigil-sec/vigil/sensor/metrics"
	"github.com/vigil-sec/vigil/sensor/shipper"
)

func TestDrops(t *testing.T) {
	tests := []struct {
		name string
		st   Stats
		want uint64
	}{
		{"none", Stats{}, 0},
		{"kernel", Stats{Collector: collector.Stats{Dropped: 1}}, 1},
		{"spool evictions", Stats{Shipper: shipper.Stats{DroppedRecords: 2, DroppedFiles: 4}}, 6},
		{"spool writes", Stats{Shipper: shipper.Stats{SpoolErrors: 8}}, 8},
		{"spool corrupt", Stats{Shipper: shipper.Stats{SpoolCorrupt: 16}}, 16},
		{"unencodable events", Stats{Shipper: shipper.Stats{DroppedStreamEvents: 32, DroppedLakeEvents: 64}}, 96},
		{"all", Stats{Collector: collector.Stats{Dropped: 1}, Shipper: shipper.Stats{DroppedRecords: 2, DroppedFiles: 4,
			SpoolErrors: 8, SpoolCorrupt: 16, DroppedStreamEvents: 32, DroppedLakeEvents: 64}}, 127},
		{"not drops", Stats{Collector: collector.Stats{Received: 5}, Shipper: shipper.Stats{Events: 5, SpoolBytes: 10, SpoolRecords: 1}}, 0},
	}
	for _, tc := range tests {
		if got := tc.st.Drops(); got != tc.want {
			t.Errorf("%s: Drops() = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// failingCapture is a collector whose Run fails after a moment (the ring
// buffer cannot be read), the context still live.
type failingCapture struct{ err error }

func (f failingCapture) Run(ctx context.Context, _ func(*event.Event)) error {
	select {
	case <-ctx.Done():
		return errors.New("the run's context ended before the capture failed")
	case <-time.After(50 * time.Millisecond): // heartbeats meanwhile
	}
	return f.err
}
func (failingCapture) Stats() collector.Stats { return collector.Stats{} }
func (failingCapture) Close() error           { return nil }
func (failingCapture) SyscallHook() string    { return "test" }
func (failingCapture) OpenHook() string       { return "test" }
func (failingCapture) Unavailable() []string  { return nil }
func (failingCapture) Missing() []string      { return nil }

// runGoroutines are the functions of the goroutines a run starts.
var runGoroutines = []string{"agent.sweep(", "agent.report(", "hoststats.(*Generator).Run(", "shipper.(*Shipper).Run("}

// running returns which of names a goroutine is running now.
func running(names []string) []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, name := range names {
		if bytes.Contains(buf, []byte(name)) {
			out = append(out, name)
		}
	}
	return out
}

// TestRunStopsWhenCaptureFails: a capture that fails while ctx is still live
// ends the run with its error, every goroutine of the run stopped, and every
// event it counted (heartbeats, here) shipped.
func TestRunStopsWhenCaptureFails(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // after the checks: the run must not need it
	stream := local.NewStream(1 << 16)
	fail := errors.New("ring buffer read failed")
	start := time.Now()
	st, err := run(ctx, Options{SensorID: "agent-test", Stream: stream, BatchInterval: 10 * time.Millisecond,
		HeartbeatEvery: time.Millisecond, Metrics: metrics.NewWithClient(&statsd.NoOpClient{}),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))},
		func(collector.Options) (capture, error) { return failingCapture{fail}, nil })
	if !errors.Is(err, fail) {
		t.Fatalf("run = %v, want the capture's error", err)
	}
	if left := running(runGoroutines); len(left) > 0 {
		// goroutines of an earlier test's run may still be ending: give them a moment
		for deadline := time.Now().Add(2 * time.Second); len(left) > 0 && time.Now().Before(deadline); left = running(runGoroutines) {
			time.Sleep(10 * time.Millisecond)
		}
		if len(left) > 0 {
			t.Fatalf("%v still running %v after the run returned", left, time.Since(start).Round(time.Millisecond))
		}
	}
	stream.Close()
	shipped := uint64(0)
	for rec := range stream.Records() {
		evs, err := event.DecodeRecord(nil, rec.Data, 0)
		if err != nil {
			t.Fatal(err)
		}
		shipped += uint64(len(evs))
	}
	if shipped == 0 || shipped != st.Shipper.Events {
		t.Fatalf("shipped %d events, the run counted %d", shipped, st.Shipper.Events)
	}
}
