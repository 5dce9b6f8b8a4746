package shipper

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// lakeTick is one flush: the events added before it, at the given times of
// 2026-11-22 ("15:04:05.000", UTC), then n more 1 ms apart, with command lines of
// cmd incompressible bytes.
type lakeTick struct {
	at      []string
	n, cmd  int
	advance time.Duration // of the clock, before the flush
	final   bool
	files   int // lake files shipped so far, after the flush; -1: not checked
}

func TestLakeRollPaths(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		ratio float64 // of the "last" file, when set: the size estimate of the first
		ticks []lakeTick
		hours []int // of the files, in order; nil: not checked
		sizes []int // events per file; nil: not checked
		min   int   // fewest files
	}{
		{name: "hour crossed between ticks",
			ticks: []lakeTick{
				{at: []string{"09:59:00.000", "09:59:00.000"}, files: 0},
				{at: []string{"10:01:00.000"}, files: 1},
				{final: true, files: 2}},
			hours: []int{9, 10}, sizes: []int{2, 1}},
		{name: "hour crossed inside a tick",
			ticks: []lakeTick{{at: []string{"09:59:58.000", "09:59:59.000", "10:00:00.000", "10:00:01.000"}, files: 1},
				{final: true, files: 2}},
			hours: []int{9, 10}, sizes: []int{2, 2}},
		{name: "several hours in a tick",
			ticks: []lakeTick{{at: []string{"08:30:00.000", "09:30:00.000", "09:31:00.000", "11:30:00.000"}, final: true, files: 3}},
			hours: []int{8, 9, 11}, sizes: []int{1, 2, 1}},
		{name: "late events at the boundary go to the open file",
			ticks: []lakeTick{
				{at: []string{"09:59:59.900", "10:00:00.001", "09:59:59.990", "10:00:00.002", "09:59:59.999"}, files: 1},
				{at: []string{"09:59:59.995", "10:00:00.100"}, final: true, files: 2}},
			hours: []int{9, 10}, sizes: []int{1, 6}},
		{name: "a file opened by a late event",
			ticks: []lakeTick{
				{at: []string{"10:00:00.001"}, final: true, files: 1},
				{at: []string{"09:59:59.999", "10:00:00.002"}, final: true, files: 3}},
			hours: []int{10, 9, 10}, sizes: []int{1, 1, 1}},
		{name: "roll interval",
			opts: Options{RollInterval: time.Minute},
			ticks: []lakeTick{
				{at: []string{"09:00:00.000"}, files: 0},
				{at: []string{"09:00:30.000"}, advance: 30 * time.Second, files: 0},
				{at: []string{"09:01:00.000"}, advance: 30 * time.Second, files: 1},
				{at: []string{"09:01:01.000"}, files: 1}, // opens the next file
				{at: []string{"09:01:02.000"}, advance: 59 * time.Second, files: 1},
				{advance: time.Second, files: 2}},
			hours: []int{9, 9}, sizes: []int{3, 2}},
		{name: "roll events",
			opts: Options{RollEvents: 3},
			ticks: []lakeTick{
				{at: []string{"09:00:00.000"}, n: 6, files: 2},
				{n: 4, files: 3},
				{final: true, files: 4}},
			hours: []int{9, 9, 9, 9}, sizes: []int{3, 3, 3, 2}},
		{name: "bytes estimated",
			opts: Options{RollBytes: 64 << 10},
			ticks: []lakeTick{
				{at: []string{"09:00:00.000"}, n: 400, cmd: 200, files: -1},
				{n: 1000, cmd: 200, files: -1},
				{final: true, files: -1}},
			min: 5},
		{name: "over the bytes bound: split",
			opts:  Options{RollBytes: 32 << 10},
			ratio: 0.01, // the last file compressed 100:1, these events do not
			ticks: []lakeTick{{at: []string{"09:00:00.000"}, n: 599, cmd: 300, final: true, files: -1}},
			min:   4},
		{name: "split file across the hour",
			opts:  Options{RollBytes: 32 << 10},
			ratio: 0.01,
			ticks: []lakeTick{
				{at: []string{"09:59:59.000"}, n: 399, cmd: 300, files: -1},
				{at: []string{"10:00:00.000"}, n: 399, cmd: 300, final: true, files: -1}},
			min: 6},
	}
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lake := &switchLake{}
			clock := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
			opts := tc.opts
			opts.SensorID, opts.Lake, opts.Now = "s-1", lake, func() time.Time { return clock }
			if opts.RollInterval == 0 {
				opts.RollInterval = time.Hour
			}
			s := New(opts)
			if tc.ratio > 0 {
				s.ratio = tc.ratio
			}
			var added int
			var last time.Time
			for i, tk := range tc.ticks {
				add := func(at time.Time) {
					e := ev(added, at, 0)
					if tk.cmd > 0 {
						e.CommandLine = noise(added, tk.cmd)
					}
					s.Add(&e)
					added++
					last = at
				}
				for _, a := range tk.at {
					at, err := time.Parse("15:04:05.000", a)
					if err != nil {
						t.Fatal(err)
					}
					add(day.Add(at.Sub(at.Truncate(24 * time.Hour))))
				}
				for range tk.n {
					add(last.Add(time.Millisecond))
				}
				clock = clock.Add(tk.advance)
				if err := s.flush(context.Background(), tk.final); err != nil {
					t.Fatal(err)
				}
				if tk.files >= 0 && len(lake.keys) != tk.files {
					t.Fatalf("after tick %d: %d files, want %d: %v", i, len(lake.keys), tk.files, lake.keys)
				}
			}

			checkOrder(t, decodeAll(t, lake.data), added)
			var hours, sizes []int
			for i, data := range lake.data {
				key := lake.keys[i]
				if len(data) > s.opts.RollBytes {
					t.Errorf("file %d is %d bytes, over the %d-byte bound", i, len(data), s.opts.RollBytes)
				}
				got, err := event.Decode(nil, data, 0)
				if err != nil {
					t.Fatal(err)
				}
				first := time.Unix(0, got[0].TimeNanos).UTC()
				if !strings.HasPrefix(key, event.LakeKey("s-1", first, "")[:len("events/dt=2026-11-22/hr=09/")]) {
					t.Errorf("file %d: key %s, first event at %s", i, key, first)
				}
				for _, e := range got {
					if hourOf(e.TimeNanos) > hourOf(got[0].TimeNanos) {
						t.Errorf("file %d (%s) holds an event of a later hour: %s", i, key, time.Unix(0, e.TimeNanos).UTC())
					}
				}
				hours = append(hours, first.Hour())
				sizes = append(sizes, len(got))
			}
			if tc.hours != nil && !equal(hours, tc.hours) {
				t.Errorf("hours of the files = %v, want %v", hours, tc.hours)
			}
			if tc.sizes != nil && !equal(sizes, tc.sizes) {
				t.Errorf("events per file = %v, want %v", sizes, tc.sizes)
			}
			if len(lake.data) < tc.min {
				t.Errorf("%d files, want at least %d", len(lake.data), tc.min)
			}
			t.Logf("files: events %v", sizes)
		})
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
