package cost

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// maxLakeFileRows bounds the rows MeasureLake accepts from one file: a 64 MiB lake
// file holds at most tens of millions of events.
const maxLakeFileRows = 100_000_000

// LakeSample is what MeasureLake found in a lake directory.
type LakeSample struct {
	Dir     string
	Files   int
	Bytes   int64 // the files' bytes
	Rows    int64 // events
	Sensors int   // distinct sensor ids
	// First and Last are the earliest and latest event times.
	First, Last time.Time
}

// BytesPerEvent is the lake's bytes per event, file overheads included.
func (s LakeSample) BytesPerEvent() float64 { return float64(s.Bytes) / float64(s.Rows) }

// minRateSpan is the shortest span of event times a rate is measured over.
const minRateSpan = time.Minute

// EventsPerHostPerSec is the mean event rate of one sensor over the span of event
// times, or an error saying why it cannot be measured.
func (s LakeSample) EventsPerHostPerSec() (float64, error) {
	span := s.Last.Sub(s.First)
	if span < minRateSpan {
		return 0, fmt.Errorf("the events of %s span %s, less than %s: too short to measure a rate", s.Dir, span, minRateSpan)
	}
	return float64(s.Rows) / float64(s.Sensors) / span.Seconds(), nil
}

// MeasureLake reads every .parquet file under dir (a lake written by vigil local or
// vigil-sensor --local: events/dt=…/hr=…/sensor=…/*.parquet) and returns their bytes,
// rows, sensors and span of event times. A file that is not a lake file is an error
// naming it.
func MeasureLake(dir string) (LakeSample, error) {
	s := LakeSample{Dir: dir}
	st, err := os.Stat(dir)
	if err != nil {
		return s, fmt.Errorf("lake: %w", err)
	}
	if !st.IsDir() {
		return s, fmt.Errorf("lake: %s is not a directory", dir)
	}
	sensors := map[string]bool{}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".parquet") {
			return nil
		}
		if err := s.add(path, sensors); err != nil {
			return fmt.Errorf("lake file %s: %w", path, err)
		}
		return nil
	})
	if err != nil {
		return s, fmt.Errorf("lake: %w", err)
	}
	if s.Files == 0 {
		return s, fmt.Errorf("lake: no .parquet files under %s", dir)
	}
	if s.Rows == 0 {
		return s, fmt.Errorf("lake: the %d files under %s hold no events", s.Files, dir)
	}
	s.Sensors = len(sensors)
	return s, nil
}

// add counts one file: its bytes, its rows, their sensors and times.
func (s *LakeSample) add(path string, sensors map[string]bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lf, err := event.OpenLakeFile(data, maxLakeFileRows)
	if err != nil {
		return err
	}
	var evs []event.Event
	for i := range lf.RowGroups() {
		evs, err = lf.ReadRowGroup(evs[:0], i, []string{"sensor_id", "event_time"})
		if err != nil {
			return err
		}
		for j := range evs {
			sensors[evs[j].SensorID] = true
			t := time.Unix(0, evs[j].TimeNanos).UTC()
			if s.First.IsZero() || t.Before(s.First) {
				s.First = t
			}
			if t.After(s.Last) {
				s.Last = t
			}
		}
		s.Rows += int64(len(evs))
	}
	s.Files++
	s.Bytes += int64(len(data))
	return nil
}
