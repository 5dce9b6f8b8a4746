package shipper

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/local"
)

// memStream records what is put, failing the first failN calls.
type memStream struct {
	mu      sync.Mutex
	failN   int
	records [][]byte
	keys    []string
}

func (m *memStream) Put(_ context.Context, key string, recs [][]byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failN > 0 {
		m.failN--
		return errors.New("stream unreachable")
	}
	for _, r := range recs {
		m.records = append(m.records, append([]byte(nil), r...))
		m.keys = append(m.keys, key)
	}
	return nil
}

func ev(i int, at time.Time, cmdLen int) event.Event {
	return event.Event{SensorID: "s-1", Type: event.NewProcess, TimeNanos: at.UnixNano(), PID: uint32(i),
		ID: event.NewID(at), FilePath: "/bin/true", CommandLine: strings.Repeat("x", cmdLen)}
}

func decodeAll(t *testing.T, records [][]byte) []event.Event {
	t.Helper()
	var out []event.Event
	for _, r := range records {
		if len(r) > event.MaxRecordBytes {
			t.Errorf("record of %d bytes exceeds %d", len(r), event.MaxRecordBytes)
		}
		var err error
		if out, err = event.DecodeRecord(out, r, 0); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestHotPath(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name        string
		n, cmdLen   int
		batchEvents int
		failN       int
		minRecords  int
	}{
		{"small", 10, 10, 0, 0, 1},
		{"split by count", 25, 10, 10, 0, 3},
		{"split by size", 400, 8 << 10, 0, 0, 2},
		{"retried after failures", 10, 10, 0, 2, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := &memStream{failN: tc.failN}
			s := New(Options{SensorID: "s-1", Stream: st, BatchEvents: tc.batchEvents})
			for i := range tc.n {
				e := ev(i, now, 0)
				e.CommandLine = noise(i, tc.cmdLen)
				s.Add(&e)
			}
			for range tc.failN {
				if err := s.Flush(context.Background()); err == nil {
					t.Fatal("flush succeeded against a failing stream")
				}
			}
			if err := s.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			for i, r := range st.records {
				if !event.IsFramedRecord(r) {
					t.Errorf("record %d is not zstd-framed: starts %q", i, r[:min(4, len(r))])
				}
			}
			got := decodeAll(t, st.records)
			if len(got) != tc.n {
				t.Fatalf("shipped %d events, want %d", len(got), tc.n)
			}
			for i := range got {
				if got[i].PID != uint32(i) {
					t.Fatalf("event %d has pid %d: order lost", i, got[i].PID)
				}
			}
			if len(st.records) < tc.minRecords {
				t.Errorf("%d records, want at least %d", len(st.records), tc.minRecords)
			}
			for _, k := range st.keys {
				if k != "s-1" {
					t.Errorf("partition key %q, want the sensor id", k)
				}
			}
			if s.Stats().StreamFailures != uint64(tc.failN) {
				t.Errorf("stats = %+v", s.Stats())
			}
		})
	}
}

// noise is deterministic text that zstd cannot shrink much.
func noise(seed, n int) string {
	b := make([]byte, n)
	x := uint32(seed*2654435761 + 1)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = 'a' + byte(x%26)
	}
	return string(b)
}

func TestPendingIsBounded(t *testing.T) {
	st := &memStream{failN: 1 << 30}
	probe := New(Options{SensorID: "s-1"})
	one := ev(0, time.Now(), 10)
	size, _ := probe.hotEnc.Encode([]event.Event{one})
	// room for two batches: the third evicts the oldest
	s := New(Options{SensorID: "s-1", Stream: st, MaxPendingBytes: 2*len(size) + len(size)/2})
	for i := range 3 {
		e := ev(i, time.Now(), 10)
		s.Add(&e)
		_ = s.Flush(context.Background())
	}
	stats := s.Stats()
	if stats.DroppedRecords != 1 || stats.SpoolRecords != 2 {
		t.Fatalf("stats = %+v, want 1 dropped (the oldest, counted) and 2 kept", stats)
	}
}

