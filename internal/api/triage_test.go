package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/internal/task"
	"github.com/vigil-sec/vigil/internal/tuning"
)

// minerRule is the rule of the detections localServer stores.
const minerRule = "detection:\n  event: NEW_PROCESS\n  op: is\n  path: event/FILE_NAME\n  value: xmrig\nresponse:\n  - action: report\n    name: miner\n    metadata:\n      severity: high\n"

// localKeys are the keys localServer stores, by role ("legacy" has none).
var localKeys = map[string]api.Key{
	"viewer":    {Org: "acme", Name: "dashboards", Role: api.RoleViewer},
	"responder": {Org: "acme", Name: "alice", Role: api.RoleResponder},
	"admin":     {Org: "acme", Name: "root", Role: api.RoleAdmin},
	"legacy":    {Org: "acme", Name: "old-ci"},
	"sensor":    {Org: "acme", Name: "s0-key", Role: api.RoleSensor, SensorID: "s0"},
}

// localServer serves the API as vigil local does (localAPI), on loopback.
func localServer(t *testing.T) (*httptest.Server, *local.Store) {
	t.Helper()
	s, st := localAPI(t)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv, st
}

// localAPI is the API as vigil local builds it: over the embedded store, with
// the keys of localKeys, two registered sensors (s0, s1) and two detections of
// rule miner (d0 on s0, d1 on s1).
func localAPI(t testing.TB) (*api.Server, *local.Store) {
	t.Helper()
	st, err := local.OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	for key, rec := range localKeys {
		if err := st.PutKey(ctx, key, rec); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	rule, err := engine.Parse("miner.yaml", []byte(minerRule))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		id := fmt.Sprint("s", i)
		if err := st.Heartbeat(ctx, &event.Event{SensorID: id, Hostname: "host-" + id, Type: event.SensorHeartbeat, TimeNanos: t0.UnixNano()}); err != nil {
			t.Fatal(err)
		}
		ev := &event.Event{ID: fmt.Sprint("e", i), SensorID: id, Hostname: "host-" + id, Tags: []string{"env:prod"}, Type: event.NewProcess,
			TimeNanos: t0.Add(time.Duration(i) * time.Minute).UnixNano(), FilePath: "/opt/tools/xmrig", CommandLine: "xmrig --bench"}
		d := detect.New(rule, ev)
		d.ID = fmt.Sprint("d", i)
		if _, err := st.Claim(ctx, []detect.Detection{d}); err != nil {
			t.Fatal(err)
		}
	}
	s := &api.Server{Keys: st, KeyAdmin: st, Sensors: st.SensorStore(), Detections: st, Tasks: st.TaskStore(),
		Rules: []*engine.Rule{rule}, Now: func() time.Time { return t0.Add(time.Hour) }}
	return s, st
}

func history(v any) string {
	var out []string
	for _, c := range v.([]any) {
		m := c.(map[string]any)
		out = append(out, fmt.Sprintf("%s:%s:%v>%v", m["by"], m["field"], m["from"], m["to"]))
	}
	return strings.Join(out, ",")
}

