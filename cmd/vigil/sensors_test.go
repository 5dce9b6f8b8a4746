package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"net/http/httptest"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/local"
)

func init() { apiRetryBackoff = time.Millisecond }

// apiEnv is the real API handler over `vigil local`'s embedded store, served on
// loopback, with the key "k" of org "acme".
type apiEnv struct {
	url   string
	store *local.Store
}

func newAPIEnv(t *testing.T) *apiEnv {
	t.Helper()
	st, err := local.OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.PutKey(context.Background(), "k", api.Key{Org: "acme", Name: "ci"}); err != nil {
		t.Fatal(err)
	}
	var rs []*engine.Rule
	for _, name := range []string{"miner", "reverse_shell"} {
		r, err := engine.Parse(name+".yaml", []byte("detection:\n  event: NEW_PROCESS\n  op: is\n  path: event/FILE_NAME\n  value: x\nresponse:\n  - action: report\n    name: "+name+"\n    metadata:\n      severity: high\n"))
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	s := &api.Server{Keys: st, Sensors: st.SensorStore(), Detections: st, Tasks: st.TaskStore(), Rules: rs}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &apiEnv{url: srv.URL, store: st}
}

func (e *apiEnv) heartbeat(t *testing.T, id, version string, at time.Time, tags ...string) {
	t.Helper()
	ev := &event.Event{SensorID: id, Hostname: "host-" + id, Type: event.SensorHeartbeat, TimeNanos: at.UnixNano(), SensorVersion: version, Tags: tags}
	if err := e.store.Heartbeat(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
}

var detSeq atomic.Int64

func (e *apiEnv) detect(t *testing.T, sensor, severity string, at time.Time, tags ...string) string {
	t.Helper()
	id := fmt.Sprintf("det%04d", detSeq.Add(1))
	d := detect.Detection{ID: id, Rule: "r-" + severity, Name: "r-" + severity, Severity: severity, Time: at,
		Event: event.Event{SensorID: sensor, Hostname: "host-" + sensor, Tags: tags, Type: event.NewProcess, TimeNanos: at.UnixNano(), FilePath: "/tmp/x"}}
	if _, err := e.store.Claim(context.Background(), []detect.Detection{d}); err != nil {
		t.Fatal(err)
	}
	return id
}

// run executes the CLI against e and returns stdout, stderr and the exit code.
func (e *apiEnv) run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return runCLI(t, append(args, "--api-url", e.url, "--api-key", "k", "--org", "acme")...)
}

func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	root := newRoot()
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	if err != nil {
		fmt.Fprintf(&errb, "vigil: %v\n", err)
	}
	return out.String(), errb.String(), exitCode(err)
}

func TestSensorsList(t *testing.T) {
	e := newAPIEnv(t)
	now := time.Now()
	e.heartbeat(t, "s1", "1.2.0", now, "deployment:d1", "env:production")
	e.heartbeat(t, "s2", "1.2.0", now, "deployment:d2", "env:production")
	out, stderr, code := e.run(t, "sensors", "list", "--tag", "env:production")
	if code != 0 || !strings.Contains(out, "SENSOR") || !strings.Contains(out, "host-s1") || !strings.Contains(out, "host-s2") {
		t.Fatalf("code %d\n%s%s", code, out, stderr)
	}
	out, _, code = e.run(t, "sensors", "list", "--tag", "deployment:d2", "-o", "json")
	var got struct{ Sensors []api.Sensor }
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got.Sensors) != 1 || got.Sensors[0].SensorID != "s2" {
		t.Fatalf("json: code %d %s", code, out)
	}
	if _, stderr, code := e.run(t, "sensors", "list", "--tag", "nocolon"); code != 2 || !strings.Contains(stderr, "want KEY:VALUE") {
		t.Fatalf("bad tag: code %d %s", code, stderr)
	}
}

