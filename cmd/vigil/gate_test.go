package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/cadence"
	"github.com/vigil-sec/vigil/internal/client"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/internal/task"
	"github.com/vigil-sec/vigil/sensor/kill"
	srespond "github.com/vigil-sec/vigil/sensor/respond"
)

func TestDetectionsList(t *testing.T) {
	e := newAPIEnv(t)
	now := time.Now()
	e.detect(t, "s1", "low", now.Add(-3*time.Minute), "deployment:d1")
	hi := e.detect(t, "s1", "high", now.Add(-2*time.Minute), "deployment:d1")
	e.detect(t, "s2", "critical", now.Add(-time.Minute), "deployment:d2")
	e.detect(t, "s1", "critical", now.Add(-48*time.Hour), "deployment:d1")
	out, stderr, code := e.run(t, "detections", "list", "--tag", "deployment:d1", "--severity", "medium", "--json")
	var ds []client.Detection
	if code != 0 || json.Unmarshal([]byte(out), &ds) != nil || len(ds) != 1 || ds[0].ID != hi {
		t.Fatalf("code %d: %d detections %v %s", code, len(ds), ds, stderr)
	}
	out, _, code = e.run(t, "detections", "list", "--since", "1h")
	if code != 0 || strings.Count(out, "\n") != 4 || !strings.HasPrefix(out, "TIME") {
		t.Fatalf("table: code %d\n%s", code, out)
	}
	if _, stderr, code := e.run(t, "detections", "list", "--severity", "urgent"); code != 2 || !strings.Contains(stderr, "want one of info, low") {
		t.Fatalf("bad severity: %d %s", code, stderr)
	}
	if _, stderr, code := e.run(t, "detections", "list", "--since", "yesterday"); code != 2 || !strings.Contains(stderr, "want a duration") {
		t.Fatalf("bad since: %d %s", code, stderr)
	}
}

func TestCompliance(t *testing.T) {
	e := newAPIEnv(t)
	now := time.Now()
	e.heartbeat(t, "s1", "1.2.0", now, "env:production")
	e.heartbeat(t, "s2", "1.2.0", now.Add(-time.Hour), "env:production")
	e.heartbeat(t, "s3", "1.2.0", now.Add(-time.Hour), "env:staging")
	rules := rulesFile(t, "miner\n")
	out, stderr, code := e.run(t, "compliance", "--tag", "env:production", "--require-rules", rules, "--output", "junit")
	if code != 1 || !strings.Contains(stderr, "1 of 4 checks failed") {
		t.Fatalf("code %d\n%s\n%s", code, out, stderr)
	}
	var doc junitSuites
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JUnit XML: %v\n%s", err, out)
	}
	s := doc.Suites[0]
	if doc.Tests != 4 || doc.Failures != 1 || s.Tests != 4 || s.Failures != 1 {
		t.Fatalf("counts: %+v", doc)
	}
	var failed []string
	for _, c := range s.Cases {
		if c.Failure != nil {
			failed = append(failed, c.Classname+"/"+c.Name+": "+c.Failure.Message)
		}
	}
	// an hour and the seconds the run took
	if len(failed) != 1 || !regexp.MustCompile(`^vigil\.compliance\.s2/logging \(host-s2\): last heartbeat 1h0m[0-9]+s ago`).MatchString(failed[0]) {
		t.Fatalf("failures %v", failed)
	}
	out, _, code = e.run(t, "compliance", "--tag", "env:production", "--max-heartbeat-age", "2h", "-o", "json")
	var rep complianceReport
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || !rep.Passed || rep.Sensors != 2 {
		t.Fatalf("pass: code %d %s", code, out)
	}
	if _, _, code := e.run(t, "compliance", "--tag", "env:nowhere"); code != 1 {
		t.Fatalf("no sensors: code %d", code)
	}
}

// startVictim starts a process for a kill task to end and returns it with its
// start time (field 22 of /proc/PID/stat).
func startVictim(t *testing.T) (*exec.Cmd, uint64) {
	t.Helper()
	victim := exec.Command("sleep", "60")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { victim.Process.Kill(); victim.Wait() })
	st, err := kill.ReadStat(victim.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	return victim, st.StartTime
}

