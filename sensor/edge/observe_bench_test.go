package edge

import (
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// BenchmarkObserve measures what the edge adds to each captured event that
// fires nothing: the pack (and the site rules of the tests) evaluated, state
// included, on a mix of process, file and network events.
func BenchmarkObserve(b *testing.B) {
	e, sink := newEvaluator(b, Options{})
	at := time.Now().UnixNano()
	base := event.Event{SensorID: "s-1", Hostname: "web-1", Tags: []string{"env:prod"}, TimeNanos: at,
		ID: "01KAQ0000000000000000000AA", PID: 4242, PPID: 4100, UID: 33, User: "www-data"}
	var mix []event.Event
	add := func(typ event.Type, f func(*event.Event)) {
		ev := base
		ev.Type = typ
		f(&ev)
		mix = append(mix, ev)
	}
	add(event.NewProcess, func(ev *event.Event) {
		ev.FilePath, ev.CommandLine, ev.ParentFilePath = "/usr/bin/git", "git status --porcelain", "/usr/bin/make"
	})
	add(event.FileOpen, func(ev *event.Event) {
		ev.FilePath, ev.TargetPath, ev.FileFlags = "/usr/sbin/nginx", "/var/www/html/index.html", "read"
	})
	add(event.FileOpen, func(ev *event.Event) {
		ev.FilePath, ev.TargetPath, ev.FileFlags = "/usr/sbin/nginx", "/var/log/nginx/access.log", "write"
	})
	add(event.NetworkConnect, func(ev *event.Event) {
		ev.FilePath, ev.Protocol, ev.DestIP, ev.DestPort = "/usr/bin/python3", "tcp", "10.0.3.7", 5432
	})
	add(event.TerminateProcess, func(ev *event.Event) { ev.FilePath = "/usr/bin/git" })
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		e.Observe(&mix[i%len(mix)])
	}
	b.StopTimer()
	if ds, _, _ := sink.all(); len(ds) != 0 {
		b.Fatalf("the benign mix fired %s", ds[0].Rule)
	}
}