func TestSensorsWait(t *testing.T) {
	e := newAPIEnv(t)
	e.heartbeat(t, "old", "1.2.0", time.Now().Add(-time.Hour), "deployment:d1") // registered, not online
	go func() {
		time.Sleep(150 * time.Millisecond)
		e.heartbeat(t, "s1", "1.2.0", time.Now(), "deployment:d1")
		e.heartbeat(t, "s2", "1.2.0", time.Now(), "deployment:d1")
	}()
	out, stderr, code := e.run(t, "sensors", "wait", "--tag", "deployment:d1", "--count", "2", "--interval", "20ms", "--timeout", "20s")
	if code != 0 || !strings.Contains(out, "2 of 2 sensors online") || !strings.Contains(stderr, "0/2 online (1 registered)") {
		t.Fatalf("code %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	_, stderr, code = e.run(t, "sensors", "wait", "--tag", "deployment:d1", "--count", "3", "--interval", "20ms", "--timeout", "200ms")
	if code != 1 || !strings.Contains(stderr, "timed out after 200ms: 2 of 3 sensors online") {
		t.Fatalf("timeout: code %d\n%s", code, stderr)
	}
	if _, stderr, code := e.run(t, "sensors", "wait"); code != 2 || !strings.Contains(stderr, "--tag deployment:") {
		t.Fatalf("no tag: code %d %s", code, stderr)
	}
}

func TestGate(t *testing.T) {
	e := newAPIEnv(t)
	e.detect(t, "s1", "critical", time.Now().Add(-time.Hour), "deployment:d1") // before the gate: not counted
	drive := func(n int, tag, severity string) {
		time.Sleep(100 * time.Millisecond)
		for range n {
			e.detect(t, "s1", severity, time.Now(), tag)
		}
	}

	t.Run("over the threshold fails early", func(t *testing.T) {
		start := time.Now()
		go drive(3, "deployment:d1", "high")
		// --since: the detections count however late the gate itself starts
		out, stderr, code := e.run(t, "gate", "--tag", "deployment:d1", "--since", start.Format(time.RFC3339Nano), "--duration", "30s", "--threshold", "2", "--interval", "20ms")
		if code != 1 || !strings.Contains(out, "gate FAILED: 3 detections") || !strings.Contains(stderr, "roll the deployment back") {
			t.Fatalf("code %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
		}
		if time.Since(start) > 20*time.Second {
			t.Errorf("the gate waited out its window instead of failing when crossed")
		}
	})
	t.Run("at the threshold passes", func(t *testing.T) {
		since := time.Now().Format(time.RFC3339Nano)
		go func() {
			e.heartbeat(t, "s2", "1.2.0", time.Now(), "deployment:d2") // the deployment is monitored
			drive(2, "deployment:d2", "high")
			drive(4, "deployment:other", "critical") // another deployment
			drive(5, "deployment:d2", "low")         // under --severity
		}()
		out, stderr, code := e.run(t, "gate", "--tag", "deployment:d2", "--since", since, "--duration", "2s", "--threshold", "2", "--severity", "high", "--interval", "20ms", "-o", "json")
		var res gateResult
		if code != 0 || json.Unmarshal([]byte(out), &res) != nil || !res.Passed || res.Detections != 2 || res.BySeverity["high"] != 2 ||
			res.Sensors == nil || res.Sensors.Heartbeating != 1 {
			t.Fatalf("code %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
		}
	})
	t.Run("threshold 0 fails on the first", func(t *testing.T) {
		since := time.Now().Format(time.RFC3339Nano)
		go drive(1, "deployment:d3", "medium")
		out, _, code := e.run(t, "gate", "--tag", "deployment:d3", "--since", since, "--duration", "20s", "--threshold", "0", "--interval", "20ms")
		if code != 1 || !strings.Contains(out, "r-medium=1") {
			t.Fatalf("code %d\n%s", code, out)
		}
	})
}

func rulesFile(t *testing.T, body string) string {
	t.Helper()
	p := t.TempDir() + "/required-rules.txt"
	if err := writeFileBytes(p, body); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBaseline(t *testing.T) {
	e := newAPIEnv(t)
	now := time.Now()
	e.heartbeat(t, "s1", "1.2.0", now, "deployment:d1")
	e.heartbeat(t, "s2", "1.2.0", now, "deployment:d1")
	rules := rulesFile(t, "# required\nminer\n- reverse_shell\n")
	out, stderr, code := e.run(t, "baseline", "--deployment", "d1", "--version", "1.2.0", "--require-rules", rules, "--count", "2")
	if code != 0 || strings.Contains(out, "FAIL") {
		t.Fatalf("pass: code %d\n%s%s", code, out, stderr)
	}

	e.heartbeat(t, "s3", "1.1.0", now.Add(-10*time.Minute), "deployment:d1")
	bad := rulesFile(t, "miner\ncrypto_wallet_theft\n")
	out, stderr, code = e.run(t, "baseline", "--deployment", "d1", "--version", "1.2.0", "--require-rules", bad, "--max-heartbeat-age", "2m")
	for _, want := range []string{"failed 3 checks", "heartbeat sensor s3 (host-s3): last heartbeat 10m0s ago, older than 2m0s",
		`version sensor s3 (host-s3): version "1.1.0", want "1.2.0"`, "rules: not in force: crypto_wallet_theft"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if code != 1 || strings.Count(out, "FAIL") != 3 {
		t.Fatalf("fail: code %d\n%s%s", code, out, stderr)
	}
	_, stderr, code = e.run(t, "baseline", "--deployment", "nothing")
	if code != 1 || !strings.Contains(stderr, "0 sensors tagged deployment:nothing (want at least 1)") {
		t.Fatalf("no sensors: code %d %s", code, stderr)
	}
}

func writeFileBytes(p, body string) error { return os.WriteFile(p, []byte(body), 0o600) }