// TestTask queues kill tasks with the CLI and has the sensor's runner carry them
// out from the same store: the process the task names dies, or, when the start
// or event time says it is another process, lives and the task fails.
func TestTask(t *testing.T) {
	e := newAPIEnv(t)
	e.heartbeat(t, "s1", "1.0", time.Now()) // tasks are refused for sensors that never registered
	e.heartbeat(t, "s2", "1.0", time.Now())
	e.heartbeat(t, "s3", "1.0", time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runner := &srespond.Runner{
		Source:    &srespond.StoreSource{Store: e.store.TaskStore(), SensorID: "s1"},
		SensorID:  "s1",
		StatePath: filepath.Join(t.TempDir(), "respond.json"),
		Log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	ran := make(chan error, 1)
	go func() { ran <- runner.Run(ctx, 20*time.Millisecond, time.Hour) }()
	defer func() {
		cancel()
		if err := <-ran; err != nil {
			t.Error(err)
		}
	}()

	tests := []struct {
		name     string
		args     func(pid int, start uint64) []string
		wantArg  string // the argument the CLI sent besides pid
		wantDone bool
		wantErr  string // in the failed task's result
	}{
		{"start time", func(_ int, start uint64) []string {
			return []string{"--start-time", strconv.FormatUint(start, 10)}
		}, "start_time", true, ""},
		{"event time RFC 3339", func(int, uint64) []string {
			return []string{"--event-time", time.Now().Add(time.Second).Format(time.RFC3339Nano)}
		}, "event_time", true, ""},
		{"event time Unix nanoseconds", func(int, uint64) []string {
			return []string{"--event-time", strconv.FormatInt(time.Now().Add(time.Second).UnixNano(), 10)}
		}, "event_time", true, ""},
		{"another process's start time", func(_ int, start uint64) []string {
			return []string{"--start-time", strconv.FormatUint(start+7, 10)}
		}, "start_time", false, "not the same process"},
		{"an event before the process started", func(int, uint64) []string {
			return []string{"--event-time", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}
		}, "event_time", false, "not the same process"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			victim, start := startVictim(t)
			pid := victim.Process.Pid
			args := append([]string{"task", "kill", "s1", "--pid", strconv.Itoa(pid), "--wait", "--interval", "20ms", "--timeout", "20s", "-o", "json"},
				tc.args(pid, start)...)
			out, stderr, code := e.run(t, args...)
			var tk client.Task
			if err := json.Unmarshal([]byte(out), &tk); err != nil {
				t.Fatalf("code %d: %v\n%s%s", code, err, out, stderr)
			}
			stored, err := e.store.TaskStore().Get(context.Background(), tk.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Args["pid"] != strconv.Itoa(pid) || stored.Args[tc.wantArg] == "" || len(stored.Args) != 2 {
				t.Fatalf("the CLI sent args %v, want pid %d and %s", stored.Args, pid, tc.wantArg)
			}
			if !tc.wantDone {
				if code != 1 || tk.Status != task.Failed || !strings.Contains(tk.Result, tc.wantErr) || !strings.Contains(stderr, "failed") {
					t.Fatalf("code %d, task %s: %s\n%s", code, tk.Status, tk.Result, stderr)
				}
				if err := victim.Process.Signal(syscall.Signal(0)); err != nil {
					t.Fatalf("the process was signalled: %v", err)
				}
				return
			}
			var res struct {
				Action string
				Procs  []kill.Proc
			}
			if code != 0 || tk.Status != task.Done || json.Unmarshal([]byte(tk.Result), &res) != nil {
				t.Fatalf("code %d, task %s: %s\n%s", code, tk.Status, tk.Result, stderr)
			}
			if res.Action != "kill" || len(res.Procs) != 1 || res.Procs[0].PID != pid || res.Procs[0].StartTime != start || res.Procs[0].Exit != "killed by SIGKILL" {
				t.Fatalf("result %s", tk.Result)
			}
			victim.Wait()
			if ws := victim.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("the process ended %v", victim.ProcessState)
			}
		})
	}

	out, stderr, code := e.run(t, "task", "kill", "s3", "--pid", "4242", "--start-time", "1")
	if code != 0 || !strings.Contains(out, "kill on sensor s3: pending") {
		t.Fatalf("without --wait: code %d\n%s%s", code, out, stderr)
	}
	out, _, code = e.run(t, "task", "isolate", "s2", "-o", "json")
	var tk client.Task
	if code != 0 || json.Unmarshal([]byte(out), &tk) != nil || tk.Status != task.Pending || tk.Action != "isolate" || len(tk.Args) != 0 {
		t.Fatalf("isolate: code %d %s", code, out)
	}
	for _, timeout := range []string{"100ms", "1ns"} { // 1ns: over before the first read
		out, stderr, code = e.run(t, "task", "snapshot", "s2", "--pid", "4242", "--wait", "--interval", "20ms", "--timeout", timeout)
		if code != 1 || !strings.Contains(stderr, "still pending after "+timeout+": is sensor s2 online?") ||
			!strings.Contains(stderr, "vigil: task t-") || !strings.Contains(out, "snapshot on sensor s2: pending") {
			t.Fatalf("wait timeout %s: code %d\n%s%s", timeout, code, out, stderr)
		}
	}
}

// TestTaskUsage: bad process flags are refused before anything is queued, and
// the arguments queued are ones the sensor's runner accepts.
func TestTaskUsage(t *testing.T) {
	e := newAPIEnv(t)
	e.heartbeat(t, "s8", "1.0", time.Now())
	bad := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"kill"}, "task kill: --pid is required"},
		{[]string{"kill", "--pid", "-3", "--start-time", "5"}, "task kill: --pid is required"},
		{[]string{"kill", "--pid", "4242"}, "task kill: --start-time or --event-time is required"},
		{[]string{"kill", "--pid", "4242", "--start-time", "5", "--event-time", "2026-01-02T15:04:05Z"}, "give --start-time or --event-time, not both"},
		{[]string{"kill", "--pid", "4242", "--start-time", "0"}, "--start-time must be positive"},
		{[]string{"kill", "--pid", "4242", "--start-time", "-1"}, "start-time"},
		{[]string{"kill", "--pid", "4242", "--event-time", "1767366245"}, `--event-time "1767366245": want Unix nanoseconds (this is seconds`},
		{[]string{"kill", "--pid", "4242", "--event-time", "yesterday"}, `--event-time "yesterday": want an RFC 3339 time`},
		{[]string{"snapshot"}, "task snapshot: --pid is required"},
		{[]string{"snapshot", "--pid", "4242", "--event-time", "1970-01-01T00:00:01Z"}, "want an RFC 3339 time"},
		{[]string{"isolate", "--pid", "4242"}, "unknown flag: --pid"},
		{[]string{"kill", "--pid", "4242", "--start-time", "5", "--deadline", "48h"}, "task kill: --deadline 48h0m0s: want between 1s and 24h"},
	}
	for _, tc := range bad {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := append([]string{"task", tc.args[0], "s9"}, tc.args[1:]...)
			if _, stderr, code := e.run(t, args...); code != 2 || !strings.Contains(stderr, tc.wantErr) {
				t.Fatalf("code %d, want 2 and %q: %s", code, tc.wantErr, stderr)
			}
		})
	}
	if list, err := e.store.TaskStore().ForSensor(context.Background(), "s9", time.Now().Add(-time.Hour)); err != nil || len(list) != 0 {
		t.Fatalf("refused commands queued %v (%v)", list, err)
	}

	// what the CLI queues, the runner takes: run each task through the runner's
	// argument checks with a stand-in for the process (the pid does not exist, so
	// an argument that passes the checks ends at "no such process")
	if _, err := os.Stat("/proc/4194303"); err == nil {
		t.Skip("pid 4194303 exists here")
	}
	good := []struct {
		args    []string
		wantArg string
	}{
		{[]string{"kill", "--pid", "4194303", "--start-time", "5"}, "start_time"},
		{[]string{"kill", "--pid", "4194303", "--event-time", "2026-01-02T15:04:05.5Z"}, "event_time"},
		{[]string{"snapshot", "--pid", "4194303"}, ""},
		{[]string{"snapshot", "--pid", "4194303", "--start-time", "5"}, "start_time"},
	}
	for _, tc := range good {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := append([]string{"task", tc.args[0], "s8"}, tc.args[1:]...)
			out, stderr, code := e.run(t, append(args, "-o", "json")...)
			var tk client.Task
			if code != 0 || json.Unmarshal([]byte(out), &tk) != nil {
				t.Fatalf("code %d\n%s%s", code, out, stderr)
			}
			stored, err := e.store.TaskStore().Get(context.Background(), tk.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Args["pid"] != "4194303" || (tc.wantArg != "" && stored.Args[tc.wantArg] == "") {
				t.Fatalf("args %v, want pid and %q", stored.Args, tc.wantArg)
			}
			src := &oneTask{t: stored}
			r := &srespond.Runner{Source: src, SensorID: "s8", StatePath: filepath.Join(t.TempDir(), "respond.json"),
				Lake: &local.Lake{Dir: t.TempDir()}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			if _, err := r.Poll(context.Background()); err != nil {
				t.Fatal(err)
			}
			if src.status != task.Failed || !strings.Contains(src.result, "no such process") {
				t.Fatalf("the runner: %s %s", src.status, src.result)
			}
		})
	}
}

