package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/client"
	"github.com/vigil-sec/vigil/internal/task"
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
	if len(failed) != 1 || !strings.HasPrefix(failed[0], "vigil.compliance.s2/logging (host-s2): last heartbeat 1h0m0s ago") {
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

func TestTask(t *testing.T) {
	e := newAPIEnv(t)
	// a sensor: picks up its task and reports it done
	go func() {
		ts := e.store.TaskStore()
		for range 200 {
			time.Sleep(10 * time.Millisecond)
			list, _ := ts.ForSensor(context.Background(), "s1", time.Now().Add(-time.Hour))
			for _, tk := range list {
				if tk.Action == "kill" && tk.Args["pid"] == "4242" && tk.Status == task.Pending {
					ts.Update(context.Background(), tk.ID, task.Done, "killed 4242", time.Now())
					return
				}
			}
		}
	}()
	out, stderr, code := e.run(t, "task", "kill", "s1", "--pid", "4242", "--wait", "--interval", "20ms", "--timeout", "20s")
	if code != 0 || !strings.Contains(out, "kill on sensor s1: done: killed 4242") {
		t.Fatalf("code %d\n%s%s", code, out, stderr)
	}
	out, _, code = e.run(t, "task", "isolate", "s2", "-o", "json")
	var tk client.Task
	if code != 0 || json.Unmarshal([]byte(out), &tk) != nil || tk.Status != task.Pending || tk.Action != "isolate" {
		t.Fatalf("isolate: code %d %s", code, out)
	}
	_, stderr, code = e.run(t, "task", "snapshot", "s2", "--wait", "--interval", "20ms", "--timeout", "100ms")
	if code != 1 || !strings.Contains(stderr, "still pending after 100ms: is sensor s2 online?") {
		t.Fatalf("wait timeout: code %d %s", code, stderr)
	}
	if _, stderr, code := e.run(t, "task", "kill", "s1"); code != 2 || !strings.Contains(stderr, "--pid is required") {
		t.Fatalf("kill without pid: %d %s", code, stderr)
	}
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
