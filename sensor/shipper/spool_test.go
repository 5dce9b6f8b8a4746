package shipper

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/sensor/spool"
)

// switchStream fails while down is set.
type switchStream struct {
	memStream
	down bool
}

func (s *switchStream) Put(ctx context.Context, key string, recs [][]byte) error {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down {
		return errors.New("connection refused")
	}
	return s.memStream.Put(ctx, key, recs)
}

func (s *switchStream) set(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

// switchLake fails while down is set.
type switchLake struct {
	mu   sync.Mutex
	down bool
	keys []string
	data [][]byte
}

func (l *switchLake) Put(_ context.Context, key string, data []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down {
		return errors.New("connection refused")
	}
	l.keys = append(l.keys, key)
	l.data = append(l.data, append([]byte(nil), data...))
	return nil
}

func checkOrder(t *testing.T, got []event.Event, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("shipped %d events, want %d", len(got), n)
	}
	for i := range got {
		if got[i].PID != uint32(i) {
			t.Fatalf("event %d has pid %d: order lost", i, got[i].PID)
		}
	}
}

func TestOutageIsSpooledAndReplayedInOrder(t *testing.T) {
	for _, dir := range []string{"", t.TempDir()} {
		name := "memory"
		if dir != "" {
			name = "disk"
		}
		t.Run(name, func(t *testing.T) {
			sp, err := spool.Open(dir, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			st := &switchStream{}
			lake := &switchLake{}
			s := New(Options{SensorID: "s-1", Stream: st, Lake: lake, Spool: sp, BatchEvents: 10})
			ctx := context.Background()
			add := func(from, to int) {
				for i := from; i < to; i++ {
					e := ev(i, time.Now(), 5)
					s.Add(&e)
				}
			}
			add(0, 25)
			if err := s.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			st.set(true)
			lake.mu.Lock()
			lake.down = true
			lake.mu.Unlock()
			add(25, 60)
			if err := s.Flush(ctx); err == nil {
				t.Fatal("flush succeeded during the outage")
			}
			add(60, 70)
			_ = s.Flush(ctx)
			stats := s.Stats()
			if stats.SpoolRecords != 5 || stats.SpoolFiles != 2 {
				t.Fatalf("during the outage: %+v", stats)
			}
			st.set(false)
			lake.mu.Lock()
			lake.down = false
			lake.mu.Unlock()
			add(70, 75)
			if err := s.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			checkOrder(t, decodeAll(t, st.records), 75)
			checkOrder(t, decodeAll(t, lake.data), 75)
			if stats := s.Stats(); stats.SpoolBytes != 0 || stats.DroppedRecords != 0 || stats.StreamFailures != 2 {
				t.Fatalf("after the outage: %+v", stats)
			}
		})
	}
}

func TestRestartShipsSpoolFirst(t *testing.T) {
	dir := t.TempDir()
	down := &switchStream{down: true}
	sp, _ := spool.Open(dir, 1<<30)
	lakeDir := t.TempDir()
	s := New(Options{SensorID: "s-1", Stream: down, Lake: &failingLake{}, Spool: sp, BatchInterval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, 100*time.Millisecond) }()
	for i := range 20 {
		e := ev(i, time.Now(), 5)
		s.Add(&e)
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("shutdown flush succeeded against a stream that is down")
	}

	// the next run, backends up: the spool goes first, then new events
	sp2, _ := spool.Open(dir, 1<<30)
	if sp2.Len(spool.Record) != 1 || sp2.Len(spool.LakeFile) != 1 {
		t.Fatalf("spool after restart: %d records, %d files", sp2.Len(spool.Record), sp2.Len(spool.LakeFile))
	}
	up := &switchStream{}
	lake := &local.Lake{Dir: lakeDir}
	s2 := New(Options{SensorID: "s-1", Stream: up, Lake: lake, Spool: sp2})
	for i := 20; i < 30; i++ {
		e := ev(i, time.Now(), 5)
		s2.Add(&e)
	}
	if err := s2.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkOrder(t, decodeAll(t, up.records), 30)
	files, _ := lake.Files()
	if len(files) != 2 {
		t.Fatalf("lake files %v", files)
	}
	if sp2.Bytes() != 0 {
		t.Fatalf("spool still holds %d bytes", sp2.Bytes())
	}
}

type failingLake struct{}

func (failingLake) Put(context.Context, string, []byte) error { return errors.New("no route to host") }

func TestLakeRollsBySize(t *testing.T) {
	lake := &switchLake{}
	s := New(Options{SensorID: "s-1", Lake: lake, RollInterval: time.Hour, RollBytes: 64 << 10})
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	for i := range 3000 {
		e := ev(i, now, 0)
		e.CommandLine = noise(i, 200)
		s.Add(&e)
		if i%100 == 99 {
			if err := s.flush(ctx, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if len(lake.data) < 5 {
		t.Fatalf("%d lake files for ~700 KiB of events with a 64 KiB bound", len(lake.data))
	}
	for i, d := range lake.data {
		if len(d) > 64<<10 {
			t.Errorf("file %d is %d bytes, over the 64 KiB bound", i, len(d))
		}
	}
	checkOrder(t, decodeAll(t, lake.data), 3000)
}

type obs struct {
	mu    sync.Mutex
	paths map[string]int
}

func (o *obs) Shipped(path string, bytes int, latency time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if bytes > 0 && latency >= 0 {
		o.paths[path]++
	}
}

func TestObserverSeesBatches(t *testing.T) {
	o := &obs{paths: map[string]int{}}
	s := New(Options{SensorID: "s-1", Stream: &memStream{}, Lake: &switchLake{}, Observer: o})
	e := ev(1, time.Now(), 5)
	s.Add(&e)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if o.paths["stream"] != 1 || o.paths["lake"] != 1 {
		t.Fatalf("observed %v", o.paths)
	}
}

// gatedStream is the in-process stream, refusing every put while down.
type gatedStream struct {
	*local.Stream
	down bool
}

func (g *gatedStream) Put(ctx context.Context, key string, recs [][]byte) error {
	if g.down {
		return errors.New("connection refused")
	}
	return g.Stream.Put(ctx, key, recs)
}

// TestPartialPutIsNotSentAgain: a replay the stream takes only part of (here
// its buffer fills as the shutdown deadline passes) leaves in the spool only
// what it did not take, so that every event is shipped exactly once.
func TestPartialPutIsNotSentAgain(t *testing.T) {
	st := &gatedStream{Stream: local.NewStream(2), down: true}
	sp, err := spool.Open("", 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{SensorID: "s-1", Stream: st, Spool: sp, BatchEvents: 10})
	for i := range 30 {
		e := ev(i, time.Now(), 5)
		s.Add(&e)
	}
	if err := s.Flush(context.Background()); err == nil {
		t.Fatal("flush succeeded while the stream was down")
	}
	if n := sp.Len(spool.Record); n != 3 {
		t.Fatalf("spooled %d records, want 3", n)
	}
	st.down = false
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	err = s.Flush(ended)
	var pe *local.PutError
	if !errors.As(err, &pe) || !slices.Equal(pe.Unaccepted(), []int{2}) {
		t.Fatalf("replay into a stream with room for 2 = %v, want the third record refused", err)
	}
	if n := sp.Len(spool.Record); n != 1 {
		t.Fatalf("spool holds %d records after the partial replay, want 1", n)
	}
	var got [][]byte
	for range 2 {
		got = append(got, (<-st.Records()).Data)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	st.Close()
	for r := range st.Records() {
		got = append(got, r.Data)
	}
	checkOrder(t, decodeAll(t, got), 30)
	if stats := s.Stats(); stats.Records != 3 || stats.SpoolRecords != 0 {
		t.Fatalf("stats %+v, want 3 records shipped and none left", stats)
	}
}

// TestSpoolOfBareRecords checks that records an older sensor left in the
// spool as bare Parquet batches are shipped first and as they are, then the
// new run's framed records, and that both read back in order.
func TestSpoolOfBareRecords(t *testing.T) {
	dir := t.TempDir()
	sp, err := spool.Open(dir, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	enc := event.NewEncoder()
	for i := range 2 {
		batch := []event.Event{ev(2*i, time.Now(), 5), ev(2*i+1, time.Now(), 5)}
		data, err := enc.Encode(batch)
		if err != nil {
			t.Fatal(err)
		}
		if err := sp.Append(spool.Record, "", time.Now(), bytes.Clone(data)); err != nil {
			t.Fatal(err)
		}
	}
	sp2, err := spool.Open(dir, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	up := &switchStream{}
	s := New(Options{SensorID: "s-1", Stream: up, Spool: sp2})
	for i := 4; i < 10; i++ {
		e := ev(i, time.Now(), 5)
		s.Add(&e)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(up.records) != 3 {
		t.Fatalf("%d records put, want the 2 spooled and 1 new", len(up.records))
	}
	for i, r := range up.records {
		if framed := event.IsFramedRecord(r); framed != (i == 2) {
			t.Errorf("record %d: framed %v, want %v", i, framed, i == 2)
		}
	}
	checkOrder(t, decodeAll(t, up.records), 10)
}
