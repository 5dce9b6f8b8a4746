package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/anomaly"
	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/dashboard"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/internal/task"
	"github.com/vigil-sec/vigil/sensor/collector"
	"github.com/vigil-sec/vigil/sensor/shipper"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	reAPIKey = regexp.MustCompile(`API key (vk_\S+)`)
	reURL    = regexp.MustCompile(`API and dashboard on (http://\S+)`)
	reLogin  = regexp.MustCompile(`one-time link\): (\S+)`)
)

// apiGet GETs path with key and decodes the JSON answer.
func apiGet(t *testing.T, base, path, key string, out any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	return resp.StatusCode
}

type detectionsPage struct {
	Detections []map[string]any `json:"detections"`
	Next       string           `json:"next_cursor"`
}

func hasDetection(p detectionsPage, id string) bool {
	for _, d := range p.Detections {
		if d["id"] == id {
			return true
		}
	}
	return false
}

// startLocal runs runLocal until the returned stop is called, and waits for what.
func startLocal(t *testing.T, o localOptions, what string) (stdout, stderr *syncBuffer, stop func() error) {
	t.Helper()
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runLocal(ctx, o, stdout, stderr) }()
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { _ = stop() })
	waitFor(t, what, func() bool { return strings.Contains(stderr.String(), what) }, stderr)
	return stdout, stderr, stop
}

// TestLocalDetectsExec runs the embedded pipeline as root, execs a process the
// privileged_docker_container rule catches, and expects its detection as a JSON line
// on stdout, from the API with the key printed at start, and the events in the local
// lake after shutdown; then restarts it and finds the detection still stored.
func TestLocalDetectsExec(t *testing.T) {
	if err := collector.Supported(); err != nil {
		t.Skipf("the sensor cannot run here: %v", err)
	}
	dir := t.TempDir()
	docker := filepath.Join(dir, "docker")
	copyFile(t, "/bin/true", docker)
	lake, data := filepath.Join(dir, "lake"), filepath.Join(dir, "data")
	o := localOptions{json: true, lake: lake, data: data, listen: "127.0.0.1:0", sensorID: "test-sensor",
		tags: []string{"env:test"}, batch: 100 * time.Millisecond}

	stdout, stderr, stop := startLocal(t, o, "vigil local running")
	key := reAPIKey.FindStringSubmatch(stderr.String())
	base := reURL.FindStringSubmatch(stderr.String())
	if key == nil || base == nil || !reLogin.MatchString(stderr.String()) {
		t.Fatalf("no API key, address or login link printed at start:\n%s", stderr.String())
	}

	cmd := exec.Command(docker, "run", "--privileged", "alpine")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	var d map[string]any
	waitFor(t, "the detection", func() bool {
		for _, line := range strings.Split(stdout.String(), "\n") {
			var x map[string]any
			if json.Unmarshal([]byte(line), &x) == nil && x["rule"] == "privileged_docker_container" {
				body := x["event"].(map[string]any)["event"].(map[string]any)
				if body["PROCESS_ID"] == float64(pid) {
					d = x
					return true
				}
			}
		}
		return false
	}, stderr)
	id := d["id"].(string)

	var page detectionsPage
	waitFor(t, "the detection in the API", func() bool {
		return apiGet(t, base[1], "/v1/orgs/local/detections?sensor=test-sensor", key[1], &page) == 200 && hasDetection(page, id)
	}, stderr)
	if code := apiGet(t, base[1], "/v1/orgs/local/detections", "vk_wrong", nil); code != 401 {
		t.Errorf("wrong key: %d, want 401", code)
	}
	var sensors struct{ Sensors []api.Sensor }
	if apiGet(t, base[1], "/v1/orgs/local/sensors?tag=env:test", key[1], &sensors); len(sensors.Sensors) != 1 || sensors.Sensors[0].SensorID != "test-sensor" {
		t.Errorf("sensors = %+v, want test-sensor from its heartbeat", sensors)
	}
	if err := stop(); err != nil {
		t.Fatalf("runLocal: %v\n%s", err, stderr.String())
	}

	body := d["event"].(map[string]any)["event"].(map[string]any)
	routing := d["event"].(map[string]any)["routing"].(map[string]any)
	for k, want := range map[string]any{"FILE_PATH": docker, "COMMAND_LINE": docker + " run --privileged alpine", "USER": "root"} {
		if body[k] != want {
			t.Errorf("event/%s = %v, want %v", k, body[k], want)
		}
	}
	if d["severity"] != "medium" || d["sensor_id"] != "test-sensor" || routing["event_type"] != "NEW_PROCESS" {
		t.Errorf("detection = %v", d)
	}
	for _, k := range []string{"id", "time", "hostname"} {
		if s, _ := d[k].(string); s == "" {
			t.Errorf("detection has no %s: %v", k, d)
		}
	}

	files, err := (&local.Lake{Dir: lake}).Files()
	if err != nil || len(files) == 0 {
		t.Fatalf("no lake files (%v)", err)
	}
	found := false
	for _, f := range files {
		if !strings.HasPrefix(f, "events/dt=") || !strings.Contains(f, "/sensor=test-sensor/") {
			t.Errorf("lake key %s is not in the Hive layout", f)
		}
		raw, err := os.ReadFile(filepath.Join(lake, f))
		if err != nil {
			t.Fatal(err)
		}
		evs, err := event.Decode(nil, raw, 0)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, e := range evs {
			if e.PID == uint32(pid) && e.Type == event.NewProcess && e.FilePath == docker {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("the exec of pid %d is not in the lake", pid)
	}

	// restart: the detection is still stored, the key still works and is not printed again
	_, stderr2, stop2 := startLocal(t, o, "vigil local running")
	base2 := reURL.FindStringSubmatch(stderr2.String())
	if base2 == nil || reAPIKey.MatchString(stderr2.String()) {
		t.Fatalf("restart printed no address, or a new key:\n%s", stderr2.String())
	}
	page = detectionsPage{}
	if code := apiGet(t, base2[1], "/v1/orgs/local/detections", key[1], &page); code != 200 || !hasDetection(page, id) {
		t.Errorf("after restart: %d, detection %s not listed in %v", code, id, page)
	}
	if err := stop2(); err != nil {
		t.Fatalf("runLocal after restart: %v\n%s", err, stderr2.String())
	}
}

// TestLocalNotRoot runs the binary as an unprivileged user: one line saying why
// and how, exit code 2.
func TestLocalNotRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch to an unprivileged user")
	}
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} { // the unprivileged user must reach the binary
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "vigil")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "local")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 {
		t.Fatalf("exit = %v, want code 2; stderr: %s", err, stderr.String())
	}
	msg := strings.TrimSpace(stderr.String())
	if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "root") || !strings.Contains(msg, "sudo") {
		t.Errorf("message %q: want one line saying why (root) and how (sudo)", msg)
	}
}

