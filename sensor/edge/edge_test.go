package edge

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/explain"
	"github.com/vigil-sec/vigil/internal/rulesource"
	"github.com/vigil-sec/vigil/internal/task"
	"github.com/vigil-sec/vigil/rules"
)

// records keeps the edge records the evaluator sends, decoded.
type records struct {
	t    testing.TB
	mu   sync.Mutex
	recs []detect.EdgeRecord
}

func (r *records) Send(data []byte) {
	rec, err := detect.DecodeEdgeRecord(data)
	if err != nil {
		r.t.Errorf("the evaluator sent an undecodable record: %v", err)
	}
	r.mu.Lock()
	r.recs = append(r.recs, rec)
	r.mu.Unlock()
}

func (r *records) all() (ds []detect.Detection, ts []task.Task, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.recs {
		ds = append(ds, rec.Detections...)
		ts = append(ts, rec.Tasks...)
	}
	return ds, ts, len(r.recs)
}

// site rules besides the pack: one kept in the cloud, one with an edge kill, a
// with child rule.
var siteRules = map[string]string{
	"miner_killed": `
detection:
  event: NEW_PROCESS
  op: is
  path: event/FILE_NAME
  value: edge-test-agent
response:
  - action: report
    name: miner
    metadata: {severity: critical}
  - action: kill
    edge: true
    descendants: true
`,
	"fleet_wide_curl": `
detection:
  event: NEW_PROCESS
  op: is
  path: event/FILE_NAME
  value: curl
  count: 2
  within: 1h
  group by: [event/FILE_PATH]
response:
  - action: report
    name: curl across the fleet
`,
	"nginx_runs_id": `
detection:
  event: NEW_PROCESS
  op: is
  path: event/FILE_NAME
  value: nginx
  with child:
    op: is
    path: event/FILE_NAME
    value: id
response:
  - action: report
    name: web server runs id
`,
}

