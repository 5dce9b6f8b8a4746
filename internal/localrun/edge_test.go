package localrun

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/internal/task"
	"github.com/vigil-sec/vigil/sensor/collector"
)

// edgeRules are rules on the execs of programs the tests copy and name:
// local_probe is evaluated at the edge; local_cloud counts across hosts, so it
// is left to the batch's evaluation (engine.Rule.Edge); local_victim kills its
// process as an edge action.
var edgeRules = map[string]string{
	"local_probe.yaml": `
detection:
  event: NEW_PROCESS
  op: is
  path: event/FILE_NAME
  value: vigil-local-probe
response:
  - action: report
    name: local probe ran
    metadata: {severity: high}
`,
	"local_cloud.yaml": `
detection:
  event: NEW_PROCESS
  op: is
  path: event/FILE_NAME
  value: vigil-local-cloud
  count: 1
  within: 60s
  group by: [event/FILE_NAME]
response:
  - action: report
    name: local cloud-only rule
    metadata: {severity: low}
`,
	"local_victim.yaml": `
detection:
  event: NEW_PROCESS
  op: is
  path: event/FILE_NAME
  value: vigil-local-victim
response:
  - action: report
    name: local victim ran
    metadata: {severity: critical}
  - action: kill
    edge: true
`,
}

