package cost

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/local"
)

// retimed returns the first n events of the recorded lake, 1/rate s apart from
// start, with ids of those times.
func retimed(t *testing.T, n int, rate float64, start time.Time) []event.Event {
	t.Helper()
	evs := recordedEvents(t)
	if n > len(evs) {
		t.Fatalf("%d events asked of the recorded lake's %d", n, len(evs))
	}
	evs = evs[:n]
	step := time.Duration(float64(time.Second) / rate)
	for i := range evs {
		at := start.Add(time.Duration(i+1) * step)
		evs[i].TimeNanos, evs[i].ID = at.UnixNano(), event.NewID(at)
	}
	return evs
}

// writeLakeFiles writes, for each sensor, hours of 5-minute lake files at rate
// events a second with the project's file writer, into a lake directory as
// vigil-sensor --local does, and returns the bytes written.
func writeLakeFiles(t *testing.T, dir string, sensors []string, rate float64, files int) int64 {
	t.Helper()
	lake := &local.Lake{Dir: dir}
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var total int64
	for _, id := range sensors {
		events := retimed(t, int(rate*300)*files, rate, start)
		for f := range files {
			part := events[f*int(rate*300) : (f+1)*int(rate*300)]
			for i := range part {
				part[i].SensorID = id
			}
			fw := event.NewFileWriter()
			if err := fw.Write(part); err != nil {
				t.Fatal(err)
			}
			data, err := fw.Close()
			if err != nil {
				t.Fatal(err)
			}
			at := time.Unix(0, part[0].TimeNanos)
			if err := lake.Put(context.Background(), event.LakeKey(id, at, event.NewID(at)), data); err != nil {
				t.Fatal(err)
			}
			total += int64(len(data))
		}
	}
	return total
}

func TestMeasureLake(t *testing.T) {
	dir := t.TempDir()
	bytes := writeLakeFiles(t, dir, []string{"i-01", "i-02"}, 20, 3) // 3 files of 6,000 events a sensor
	s, err := MeasureLake(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Files != 6 || s.Rows != 36000 || s.Sensors != 2 || s.Bytes != bytes {
		t.Errorf("measured %d files, %d rows, %d sensors, %d bytes; want 6, 36000, 2, %d", s.Files, s.Rows, s.Sensors, s.Bytes, bytes)
	}
	if got, want := s.BytesPerEvent(), float64(bytes)/36000; got != want {
		t.Errorf("bytes per event %v, want %v", got, want)
	}
	// 18,000 events a sensor, 1/20 s apart: the span is 17,999/20 s.
	rate, err := s.EventsPerHostPerSec()
	if err != nil {
		t.Fatal(err)
	}
	if want := 18000 / (17999.0 / 20); math.Abs(rate-want) > 1e-6 {
		t.Errorf("rate %v, want %v", rate, want)
	}
}

func TestMeasureLakeErrors(t *testing.T) {
	empty := t.TempDir()
	bad := t.TempDir()
	badFile := filepath.Join(bad, "events", "dt=2026-11-23", "x.parquet")
	if err := os.MkdirAll(filepath.Dir(badFile), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(badFile, []byte("PAR1 not really"), 0o600); err != nil {
		t.Fatal(err)
	}
	short := t.TempDir()
	writeLakeFiles(t, short, []string{"i-01"}, 100, 1) // 30,000 events over 300 s: a rate
	for _, tc := range []struct {
		name, dir string
		want      []string
	}{
		{"missing", filepath.Join(empty, "nope"), []string{"lake", "nope"}},
		{"no files", empty, []string{"no .parquet files", empty}},
		{"not parquet", bad, []string{badFile, "not a Vigil Parquet"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := MeasureLake(tc.dir)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	s, err := MeasureLake(short)
	if err != nil {
		t.Fatal(err)
	}
	s.Last = s.First.Add(30 * time.Second)
	if _, err := s.EventsPerHostPerSec(); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Errorf("a 30 s span gives %v, want an error saying it is too short", err)
	}
}