// recordedLake writes a lake the way the sensor's shipper does: a heartbeat, a
// burst of ordinary process events over the last minutes, and a privileged docker
// run (with its parent and grandparent) at the given time.
func recordedLake(t *testing.T, dir string, at time.Time) {
	t.Helper()
	const sensor = "replay-sensor"
	tags := []string{"env:replay"}
	ship := shipper.New(shipper.Options{SensorID: sensor, Lake: &local.Lake{Dir: dir}})
	add := func(ev event.Event) {
		ev.SensorID, ev.Hostname, ev.Tags = sensor, "build-host", tags
		ev.ID = event.NewID(time.Unix(0, ev.TimeNanos))
		ship.Add(&ev)
	}
	add(event.Event{Type: event.SensorHeartbeat, TimeNanos: at.Add(-10 * time.Minute).UnixNano(), SensorVersion: "1.0.0", UptimeSeconds: 3600})
	for i := range 120 {
		ts := at.Add(-10*time.Minute + time.Duration(i)*5*time.Second)
		add(event.Event{Type: event.NewProcess, TimeNanos: ts.UnixNano(), PID: uint32(2000 + i), PPID: 1000, User: "dev",
			FilePath: "/usr/bin/make", CommandLine: "make test", ParentFilePath: "/bin/bash", ParentCommandLine: "-bash"})
	}
	add(event.Event{Type: event.NewProcess, TimeNanos: at.UnixNano(), PID: 4242, PPID: 4200, UID: 0, User: "root",
		FilePath: "/usr/bin/docker", CommandLine: "docker run --privileged -v /:/host alpine sh",
		ParentFilePath: "/usr/bin/bash", ParentCommandLine: "bash -i",
		GrandparentPath: "/usr/sbin/sshd", GrandparentCmd: "sshd: admin@pts/0"})
	if err := ship.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestLocalReplay replays a lake written by the shipper: the detection is printed
// once (a second replay finds it stored and published), the summary counts events
// and detections by rule, the heartbeat registers the sensor, and no root is needed.
func TestLocalReplay(t *testing.T) {
	dir := t.TempDir()
	lake, data := filepath.Join(dir, "lake"), filepath.Join(dir, "data")
	at := time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC) // the recording stays within one hour: one lake file
	recordedLake(t, lake, at)
	run := func(path string) ([]map[string]any, replaySummary) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if err := runLocal(context.Background(), localOptions{json: true, replay: path, data: data}, &stdout, &stderr); err != nil {
			t.Fatalf("replay: %v\n%s", err, stderr.String())
		}
		var dets []map[string]any
		var sum replaySummary
		for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
			var x map[string]json.RawMessage
			if err := json.Unmarshal([]byte(line), &x); err != nil {
				t.Fatalf("stdout line %q: %v", line, err)
			}
			if r, ok := x["replay"]; ok {
				if err := json.Unmarshal(r, &sum); err != nil {
					t.Fatal(err)
				}
				continue
			}
			var d map[string]any
			_ = json.Unmarshal([]byte(line), &d)
			dets = append(dets, d)
		}
		return dets, sum
	}
	dets, sum := run(lake)
	if sum.Files != 1 || sum.Events != 122 || sum.ByRule["privileged_docker_container"] != 1 || sum.Detections < 1 {
		t.Errorf("summary = %+v", sum)
	}
	var found map[string]any
	for _, d := range dets {
		if d["rule"] == "privileged_docker_container" {
			found = d
		}
	}
	if found == nil {
		t.Fatalf("no privileged_docker_container detection printed: %v", dets)
	}
	ev := found["event"].(map[string]any)["event"].(map[string]any)
	if ev["PARENT"].(map[string]any)["FILE_PATH"] != "/usr/bin/bash" || ev["GRANDPARENT"].(map[string]any)["FILE_PATH"] != "/usr/sbin/sshd" {
		t.Errorf("ancestry lost: %v", ev)
	}

	files, _ := (&local.Lake{Dir: lake}).Files()
	dets, sum = run(filepath.Join(lake, files[0])) // one file, replayed again
	if len(dets) != 0 || sum.ByRule["privileged_docker_container"] != 1 {
		t.Errorf("second replay printed %d detections (want none: already stored), summary %+v", len(dets), sum)
	}

	var text bytes.Buffer
	if err := (replaySummary{Files: 1, Events: 10, Detections: 2, ByRule: map[string]int{"b": 1, "a": 1}, Seconds: 1}).print(&text, false); err != nil ||
		text.String() != "replay: 1 files, 10 events, 2 detections in 1.00s (10 events/s)\n       1  a\n       1  b\n" {
		t.Errorf("text summary %q", text.String())
	}

	st, err := local.OpenStore(data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	docs, _, _ := st.List(context.Background(), api.DetectionQuery{Tag: "env:replay"})
	sensors, _ := st.Sensors(context.Background(), nil)
	if len(docs) != sum.Detections || len(sensors) != 1 || sensors[0].SensorID != "replay-sensor" || sensors[0].Version != "1.0.0" {
		t.Errorf("store: %d detections (want %d), sensors %+v", len(docs), sum.Detections, sensors)
	}

	err = runLocal(context.Background(), localOptions{replay: filepath.Join(dir, "nope"), data: data}, io.Discard, io.Discard)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "--replay") {
		t.Errorf("missing replay path: %v", err)
	}
}