// oneTask is a task source holding one task.
type oneTask struct {
	t      task.Task
	status task.Status
	result string
}

func (s *oneTask) Pending(context.Context) ([]task.Task, error) {
	if s.status.Final() {
		return nil, nil
	}
	return []task.Task{s.t}, nil
}

func (s *oneTask) Report(_ context.Context, _ string, status task.Status, result string) error {
	s.status, s.result = status, result
	return nil
}

func TestMetricsPush(t *testing.T) {
	e := newAPIEnv(t)
	now := time.Now()
	e.heartbeat(t, "s1", "1.2.0", now, "deployment:d1", "service:checkout")
	e.heartbeat(t, "s2", "1.2.0", now, "deployment:d1", "service:search")
	e.heartbeat(t, "s3", "1.2.0", now.Add(-time.Hour), "deployment:d1", "service:search")
	at := now.Add(-10 * time.Minute).Truncate(time.Second)
	crit := e.detect(t, "s1", "critical", at, "deployment:d1", "service:checkout")
	e.detect(t, "s2", "medium", at, "deployment:d1", "service:search")
	e.detect(t, "s9", "critical", at, "deployment:d2", "service:checkout") // another deployment
	// the response workflow's task for the critical detection: created 30 s after the event, done 90 s after
	tk, err := e.store.TaskStore().Create(context.Background(), task.Task{ID: "t-1", SensorID: "s1", Action: "isolate", Status: task.Pending,
		Created: at.Add(30 * time.Second), Updated: at.Add(30 * time.Second), Deadline: at.Add(time.Hour), DetectionID: crit})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.TaskStore().Update(context.Background(), tk.ID, task.Done, "ok", at.Add(90*time.Second)); err != nil {
		t.Fatal(err)
	}

	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	out, stderr, code := e.run(t, "metrics", "push", "--deployment", "d1", "--statsd-addr", pc.LocalAddr().String())
	if code != 0 {
		t.Fatalf("code %d\n%s%s", code, out, stderr)
	}
	var lines []string
	buf := make([]byte, 65536)
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(lines) < 6 {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("got %d statsd lines %q: %v", len(lines), lines, err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(buf[:n])), "\n") {
			lines = append(lines, l)
		}
	}
	sort.Strings(lines)
	// coverage 2/3 online; score (100 - 25 - 3) * 2/3 = 48
	want := []string{
		"vigil.coverage:66.7|g|#org:acme,deployment:d1",
		"vigil.critical_alerts_by_service:0|g|#org:acme,deployment:d1,service:search",
		"vigil.critical_alerts_by_service:1|g|#org:acme,deployment:d1,service:checkout",
		"vigil.deployment_security_score:48|g|#org:acme,deployment:d1",
		"vigil.time_to_detect:30|g|#org:acme,deployment:d1",
		"vigil.time_to_respond:90|g|#org:acme,deployment:d1",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("statsd got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// Error paths against a loopback server standing in for the API.
func TestAPIErrors(t *testing.T) {
	var calls atomic.Int32
	mode := atomic.Value{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		switch mode.Load().(string) {
		case "401":
			w.WriteHeader(401)
			fmt.Fprint(w, `{"error":"unknown API key"}`)
		case "403":
			w.WriteHeader(403)
			fmt.Fprint(w, `{"error":"API key ci is revoked"}`)
		case "flaky":
			if calls.Load()%2 == 1 {
				w.WriteHeader(502)
				return
			}
			fmt.Fprint(w, `{"sensors":[{"sensor_id":"s1","hostname":"h1","last_seen":"2026-01-01T00:00:00Z"}]}`)
		case "500":
			w.WriteHeader(500)
			fmt.Fprint(w, `{"error":"internal error"}`)
		case "slow":
			<-r.Context().Done()
		}
	}))
	defer srv.Close()
	run := func(m string, args ...string) (string, string, int) {
		mode.Store(m)
		calls.Store(0)
		return runCLI(t, append(args, "--api-url", srv.URL, "--api-key", "k")...)
	}
	if _, stderr, code := run("401", "sensors", "list"); code != 2 || !strings.Contains(stderr, "unknown API key (check VIGIL_API_KEY or --api-key)") || calls.Load() != 1 {
		t.Errorf("401: code %d calls %d %s", code, calls.Load(), stderr)
	}
	if _, stderr, code := run("403", "gate", "--tag", "deployment:1"); code != 2 || !strings.Contains(stderr, "revoked") {
		t.Errorf("403: code %d %s", code, stderr)
	}
	if out, stderr, code := run("flaky", "sensors", "list"); code != 0 || !strings.Contains(out, "h1") || calls.Load() != 2 {
		t.Errorf("5xx then ok: code %d calls %d %s%s", code, calls.Load(), out, stderr)
	}
	if _, stderr, code := run("500", "baseline", "--deployment", "1"); code != 3 || !strings.Contains(stderr, "internal error (after 5 attempts)") || calls.Load() != 5 {
		t.Errorf("500: code %d calls %d %s", code, calls.Load(), stderr)
	}
	if _, stderr, code := run("slow", "compliance", "--request-timeout", "50ms"); code != 3 || !strings.Contains(stderr, "no answer within 50ms") {
		t.Errorf("timeout: code %d %s", code, stderr)
	}
	t.Setenv("VIGIL_API_KEY", "")
	t.Setenv("VIGIL_API_URL", "")
	if _, stderr, code := runCLI(t, "gate", "--tag", "deployment:1", "--api-url", srv.URL); code != 2 || !strings.Contains(stderr, "VIGIL_API_KEY is not set: export it or pass --api-key") {
		t.Errorf("no key: code %d %s", code, stderr)
	}
	if _, stderr, code := runCLI(t, "detections", "list"); code != 2 || !strings.Contains(stderr, "VIGIL_API_URL is not set") {
		t.Errorf("no url: code %d %s", code, stderr)
	}
}