// TestDetectionLife walks a detection from new to resolved through the API of
// vigil local: each change is kept with who made it and when, lists filter by
// status, and bad requests get a 400 naming the field.
func TestDetectionLife(t *testing.T) {
	srv, _ := localServer(t)
	status, got := do(t, srv, "GET", "/v1/orgs/acme/detections/d0", "Bearer viewer", "")
	if status != 200 || got["id"] != "d0" || got["rule"] != "miner" || got["status"] != "new" || len(got["comments"].([]any)) != 0 || len(got["history"].([]any)) != 0 {
		t.Fatalf("a new detection: %d %v", status, got)
	}
	status, got = do(t, srv, "PATCH", "/v1/orgs/acme/detections/d0", "Bearer responder", `{"status":"acknowledged","assignee":"alice"}`)
	if status != 200 || got["status"] != "acknowledged" || got["assignee"] != "alice" {
		t.Fatalf("acknowledge: %d %v", status, got)
	}
	status, got = do(t, srv, "POST", "/v1/orgs/acme/detections/d0/comments", "Bearer admin", `{"text":"  the miner came with a bench image  "}`)
	if status != 201 || len(got["comments"].([]any)) != 1 {
		t.Fatalf("comment: %d %v", status, got)
	}
	c := got["comments"].([]any)[0].(map[string]any)
	if c["author"] != "root" || c["text"] != "the miner came with a bench image" || c["time"] != "2026-11-22T11:00:00Z" {
		t.Errorf("the comment: %v", c)
	}
	if status, got = do(t, srv, "PATCH", "/v1/orgs/acme/detections/d0", "Bearer legacy", `{"status":"resolved"}`); status != 200 {
		t.Fatalf("resolve: %d %v", status, got)
	}
	_, got = do(t, srv, "GET", "/v1/orgs/acme/detections/d0", "Bearer viewer", "")
	want := "alice:status:new>acknowledged,alice:assignee:<nil>>alice,root:comment:<nil>>the miner came with a bench image,old-ci:status:acknowledged>resolved"
	if h := history(got["history"]); h != want || got["status"] != "resolved" || got["tuning"] != nil {
		t.Fatalf("history %s, want %s (%v)", h, want, got)
	}
	for _, tc := range []struct{ query, want string }{
		{"", "d1,d0"}, {"?status=new", "d1"}, {"?status=resolved", "d0"}, {"?status=acknowledged", ""}, {"?status=resolved&tag=env:prod", "d0"},
	} {
		status, got := do(t, srv, "GET", "/v1/orgs/acme/detections"+tc.query, "Bearer viewer", "")
		if status != 200 {
			t.Fatalf("%s: %d %v", tc.query, status, got)
		}
		if ids := ids(got["detections"], "id"); ids != tc.want && !(tc.want == "" && ids == "") {
			t.Errorf("list%s: %s, want %s", tc.query, ids, tc.want)
		}
		for _, d := range got["detections"].([]any) {
			if m := d.(map[string]any); m["status"] == nil {
				t.Errorf("list%s: a detection without status: %v", tc.query, m)
			}
		}
	}
	bad := []struct{ method, path, body, want string }{
		{"PATCH", "/v1/orgs/acme/detections/d0", `{"status":"closed"}`, `status "closed": want one of new, acknowledged, resolved, false_positive`},
		{"PATCH", "/v1/orgs/acme/detections/d0", `{}`, "give status"},
		{"PATCH", "/v1/orgs/acme/detections/d0", `{"status":"resolved","owner":"bob"}`, `unknown field "owner"`},
		{"PATCH", "/v1/orgs/acme/detections/d0", `{"assignee":"a\u0007b"}`, "assignee"},
		{"PATCH", "/v1/orgs/acme/detections/d0", `{"assignee":"` + strings.Repeat("a", 129) + `"}`, "assignee: longer than 128"},
		{"PATCH", "/v1/orgs/acme/detections/d0", `{"status":"resolved"} {}`, "one JSON object"},
		{"POST", "/v1/orgs/acme/detections/d0/comments", `{"text":"  "}`, "text is required"},
		{"POST", "/v1/orgs/acme/detections/d0/comments", `{"text":"` + strings.Repeat("x", api.MaxComment+1) + `"}`, "text: longer than"},
		{"GET", "/v1/orgs/acme/detections?status=open", "", `status "open"`},
	}
	for _, tc := range bad {
		status, got := do(t, srv, tc.method, tc.path, "Bearer responder", tc.body)
		if msg, _ := got["error"].(string); status != 400 || !strings.Contains(msg, tc.want) {
			t.Errorf("%s %s %.40s: %d %q, want 400 with %q", tc.method, tc.path, tc.body, status, msg, tc.want)
		}
	}
	for _, m := range []string{"GET", "PATCH"} {
		if status, got := do(t, srv, m, "/v1/orgs/acme/detections/nope", "Bearer responder", `{"status":"resolved"}`); status != 404 {
			t.Errorf("%s an unknown detection: %d %v", m, status, got)
		}
	}
	if status, got := do(t, srv, "POST", "/v1/orgs/acme/detections/nope/comments", "Bearer responder", `{"text":"x"}`); status != 404 {
		t.Errorf("comment on an unknown detection: %d %v", status, got)
	}
}