// TestPendingChunksKept checks that pending events are never moved as more
// arrive, and that the chunks holding them are kept across flushes, cleared,
// up to keepChunks, and reused.
func TestPendingChunksKept(t *testing.T) {
	const batch = 2000
	tests := []struct {
		name  string
		burst int // events added before the first flush
		kept  int // chunks kept after it
	}{
		{"one event", 1, 1},
		{"one batch", batch, 1},
		{"a burst of two batches", 2*batch + 1, 3},
		{"a burst of several batches", 5*batch + 1, 6},
		{"a burst beyond keepChunks batches", keepChunks*batch + 1, keepChunks},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Options{SensorID: "s-1", Stream: &memStream{}, BatchEvents: batch})
			now := time.Now()
			var first *event.Event
			for i := range tc.burst {
				e := ev(i, now, 1)
				s.Add(&e)
				if i == 0 {
					first = &s.pending[0][0]
				}
			}
			if &s.pending[0][0] != first || s.pending[0][0].PID != 0 {
				t.Fatal("the first event moved as more were added")
			}
			chunks := map[*event.Event]bool{}
			for _, c := range s.pending {
				chunks[unsafe.SliceData(c)] = true
			}
			ctx := context.Background()
			for range 2 { // the second flush, empty, keeps them too
				if err := s.flush(ctx, false); err != nil {
					t.Fatal(err)
				}
			}
			if len(s.free) != tc.kept {
				t.Fatalf("%d chunks kept, want %d", len(s.free), tc.kept)
			}
			for _, c := range s.free {
				if !chunks[unsafe.SliceData(c)] || len(c) != 0 || cap(c) != batch {
					t.Fatalf("kept chunk (len %d, cap %d) is not an emptied chunk of the burst", len(c), cap(c))
				}
				for _, e := range c[:cap(c)] {
					if e.SensorID != "" {
						t.Fatal("a kept chunk still holds an event")
					}
				}
			}
			e := ev(0, now, 1)
			s.Add(&e)
			if !chunks[unsafe.SliceData(s.pending[0])] || len(s.free) != tc.kept-1 {
				t.Error("the next event did not go into a kept chunk")
			}
		})
	}
}

func TestLakeRoll(t *testing.T) {
	lake := &local.Lake{Dir: t.TempDir()}
	s := New(Options{SensorID: "s-1", Lake: lake, RollInterval: time.Hour})
	h1 := time.Date(2026, 11, 22, 9, 59, 0, 0, time.UTC)
	h2 := h1.Add(2 * time.Minute)
	for i, at := range []time.Time{h1, h1, h2} {
		e := ev(i, at, 5)
		s.Add(&e)
		if i == 1 {
			// inside the roll interval and the same hour: nothing is written yet
			if err := s.flush(context.Background(), false); err != nil {
				t.Fatal(err)
			}
			if files, _ := lake.Files(); len(files) != 0 {
				t.Fatalf("rolled early: %v", files)
			}
		}
	}
	// the third event crossed the hour: the next tick rolls the file before it
	if err := s.flush(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	files, err := lake.Files()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || !strings.HasPrefix(files[0], "events/dt=2026-11-22/hr=09/sensor=s-1/") {
		t.Fatalf("files = %v", files)
	}
	// and the final flush ships the third event in the next hour's file
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if files, _ = lake.Files(); len(files) != 2 || !strings.HasPrefix(files[1], "events/dt=2026-11-22/hr=10/sensor=s-1/") {
		t.Fatalf("files = %v", files)
	}
}

func TestRunFlushesOnShutdown(t *testing.T) {
	stream := local.NewStream(16)
	lake := &local.Lake{Dir: t.TempDir()}
	s := New(Options{SensorID: "s-1", Stream: stream, Lake: lake, BatchInterval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, 5*time.Second) }()
	e := ev(1, time.Now(), 5)
	s.Add(&e)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rec := <-stream.Records()
	if got := decodeAll(t, [][]byte{rec.Data}); len(got) != 1 || rec.PartitionKey != "s-1" {
		t.Fatalf("got %d events with key %q", len(got), rec.PartitionKey)
	}
	if files, _ := lake.Files(); len(files) != 1 {
		t.Fatalf("lake files = %v", files)
	}
}

// TestFullBatchShipsBeforeTheTick checks that a whole batch (BatchEvents) is
// shipped at once rather than held until the next tick, and that while the
// stream fails the tick, not every full batch, paces the retries.
func TestFullBatchShipsBeforeTheTick(t *testing.T) {
	tests := []struct {
		name                      string
		failN                     int
		wantRecords, wantFailures uint64 // before the tick
	}{
		{"healthy: each shipped at once", 0, 2, 0},
		{"failing: the second left to the tick", 1, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stream := &memStream{failN: tc.failN}
			s := New(Options{SensorID: "s-1", Stream: stream, BatchInterval: time.Hour, BatchEvents: 100,
				Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Run(ctx, 5*time.Second) }()
			add := func(n int) {
				for i := range n {
					e := ev(i, time.Now(), 5)
					s.Add(&e)
				}
			}
			add(100)
			deadline := time.Now().Add(5 * time.Second)
			for s.Stats().Records+s.Stats().StreamFailures == 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			// Another full batch: shipped at once only if the last put worked.
			add(100)
			time.Sleep(200 * time.Millisecond)
			if st := s.Stats(); st.Records != tc.wantRecords || st.StreamFailures != tc.wantFailures {
				t.Errorf("before the tick: %d records, %d failed puts; want %d and %d", st.Records, st.StreamFailures,
					tc.wantRecords, tc.wantFailures)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got := decodeAll(t, stream.records); len(got) != 200 {
				t.Errorf("shipped %d events in all, want 200", len(got))
			}
		})
	}
}
