package cost

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
)

// recordedLake is a minute of a real host as its sensor captured it (56,502
// events, one lake file): the fixture the model's encoded sizes are fitted on.
var recordedLake = filepath.Join("..", "detect", "testdata", "recorded-lake.parquet")

// recordedEvents decodes the recorded lake.
func recordedEvents(t *testing.T) []event.Event {
	t.Helper()
	data, err := os.ReadFile(recordedLake)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := event.Decode(nil, data, 0)
	if err != nil {
		t.Fatalf("%s: %v", recordedLake, err)
	}
	if len(evs) < 50000 {
		t.Fatalf("%s: %d events, want the recorded minute's 56,502", recordedLake, len(evs))
	}
	return evs
}

// meanSize cuts events into consecutive pieces of n (the rest left out) and
// returns the mean size encode gives them.
func meanSize(t *testing.T, events []event.Event, n int, encode func([]event.Event) ([]byte, error)) float64 {
	t.Helper()
	var sum, count float64
	for off := 0; off+n <= len(events); off += n {
		data, err := encode(events[off : off+n])
		if err != nil {
			t.Fatal(err)
		}
		sum += float64(len(data))
		count++
	}
	return sum / count
}

// fitLine returns the line overhead + perEvent×n through the points (n, size)
// that minimises the squared relative error.
func fitLine(ns, sizes []float64) (overhead, perEvent float64) {
	var sw, sx, sy, sxx, sxy float64
	for i := range ns {
		w := 1 / (sizes[i] * sizes[i])
		sw += w
		sx += w * ns[i]
		sy += w * sizes[i]
		sxx += w * ns[i] * ns[i]
		sxy += w * ns[i] * sizes[i]
	}
	perEvent = (sw*sxy - sx*sy) / (sw*sxx - sx*sx)
	return (sy - perEvent*sx) / sw, perEvent
}

// TestEncodedSizeDefaults re-measures the model's encoded sizes on the recorded
// lake: stream records of 100 to 2,000 events (the stream's record encoder; a one-second
// batch of a host at 100 to 2,000 events a second) and lake files of 3,000 to
// 56,502 events (the file writer, zstd default level; hosts at 10 to 100
// events a second over 5 to 15 minutes), each size the mean of the fixture's
// consecutive pieces. It fits a line to each, and checks that the defaults are
// that fit (within 3 %) and predict every measured size within 10 %.
func TestEncodedSizeDefaults(t *testing.T) {
	evs := recordedEvents(t)
	d := DefaultParams()
	enc := event.NewRecordEncoder() // what the sensor ships: the batch in a zstd frame
	lakeFile := func(events []event.Event) ([]byte, error) {
		fw := event.NewFileWriter()
		if err := fw.Write(events); err != nil {
			return nil, err
		}
		return fw.Close()
	}
	for _, c := range []struct {
		what               string
		ns                 []float64
		encode             func([]event.Event) ([]byte, error)
		overhead, perEvent float64
	}{
		{"stream batch", []float64{100, 200, 500, 1000, 2000}, enc.Encode, d.StreamRecordOverheadBytes, d.StreamBytesPerEvent},
		{"lake file", []float64{3000, 9000, 18834, 28251, 56502}, lakeFile, d.LakeFileOverheadBytes, d.LakeBytesPerEvent},
	} {
		t.Run(c.what, func(t *testing.T) {
			sizes := make([]float64, len(c.ns))
			for i, n := range c.ns {
				sizes[i] = meanSize(t, evs, int(n), c.encode)
			}
			overhead, perEvent := fitLine(c.ns, sizes)
			t.Logf("%s fitted: %.0f bytes + %.2f bytes an event; the model: %.0f + %.2f", c.what, overhead, perEvent, c.overhead, c.perEvent)
			if math.Abs(c.overhead/overhead-1) > 0.03 || math.Abs(c.perEvent/perEvent-1) > 0.03 {
				t.Errorf("%s: the recorded lake fits %.0f bytes + %.2f an event, the model says %.0f + %.2f",
					c.what, overhead, perEvent, c.overhead, c.perEvent)
			}
			for i, n := range c.ns {
				want := c.overhead + n*c.perEvent
				t.Logf("%s of %.0f events: %.0f bytes (%.2f an event), the model says %.0f", c.what, n, sizes[i], sizes[i]/n, want)
				if r := sizes[i] / want; math.Abs(r-1) > 0.1 {
					t.Errorf("%s of %.0f events is %.0f bytes, the model says %.0f (ratio %.2f)", c.what, n, sizes[i], want, r)
				}
			}
		})
	}
}