// TestFalsePositiveTuning: marking a detection a false positive returns a
// tuning entry that parses as a tuning file and, applied, suppresses the rule
// for that event on that host only; nothing applies it by itself.
func TestFalsePositiveTuning(t *testing.T) {
	srv, _ := localServer(t)
	status, got := do(t, srv, "PATCH", "/v1/orgs/acme/detections/d0", "Bearer responder", `{"status":"false_positive"}`)
	entry, _ := got["tuning"].(string)
	if status != 200 || got["status"] != "false_positive" || !strings.Contains(entry, "rules: [miner]") {
		t.Fatalf("false positive: %d %v", status, got)
	}
	f, err := tuning.Parse("suggested.yaml", []byte(entry))
	if err != nil {
		t.Fatalf("the entry is no tuning file: %v\n%s", err, entry)
	}
	rule, err := engine.Parse("miner.yaml", []byte(minerRule))
	if err != nil {
		t.Fatal(err)
	}
	res, err := tuning.Apply([]tuning.Target{{Rule: rule, File: "miner.yaml", Format: "vigil"}}, []*tuning.File{f}, nil)
	if err != nil || len(res.Rules) != 1 {
		t.Fatalf("apply: %v %+v", err, res)
	}
	tuned := res.Rules[0]
	ev := func(host, path string) *event.Event {
		return &event.Event{Hostname: host, SensorID: "s", Type: event.NewProcess, FilePath: path}
	}
	for _, tc := range []struct {
		ev   *event.Event
		want bool
	}{
		{ev("host-s0", "/opt/tools/xmrig"), false},
		{ev("host-s1", "/opt/tools/xmrig"), true},
		{ev("host-s0", "/tmp/xmrig"), true},
	} {
		if !rule.Matches(tc.ev) {
			t.Fatalf("the rule does not match %+v", tc.ev)
		}
		if got := tuned.Matches(tc.ev); got != tc.want {
			t.Errorf("tuned rule on %s %s: %v, want %v\n%s", tc.ev.Hostname, tc.ev.FilePath, got, tc.want, entry)
		}
	}
	// acknowledged again: no entry
	if _, got := do(t, srv, "PATCH", "/v1/orgs/acme/detections/d0", "Bearer responder", `{"status":"acknowledged"}`); got["tuning"] != nil {
		t.Errorf("a tuning entry for acknowledged: %v", got)
	}
}

