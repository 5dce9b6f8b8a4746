package shipper

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/sensor/spool"
)

// TestUnencodableEventIsCounted: an event too large for a record (stream) or a
// lake file (lake) on its own is left out of that path and counted; every other
// event of the flush — those after it, in later chunks, included — is shipped,
// in order.
func TestUnencodableEventIsCounted(t *testing.T) {
	const n, big = 30, 5
	now := time.Now()
	tests := []struct {
		name   string
		cmdLen int // of the big event
		// dest sets the path's destination in o and returns what it received
		dest func(o *Options) func() [][]byte
	}{
		{"stream", 2 * event.MaxRecordBytes, func(o *Options) func() [][]byte {
			st := &memStream{}
			o.Stream = st
			return func() [][]byte { return st.records }
		}},
		{"lake", 1 << 20, func(o *Options) func() [][]byte {
			lk := &switchLake{}
			o.Lake, o.RollBytes = lk, 256<<10
			return func() [][]byte { return lk.data }
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{SensorID: "s-1", BatchEvents: 10, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			received := tc.dest(&o)
			s := New(o)
			for i := range n {
				e := ev(i, now, 10)
				if i == big {
					e.CommandLine = noise(i, tc.cmdLen)
				}
				s.Add(&e)
			}
			err := s.Flush(context.Background())
			if err == nil || !strings.Contains(err.Error(), "over the") {
				t.Fatalf("flush: %v, want the event left out", err)
			}
			got := decodeAll(t, received())
			if len(got) != n-1 {
				t.Fatalf("shipped %d events, want %d", len(got), n-1)
			}
			for i, e := range got {
				want := uint32(i)
				if i >= big {
					want++
				}
				if e.PID != want {
					t.Fatalf("event %d has pid %d, want %d", i, e.PID, want)
				}
			}
			st := s.Stats()
			if st.DroppedStreamEvents+st.DroppedLakeEvents != 1 || st.SpoolRecords+st.SpoolFiles != 0 {
				t.Fatalf("stats %+v, want one event dropped", st)
			}
		})
	}
}

// TestSpoolCorruptCounted: batches the spool finds corrupt are lost, and the
// shipper's Stats count them.
func TestSpoolCorruptCounted(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "00000000000000000001-record.spool"), []byte("VSPL1\n\x01torn"), 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := spool.Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{SensorID: "s-1", Stream: &memStream{}, Spool: sp})
	if st := s.Stats(); st.SpoolCorrupt != 1 {
		t.Fatalf("stats %+v, want one corrupt batch", st)
	}
}