func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		out, _, code := runCLI(t, "completion", sh)
		if code != 0 || !strings.Contains(out, "vigil") || len(out) < 500 {
			t.Errorf("%s: code %d, %d bytes", sh, code, len(out))
		}
	}
	if _, _, code := runCLI(t, "completion", "tcsh"); code != 2 {
		t.Errorf("tcsh: code %d", code)
	}
}

func TestDetectionsWatch(t *testing.T) {
	e := newAPIEnv(t)
	e.detect(t, "s1", "high", time.Now().Add(-time.Hour), "deployment:d1") // before: not shown
	go func() {
		time.Sleep(100 * time.Millisecond)
		e.detect(t, "s1", "high", time.Now(), "deployment:d1")
		e.detect(t, "s1", "low", time.Now(), "deployment:d1")
		e.detect(t, "s1", "critical", time.Now(), "deployment:d2")
	}()
	var out strings.Builder
	root := newRoot()
	root.SetOut(&out)
	root.SetArgs([]string{"detections", "watch", "--tag", "deployment:d1", "--severity", "medium", "--json", "--interval", "20ms",
		"--api-url", e.url, "--api-key", "k", "--org", "acme"})
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var d client.Detection
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &d) != nil || d.Severity != "high" {
		t.Fatalf("watch printed:\n%s", out.String())
	}
}