// TestRoles checks what each key's role lets it do, through the real handler on
// the embedded store; a key stored without a role acts as admin.
func TestRoles(t *testing.T) {
	srv, st := localServer(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC)
	for _, id := range []string{"s0", "s1"} {
		if _, err := st.TaskStore().Create(ctx, taskFor(id, now)); err != nil {
			t.Fatal(err)
		}
	}
	type call struct{ method, path, body string }
	var (
		listSensors  = call{"GET", "/v1/orgs/acme/sensors", ""}
		listDets     = call{"GET", "/v1/orgs/acme/detections", ""}
		getDet       = call{"GET", "/v1/orgs/acme/detections/d0", ""}
		rules        = call{"GET", "/v1/orgs/acme/rules", ""}
		patch        = call{"PATCH", "/v1/orgs/acme/detections/d0", `{"status":"acknowledged"}`}
		comment      = call{"POST", "/v1/orgs/acme/detections/d0/comments", `{"text":"seen"}`}
		isolate      = call{"POST", "/v1/orgs/acme/sensors/s0/tasks", `{"action":"isolate"}`}
		ownTasks     = call{"GET", "/v1/orgs/acme/sensors/s0/tasks", ""}
		otherTasks   = call{"GET", "/v1/orgs/acme/sensors/s1/tasks", ""}
		ownTask      = call{"GET", "/v1/orgs/acme/tasks/t-s0", ""}
		otherTask    = call{"GET", "/v1/orgs/acme/tasks/t-s1", ""}
		otherResult  = call{"POST", "/v1/orgs/acme/tasks/t-s1/result", `{"status":"running"}`}
		ownResult    = call{"POST", "/v1/orgs/acme/tasks/t-s0/result", `{"status":"running"}`}
		listKeys     = call{"GET", "/v1/orgs/acme/keys", ""}
		createKey    = call{"POST", "/v1/orgs/acme/keys", `{"name":"new","role":"viewer"}`}
		createSensor = call{"POST", "/v1/orgs/acme/keys", `{"name":"s1","role":"sensor","sensor_id":"s1"}`}
	)
	tests := []struct {
		key   string
		call  call
		want  int
		error string
	}{
		{"viewer", listSensors, 200, ""},
		{"viewer", listDets, 200, ""},
		{"viewer", getDet, 200, ""},
		{"viewer", rules, 200, ""},
		{"viewer", otherTasks, 200, ""},
		{"viewer", patch, 403, "API key dashboards has role viewer: PATCH /v1/orgs/{org}/detections/{id} needs a responder key"},
		{"viewer", comment, 403, "needs a responder key"},
		{"viewer", isolate, 403, "API key dashboards has role viewer: POST /v1/orgs/{org}/sensors/{id}/tasks needs a responder key"},
		{"viewer", ownResult, 403, "needs an admin key"},
		{"viewer", listKeys, 403, "needs an admin key"},
		{"responder", patch, 200, ""},
		{"responder", comment, 201, ""},
		{"responder", isolate, 201, ""},
		{"responder", listKeys, 403, "role responder"},
		{"responder", createKey, 403, "role responder"},
		{"admin", listKeys, 200, ""},
		{"admin", createKey, 201, ""},
		{"admin", createSensor, 201, ""},
		{"legacy", listKeys, 200, ""},
		{"legacy", isolate, 201, ""},
		{"sensor", ownTasks, 200, ""},
		{"sensor", ownTask, 200, ""},
		{"sensor", ownResult, 200, ""},
		{"sensor", otherTasks, 403, "API key s0-key is bound to sensor s0, not s1"},
		{"sensor", otherTask, 403, "bound to sensor s0, not s1"},
		{"sensor", otherResult, 403, "bound to sensor s0, not s1"},
		{"sensor", listDets, 403, "API key s0-key has role sensor: GET /v1/orgs/{org}/detections needs a viewer, responder or admin key"},
		{"sensor", isolate, 403, "role sensor"},
		{"sensor", patch, 403, "role sensor"},
		{"sensor", listKeys, 403, "role sensor"},
	}
	for _, tc := range tests {
		t.Run(tc.key+" "+tc.call.method+" "+tc.call.path, func(t *testing.T) {
			status, got := do(t, srv, tc.call.method, tc.call.path, "Bearer "+tc.key, tc.call.body)
			msg, _ := got["error"].(string)
			if status != tc.want || !strings.Contains(msg, tc.error) || (tc.error == "") != (msg == "") {
				t.Fatalf("%d %q, want %d %q", status, msg, tc.want, tc.error)
			}
		})
	}
	// the task the responder started records who started it
	_, got := do(t, srv, "GET", "/v1/orgs/acme/sensors/s0/tasks", "Bearer viewer", "")
	by := map[string]int{}
	for _, x := range got["tasks"].([]any) {
		by[fmt.Sprint(x.(map[string]any)["requested_by"])]++
	}
	if by["alice"] != 1 || by["old-ci"] != 1 {
		t.Errorf("tasks by requester: %v", by)
	}
	// keys are listed with their roles; the one stored without is admin
	_, got = do(t, srv, "GET", "/v1/orgs/acme/keys", "Bearer admin", "")
	roles := map[string]string{}
	for _, k := range got["keys"].([]any) {
		m := k.(map[string]any)
		roles[fmt.Sprint(m["name"])] = fmt.Sprint(m["role"], "/", m["sensor_id"])
	}
	if roles["old-ci"] != "admin/<nil>" || roles["s0-key"] != "sensor/s0" || roles["s1"] != "sensor/s1" || roles["new"] != "viewer/<nil>" {
		t.Errorf("listed roles: %v", roles)
	}
	for _, tc := range []struct{ body, want string }{
		{`{"name":"x","role":"root"}`, `role "root": want one of viewer, responder, admin, sensor`},
		{`{"name":"x","role":"sensor"}`, "sensor_id is required for role sensor"},
		{`{"name":"x","role":"viewer","sensor_id":"s0"}`, "only a key of role sensor is bound to a sensor"},
	} {
		status, got := do(t, srv, "POST", "/v1/orgs/acme/keys", "Bearer admin", tc.body)
		if msg, _ := got["error"].(string); status != 400 || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: %d %q, want 400 %q", tc.body, status, msg, tc.want)
		}
	}
}

