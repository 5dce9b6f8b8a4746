package search

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// Stats counts what a search read and what it skipped.
type Stats struct {
	Files           int   `json:"files"`             // files read
	FilesPruned     int   `json:"files_pruned"`      // files skipped by their partition or bounds
	RowGroups       int   `json:"row_groups"`        // row groups read
	RowGroupsPruned int   `json:"row_groups_pruned"` // row groups skipped by their bounds
	Scanned         int64 `json:"scanned"`           // events read and tested
	Matched         int64 `json:"matched"`           // events that matched
	Truncated       bool  `json:"truncated"`         // stopped at the query's limit
}

// String is the summary line of a search.
func (s Stats) String() string {
	t := ""
	if s.Truncated {
		t = " (stopped at the limit)"
	}
	return fmt.Sprintf("%d events scanned, %d matched%s; files: %d read, %d pruned; row groups: %d read, %d pruned",
		s.Scanned, s.Matched, t, s.Files, s.FilesPruned, s.RowGroups, s.RowGroupsPruned)
}

// Lake searches a local lake directory (Dir holds events/dt=…).
type Lake struct {
	Dir string
	// Progress, when set, is called after each file with the counts so far.
	Progress func(Stats)
	// MaxFileBytes bounds the size of a file read (0: 1 GiB); larger files are
	// errors naming them.
	MaxFileBytes int64
}

// partitionSkew is how far before its hour a partition's events may lie: a
// sensor's lake file takes the hour of its first event, and events out of
// order at the boundary go into the open file.
const partitionSkew = 15 * time.Minute

// mayHold reports whether the partition of the hour from start may hold
// events of the query's time range: it holds events of [start-partitionSkew,
// start+1h).
func (q *Query) mayHold(start time.Time) bool {
	return start.Add(time.Hour).After(q.Since) && (q.Until.IsZero() || start.Add(-partitionSkew).Before(q.Until))
}

// ErrStop, returned by a search's callback, ends the search without error.
var ErrStop = errors.New("stop the search")

// Search calls fn with each event q matches, in the lake's key order (by
// hour, sensor, then file: time order within a file), until q.Limit matches,
// fn returns ErrStop or ctx ends. The event is reused after fn returns.
func (l *Lake) Search(ctx context.Context, q Query, fn func(*event.Event) error) (Stats, error) {
	var st Stats
	plan, err := newPlan(&q)
	if err != nil {
		return st, err
	}
	files, pruned, err := l.partitionFiles(&q)
	if err != nil {
		return st, err
	}
	st.FilesPruned = pruned
	s := scanner{plan: plan, q: &q, fn: fn, st: &st, max: l.MaxFileBytes}
	if s.max <= 0 {
		s.max = 1 << 30
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		done, err := s.file(f)
		if l.Progress != nil {
			l.Progress(st)
		}
		if errors.Is(err, ErrStop) || (err == nil && done) {
			return st, nil
		}
		if err != nil {
			return st, err
		}
	}
	return st, nil
}

// partitionFiles lists the files of the partitions q's time range and sensors
// may hold events of, in key order, and counts the files of the others.
func (l *Lake) partitionFiles(q *Query) (files []string, pruned int, err error) {
	root := filepath.Join(l.Dir, "events")
	var sensorDirs map[string]bool
	if len(q.Sensors) > 0 {
		sensorDirs = map[string]bool{}
		for _, s := range q.Sensors {
			sensorDirs[sensorDir(s)] = true
		}
	}
	days, err := subdirs(root, "dt=")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, 0, fmt.Errorf("lake %s: no events directory (is it a lake? vigil local writes one under --lake)", l.Dir)
		}
		return nil, 0, err
	}
	for _, d := range days {
		day, derr := time.Parse("2006-01-02", strings.TrimPrefix(d, "dt="))
		hours, err := subdirs(filepath.Join(root, d), "hr=")
		if err != nil {
			return nil, 0, err
		}
		for _, h := range hours {
			var hr int
			_, herr := fmt.Sscanf(strings.TrimPrefix(h, "hr="), "%d", &hr)
			start := day.Add(time.Duration(hr) * time.Hour)
			// one whose name is not a date and hour is read
			keep := derr != nil || herr != nil || q.mayHold(start)
			sensors, err := subdirs(filepath.Join(root, d, h), "sensor=")
			if err != nil {
				return nil, 0, err
			}
			for _, s := range sensors {
				names, err := parquetFiles(filepath.Join(root, d, h, s))
				if err != nil {
					return nil, 0, err
				}
				if !keep || (sensorDirs != nil && !sensorDirs[s]) {
					pruned += len(names)
					continue
				}
				files = append(files, names...)
			}
		}
	}
	return files, pruned, nil
}

// sensorDir is the partition directory of a sensor id, as event.LakeKey
// names it.
func sensorDir(id string) string {
	k := event.LakeKey(id, time.Unix(0, 0), "x")
	for _, seg := range strings.Split(k, "/") {
		if strings.HasPrefix(seg, "sensor=") {
			return seg
		}
	}
	return ""
}

// subdirs lists the directories of dir whose names start with prefix, sorted.
func subdirs(dir, prefix string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("lake: %w", err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

func parquetFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("lake: %w", err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".parquet") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	slices.Sort(out)
	return out, nil
}

// scanner reads files for one search.
type scanner struct {
	plan *plan
	q    *Query
	fn   func(*event.Event) error
	st   *Stats
	max  int64
	rows []event.Event
	full []event.Event
}

// file searches one file; done is true when the limit was reached.
func (s *scanner) file(path string) (done bool, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return false, fmt.Errorf("lake: %w", err)
	}
	if fi.Size() > s.max {
		return false, fmt.Errorf("lake file %s: %d bytes is over the %d-byte limit", path, fi.Size(), s.max)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("lake: %w", err)
	}
	lf, err := event.OpenLakeFile(data, 0)
	if err != nil {
		return false, fmt.Errorf("lake file %s: %w", path, err)
	}
	read := false
	for g := range lf.RowGroups() {
		if !s.plan.mayMatch(lf, g) {
			s.st.RowGroupsPruned++
			continue
		}
		read = true
		s.st.RowGroups++
		if s.rows, err = lf.ReadRowGroup(s.rows[:0], g, s.plan.columns); err != nil {
			return false, fmt.Errorf("lake file %s: %w", path, err)
		}
		s.st.Scanned += int64(len(s.rows))
		var hits []int
		for i := range s.rows {
			if s.q.Match(&s.rows[i]) {
				hits = append(hits, i)
			}
		}
		if len(hits) == 0 {
			continue
		}
		rows := s.rows
		if s.plan.columns != nil {
			if s.full, err = lf.ReadRowGroup(s.full[:0], g, nil); err != nil {
				return false, fmt.Errorf("lake file %s: %w", path, err)
			}
			rows = s.full
		}
		for _, i := range hits {
			s.st.Matched++
			if err := s.fn(&rows[i]); err != nil {
				return true, err
			}
			if s.q.Limit > 0 && s.st.Matched >= int64(s.q.Limit) {
				s.st.Truncated = true
				return true, nil
			}
		}
	}
	if read {
		s.st.Files++
	} else {
		s.st.FilesPruned++
	}
	return false, nil
}