// TestRegistryResolution: the registry records a live sensor's heartbeat at most
// every 5 minutes, so its last_seen is up to 5 minutes and a heartbeat interval
// old; every command that asks whether a sensor is live takes it as live then,
// and not once it is older than the stale age.
func TestRegistryResolution(t *testing.T) {
	e := newAPIEnv(t)
	now := time.Now()
	lastWrite := now.Add(-cadence.RegistryWrite - cadence.Heartbeat)
	e.heartbeat(t, "live", "1.2.0", lastWrite, "deployment:d1", "env:production")
	e.heartbeat(t, "gone", "1.2.0", now.Add(-cadence.Stale-time.Minute), "deployment:d2", "env:staging")
	rules := rulesFile(t, "miner\n")
	for _, c := range []struct {
		name     string
		args     []string
		wantCode int
	}{
		{"sensors wait", []string{"sensors", "wait", "--tag", "deployment:d1", "--interval", "20ms", "--timeout", "2s"}, 0},
		{"baseline", []string{"baseline", "--deployment", "d1", "--version", "1.2.0", "--require-rules", rules}, 0},
		{"compliance", []string{"compliance", "--tag", "env:production", "--require-rules", rules}, 0},
		// a gate of one minute: the last write is 5.5 minutes old at its end
		{"gate", []string{"gate", "--tag", "deployment:d1", "--since", now.Add(-time.Minute).Format(time.RFC3339Nano),
			"--duration", "50ms", "--interval", "20ms"}, 0},
		{"sensors wait, stale", []string{"sensors", "wait", "--tag", "deployment:d2", "--interval", "20ms", "--timeout", "200ms"}, 1},
		{"baseline, stale", []string{"baseline", "--deployment", "d2", "--version", "1.2.0", "--require-rules", rules}, 1},
		{"compliance, stale", []string{"compliance", "--tag", "env:staging", "--require-rules", rules}, 1},
		{"gate, stale", []string{"gate", "--tag", "deployment:d2", "--since", now.Add(-time.Minute).Format(time.RFC3339Nano),
			"--duration", "50ms", "--interval", "20ms"}, exitUnmonitored},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, stderr, code := e.run(t, c.args...)
			if code != c.wantCode {
				t.Fatalf("code %d, want %d\n%s%s", code, c.wantCode, out, stderr)
			}
		})
	}
	// metrics push: coverage counts the live sensor, not the stale one
	for tag, want := range map[string]string{"deployment:d1": "1 sensors (1 online)", "deployment:d2": "1 sensors (0 online)"} {
		out, stderr, code := e.run(t, "metrics", "push", "--tag", tag, "--dry-run")
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("metrics push --tag %s: code %d, want %q\n%s%s", tag, code, want, out, stderr)
		}
	}
}