// TestTaskForUnknownSensor: a task for a sensor that never registered is 404
// naming the sensor, and nothing is queued.
func TestTaskForUnknownSensor(t *testing.T) {
	srv, st := localServer(t)
	status, got := do(t, srv, "POST", "/v1/orgs/acme/sensors/nonexistent/tasks", "Bearer responder", `{"action":"isolate"}`)
	if msg, _ := got["error"].(string); status != 404 || !strings.Contains(msg, `sensor "nonexistent": no such sensor has registered`) {
		t.Fatalf("%d %v", status, got)
	}
	if list, err := st.TaskStore().ForSensor(context.Background(), "nonexistent", time.Time{}); err != nil || len(list) != 0 {
		t.Fatalf("queued %v %v", list, err)
	}
}

// TestBodyTooLarge: every route that reads a body refuses one over
// api.MaxBody with 413 before decoding it.
func TestBodyTooLarge(t *testing.T) {
	srv, _ := localServer(t)
	big := `{"text":"` + strings.Repeat("a", api.MaxBody) + `"}`
	for _, route := range []struct{ method, path string }{
		{"PATCH", "/v1/orgs/acme/detections/d0"},
		{"POST", "/v1/orgs/acme/detections/d0/comments"},
		{"POST", "/v1/orgs/acme/sensors/s0/tasks"},
		{"POST", "/v1/orgs/acme/tasks/t-1/result"},
		{"POST", "/v1/orgs/acme/keys"},
	} {
		status, got := do(t, srv, route.method, route.path, "Bearer admin", big)
		if msg, _ := got["error"].(string); status != http.StatusRequestEntityTooLarge || msg != fmt.Sprintf("body: larger than %d bytes", api.MaxBody) {
			t.Errorf("%s %s: %d %v", route.method, route.path, status, got)
		}
	}
}

// TestConcurrentChangesLocal: concurrent PATCHes and comments on one detection
// are all kept in its history.
func TestConcurrentChangesLocal(t *testing.T) {
	srv, _ := localServer(t)
	concurrentChanges(t, srv, "Bearer responder", "d0")
}

// TestConcurrentChangesDynamoDB: the same on the detections table in the
// DynamoDB emulator, where conditional writes keep every change.
func TestConcurrentChangesDynamoDB(t *testing.T) {
	srv := newServer(t)
	concurrentChanges(t, srv, "Bearer good", "d3")
}