// ruleSet is the pack with the site rules, loaded as the sensor loads it.
func ruleSet(t testing.TB) []*engine.Rule {
	t.Helper()
	dir := t.TempDir()
	for name, src := range siteRules {
		writeFile(t, dir, name+".yaml", src)
	}
	set, err := rulesource.Load(rulesource.Options{Pack: rules.FS, Paths: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	return set.Rules
}

func newEvaluator(t testing.TB, o Options) (*Evaluator, *records) {
	t.Helper()
	sink := &records{t: t}
	if o.Rules == nil {
		o.Rules = ruleSet(t)
	}
	o.Sink, o.SensorID = sink, "s-1"
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e, sink
}

var seq int

func proc(pid, ppid uint32, path, cmd string) event.Event {
	seq++
	at := time.Now()
	return event.Event{SensorID: "s-1", Hostname: "web-1", Type: event.NewProcess, TimeNanos: at.UnixNano(),
		ID: fmt.Sprintf("ev-%d", seq), PID: pid, PPID: ppid, User: "root", FilePath: path, CommandLine: cmd}
}

// TestObserve: the edge finds what the backend's evaluation of the same
// events finds, with the same ids, except the rules kept in the cloud.
func TestObserve(t *testing.T) {
	tests := []struct {
		name   string
		events []event.Event
		want   []string // rules of the detections, in order
	}{
		{"nothing", []event.Event{proc(10, 1, "/usr/bin/ls", "ls")}, nil},
		{"stateless pack rule", []event.Event{proc(11, 1, "/usr/bin/docker", "docker run --privileged alpine")},
			[]string{"privileged_docker_container"}},
		{"site rule", []event.Event{proc(12, 1, "/opt/x/edge-test-agent", "edge-test-agent -o pool")}, []string{"miner_killed"}},
		{"with child", []event.Event{proc(13, 1, "/usr/sbin/nginx", "nginx"), proc(14, 13, "/usr/bin/id", "id")},
			[]string{"nginx_runs_id"}},
		{"cloud only", []event.Event{proc(15, 1, "/usr/bin/curl", "curl x"), proc(16, 1, "/usr/bin/curl", "curl y")}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, sink := newEvaluator(t, Options{})
			for i := range tc.events {
				e.Observe(&tc.events[i])
			}
			e.Close()
			ds, _, _ := sink.all()
			var got, explained []string
			for _, d := range ds {
				got = append(got, d.Rule)
				if !d.Edge || d.ID != detect.DetectionID(d.Rule, d.Event.ID) {
					t.Errorf("detection %s of %s on %s: not the backend's", d.ID, d.Rule, d.Event.ID)
				}
				if d.Explanation == nil || !d.Explanation.Matched {
					t.Fatalf("detection of %s: explanation %+v, want one that matched", d.Rule, d.Explanation)
				}
				explained = append(explained, explain.Text(d.Explanation))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("detections %v, want %v", got, tc.want)
			}
			// the backend's detector finds the same, and the cloud-only rule too
			backend, err := engine.New(ruleSet(t))
			if err != nil {
				t.Fatal(err)
			}
			var cloud, cloudExplained []string
			for _, d := range detect.NewDetector(backend).Evaluate(nil, tc.events) {
				if d.Rule != "fleet_wide_curl" {
					cloud = append(cloud, d.Rule)
					cloudExplained = append(cloudExplained, explain.Text(d.Explanation))
				}
			}
			if fmt.Sprint(cloud) != fmt.Sprint(tc.want) {
				t.Errorf("the backend finds %v, the edge %v", cloud, got)
			}
			// and explains them alike, the parent of with child included
			if fmt.Sprint(cloudExplained) != fmt.Sprint(explained) {
				t.Errorf("the backend explains\n%v\nthe edge\n%v", cloudExplained, explained)
			}
			if tc.name == "with child" && (len(ds) != 1 || len(ds[0].Explanation.Earlier) != 1 || ds[0].Explanation.Earlier[0].ID != tc.events[0].ID) {
				t.Errorf("with child: the explanation does not name the parent %s", tc.events[0].ID)
			}
			if st := e.Stats(); st.Events != uint64(len(tc.events)) || st.Detections != uint64(len(tc.want)) {
				t.Errorf("stats %+v", st)
			}
		})
	}
	e, _ := newEvaluator(t, Options{})
	if !strings.Contains(strings.Join(e.CloudOnly(), " "), "fleet_wide_curl") {
		t.Errorf("cloud-only rules %v lack fleet_wide_curl", e.CloudOnly())
	}
}

// TestRecordsAreMinGapApart: the first detection is sent at once, within
// Observe; those that follow within MinGap share the next record.
func TestRecordsAreMinGapApart(t *testing.T) {
	e, sink := newEvaluator(t, Options{})
	miner := func() *event.Event { ev := proc(20, 1, "/opt/x/edge-test-agent", "edge-test-agent"); return &ev }
	e.Observe(miner())
	if _, _, n := sink.all(); n != 1 {
		t.Fatalf("%d records after the first detection, want it sent at once", n)
	}
	e.Observe(miner())
	e.Observe(miner())
	if _, _, n := sink.all(); n != 1 {
		t.Fatalf("%d records within MinGap, want the others held", n)
	}
	time.Sleep(5 * MinGap)
	ds, _, n := sink.all()
	if n != 2 || len(ds) != 3 {
		t.Fatalf("%d records of %d detections after MinGap, want 2 of 3", n, len(ds))
	}
}

// TestPendingIsBounded: beyond MaxPending, detections are counted unsent.
func TestPendingIsBounded(t *testing.T) {
	e, sink := newEvaluator(t, Options{MaxPending: 2})
	for range 5 {
		ev := proc(21, 1, "/usr/bin/docker", "docker run --privileged alpine")
		e.Observe(&ev)
	}
	e.Close()
	ds, _, _ := sink.all()
	if st := e.Stats(); len(ds) != 3 || st.Unsent != 2 || st.Detections != 5 {
		t.Fatalf("sent %d detections, stats %+v; want 3 sent (one at once, two pending) and 2 unsent", len(ds), st)
	}
}

// TestEdgeActionDryRun: without Enforce an edge kill is a dry run, sent as a
// finished task with the workflow's id and arguments; a kill of an event
// without a process fails.
func TestEdgeActionDryRun(t *testing.T) {
	e, sink := newEvaluator(t, Options{})
	miner := proc(4242, 1, "/opt/x/edge-test-agent", "edge-test-agent")
	e.Observe(&miner)
	e.Close()
	ds, ts, _ := sink.all()
	if len(ds) != 1 || fmt.Sprint(ds[0].EdgeActions) != "[kill]" {
		t.Fatalf("detections %+v", ds)
	}
	if len(ts) != 1 {
		t.Fatalf("tasks %+v", ts)
	}
	tk := ts[0]
	if tk.ID != detect.EdgeTaskID(ds[0].ID, "kill") || tk.Status != task.Done || tk.SensorID != "s-1" ||
		tk.Result != "dry run: would kill pid 4242 (/opt/x/edge-test-agent) and its descendants" ||
		tk.Args["pid"] != "4242" || tk.Args["event_time"] != fmt.Sprint(miner.TimeNanos) || tk.Args["tree"] != "true" {
		t.Errorf("task %+v", tk)
	}
	if err := tk.Validate(); err != nil {
		t.Error(err)
	}
	if st := e.Stats(); st.DryRuns != 1 || st.Actions != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestEnforceNeedsExecutor(t *testing.T) {
	if _, err := New(Options{Enforce: true}); err == nil || !strings.Contains(err.Error(), "executor") {
		t.Fatalf("err = %v", err)
	}
}

// TestStateBytesPerEntry measures what a marker costs the edge's state with
// the pack's key shapes (with child markers of a rule by sensor and pid), for
// the bound the package documentation quotes.
func TestStateBytesPerEntry(t *testing.T) {
	const n = 1 << 16
	st := engine.NewBoundedMemoryState(n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	now := time.Now()
	for i := range n {
		key := fmt.Sprintf("m\x00web_server_spawns_shell_child\x00i-0123456789abcdef0\x00%d", 100000+i)
		st.Mark(t.Context(), key, now, time.Hour)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.0f bytes per state entry, %.1f MB at %d entries", per, per*n/1e6, n)
	if per > 200 {
		t.Errorf("%.0f bytes per state entry: the documented bound (about 120, some 8 MB at DefaultMaxState) is wrong", per)
	}
	runtime.KeepAlive(st)
}

// TestStateBytesPerKeptEvent measures what the event a with child marker keeps
// for explanations costs the edge's state (an entry of its own beside the
// marker), for the bound the package documentation quotes.
func TestStateBytesPerKeptEvent(t *testing.T) {
	const n = 1 << 14
	st := engine.NewBoundedMemoryState(2 * n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	now := time.Now()
	for i := range n {
		key := fmt.Sprintf("m\x00web_server_spawns_shell_child\x00i-0123456789abcdef0\x00%d", 100000+i)
		ref := explain.EventRef{ID: fmt.Sprintf("01KAQ00000000000000%07d", i), Time: now, Type: "NEW_PROCESS", Fields: map[string]any{
			"event/FILE_PATH": "/usr/sbin/nginx", "event/COMMAND_LINE": fmt.Sprintf("nginx: worker process %d", i),
			"event/PROCESS_ID": int64(100000 + i), "event/PARENT_PROCESS_ID": int64(1), "event/PARENT/FILE_PATH": "/usr/lib/systemd/systemd"}}
		st.Mark(t.Context(), key, now, time.Hour)
		st.SetEvents(t.Context(), key, []explain.EventRef{ref}, now, time.Hour)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.0f bytes per marked process (marker and kept event)", per)
	if per > 1200 {
		t.Errorf("%.0f bytes per marked process: the documented bound (about 800) is wrong", per)
	}
	runtime.KeepAlive(st)
}

func writeFile(t testing.TB, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSetRules: a new rule set applies from the next event; one that does not
// compile leaves the current set in place.
func TestSetRules(t *testing.T) {
	pack, err := rulesource.Load(rulesource.Options{Pack: rules.FS})
	if err != nil {
		t.Fatal(err)
	}
	updates := make(chan []*engine.Rule)
	e, sink := newEvaluator(t, Options{Rules: pack.Rules, Updates: updates})
	miner := func() *event.Event { ev := proc(30, 1, "/opt/x/edge-test-agent", "edge-test-agent"); return &ev }
	e.Observe(miner())
	updates <- ruleSet(t)
	waitRules := time.Now().Add(5 * time.Second)
	for !slices.ContainsFunc(e.Rules(), func(r *engine.Rule) bool { return r.Name == "miner_killed" }) {
		if time.Now().After(waitRules) {
			t.Fatal("the update was not applied")
		}
		time.Sleep(time.Millisecond)
	}
	e.Observe(miner())
	dup := append(ruleSet(t), pack.Rules[0])
	if err := e.SetRules(dup); err == nil {
		t.Fatal("a set with a rule twice compiled")
	}
	e.Observe(miner()) // still the second set
	e.Close()
	ds, _, _ := sink.all()
	if len(ds) != 2 || ds[0].Rule != "miner_killed" || ds[1].Rule != "miner_killed" {
		t.Fatalf("detections %v, want miner_killed after the update only, twice", ds)
	}
}
