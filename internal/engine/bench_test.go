package engine

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// packEngine loads the shipped rule pack (whatever it holds at the time).
func packEngine(tb testing.TB) *Engine {
	tb.Helper()
	rs, err := Load(os.DirFS("../../rules"), ".")
	if err != nil {
		tb.Fatal(err)
	}
	eng, err := New(rs)
	if err != nil {
		tb.Fatal(err)
	}
	return eng
}

// benignMix is a realistic mix of event types on a busy Linux host, none of which
// should fire a rule: mostly file opens and process starts, then network, DNS and
// the rest.
func benignMix() []event.Event {
	r := func(typ event.Type) event.Event {
		return event.Event{SensorID: "i-0abc", Hostname: "web-1", Tags: []string{"env:prod", "role:web"},
			Type: typ, TimeNanos: 1763800000000000000, ID: "01KAQ0000000000000000000AA",
			PID: 4242, PPID: 4100, UID: 33, GID: 33, User: "www-data"}
	}
	var mix []event.Event
	add := func(n int, e event.Event) {
		for i := 0; i < n; i++ {
			mix = append(mix, e)
		}
	}
	e := r(event.FileOpen)
	e.FilePath, e.CommandLine, e.ParentFilePath = "/usr/sbin/nginx", "nginx: worker process", "/usr/sbin/nginx"
	e.TargetPath, e.FileFlags = "/var/www/html/index.html", "read"
	add(20, e)
	e.TargetPath, e.FileFlags = "/var/log/nginx/access.log", "write"
	add(10, e)
	e = r(event.FileOpen)
	e.FilePath, e.CommandLine, e.User, e.UID = "/usr/bin/python3", "python3 /opt/app/worker.py", "app", 1000
	e.TargetPath, e.FileFlags = "/opt/app/data/cache.db", "read,write"
	add(10, e)
	e = r(event.NewProcess)
	e.FilePath, e.CommandLine, e.ParentFilePath, e.ParentCommandLine = "/usr/bin/git", "git status --porcelain", "/usr/bin/make", "make build"
	e.User, e.UID = "ci", 1001
	add(8, e)
	e.FilePath, e.CommandLine = "/usr/bin/ls", "ls -la /home/ci"
	add(4, e)
	e.FilePath, e.CommandLine, e.ParentFilePath = "/usr/lib/systemd/systemd-tmpfiles", "systemd-tmpfiles --clean", "/usr/lib/systemd/systemd"
	e.User, e.UID = "root", 0
	add(3, e)
	e = r(event.TerminateProcess)
	e.FilePath, e.ExitCode = "/usr/bin/git", 0
	add(12, e)
	e = r(event.NetworkConnect)
	e.FilePath, e.CommandLine = "/usr/bin/python3", "python3 /opt/app/worker.py"
	e.Protocol, e.SourceIP, e.SourcePort, e.DestIP, e.DestPort = "tcp", "10.0.1.15", 43210, "10.0.2.20", 5432
	add(8, e)
	e.DestIP, e.DestPort = "52.94.236.248", 443
	add(4, e)
	e = r(event.NetworkAccept)
	e.FilePath = "/usr/sbin/nginx"
	e.Protocol, e.SourceIP, e.SourcePort, e.DestIP, e.DestPort = "tcp", "10.0.1.15", 443, "203.0.113.9", 51515
	add(6, e)
	e = r(event.DNSRequest)
	e.FilePath, e.DomainName, e.DNSType = "/usr/bin/python3", "db.internal.example.com", "A"
	add(5, e)
	e = r(event.FileDelete)
	e.FilePath, e.TargetPath = "/usr/bin/python3", "/tmp/tmpa8d7f.json"
	add(2, e)
	e = r(event.FileRename)
	e.FilePath, e.TargetPath, e.OldTargetPath = "/usr/bin/python3", "/opt/app/data/cache.db", "/opt/app/data/cache.db-journal"
	add(1, e)
	e = r(event.FileChmod)
	e.FilePath, e.TargetPath, e.FileMode = "/usr/bin/python3", "/opt/app/run.sh", 0o755
	add(1, e)
	e = r(event.ModuleLoad)
	e.FilePath, e.ModuleName = "/usr/sbin/modprobe", "nf_conntrack"
	add(1, e)
	e = r(event.PrivilegeChange)
	e.FilePath, e.User, e.UID, e.NewUID, e.NewGID, e.Operation = "/usr/sbin/nginx", "root", 0, 33, 33, "setuid"
	add(1, e)
	e = r(event.HostStats)
	e.IntervalSeconds, e.CountExec, e.CountFileOpen = 60, 120, 40000
	add(1, e)
	e = r(event.SensorHeartbeat)
	e.SensorVersion, e.UptimeSeconds = "0.4.0", 86400
	add(1, e)
	// process ids differ so that stateful rules see new processes
	for i := range mix {
		mix[i].PID += uint32(i)
	}
	return mix
}