// TestDetectionStatusDynamoDB: status changes on the detections table show in
// lists of every index, which filter by status and page through the filter.
func TestDetectionStatusDynamoDB(t *testing.T) {
	srv := newServer(t)
	for _, id := range []string{"d3", "d5", "d1"} {
		if status, got := do(t, srv, "PATCH", "/v1/orgs/acme/detections/"+id, "Bearer good", `{"status":"resolved","assignee":"bob"}`); status != 200 {
			t.Fatalf("%s: %d %v", id, status, got)
		}
	}
	if status, got := do(t, srv, "PATCH", "/v1/orgs/acme/detections/d3", "Bearer good", `{"status":"false_positive"}`); status != 200 || got["tuning"] == nil {
		t.Fatalf("false positive: %d %v", status, got)
	}
	status, got := do(t, srv, "GET", "/v1/orgs/acme/detections/d3", "Bearer good", "")
	if status != 200 || got["status"] != "false_positive" || got["assignee"] != "bob" || history(got["history"]) != "ci:status:new>resolved,ci:assignee:<nil>>bob,ci:status:resolved>false_positive" {
		t.Fatalf("d3: %d %v", status, got)
	}
	for _, tc := range []struct{ query, want string }{
		{"?status=resolved", "d5,d1"},
		{"?status=false_positive", "d3"},
		{"?status=new", "d6,d4,d2,d0"},
		{"?status=resolved&tag=deployment:42", "d1"},
		{"?status=false_positive&sensor=s0", "d3"},
		{"?status=new&sensor=s0", "d6,d4,d2,d0"},
	} {
		status, got := do(t, srv, "GET", "/v1/orgs/acme/detections"+tc.query, "Bearer good", "")
		if status != 200 || ids(got["detections"], "id") != tc.want {
			t.Errorf("%s: %d %v, want %s", tc.query, status, got, tc.want)
		}
	}
	// pages of a filtered list are full until the end
	var all []string
	path := "/v1/orgs/acme/detections?status=new&limit=3"
	for range 4 {
		_, body := do(t, srv, "GET", path, "Bearer good", "")
		all = append(all, ids(body["detections"], "id"))
		next, _ := body["next_cursor"].(string)
		if next == "" {
			break
		}
		path = "/v1/orgs/acme/detections?status=new&limit=3&cursor=" + next
	}
	if got := strings.Join(all, "|"); got != "d6,d4,d2|d0" {
		t.Errorf("pages %s, want d6,d4,d2|d0", got)
	}
	_, body := do(t, srv, "GET", "/v1/orgs/acme/detections?tag=deployment:43", "Bearer good", "")
	for _, d := range body["detections"].([]any) {
		m := d.(map[string]any)
		if want := map[string]string{"d5": "resolved", "d6": "new", "d4": "new"}[fmt.Sprint(m["id"])]; m["status"] != want {
			t.Errorf("listed %v with status %v, want %s", m["id"], m["status"], want)
		}
	}
	if status, got := do(t, srv, "GET", "/v1/orgs/acme/detections/d3%23tag%23deployment:42", "Bearer good", ""); status != 404 {
		t.Errorf("an index item as a detection: %d %v", status, got)
	}
}

