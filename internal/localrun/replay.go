package localrun

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/event"
)

// Summary is what a replay did.
type Summary struct {
	Files      int            `json:"files"`
	Events     int            `json:"events"`
	Detections int            `json:"detections"`
	ByRule     map[string]int `json:"by_rule"`
	Refused    int            `json:"refused_files"`
	Seconds    float64        `json:"seconds"`
}

// Print writes s as one line and a line per rule, most detections first, or,
// asJSON, as one JSON object {"replay": s} on a line.
func (s Summary) Print(w io.Writer, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(map[string]Summary{"replay": s})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	var b strings.Builder
	rate := 0.0
	if s.Seconds > 0 {
		rate = float64(s.Events) / s.Seconds
	}
	fmt.Fprintf(&b, "replay: %d files, %d events, %d detections in %.2fs (%.0f events/s)", s.Files, s.Events, s.Detections, s.Seconds, rate)
	if s.Refused > 0 {
		fmt.Fprintf(&b, ", %d files refused", s.Refused)
	}
	b.WriteByte('\n')
	rules := make([]string, 0, len(s.ByRule))
	for r := range s.ByRule {
		rules = append(rules, r)
	}
	sort.Slice(rules, func(i, j int) bool {
		if s.ByRule[rules[i]] != s.ByRule[rules[j]] {
			return s.ByRule[rules[i]] > s.ByRule[rules[j]]
		}
		return rules[i] < rules[j]
	})
	for _, r := range rules {
		fmt.Fprintf(&b, "  %6d  %s\n", s.ByRule[r], r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// replayFiles lists the Parquet files of path (a file, or a lake directory walked
// in key order: by day, hour, sensor, then file id, which sorts by time).
func replayFiles(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	var out []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".parquet") {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no .parquet files", path)
	}
	return out, nil
}

// Replay processes the recorded events in path (a lake directory or one Parquet
// file or stream record, framed or bare) file by file, each on its events' own clock, as fast as it can. A file
// that does not decode is logged, counted as refused and skipped. Every
// detection is counted by rule, the ones stored by an earlier run too; only new
// ones are published.
func (a *App) Replay(ctx context.Context, path string) (Summary, error) {
	sum := Summary{ByRule: map[string]int{}}
	files, err := replayFiles(path)
	if err != nil {
		return sum, setupErr(fmt.Errorf("local: --replay: %w", err))
	}
	start := time.Now()
	var evs []event.Event
	var ds []detect.Detection
	for _, f := range files {
		if ctx.Err() != nil {
			break
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return sum, fmt.Errorf("replay: %w", err)
		}
		evs, err = event.DecodeRecord(evs[:0], data, 0)
		if err != nil {
			a.log.Error("replay: file refused", "file", f, "error", err)
			sum.Refused++
			continue
		}
		if ds, err = a.Process(ctx, ds[:0], evs, EventClock); err != nil {
			return sum, err
		}
		for i := range ds {
			sum.ByRule[ds[i].Rule]++
		}
		sum.Files++
		sum.Events += len(evs)
		sum.Detections += len(ds)
	}
	sum.Seconds = time.Since(start).Seconds()
	return sum, nil
}