// TestNoAllocsOnNoMatch proves that an event matching nothing costs no allocation,
// for Eval and for Process with a memory state, across the whole pack.
func TestNoAllocsOnNoMatch(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool allocate; allocations are checked without -race")
	}
	eng := packEngine(t)
	mix := benignMix()
	st := NewMemoryState()
	ctx := context.Background()
	now := fixtureEpoch
	for i := range mix {
		if got := eng.Eval(&mix[i], nil); len(got) != 0 {
			t.Fatalf("benign event %d (%s %s) matches %s", i, mix[i].Type, mix[i].FilePath, got[0].Name)
		}
		if ms, err := eng.Process(ctx, &mix[i], st, now, nil); err != nil || len(ms) != 0 {
			t.Fatalf("benign event %d (%s %s): Process = %d matches, %v", i, mix[i].Type, mix[i].FilePath, len(ms), err)
		}
	}
	rules := make([]*Rule, 0, 8)
	if a := testing.AllocsPerRun(100, func() {
		for i := range mix {
			rules = eng.Eval(&mix[i], rules[:0])
		}
	}); a != 0 {
		t.Errorf("Eval: %v allocations per run of %d events, want 0", a, len(mix))
	}
	ms := make([]Match, 0, 8)
	if a := testing.AllocsPerRun(100, func() {
		for i := range mix {
			ms, _ = eng.Process(ctx, &mix[i], st, now, ms[:0])
		}
	}); a != 0 {
		t.Errorf("Process: %v allocations per run of %d events, want 0", a, len(mix))
	}
}

// BenchmarkEvalPack evaluates a realistic mix of event types against the whole
// shipped pack through Process (stateful rules included, memory state) and reports
// events/s; the goal is ≥ 2 M events/s per core.
func BenchmarkEvalPack(b *testing.B) {
	eng := packEngine(b)
	mix := benignMix()
	st := NewMemoryState()
	ctx := context.Background()
	now := time.Now()
	ms := make([]Match, 0, 8)
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	n := 0
	for b.Loop() {
		ms, _ = eng.Process(ctx, &mix[n%len(mix)], st, now, ms[:0])
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	if cpu := threadCPU() - cpu0; cpu > 0 {
		// the same per second of CPU the evaluating thread got: stable on a busy machine
		b.ReportMetric(float64(n)/cpu.Seconds(), "events/cpu-s")
	}
}

// BenchmarkEvalPackStateless is BenchmarkEvalPack through Eval (stateless rules
// only).
func BenchmarkEvalPackStateless(b *testing.B) {
	eng := packEngine(b)
	mix := benignMix()
	dst := make([]*Rule, 0, 8)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		dst = eng.Eval(&mix[n%len(mix)], dst[:0])
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkProcessMatch is the cost of a detection: a rule with a report fires.
func BenchmarkProcessMatch(b *testing.B) {
	eng := engineOf(b, map[string]string{"shell": detRule(event.NewProcess, "  macro: is_shell")})
	ev := exec("s1", 10, 1, "/bin/sh")
	st := NewMemoryState()
	ms := make([]Match, 0, 8)
	b.ReportAllocs()
	for b.Loop() {
		ms, _ = eng.Process(context.Background(), &ev, st, fixtureEpoch, ms[:0])
	}
}

// BenchmarkDescendantPropagation is a process start under a with descendant rule:
// one marker lookup per rule on the no-match path.
func BenchmarkDescendantPropagation(b *testing.B) {
	eng := engineOf(b, map[string]string{"d": webDescendant})
	ev := exec("s1", 10, 1, "/usr/bin/git")
	st := NewMemoryState()
	ms := make([]Match, 0, 8)
	b.ReportAllocs()
	for b.Loop() {
		ms, _ = eng.Process(context.Background(), &ev, st, fixtureEpoch, ms[:0])
	}
}