// concurrentChanges sends 8 PATCHes and 8 comments to the detection at once and
// checks all 16 are in its history.
func concurrentChanges(t *testing.T, srv *httptest.Server, key, id string) {
	t.Helper()
	var wg sync.WaitGroup
	statuses := []string{"acknowledged", "resolved"}
	errs := make(chan string, 16)
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			// alternate statuses, each also assigning: every PATCH changes something
			body := fmt.Sprintf(`{"status":%q,"assignee":"a%d"}`, statuses[i%2], i)
			if status, got := do(t, srv, "PATCH", "/v1/orgs/acme/detections/"+id, key, body); status != 200 {
				errs <- fmt.Sprintf("patch %d: %d %v", i, status, got)
			}
		}()
		go func() {
			defer wg.Done()
			if status, got := do(t, srv, "POST", "/v1/orgs/acme/detections/"+id+"/comments", key, fmt.Sprintf(`{"text":"c%d"}`, i)); status != 201 {
				errs <- fmt.Sprintf("comment %d: %d %v", i, status, got)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	_, got := do(t, srv, "GET", "/v1/orgs/acme/detections/"+id, key, "")
	assignees, comments := map[string]bool{}, 0
	for _, c := range got["history"].([]any) {
		m := c.(map[string]any)
		switch m["field"] {
		case "assignee":
			assignees[fmt.Sprint(m["to"])] = true
		case "comment":
			comments++
		}
	}
	if len(assignees) != 8 || comments != 8 || len(got["comments"].([]any)) != 8 {
		t.Fatalf("history kept %d assignments and %d comments of 8 each: %v", len(assignees), comments, got["history"])
	}
}

func taskFor(sensor string, now time.Time) task.Task {
	return task.Task{ID: "t-" + sensor, SensorID: sensor, Action: "isolate", Status: task.Pending, Created: now, Updated: now, Deadline: now.Add(time.Hour)}
}

// TestRoutingErrors: a path no route has, a method a route does not take and
// an org that is the key's only once its escaped slash is decoded are JSON
// errors, and the last stores nothing.
func TestRoutingErrors(t *testing.T) {
	srv, st := localServer(t)
	tests := []struct {
		method, path string
		status       int
		want         string
	}{
		{"GET", "/v1/orgs/acme/nothing", 404, "no route GET /v1/orgs/acme/nothing"},
		{"GET", "/", 404, "no route GET /"},
		{"DELETE", "/v1/orgs/acme/detections/d0", 405, "method DELETE: /v1/orgs/{org}/detections/{id} takes GET, HEAD, PATCH"},
		{"POST", "/v1/orgs/acme%2Fx/keys", 403, `API key is not valid for org "acme/x"`},
		{"GET", "/v1/orgs/acme%2Fx/keys", 403, `API key is not valid for org "acme/x"`},
		{"GET", "/v1/orgs/ac%6De/keys", 200, ""},
	}
	for _, tc := range tests {
		status, got := do(t, srv, tc.method, tc.path, "Bearer admin", `{"name":"x"}`)
		if msg, _ := got["error"].(string); status != tc.status || msg != tc.want {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.path, status, msg, tc.status, tc.want)
		}
	}
	if keys, err := st.ListKeys(context.Background(), "acme/x"); err != nil || len(keys) != 0 {
		t.Errorf("keys of org acme/x: %v %v", keys, err)
	}
}

// TestTriageSizeDynamoDB: comments of the largest size are kept until the
// detection's triage reaches api.MaxTriage, then refused with 409 naming the
// limit, on the detections table as in vigil local's store: never a 5xx from an
// item over DynamoDB's 400 KB.
func TestTriageSizeDynamoDB(t *testing.T) {
	srv := newServer(t)
	local, _ := localServer(t)
	text := strings.Repeat("x", api.MaxComment)
	for name, s := range map[string]struct {
		srv       *httptest.Server
		key, path string
	}{"dynamodb": {srv, "Bearer good", "/v1/orgs/acme/detections/d3"}, "local": {local, "Bearer responder", "/v1/orgs/acme/detections/d0"}} {
		kept := 0
		for ; kept < api.MaxComments; kept++ {
			status, got := do(t, s.srv, "POST", s.path+"/comments", s.key, `{"text":"`+text+`"}`)
			if status == http.StatusConflict {
				if msg, _ := got["error"].(string); !strings.Contains(msg, fmt.Sprintf("more than the %d bytes", api.MaxTriage)) {
					t.Errorf("%s: %q", name, msg)
				}
				break
			}
			if status != http.StatusCreated {
				t.Fatalf("%s: comment %d: %d %v", name, kept, status, got)
			}
		}
		if kept == 0 || kept == api.MaxComments {
			t.Errorf("%s: kept %d comments of %d bytes", name, kept, len(text))
		}
		status, got := do(t, s.srv, "GET", s.path, s.key, "")
		if status != 200 || len(got["comments"].([]any)) != kept {
			t.Errorf("%s: %d with %d comments, want %d", name, status, len(got["comments"].([]any)), kept)
		}
	}
}