// TestGateMonitoring: no detections pass the gate only when sensors carrying the
// tag sent a heartbeat during its window (or --allow-unmonitored says not to care).
func TestGateMonitoring(t *testing.T) {
	e := newAPIEnv(t)
	now := time.Now()
	since := now.Add(-time.Minute) // the gate's window starts here
	e.heartbeat(t, "other", "1.2.0", now, "deployment:elsewhere")
	e.heartbeat(t, "stale", "1.2.0", now.Add(-time.Hour), "deployment:stale")
	e.heartbeat(t, "live1", "1.2.0", now, "deployment:live")
	e.heartbeat(t, "live2", "1.2.0", now.Add(-30*time.Second), "deployment:live")
	e.heartbeat(t, "half1", "1.2.0", now, "deployment:half")
	e.heartbeat(t, "half2", "1.2.0", since.Add(-cadence.RegistryWrite-time.Second), "deployment:half")

	tests := []struct {
		name        string
		tag         string
		extra       []string
		wantCode    int
		wantFailure string
		wantSensors *gateSensors // nil: not checked
		wantReason  string
		wantStderr  string
	}{
		{name: "untagged fleet", tag: "deployment:nobody", wantCode: exitUnmonitored, wantFailure: "unmonitored",
			wantSensors: &gateSensors{MinSensors: 1},
			wantReason:  "deployment:nobody was not monitored: 0 sensors carrying it sent a heartbeat since", wantStderr: "no sensor carries the tag"},
		{name: "heartbeat older than the window", tag: "deployment:stale", wantCode: exitUnmonitored, wantFailure: "unmonitored",
			wantSensors: &gateSensors{Registered: 1, MinSensors: 1},
			wantReason:  "(1 carry the tag, the latest heartbeat 1h0m0s ago)", wantStderr: "pass --allow-unmonitored"},
		{name: "fewer than --min-sensors", tag: "deployment:half", extra: []string{"--min-sensors", "2"}, wantCode: exitUnmonitored, wantFailure: "unmonitored",
			wantSensors: &gateSensors{Heartbeating: 1, Registered: 2, MinSensors: 2}, wantReason: "want at least 2"},
		{name: "sensors and no detections", tag: "deployment:live", wantCode: 0,
			wantSensors: &gateSensors{Monitored: true, Heartbeating: 2, Registered: 2, MinSensors: 1},
			wantReason:  "0 detections on deployment:live, at most the threshold of 5; 2 sensors sent a heartbeat during the window"},
		{name: "--allow-unmonitored and no sensors", tag: "deployment:nobody", extra: []string{"--allow-unmonitored"}, wantCode: 0,
			wantReason: "sensors not checked (--allow-unmonitored)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"gate", "--tag", tc.tag, "--since", since.Format(time.RFC3339Nano),
				"--duration", "50ms", "--interval", "20ms", "-o", "json"}, tc.extra...)
			out, stderr, code := e.run(t, args...)
			var res gateResult
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("code %d: %v\n%s%s", code, err, out, stderr)
			}
			if code != tc.wantCode || res.Passed != (tc.wantCode == 0) || res.Failure != tc.wantFailure || !strings.Contains(res.Reason, tc.wantReason) {
				t.Fatalf("code %d, want %d; passed %v failure %q reason %q\n%s", code, tc.wantCode, res.Passed, res.Failure, res.Reason, stderr)
			}
			if !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantStderr, stderr)
			}
			got := res.Sensors
			if got != nil {
				c := *got
				c.LastHeartbeat = time.Time{}
				got = &c
			}
			if (got == nil) != (tc.wantSensors == nil) || (got != nil && *got != *tc.wantSensors) {
				t.Fatalf("sensors %+v, want %+v", res.Sensors, tc.wantSensors)
			}
		})
	}

	// the table says it too
	out, stderr, code := e.run(t, "gate", "--tag", "deployment:stale", "--duration", "20ms", "--interval", "10ms")
	if code != exitUnmonitored || !strings.Contains(out, "gate FAILED (unmonitored)") ||
		!strings.Contains(out, "0 sent a heartbeat in the window (want at least 1), 1 carry the tag") {
		t.Fatalf("table: code %d\n%s%s", code, out, stderr)
	}
	if _, stderr, code := e.run(t, "gate", "--tag", "deployment:live", "--min-sensors", "0"); code != 2 || !strings.Contains(stderr, "--min-sensors must be at least 1") {
		t.Fatalf("--min-sensors 0: code %d %s", code, stderr)
	}
}
