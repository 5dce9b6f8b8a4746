package search

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// benchLake writes a lake of 4 sensors × 6 hours, one file of 5,000 process,
// file and network events per sensor and hour (120,000 events); one sensor
// runs as user "svc", the others as "root".
const benchEvents = 4 * 6 * 5000

func benchLake(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	var evs []event.Event
	types := []string{event.NewProcess, event.FileOpen, event.NetworkConnect, event.DNSRequest}
	for s := range 4 {
		user := "root"
		if s == 3 {
			user = "svc"
		}
		for h := range 6 {
			for i := range 5000 {
				at := t0.Add(time.Duration(h)*time.Hour + time.Duration(i)*700*time.Millisecond)
				evs = append(evs, event.Event{SensorID: fmt.Sprint("s-", s), Type: types[i%4], TimeNanos: at.UnixNano(),
					ID: event.NewID(at), PID: uint32(1000 + i%300), PPID: 1, User: user, FilePath: fmt.Sprint("/usr/bin/tool", i%50),
					CommandLine: fmt.Sprintf("tool%d --run %d --target host-%d.example.com", i%50, i, i%17),
					TargetPath:  fmt.Sprint("/var/lib/data/", i%1000), DestIP: "10.0.0.1", DestPort: 443, DomainName: "example.com"})
			}
		}
	}
	writeLake(b, dir, evs)
	return dir
}

func BenchmarkLakeSearch(b *testing.B) {
	dir := benchLake(b)
	cases := []struct{ name, where string }{
		// every row group read, the condition's two columns decoded
		{"no_pruning", `{op: contains, path: event/COMMAND_LINE, value: "--target host-16."}`},
		// the bounds of user skip three sensors' row groups of four
		{"row_group_pruning", `{op: is, path: event/USER, value: svc}`},
		// every row matches: every row group decoded twice (condition, then in full)
		{"all_match", `{op: exists, path: event/PROCESS_ID}`},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			q, err := NewQuery(c.where, t0, t0.Add(6*time.Hour), nil, 0)
			if err != nil {
				b.Fatal(err)
			}
			l := &Lake{Dir: dir}
			var st Stats
			b.ResetTimer()
			for b.Loop() {
				if st, err = l.Search(context.Background(), q, func(*event.Event) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(benchEvents)*float64(b.N)/secs, "lake_events/s")
			b.ReportMetric(float64(st.Scanned)*float64(b.N)/secs, "scanned_events/s")
			b.ReportMetric(float64(st.Matched), "matched")
		})
	}
}
