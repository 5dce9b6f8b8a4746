package edge_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/rulesource"
	"github.com/vigil-sec/vigil/internal/task"
	"github.com/vigil-sec/vigil/internal/testenv"
	"github.com/vigil-sec/vigil/rules"
	"github.com/vigil-sec/vigil/sensor/agent"
	"github.com/vigil-sec/vigil/sensor/collector"
	"github.com/vigil-sec/vigil/sensor/config"
	"github.com/vigil-sec/vigil/sensor/edge"
	"github.com/vigil-sec/vigil/sensor/kill"
	"github.com/vigil-sec/vigil/sensor/respond"
	"github.com/vigil-sec/vigil/sensor/spool"
)

// probeRule reports every exec of a program named vigil-edge-probe, and kills
// every one named vigil-edge-victim as an edge action.
const probeRules = `
detection:
  event: NEW_PROCESS
  op: is
  path: event/FILE_NAME
  value: vigil-edge-probe
response:
  - action: report
    name: edge probe ran
    metadata: {severity: high}
`

const victimRule = `
detection:
  event: NEW_PROCESS
  op: is
  path: event/FILE_NAME
  value: vigil-edge-victim
response:
  - action: report
    name: edge victim ran
    metadata: {severity: critical}
  - action: kill
    edge: true
`

// liveRules is the pack with the probe and victim rules, loaded as
// vigil-sensor loads its rules.sources.
func liveRules(tb testing.TB) []*engine.Rule {
	tb.Helper()
	dir := tb.TempDir()
	for name, src := range map[string]string{"edge_probe.yaml": probeRules, "edge_victim.yaml": victimRule} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	set, err := rulesource.Load(rulesource.Options{Pack: rules.FS, Paths: []string{dir}})
	if err != nil {
		tb.Fatal(err)
	}
	return set.Rules
}

// program copies the executable at from into a directory of the test's own
// under the name given, and returns its path.
func program(tb testing.TB, from, name string) string {
	tb.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, data, 0o755); err != nil {
		tb.Fatal(err)
	}
	return p
}

// startSensor runs the live sensor (eBPF) with o until stop is called; stats
// returns its counters so far.
func startSensor(tb testing.TB, o agent.Options) (stats func() agent.Stats, stop func() agent.Stats) {
	tb.Helper()
	if err := collector.Supported(); err != nil {
		tb.Skipf("the sensor cannot capture here: %v", err)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.ReadDelay == 0 {
		o.ReadDelay = config.EdgeReadDelay // as vigil-sensor runs with rules.edge
	}
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan func() agent.Stats, 1)
	o.Started = func(stats func() agent.Stats) { started <- stats }
	type result struct {
		st  agent.Stats
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := agent.Run(ctx, o)
		done <- result{st, err}
	}()
	select {
	case stats = <-started:
	case r := <-done:
		cancel()
		tb.Fatalf("sensor stopped before starting: %v", r.err)
	}
	var once sync.Once
	var final agent.Stats
	stop = func() agent.Stats {
		once.Do(func() {
			cancel()
			r := <-done
			if r.err != nil {
				tb.Error(r.err)
			}
			final = r.st
		})
		return final
	}
	tb.Cleanup(func() { stop() })
	return stats, stop
}

// streamRecord is a stream record read back: an edge record or a batch.
type streamRecord struct {
	edge   *detect.EdgeRecord
	events []event.Event
}

func readStream(tb testing.TB, kc *kinesis.Client, stream string, want int) []streamRecord {
	tb.Helper()
	var out []streamRecord
	for _, r := range testenv.ReadRecords(tb, kc, stream, want) {
		if detect.IsEdgeRecord(r.Data) {
			rec, err := detect.DecodeEdgeRecord(r.Data)
			if err != nil {
				tb.Fatal(err)
			}
			out = append(out, streamRecord{edge: &rec})
			continue
		}
		evs, err := event.DecodeRecord(nil, r.Data, 0)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, streamRecord{events: evs})
	}
	return out
}