// TestLocalServesAndRestarts serves the API over a replay, reads the detection with
// the key made at first start, then restarts on the same store: no new key, the old
// one works, the detection is still there.
func TestLocalServesAndRestarts(t *testing.T) {
	dir := t.TempDir()
	lake, data := filepath.Join(dir, "lake"), filepath.Join(dir, "data")
	recordedLake(t, lake, time.Now().Add(-time.Minute))
	ctx := context.Background()
	o := localOptions{data: data, listen: "127.0.0.1:0"}

	a, err := newLocalApp(o, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.serve(ctx); err != nil {
		t.Fatal(err)
	}
	key := a.apiKey
	if !strings.HasPrefix(key, "vk_") || !strings.Contains(a.loginLink, "/login#") {
		t.Fatalf("key %q login %q", key, a.loginLink)
	}
	if _, err := a.replay(ctx, lake); err != nil {
		t.Fatal(err)
	}
	base := "http://" + a.addr
	var page detectionsPage
	if code := apiGet(t, base, "/v1/orgs/local/detections?tag=env:replay&limit=1", key, &page); code != 200 || len(page.Detections) != 1 {
		t.Fatalf("detections: %d %+v", code, page)
	}
	id := page.Detections[0]["id"].(string)
	var rules struct{ Rules []map[string]any }
	if code := apiGet(t, base, "/v1/orgs/local/rules", key, &rules); code != 200 || len(rules.Rules) < 10 {
		t.Errorf("rules: %d, %d rules", code, len(rules.Rules))
	}
	if code := apiGet(t, base, "/v1/orgs/other/detections", key, nil); code != 403 {
		t.Errorf("other org: %d, want 403", code)
	}
	a.close()

	a, err = newLocalApp(o, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	if err := a.serve(ctx); err != nil {
		t.Fatal(err)
	}
	if a.apiKey != "" {
		t.Error("a restart made a new key")
	}
	page = detectionsPage{}
	if code := apiGet(t, "http://"+a.addr, "/v1/orgs/local/detections?sensor=replay-sensor", key, &page); code != 200 || !hasDetection(page, id) {
		t.Errorf("after restart: %d, %s not in %+v", code, id, page)
	}
}

const respondRule = `detection:
  event: NEW_PROCESS
  op: contains
  path: event/COMMAND_LINE
  value: privileged
response:
  - action: report
    name: contain_privileged_container
    metadata:
      severity: high
  - action: isolate
  - action: kill
    descendants: true
  - action: notify
    webhook: "{{ hook }}"
`

// TestLocalResponse checks the response actions: dry runs by default (finished
// tasks saying what would have happened), pending sensor tasks with --enforce,
// notify posting the detection to --webhook.
func TestLocalResponse(t *testing.T) {
	dir := t.TempDir()
	lake, rulesDir := filepath.Join(dir, "lake"), filepath.Join(dir, "rules")
	recordedLake(t, lake, time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	if err := os.MkdirAll(rulesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rulesDir, "contain.yaml"), []byte(respondRule), 0o644); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var posted []map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var d map[string]any
		_ = json.NewDecoder(r.Body).Decode(&d)
		mu.Lock()
		posted = append(posted, d)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()

	for _, enforce := range []bool{false, true} {
		t.Run(fmt.Sprintf("enforce=%v", enforce), func(t *testing.T) {
			data := filepath.Join(dir, fmt.Sprintf("data-%v", enforce))
			var stderr syncBuffer
			o := localOptions{replay: lake, data: data, rules: []string{rulesDir}, noBuiltin: true, enforce: enforce, webhook: hook.URL}
			if err := runLocal(context.Background(), o, io.Discard, &stderr); err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			st, err := local.OpenStore(data)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			tasks, _ := st.TaskStore().ForSensor(context.Background(), "replay-sensor", time.Time{})
			if len(tasks) != 2 {
				t.Fatalf("tasks = %+v, want isolate and kill", tasks)
			}
			for _, tk := range tasks {
				switch {
				case !enforce && (tk.Status != task.Done || !strings.HasPrefix(tk.Result, "dry run: would "+tk.Action)):
					t.Errorf("dry run task %+v", tk)
				case enforce && (tk.Status != task.Pending || tk.Result != ""):
					t.Errorf("enforced task %+v", tk)
				case enforce && tk.Action == "kill" && (tk.Args["pid"] != "4242" || tk.Args["event_time"] == "" || tk.Args["tree"] != "true"):
					t.Errorf("enforced kill args %v, want the pid, the event's time and the descendants", tk.Args)
				case tk.DetectionID == "" || tk.ID != tk.DetectionID+"-"+tk.Action:
					t.Errorf("task %+v is not tied to its detection", tk)
				}
			}
			if !enforce && !strings.Contains(stderr.String(), "would isolate build-host") {
				t.Errorf("the dry run is not logged:\n%s", stderr.String())
			}
			if !enforce && !strings.Contains(tasks[1].Result+tasks[0].Result, "would kill pid 4242 (/usr/bin/docker) and its descendants") {
				t.Errorf("kill result: %+v", tasks)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(posted) != 2 || posted[0]["name"] != "contain_privileged_container" || posted[0]["id"] == "" {
		t.Errorf("webhook got %v, want the detection once per run", posted)
	}
}

// TestLocalAnomalyModel replays HOST_STATS minutes with --model: the one minute
// unlike the others is raised as anomaly/host_activity beside the rules' detections.
func TestLocalAnomalyModel(t *testing.T) {
	dir := t.TempDir()
	lake, model := filepath.Join(dir, "lake"), filepath.Join(dir, "model.json")
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	minute := func(i int, exec, conns uint64) event.Event {
		return event.Event{SensorID: "s1", Hostname: "h1", Type: event.HostStats, TimeNanos: at.Add(time.Duration(i) * time.Minute).UnixNano(),
			ID: fmt.Sprintf("hs-%04d", i), IntervalSeconds: 60, CountExec: exec, CountFileOpen: 400 + exec*3 + rng.Uint64N(200),
			CountConnect: conns, CountDNS: conns/2 + rng.Uint64N(5), DistinctDestIPs: 2 + rng.Uint64N(4), DistinctDestPorts: 1 + rng.Uint64N(3)}
	}
	var train []event.Event
	for i := range 400 {
		train = append(train, minute(i, 15+rng.Uint64N(20), 5+rng.Uint64N(15)))
	}
	m, err := anomaly.Train(train, anomaly.TrainOptions{Params: anomaly.Params{Trees: 50, Seed: 1, Contamination: 0.02}})
	if err != nil {
		t.Fatal(err)
	}
	data, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(model, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ship := shipper.New(shipper.Options{SensorID: "s1", Lake: &local.Lake{Dir: lake}})
	for i := 500; i < 510; i++ {
		ev := minute(i, 22, 12)
		if i == 505 {
			ev = minute(i, 5000, 3000) // an exec and connect storm
			ev.DistinctDestIPs, ev.DistinctDestPorts = 900, 800
		}
		ship.Add(&ev)
	}
	if err := ship.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err = runLocal(context.Background(), localOptions{json: true, replay: lake, data: filepath.Join(dir, "data"), model: model}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var found bool
	for _, line := range strings.Split(stdout.String(), "\n") {
		var d map[string]any
		if json.Unmarshal([]byte(line), &d) == nil && d["rule"] == anomaly.RuleName {
			found = true
			if d["id"] != detectID(anomaly.RuleName, "hs-0505") || d["severity"] != "medium" || d["category"] != "anomaly" {
				t.Errorf("anomaly detection = %v", d)
			}
		}
	}
	if !found || !strings.Contains(stdout.String(), `"by_rule":{"anomaly/host_activity":1}`) {
		t.Errorf("want exactly the storm minute raised; stdout:\n%s", stdout.String())
	}
	err = runLocal(context.Background(), localOptions{replay: lake, data: filepath.Join(dir, "data"), model: lake}, io.Discard, io.Discard)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "--model") {
		t.Errorf("a directory as model: %v", err)
	}
}

func TestRulesCommands(t *testing.T) {
	tests := []struct {
		args     []string
		wantErr  string
		wantOut  string
		exitCode int
	}{
		{[]string{"rules", "test"}, "", "fixture checks passed", 0},
		{[]string{"rules", "validate"}, "", "rules valid", 0},
		{[]string{"rules", "validate", "testdata/bad"}, "testdata/bad/bad_op.yaml:6: rule bad_op: unknown op", "", 1},
		{[]string{"rules", "test", "--no-builtin", "testdata/failing"}, "1 of 1 rules failed (1 of 2 fixture checks failed)", "FAIL always_root", 1},
		{[]string{"rules", "test", "no/such/dir"}, "not a directory", "", 2},
		{[]string{"rules", "test", "--no-builtin"}, "no rules", "", 2},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			root := newRoot()
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetArgs(tc.args)
			err := root.Execute()
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if code := exitCode(err); code != tc.exitCode {
				t.Errorf("exit code %d, want %d", code, tc.exitCode)
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("output %q lacks %q", out.String(), tc.wantOut)
			}
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool, log *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; log:\n%s", what, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ---- the browser test ----

const chromiumPath = "/usr/bin/chromium"

// TestDashboardInBrowser loads the dashboard in headless Chromium: signed out it
// shows the sign-in box alone (and drops a key earlier versions kept in
// localStorage); its one-time login link signs in with an HttpOnly session
// cookie, nothing in localStorage; a replayed privileged docker run arrives live
// (over the event stream) with its process ancestry and its nanosecond event time
// exact; it saves a screenshot in the test's artifact directory (go test
// -artifacts keeps it) and, when VIGIL_DASHBOARD_PNG names a file, there too; and
// signing out returns to the sign-in box, the old cookie refused.
func TestDashboardInBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("no Chromium at %s: install it with `sudo apt-get install chromium` (make test does)", chromiumPath)
	}
	dir := t.TempDir()
	lake := filepath.Join(dir, "lake")
	// an odd nanosecond part: event times a float64 cannot hold exactly
	recordedLake(t, lake, time.Now().Add(-30*time.Second).Truncate(time.Second).Add(123456789))
	ctx := context.Background()
	a, err := newLocalApp(localOptions{data: filepath.Join(dir, "data"), listen: "127.0.0.1:0"}, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	if err := a.serve(ctx); err != nil {
		t.Fatal(err)
	}

	b := startChromium(t)
	page := b.newPage(t)
	page.call(t, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1360, "height": 980, "deviceScaleFactor": 1, "mobile": false})
	base := "http://" + a.addr
	page.call(t, "Page.navigate", map[string]any{"url": base + "/"})
	page.waitJS(t, "the sign-in box", `document.querySelector('#status').textContent === 'signed out'`)
	page.evalString(t, `localStorage.setItem('vigil.key', 'vk_stale'), ''`) // as earlier versions kept it
	page.call(t, "Page.navigate", map[string]any{"url": base + "/"})
	page.waitJS(t, "the page to drop the stored key and show the sign-in box",
		`localStorage.getItem('vigil.key') === null && document.querySelector('#status').textContent === 'signed out'`)
	signedOut := `!document.querySelector('#login').hidden && getComputedStyle(document.querySelector('#login')).display !== 'none' &&
		getComputedStyle(document.querySelector('#app')).display === 'none' && document.querySelector('#app').getBoundingClientRect().height === 0 &&
		getComputedStyle(document.querySelector('#logout')).display === 'none'`
	if v, err := page.eval(signedOut); err != nil || string(v) != "true" {
		t.Errorf("the signed-out page shows more than the sign-in box (%v)", err)
	}
	if got := page.evalString(t, `String(localStorage.length)`); got != "0" {
		t.Errorf("localStorage keeps %s item(s) after load, want none", got)
	}

	page.call(t, "Page.navigate", map[string]any{"url": a.loginLink})
	page.waitJS(t, "the page to sign in and stream", `document.querySelector('#status').textContent === 'live' && !document.querySelector('#app').hidden`)
	if got := page.evalString(t, `location.pathname + location.hash`); got != "/" {
		t.Errorf("after login the location is %q: the token should leave the address bar", got)
	}
	if got := page.evalString(t, `String(localStorage.length) + ' ' + JSON.stringify(document.cookie)`); got != `0 ""` {
		t.Errorf("signed in, the page's storage and script-visible cookies are %s, want none", got)
	}
	var jar struct {
		Cookies []struct {
			Name, Value, Path, SameSite string
			HTTPOnly                    bool `json:"httpOnly"`
		}
	}
	if err := json.Unmarshal(page.call(t, "Network.getCookies", map[string]any{"urls": []string{base + "/"}}), &jar); err != nil {
		t.Fatal(err)
	}
	if len(jar.Cookies) != 1 || jar.Cookies[0].Name != dashboard.CookieName || !jar.Cookies[0].HTTPOnly || jar.Cookies[0].SameSite != "Strict" || jar.Cookies[0].Path != "/" {
		t.Fatalf("the browser's cookies: %+v", jar.Cookies)
	}
	session := &http.Cookie{Name: dashboard.CookieName, Value: jar.Cookies[0].Value}
	if n := a.dash.Subscribers(); n != 1 {
		t.Errorf("%d open streams, want 1", n)
	}

	if _, err := a.replay(ctx, lake); err != nil {
		t.Fatal(err)
	}
	page.waitJS(t, "the detection in the page", `!!document.querySelector('li.det[data-rule="privileged_docker_container"]')`)
	page.evalString(t, `document.querySelector('li.det[data-rule="privileged_docker_container"]').click(), ''`)
	ancestry := page.evalString(t, `document.querySelector('#d-ancestry').innerText`)
	for _, want := range []string{"/usr/sbin/sshd", "/usr/bin/bash", "/usr/bin/docker", "docker run --privileged"} {
		if !strings.Contains(ancestry, want) {
			t.Errorf("ancestry %q lacks %q", ancestry, want)
		}
	}
	page.waitJS(t, "the timeline and sensors", `document.querySelectorAll('#timeline rect.bar').length > 0 && !!document.querySelector('#timeline circle.det') && !!document.querySelector('#sensors tr[data-sensor="replay-sensor"]')`)

	// the event's time in the JSON pane, digit for digit as the API sends it
	req, _ := http.NewRequest("GET", base+"/v1/orgs/local/detections?limit=200", nil)
	req.Header.Set("Authorization", "Bearer "+a.apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page1 struct {
		Detections []struct {
			Rule  string
			Event struct {
				Routing struct {
					EventTime json.Number `json:"event_time"`
				}
			}
		}
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	err = dec.Decode(&page1)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	var nanos string
	for _, d := range page1.Detections {
		if d.Rule == "privileged_docker_container" {
			nanos = d.Event.Routing.EventTime.String()
		}
	}
	if n, err := strconv.ParseInt(nanos, 10, 64); err != nil || int64(float64(n)) == n {
		t.Fatalf("event_time %q: want one a float64 cannot hold (%v)", nanos, err)
	}
	if pane := page.evalString(t, `document.querySelector('#d-event').textContent`); !strings.Contains(pane, `"event_time": `+nanos+",") {
		t.Errorf("the JSON pane does not show event_time %s exactly:\n%s", nanos, pane)
	}

	res := page.call(t, "Page.captureScreenshot", map[string]any{"format": "png"})
	var shot struct{ Data string }
	if err := json.Unmarshal(res, &shot); err != nil {
		t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot is not a PNG (%v)", err)
	}
	out := filepath.Join(t.ArtifactDir(), "dashboard.png")
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", out)
	if p := os.Getenv("VIGIL_DASHBOARD_PNG"); p != "" {
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// signing out: back to the sign-in box; the old cookie no longer works
	page.evalString(t, `document.querySelector('#logout').click(), ''`)
	page.waitJS(t, "the sign-in box after signing out", signedOut+` && document.querySelector('#status').textContent === 'signed out'`)
	if got := page.evalString(t, `document.querySelector('#app').innerText.includes('replay-sensor') ? 'data' : ''`); got != "" {
		t.Error("the signed-out page still holds the org's data")
	}
	for _, path := range []string{"/dashboard/whoami", "/v1/orgs/local/detections"} {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.AddCookie(session)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("%s with the signed-out cookie: %d, want 401", path, resp.StatusCode)
		}
	}
	page.call(t, "Page.reload", nil)
	page.waitJS(t, "the sign-in box after a reload", `document.readyState === 'complete' && document.querySelector('#status').textContent === 'signed out'`)
}

// cdp speaks the Chrome DevTools Protocol over --remote-debugging-pipe: JSON
// messages separated by NUL bytes, chromium reading fd 3 and writing fd 4.
type cdp struct {
	cmd    *exec.Cmd
	w      *os.File
	stderr *syncBuffer

	mu      sync.Mutex
	next    int
	pending map[int]chan cdpReply
	dead    error
}

type cdpReply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

type cdpPage struct {
	b       *cdp
	session string
}

func startChromium(t *testing.T) *cdp {
	t.Helper()
	toChrome, ourW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ourR, fromChrome, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &cdp{w: ourW, stderr: &syncBuffer{}, pending: map[int]chan cdpReply{}}
	c.cmd = exec.Command(chromiumPath, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
		"--disable-default-apps", "--mute-audio", "--hide-scrollbars", "--no-default-browser-check",
		"--user-data-dir="+t.TempDir(), "--remote-debugging-pipe", "about:blank")
	c.cmd.ExtraFiles = []*os.File{toChrome, fromChrome}
	c.cmd.Stderr = c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	toChrome.Close()
	fromChrome.Close()
	go c.read(ourR)
	t.Cleanup(func() {
		done := make(chan struct{})
		go func() {
			_, _ = c.send("Browser.close", nil, "")
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		exited := make(chan error, 1)
		go func() { exited <- c.cmd.Wait() }()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = c.cmd.Process.Kill()
			<-exited
		}
		ourW.Close()
	})
	return c
}

func (c *cdp) read(r io.ReadCloser) {
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		msg, err := br.ReadBytes(0)
		if err != nil {
			c.mu.Lock()
			c.dead = fmt.Errorf("chromium closed the pipe: %v; stderr:\n%s", err, c.stderr.String())
			for id, ch := range c.pending {
				close(ch)
				delete(c.pending, id)
			}
			c.mu.Unlock()
			return
		}
		var m struct {
			ID int `json:"id"`
			cdpReply
		}
		if json.Unmarshal(msg[:len(msg)-1], &m) != nil || m.ID == 0 {
			continue // an event
		}
		c.mu.Lock()
		ch := c.pending[m.ID]
		delete(c.pending, m.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- m.cdpReply
		}
	}
}

func (c *cdp) send(method string, params any, session string) (json.RawMessage, error) {
	c.mu.Lock()
	if c.dead != nil {
		c.mu.Unlock()
		return nil, c.dead
	}
	c.next++
	id := c.next
	ch := make(chan cdpReply, 1)
	c.pending[id] = ch
	c.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	b, _ := json.Marshal(msg)
	if _, err := c.w.Write(append(b, 0)); err != nil {
		return nil, err
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return nil, c.dead
		}
		if r.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, r.Error.Message)
		}
		return r.Result, nil
	case <-time.After(60 * time.Second):
		return nil, fmt.Errorf("%s: no answer from chromium in 60s; stderr:\n%s", method, c.stderr.String())
	}
}

func (c *cdp) newPage(t *testing.T) *cdpPage {
	t.Helper()
	res, err := c.send("Target.createTarget", map[string]any{"url": "about:blank"}, "")
	if err != nil {
		t.Fatal(err)
	}
	var target struct{ TargetID string }
	_ = json.Unmarshal(res, &target)
	if res, err = c.send("Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, ""); err != nil {
		t.Fatal(err)
	}
	var att struct{ SessionID string }
	_ = json.Unmarshal(res, &att)
	p := &cdpPage{b: c, session: att.SessionID}
	p.call(t, "Page.enable", nil)
	p.call(t, "Runtime.enable", nil)
	return p
}

func (p *cdpPage) call(t *testing.T, method string, params any) json.RawMessage {
	t.Helper()
	res, err := p.b.send(method, params, p.session)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// eval evaluates expression in the page and returns its value as JSON.
func (p *cdpPage) eval(expression string) (json.RawMessage, error) {
	res, err := p.b.send("Runtime.evaluate", map[string]any{"expression": expression, "returnByValue": true, "awaitPromise": true}, p.session)
	if err != nil {
		return nil, err
	}
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return nil, err
	}
	if r.ExceptionDetails != nil {
		return nil, errors.New(r.ExceptionDetails.Text + " " + r.ExceptionDetails.Exception.Description)
	}
	return r.Result.Value, nil
}

func (p *cdpPage) evalString(t *testing.T, expression string) string {
	t.Helper()
	v, err := p.eval(expression)
	if err != nil {
		t.Fatal(err)
	}
	var s string
	_ = json.Unmarshal(v, &s)
	return s
}

func (p *cdpPage) waitJS(t *testing.T, what, cond string) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		v, err := p.eval(cond)
		if err == nil && string(v) == "true" {
			return
		}
		if time.Now().After(deadline) {
			body, _ := p.eval(`document.body ? document.body.innerText.slice(0, 2000) : ''`)
			t.Fatalf("timed out waiting for %s (last error %v); page text: %s", what, err, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func detectID(rule, eventID string) string { return detect.DetectionID(rule, eventID) }
