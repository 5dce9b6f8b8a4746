package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/internal/search"
)

// runSearch runs the CLI with args, returning stdout and stderr.
func runSearch(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	t.Setenv("VIGIL_API_URL", "")
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), errOut.String(), err
}

func TestEventsSearchLocal(t *testing.T) {
	dir, _ := writeLake(t) // curl at 09:30 (s-1), a connect and a heartbeat at 10:30
	window := []string{"--since", "2026-11-22T09:00:00Z", "--until", "2026-11-22T12:00:00Z", "--lake", dir}
	out, errOut, err := runSearch(t, append([]string{"events", "search", "--where", "{op: contains, path: event/COMMAND_LINE, value: curl}"}, window...)...)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "TIME") || !strings.Contains(lines[1], "cmd=curl http://x") {
		t.Errorf("table:\n%s", out)
	}
	if !strings.Contains(errOut, "3 events scanned, 1 matched; files: 2 read, 0 pruned") {
		t.Errorf("summary: %q", errOut)
	}

	// JSON lines in rule-path shape; the time range prunes the 09:00 partition
	out, errOut, err = runSearch(t, "events", "search", "--json", "--where", "event: NETWORK_CONNECT\nop: is\npath: event/DESTINATION/PORT\nvalue: 443",
		"--since", "2026-11-22T10:00:00Z", "--until", "2026-11-22T11:00:00Z", "--lake", dir)
	if err != nil {
		t.Fatal(err)
	}
	var tree map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &tree); err != nil {
		t.Fatalf("not one JSON line: %v\n%s", err, out)
	}
	if tree["event"].(map[string]any)["DESTINATION"].(map[string]any)["IP_ADDRESS"] != "10.0.0.1" {
		t.Errorf("event %v", tree)
	}
	if !strings.Contains(errOut, "1 matched; files: 1 read, 1 pruned") {
		t.Errorf("summary: %q", errOut)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--where", "{op: is, path: event/COMAND_LINE, value: x}"}, `--where:1: unknown path "event/COMAND_LINE": did you mean event/COMMAND_LINE?`},
		{[]string{"--where", "{op: is, path: event/USER"}, "--where:1: invalid YAML"},
		{[]string{"--since", "soon"}, `--since "soon"`},
		{[]string{"--limit", "-2"}, "--limit -2"},
		{[]string{"--until", "2026-11-22T08:00:00Z", "--since", "2026-11-22T09:00:00Z"}, "--until 2026-11-22T08:00:00Z is not after since"},
	} {
		_, _, err := runSearch(t, append([]string{"events", "search", "--lake", dir}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || exitCode(err) != 2 {
			t.Errorf("%v: %v (exit %d), want %q exit 2", tc.args, err, exitCode(err), tc.want)
		}
	}
	// the events command itself still prints a lake
	if out, _, err := runSearch(t, "events", dir); err != nil || !strings.Contains(out, "SENSOR_HEARTBEAT") {
		t.Errorf("events DIR: %v\n%s", err, out)
	}
}

// searchAPI serves the API over a local store and the lake of writeLake,
// with a detection d-curl of its curl event, as vigil local does; it returns
// the API flags.
func searchAPI(t *testing.T) []string {
	t.Helper()
	dir, _ := writeLake(t)
	st, err := local.OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	if err := st.PutKey(ctx, "k", api.Key{Org: "acme", Name: "viewer", Role: api.RoleViewer}); err != nil {
		t.Fatal(err)
	}
	rule, err := engine.Parse("curl.yaml", []byte("detection:\n  event: NEW_PROCESS\n  op: contains\n  path: event/COMMAND_LINE\n  value: curl\nresponse:\n  - action: report\n    name: curl\n"))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	ev := event.Event{SensorID: "s-1", Type: event.NewProcess, TimeNanos: at.UnixNano(), ID: "e1", PID: 42, PPID: 7, User: "root",
		FilePath: "/usr/bin/curl", CommandLine: "curl http://x"}
	ev.SetAncestors([]event.Ancestor{{PID: 7, Path: "/bin/bash", CommandLine: "bash -i", User: "root"}})
	d := detect.New(rule, &ev)
	d.ID = "d-curl"
	if _, err := st.Claim(ctx, []detect.Detection{d}); err != nil {
		t.Fatal(err)
	}
	s := &api.Server{Keys: st, Sensors: st.SensorStore(), Detections: st, Tasks: st.TaskStore(),
		Events: &search.Results{Searcher: &search.Lake{Dir: dir}, PageSize: 1}}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return []string{"--api-url", srv.URL, "--api-key", "k", "--org", "acme"}
}

func TestEventsSearchAPI(t *testing.T) {
	apiArgs := searchAPI(t)
	out, errOut, err := runSearch(t, append([]string{"events", "search", "--where", "{op: is, path: routing/sensor_id, value: s-1}",
		"--since", "2026-11-22T09:00:00Z", "--until", "2026-11-22T12:00:00Z"}, apiArgs...)...)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.Contains(lines[1], "NEW_PROCESS") || !strings.Contains(lines[3], "SENSOR_HEARTBEAT") {
		t.Errorf("table (three pages of one):\n%s", out)
	}
	if !strings.Contains(errOut, "3 events matched") {
		t.Errorf("summary %q", errOut)
	}
	_, _, err = runSearch(t, append([]string{"events", "search", "--where", "{op: is, path: event/NOPE, value: x}"}, apiArgs...)...)
	if err == nil || !strings.Contains(err.Error(), `unknown path "event/NOPE"`) {
		t.Errorf("bad where through the API: %v", err)
	}
}

func TestDetectionsContext(t *testing.T) {
	apiArgs := searchAPI(t)
	out, _, err := runSearch(t, append([]string{"detections", "context", "d-curl", "--minutes", "10"}, apiArgs...)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"detection d-curl: 2026-11-22T09:20:00Z .. 2026-11-22T09:40:00Z",
		"7 bash -i [root] 0 events\n└─ 42 curl http://x [root] 1 events  ◀ detection",
		"1 events:", "cmd=curl http://x",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, _, err = runSearch(t, append([]string{"detections", "context", "d-curl", "--json"}, apiArgs...)...)
	var d map[string]any
	if err != nil || json.Unmarshal([]byte(out), &d) != nil || d["detection_id"] != "d-curl" || d["tree"].(map[string]any)["pid"] != float64(7) {
		t.Errorf("json: %v\n%s", err, out)
	}
	if _, _, err := runSearch(t, append([]string{"detections", "context", "d-curl", "--minutes", "0"}, apiArgs...)...); exitCode(err) != 2 {
		t.Errorf("--minutes 0: %v", err)
	}
	if _, _, err := runSearch(t, append([]string{"detections", "context", "nope"}, apiArgs...)...); err == nil || !strings.Contains(err.Error(), "404") && !strings.Contains(err.Error(), "not found") {
		t.Errorf("unknown detection: %v", err)
	}
}