// edgeOptions are the options of a live run over the pack and edgeRules, in
// t's temporary directory, detections as JSON lines.
func edgeOptions(t testing.TB) Options {
	t.Helper()
	if err := collector.Supported(); err != nil {
		t.Skipf("the sensor cannot run here: %v", err)
	}
	dir := t.TempDir()
	rulesDir := filepath.Join(dir, "rules")
	if err := os.Mkdir(rulesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range edgeRules {
		if err := os.WriteFile(filepath.Join(rulesDir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return Options{JSON: true, Lake: filepath.Join(dir, "lake"), Data: filepath.Join(dir, "data"), Listen: "",
		SensorID: "edge-sensor", BatchInterval: 200 * time.Millisecond, LoadRules: packRules(false, rulesDir)}
}

// program copies the executable at from into a directory of its own under the
// name name.
func program(t testing.TB, from, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	copyFile(t, from, p)
	return p
}

// linesOf returns the JSON lines of out of rule on the process pid.
func linesOf(t *testing.T, out, rule string, pid int) []map[string]any {
	t.Helper()
	var found []map[string]any
	for _, x := range jsonLines(t, out) {
		if x["rule"] == rule && x["event"].(map[string]any)["event"].(map[string]any)["PROCESS_ID"] == float64(pid) {
			found = append(found, x)
		}
	}
	return found
}

// storedOf returns the stored detections of rule.
func storedOf(t *testing.T, st *local.Store, rule string) []map[string]any {
	t.Helper()
	docs, _, err := st.List(ctx, api.DetectionQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var found []map[string]any
	for _, raw := range docs {
		var x map[string]any
		if err := json.Unmarshal(raw, &x); err != nil {
			t.Fatal(err)
		}
		if x["rule"] == rule {
			found = append(found, x)
		}
	}
	return found
}

// TestLiveEdge: vigil local's sensor evaluates the rules at the edge. A real
// exec matching an edge rule makes one detection, marked edge, printed once and
// stored once though the batch carrying the exec is evaluated too; a rule left
// to the cloud fires from the batch's evaluation; an edge kill without
// --enforce is a dry run recorded as the edge's task, the process left alive.
func TestLiveEdge(t *testing.T) {
	o := edgeOptions(t)
	stdout, stderr, stop := startRun(t, o, "vigil local running")
	if !strings.Contains(stderr.String(), "msg=\"edge rules\"") {
		t.Fatalf("no edge rules at start:\n%s", stderr.String())
	}

	probe := exec.Command(program(t, "/bin/true", "vigil-local-probe"))
	if err := probe.Run(); err != nil {
		t.Fatal(err)
	}
	cloud := exec.Command(program(t, "/bin/true", "vigil-local-cloud"))
	if err := cloud.Run(); err != nil {
		t.Fatal(err)
	}
	victim := exec.Command(program(t, "/bin/sleep", "vigil-local-victim"), "60")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = victim.Process.Kill(); _ = victim.Wait() }()
	for _, w := range []struct {
		rule string
		pid  int
	}{{"local_probe", probe.Process.Pid}, {"local_cloud", cloud.Process.Pid}, {"local_victim", victim.Process.Pid}} {
		waitFor(t, w.rule+"'s detection", func() bool { return len(linesOf(t, stdout.String(), w.rule, w.pid)) > 0 }, stderr)
	}
	// the batches carrying the execs are evaluated by the time the run ends
	if err := stop(); err != nil {
		t.Fatalf("Run: %v\n%s", err, stderr.String())
	}

	st := storeOf(t, o.Data)
	for _, tc := range []struct {
		rule        string
		pid         int
		edge        bool
		edgeActions []any
	}{
		{"local_probe", probe.Process.Pid, true, nil},
		{"local_cloud", cloud.Process.Pid, false, nil},
		{"local_victim", victim.Process.Pid, true, []any{"kill"}},
	} {
		lines := linesOf(t, stdout.String(), tc.rule, tc.pid)
		stored := storedOf(t, st, tc.rule)
		if len(lines) != 1 || len(stored) != 1 {
			t.Errorf("%s: %d lines on stdout, %d stored, want one each:\n%s", tc.rule, len(lines), len(stored), stdout.String())
			continue
		}
		d := lines[0]
		if edge, _ := d["edge"].(bool); edge != tc.edge || stored[0]["edge"] != d["edge"] || stored[0]["id"] != d["id"] {
			t.Errorf("%s: printed %v, stored %v: want edge %v", tc.rule, d, stored[0], tc.edge)
		}
		if ev := d["event"].(map[string]any); d["id"] != detect.DetectionID(tc.rule, ev["routing"].(map[string]any)["event_id"].(string)) {
			t.Errorf("%s: id %v is not DetectionID(rule, event id)", tc.rule, d["id"])
		}
		if acts, _ := d["edge_actions"].([]any); len(acts) != len(tc.edgeActions) || (len(acts) > 0 && acts[0] != tc.edgeActions[0]) {
			t.Errorf("%s: edge_actions %v, want %v", tc.rule, d["edge_actions"], tc.edgeActions)
		}
	}

	if err := victim.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("the victim of a dry-run kill is gone: %v", err)
	}
	tasks, err := st.TaskStore().ForSensor(ctx, o.SensorID, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := "dry run: would kill pid " + strconv.Itoa(victim.Process.Pid) + " (" + victim.Path + ")"
	if len(tasks) != 1 || tasks[0].Action != "kill" || tasks[0].Status != task.Done || tasks[0].Result != want ||
		tasks[0].RequestedBy != "edge (dry run)" {
		t.Errorf("tasks %+v, want the edge's dry-run kill: %s", tasks, want)
	}
	if strings.Contains(stderr.String(), "response (dry run, --enforce to act)") {
		t.Errorf("the local responder ran the edge action too:\n%s", stderr.String())
	}
}

// TestLiveEdgeKill: with --enforce the sensor kills a process an edge kill
// names (a real process the test spawns) once, its task is stored as the
// edge's, and the local responder neither creates nor runs it again.
func TestLiveEdgeKill(t *testing.T) {
	o := edgeOptions(t)
	o.Enforce = true
	stdout, stderr, stop := startRun(t, o, "vigil local running")

	victim := exec.Command(program(t, "/bin/sleep", "vigil-local-victim"), "60")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { ended <- victim.Wait() }()
	select {
	case <-ended:
	case <-time.After(20 * time.Second):
		_ = victim.Process.Kill()
		<-ended
		t.Fatalf("the victim was not killed:\n%s", stderr.String())
	}
	if ws := victim.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the victim ended %v, want killed by SIGKILL", victim.ProcessState)
	}
	pid := victim.Process.Pid
	waitFor(t, "the detection", func() bool { return len(linesOf(t, stdout.String(), "local_victim", pid)) > 0 }, stderr)
	// the store's task runner polls every 2 s: give it a turn before stopping
	time.Sleep(3 * time.Second)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v\n%s", err, stderr.String())
	}

	lines := linesOf(t, stdout.String(), "local_victim", pid)
	if len(lines) != 1 || lines[0]["edge"] != true {
		t.Fatalf("detections %v, want one, marked edge", lines)
	}
	id := lines[0]["id"].(string)
	tasks, err := storeOf(t, o.Data).TaskStore().ForSensor(ctx, o.SensorID, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 1 {
		t.Fatalf("tasks %+v, want the edge's kill alone", tasks)
	}
	var res struct {
		Procs []struct{ PID int }
	}
	kt := tasks[0]
	if kt.ID != detect.EdgeTaskID(id, "kill") || kt.Status != task.Done || kt.RequestedBy != "edge" ||
		json.Unmarshal([]byte(kt.Result), &res) != nil || len(res.Procs) != 1 || res.Procs[0].PID != pid {
		t.Errorf("kill task %+v", kt)
	}
	log := stderr.String()
	if n := strings.Count(log, "msg=task task="+kt.ID); n != 1 {
		t.Errorf("the kill task ran %d times, want once:\n%s", n, log)
	}
	if strings.Contains(log, "response: task created for the sensor") {
		t.Errorf("the local responder made a task of the edge action:\n%s", log)
	}
}
