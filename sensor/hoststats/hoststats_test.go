package hoststats

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time                 { return c.t }
func (c *clock) step(d time.Duration) time.Time { c.t = c.t.Add(d); return c.t }

func TestHeartbeat(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}
	drops := uint64(0)
	g := New(Options{SensorID: "i-1", Hostname: "h", Tags: []string{"env:prod"}, Version: "1.2.3", Now: c.now,
		Health: func() Health {
			return Health{Drops: drops, SpoolBytes: 4096, Missing: []string{"io_uring", "module_load"}}
		}})

	evs := g.Due(c.now())
	if len(evs) != 1 || evs[0].Type != event.SensorHeartbeat || evs[0].UptimeSeconds != 0 {
		t.Fatalf("at start: %+v", evs)
	}
	if evs := g.Due(c.step(29 * time.Second)); len(evs) != 0 {
		t.Fatalf("heartbeat before 30s: %+v", evs)
	}
	drops = 7
	evs = g.Due(c.step(time.Second))
	if len(evs) != 1 {
		t.Fatalf("at 30s: %+v", evs)
	}
	hb := evs[0]
	if hb.SensorVersion != "1.2.3" || hb.UptimeSeconds != 30 || hb.Drops != 7 || hb.SpoolBytes != 4096 ||
		hb.SensorID != "i-1" || hb.Hostname != "h" || len(hb.Tags) != 1 || hb.ID == "" || hb.TimeNanos != c.t.UnixNano() {
		t.Fatalf("heartbeat = %+v", hb)
	}
	if !reflect.DeepEqual(hb.MissingCapabilities, []string{"io_uring", "module_load"}) {
		t.Errorf("MISSING_CAPABILITIES = %q, want io_uring and module_load", hb.MissingCapabilities)
	}
}

func TestHostStats(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}
	g := New(Options{SensorID: "i-1", Now: c.now})
	g.Due(c.now()) // the first heartbeat
	obs := func(e event.Event) { g.Observe(&e) }
	obs(event.Event{Type: event.NewProcess, FilePath: "/usr/bin/curl"})
	obs(event.Event{Type: event.NewProcess, FilePath: "/usr/bin/curl"})
	obs(event.Event{Type: event.NewProcess, FilePath: "/tmp/x"})
	obs(event.Event{Type: event.FileOpen})
	obs(event.Event{Type: event.FileRename})
	obs(event.Event{Type: event.FileChmod})
	obs(event.Event{Type: event.NetworkConnect, DestIP: "10.0.0.1", DestPort: 443})
	obs(event.Event{Type: event.NetworkConnect, DestIP: "10.0.0.1", DestPort: 5432, ErrorCode: 111})
	obs(event.Event{Type: event.NetworkConnect, DestIP: "10.0.0.2", DestPort: 443})
	obs(event.Event{Type: event.NetworkAccept, DestIP: "10.9.9.9", DestPort: 22})
	obs(event.Event{Type: event.DNSRequest})
	obs(event.Event{Type: event.ModuleLoad})
	obs(event.Event{Type: event.PrivilegeChange})
	obs(event.Event{Type: event.SensorHeartbeat})

	var st *event.Event
	for _, e := range g.Due(c.step(time.Minute)) {
		if e.Type == event.HostStats {
			st = &e
		}
	}
	if st == nil {
		t.Fatal("no HOST_STATS after a minute")
	}
	want := event.Event{CountExec: 3, NewExecutables: 2, CountFileOpen: 1, CountFileChange: 2, CountConnect: 3,
		FailedConnects: 1, DistinctDestIPs: 2, DistinctDestPorts: 2, CountAccept: 1, CountDNS: 1, CountModuleLoad: 1,
		CountPrivChange: 1, IntervalSeconds: 60}
	got := *st
	got.SensorID, got.Hostname, got.Tags, got.Type, got.TimeNanos, got.ID = "", "", nil, "", 0, ""
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("host stats\n got %+v\nwant %+v", got, want)
	}
	if st.SensorID != "i-1" || st.Type != event.HostStats || st.ID == "" {
		t.Fatalf("routing %+v", st)
	}

	// the next interval starts from zero; curl is no longer new
	obs(event.Event{Type: event.NewProcess, FilePath: "/usr/bin/curl"})
	evs := g.Due(c.step(time.Minute))
	st = nil
	for _, e := range evs {
		if e.Type == event.HostStats {
			st = &e
		}
	}
	if st == nil || st.CountExec != 1 || st.NewExecutables != 0 || st.CountConnect != 0 || st.DistinctDestIPs != 0 {
		t.Fatalf("second interval %+v", st)
	}

	// a gap (the host slept for 10 minutes): one HOST_STATS covering it
	evs = g.Due(c.step(10 * time.Minute))
	n := 0
	for _, e := range evs {
		if e.Type == event.HostStats {
			n++
			if e.IntervalSeconds != 600 {
				t.Fatalf("interval after a gap = %d", e.IntervalSeconds)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d HOST_STATS after a gap", n)
	}
	if evs := g.Due(c.step(30 * time.Second)); len(evs) != 1 || evs[0].Type != event.SensorHeartbeat {
		t.Fatalf("schedule after the gap: %+v", evs)
	}
}

func TestExecutablesBounded(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	g := New(Options{Now: c.now, MaxTracked: 2})
	for _, p := range []string{"/a", "/b", "/c", "/a"} {
		g.Observe(&event.Event{Type: event.NewProcess, FilePath: p})
	}
	if len(g.exes) > 2 {
		t.Fatalf("tracked %d executables over the bound of 2", len(g.exes))
	}
}

// TestDueConcurrent: Due called from several goroutines at once (the Generator
// is safe for concurrent use) emits each heartbeat once; run with -race.
func TestDueConcurrent(t *testing.T) {
	start := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	g := New(Options{SensorID: "i-1", HeartbeatEvery: time.Second, StatsEvery: time.Hour, Now: func() time.Time { return start }})
	const rounds, callers = 200, 4
	for r := range rounds {
		now := start.Add(time.Duration(r) * time.Second)
		var mu sync.Mutex
		beats := 0
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				for _, ev := range g.Due(now) {
					if ev.Type == event.SensorHeartbeat {
						mu.Lock()
						beats++
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		if beats != 1 {
			t.Fatalf("at %s: %d heartbeats, want 1", now, beats)
		}
	}
}