// edgeFinds returns where on the stream the edge's detection of rule on the
// exec of pid is, and where the batch with that exec is (-1 for absent).
func edgeFinds(recs []streamRecord, rule string, pid int) (detection, batch int) {
	detection, batch = -1, -1
	for i, r := range recs {
		if r.edge != nil {
			for _, d := range r.edge.Detections {
				if d.Rule == rule && d.Event.PID == uint32(pid) && detection < 0 {
					detection = i
				}
			}
			continue
		}
		for _, e := range r.events {
			if e.Type == event.NewProcess && e.PID == uint32(pid) && batch < 0 {
				batch = i
			}
		}
	}
	return detection, batch
}

// waitFor polls cond every 10 ms until it holds or the timeout passes.
func waitFor(tb testing.TB, what string, timeout time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLiveEdgeThroughOutage runs the live sensor with edge rules, shipping to
// kinesalite through a disk spool. A probe's exec is detected on the host and
// its detection is on the stream ahead of the batch with the exec. With
// kinesalite stopped, the sensor keeps detecting: a second probe's detection is
// made and spooled, and when kinesalite is back both detections are delivered in
// order, each still ahead of its exec's batch.
func TestLiveEdgeThroughOutage(t *testing.T) {
	const stream = "vigil-edge-live"
	kin, kc := testenv.OutageStream(t, stream)
	sp, err := spool.Open(t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	probe := program(t, "/bin/true", "vigil-edge-probe")
	stats, stop := startSensor(t, agent.Options{SensorID: "edge-live", Spool: sp, BatchInterval: 300 * time.Millisecond,
		Stream: &vaws.Kinesis{Client: kc, StreamName: stream, MaxAttempts: 1}, Edge: &edge.Options{Rules: liveRules(t)}})

	run := func() int {
		cmd := exec.Command(probe)
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		return cmd.Process.Pid
	}
	first := run()
	waitFor(t, "the first probe's edge record and batch on the stream", 10*time.Second, func() bool {
		d, b := edgeFinds(readStream(t, kc, stream, int(stats().Shipper.Records)), "edge_probe", first)
		return d >= 0 && b >= 0
	})

	kin.Stop()
	before := stats().Edge.Detections
	second := run()
	waitFor(t, "the second probe detected while the stream is down", 10*time.Second, func() bool {
		return stats().Edge.Detections > before
	})
	waitFor(t, "the edge record spooled", 10*time.Second, func() bool {
		st := stats().Shipper
		return st.StreamFailures > 0 && st.SpoolRecords > 0
	})
	kin.Start(t)
	waitFor(t, "the spool drained", 30*time.Second, func() bool { return stats().Shipper.SpoolRecords == 0 })
	st := stop()

	recs := readStream(t, kc, stream, int(st.Shipper.Records))
	d1, b1 := edgeFinds(recs, "edge_probe", first)
	d2, b2 := edgeFinds(recs, "edge_probe", second)
	if d1 < 0 || b1 < 0 || d2 < 0 || b2 < 0 {
		t.Fatalf("on the stream: first probe detection %d batch %d, second %d %d", d1, b1, d2, b2)
	}
	if !(d1 < b1 && d1 < d2 && d2 < b2) {
		t.Errorf("stream order: first probe detection %d, its batch %d; second %d, its batch %d; want each detection first, in order",
			d1, b1, d2, b2)
	}
	if st.Edge.Unsent != 0 || st.Drops() != 0 {
		t.Errorf("lost: %+v", st)
	}
}

// TestLiveEdgeKill: with rules.enforce, the live sensor kills a process a rule
// marks for an edge kill (a real process the test spawns) on its own, through
// sensor/respond's kill with its checks, and reports the kill as a finished
// task on the stream, after the detection.
func TestLiveEdgeKill(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the sensor's eBPF and the kill")
	}
	kc := kinesis.NewFromConfig(testenv.AWSConfig(t, testenv.Kinesis(t)))
	const stream = "vigil-edge-kill"
	testenv.CreateStream(t, kc, stream)
	runner := &respond.Runner{SensorID: "edge-kill", StatePath: filepath.Join(t.TempDir(), "respond.json"),
		Isolation: respond.Isolation{Disabled: true}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	victim := program(t, "/bin/sleep", "vigil-edge-victim")
	_, stop := startSensor(t, agent.Options{SensorID: "edge-kill", BatchInterval: 300 * time.Millisecond,
		Stream: &vaws.Kinesis{Client: kc, StreamName: stream},
		Edge:   &edge.Options{Rules: liveRules(t), Enforce: true, Executor: runner}})

	cmd := exec.Command(victim, "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { ended <- cmd.Wait() }()
	select {
	case <-ended:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-ended
		t.Fatal("the victim was not killed")
	}
	if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the victim ended %v, want killed by SIGKILL", cmd.ProcessState)
	}
	st := stop()
	if st.Edge.Actions != 1 || st.Edge.ActionsFailed != 0 {
		t.Errorf("edge stats %+v", st.Edge)
	}

	recs := readStream(t, kc, stream, int(st.Shipper.Records))
	d, _ := edgeFinds(recs, "edge_victim", cmd.Process.Pid)
	var kt *task.Task
	at := -1
	for i, r := range recs {
		if r.edge == nil {
			continue
		}
		for j := range r.edge.Tasks {
			if tk := &r.edge.Tasks[j]; tk.Action == "kill" && tk.Args["pid"] == strconv.Itoa(cmd.Process.Pid) {
				kt, at = tk, i
			}
		}
	}
	if d < 0 || kt == nil || at < d {
		t.Fatalf("detection at %d, kill task at %d: want both, the detection first", d, at)
	}
	var res struct {
		Procs []kill.Proc
	}
	if kt.Status != task.Done || json.Unmarshal([]byte(kt.Result), &res) != nil || len(res.Procs) != 1 ||
		res.Procs[0].Exit != "killed by SIGKILL" || kt.RequestedBy != "edge" {
		t.Errorf("kill task %+v", kt)
	}
}

// TestLiveRuleUpdate: a rule set sent to the running sensor replaces the one it
// evaluates from the next event on, while it keeps capturing: the probe's exec
// before the update is not detected (its rule is not in the first set), the
// one after is, and every exec of the probe, before and after, is on the
// stream with nothing dropped.
func TestLiveRuleUpdate(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the sensor's eBPF")
	}
	kc := kinesis.NewFromConfig(testenv.AWSConfig(t, testenv.Kinesis(t)))
	const stream = "vigil-edge-update"
	testenv.CreateStream(t, kc, stream)
	// the first set holds only the victim's rule (no victim runs), so that a
	// detection says the second set is in place whatever else runs on the host
	var first []*engine.Rule
	for _, r := range liveRules(t) {
		if r.Name == "edge_victim" {
			first = append(first, r)
		}
	}
	updates := make(chan []*engine.Rule)
	probe := program(t, "/bin/true", "vigil-edge-probe")
	stats, stop := startSensor(t, agent.Options{SensorID: "edge-update", BatchInterval: 200 * time.Millisecond,
		Stream: &vaws.Kinesis{Client: kc, StreamName: stream},
		Edge:   &edge.Options{Rules: first, Updates: updates}})
	run := func() int {
		cmd := exec.Command(probe)
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		return cmd.Process.Pid
	}
	var before []int
	for range 5 {
		before = append(before, run())
	}
	updates <- liveRules(t)
	// the update is applied by the evaluator's goroutine: a detection of the
	// probe says it is; every probe after that is detected
	var after []int
	waitFor(t, "a probe detected under the new rule set", 10*time.Second, func() bool {
		after = append(after, run())
		return stats().Edge.Detections > 0
	})
	after = append(after, run())
	st := stop()
	recs := readStream(t, kc, stream, int(st.Shipper.Records))
	for _, pid := range before {
		if d, b := edgeFinds(recs, "edge_probe", pid); d >= 0 || b < 0 {
			t.Errorf("probe %d before the update: detection at %d (want none), batch at %d", pid, d, b)
		}
	}
	last := after[len(after)-1]
	if d, b := edgeFinds(recs, "edge_probe", last); d < 0 || b < 0 {
		t.Errorf("probe %d after the update: detection at %d, batch at %d; want both", last, d, b)
	}
	for _, pid := range after {
		if _, b := edgeFinds(recs, "edge_probe", pid); b < 0 {
			t.Errorf("probe %d is not on the stream", pid)
		}
	}
	if st.Drops() != 0 {
		t.Errorf("dropped events across the update: %+v", st)
	}
	if t.Failed() {
		t.Logf("at the stop: collector %+v; shipper %+v; edge %+v", st.Collector, st.Shipper, st.Edge)
	}
}
