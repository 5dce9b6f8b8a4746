package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/vigil-sec/vigil/internal/api"
	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/testenv"
)

// newServer serves the API over real DynamoDB tables (dynalite or AWS_ENDPOINT_URL)
// holding two keys, three sensors and seven detections.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	c := dynamodb.NewFromConfig(testenv.AWSConfig(t, testenv.DynamoDB(t)))
	keys := &vaws.APIKeys{Client: c, Table: testenv.CreateTable(t, c, testenv.APIKeysTable)}
	sensors := &vaws.Sensors{Client: c, Table: testenv.CreateTable(t, c, testenv.SensorsTable)}
	dets := &vaws.Detections{Client: c, Table: testenv.CreateTable(t, c, testenv.DetectionsTable)}
	tasks := &vaws.Tasks{Client: c, Table: testenv.CreateTable(t, c, testenv.TasksTable)}
	ctx := context.Background()
	for key, rec := range map[string]api.Key{"good": {Org: "acme", Name: "ci"}, "old": {Org: "acme", Name: "old", Revoked: true}, "other": {Org: "globex", Name: "x"}} {
		if err := keys.PutKey(ctx, key, rec); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for i, tags := range [][]string{{"env:prod", "deployment:42"}, {"env:prod"}, {"env:dev"}} {
		ev := &event.Event{SensorID: fmt.Sprint("s", i), Hostname: "h", Type: event.SensorHeartbeat, TimeNanos: t0.UnixNano(), SensorVersion: "1.0", Tags: tags}
		if err := sensors.Heartbeat(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	var ds []detect.Detection
	for i := range 7 {
		at := t0.Add(time.Duration(i) * time.Minute)
		tags := []string{"deployment:42"}
		if i >= 4 {
			tags = []string{"deployment:43"}
		}
		ds = append(ds, detect.Detection{ID: fmt.Sprintf("d%d", i), Rule: "r", Name: "r", Severity: "high", Time: at,
			Event: event.Event{SensorID: "s0", Tags: tags, Type: event.NewProcess, TimeNanos: at.UnixNano()}})
	}
	if _, err := dets.Claim(ctx, ds); err != nil {
		t.Fatal(err)
	}
	rule, err := engine.Parse("miner.yaml", []byte("detection:\n  event: NEW_PROCESS\n  op: is\n  path: event/FILE_NAME\n  value: xmrig\nresponse:\n  - action: report\n    name: miner\n    metadata:\n      severity: high\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := &api.Server{Keys: keys, KeyAdmin: keys, Sensors: sensors, Detections: dets, Tasks: tasks, Rules: []*engine.Rule{rule},
		Now: func() time.Time { return t0.Add(time.Hour) }}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, srv *httptest.Server, method, path, key, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %s", method, path, raw)
	}
	return resp.StatusCode, out
}

func TestAuth(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name, key string
		status    int
	}{
		{"missing", "", 401},
		{"not bearer", "Basic Z29vZA==", 401},
		{"empty bearer", "Bearer ", 401},
		{"wrong", "Bearer nope", 401},
		{"revoked", "Bearer old", 403},
		{"other org", "Bearer other", 403},
		{"good", "Bearer good", 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := do(t, srv, "GET", "/v1/orgs/acme/sensors", tc.key, "")
			if status != tc.status {
				t.Fatalf("status %d, want %d (%v)", status, tc.status, body)
			}
			if msg, _ := body["error"].(string); status != 200 && msg == "" {
				t.Errorf("no error message: %v", body)
			}
		})
	}
}

func ids(v any, field string) string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, fmt.Sprint(x.(map[string]any)[field]))
	}
	return strings.Join(out, ",")
}

func TestQueries(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		path   string
		status int
		list   string // field holding the list
		field  string
		want   string
	}{
		{"/v1/orgs/acme/sensors", 200, "sensors", "sensor_id", "s0,s1,s2"},
		{"/v1/orgs/acme/sensors?tag=env:prod", 200, "sensors", "sensor_id", "s0,s1"},
		{"/v1/orgs/acme/sensors?tag=env:prod&tag=deployment:42", 200, "sensors", "sensor_id", "s0"},
		{"/v1/orgs/acme/sensors?tag=nocolon", 400, "", "", ""},
		{"/v1/orgs/acme/detections", 200, "detections", "id", "d6,d5,d4,d3,d2,d1,d0"},
		{"/v1/orgs/acme/detections?tag=deployment:42", 200, "detections", "id", "d3,d2,d1,d0"},
		{"/v1/orgs/acme/detections?tag=deployment:42&limit=2", 200, "detections", "id", "d3,d2"},
		{"/v1/orgs/acme/detections?since=2026-11-22T10:05:00Z", 200, "detections", "id", "d6,d5"},
		{"/v1/orgs/acme/detections?since=57m", 200, "detections", "id", "d6,d5,d4,d3"},
		{"/v1/orgs/acme/detections?sensor=s0&limit=1", 200, "detections", "id", "d6"},
		{"/v1/orgs/acme/detections?limit=0", 400, "", "", ""},
		{"/v1/orgs/acme/detections?limit=x", 400, "", "", ""},
		{"/v1/orgs/acme/detections?since=yesterday", 400, "", "", ""},
		{"/v1/orgs/acme/detections?cursor=garbage", 400, "", "", ""},
		{"/v1/orgs/acme/detections?tag=a:b&sensor=s0", 400, "", "", ""},
		{"/v1/orgs/acme/rules", 200, "rules", "name", "miner"},
		{"/v1/orgs/acme/tasks/none", 404, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			status, body := do(t, srv, "GET", tc.path, "Bearer good", "")
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, body)
			}
			if tc.list != "" {
				if got := ids(body[tc.list], tc.field); got != tc.want {
					t.Errorf("got %s, want %s", got, tc.want)
				}
			} else if msg, _ := body["error"].(string); msg == "" {
				t.Errorf("4xx without an error message: %v", body)
			}
		})
	}
}

func TestPagination(t *testing.T) {
	srv := newServer(t)
	var all []string
	path := "/v1/orgs/acme/detections?limit=3"
	for page := 0; page < 5; page++ {
		status, body := do(t, srv, "GET", path, "Bearer good", "")
		if status != 200 {
			t.Fatalf("status %d: %v", status, body)
		}
		if got := ids(body["detections"], "id"); got != "" {
			all = append(all, got)
		}
		next, _ := body["next_cursor"].(string)
		if next == "" {
			break
		}
		path = "/v1/orgs/acme/detections?limit=3&cursor=" + next
	}
	if got := strings.Join(all, ","); got != "d6,d5,d4,d3,d2,d1,d0" {
		t.Fatalf("pages gave %s", got)
	}
}

func TestTasks(t *testing.T) {
	srv := newServer(t)
	status, created := do(t, srv, "POST", "/v1/orgs/acme/sensors/s1/tasks", "Bearer good", `{"action":"isolate"}`)
	if status != 201 || created["status"] != "pending" || created["sensor_id"] != "s1" {
		t.Fatalf("create: %d %v", status, created)
	}
	id := created["id"].(string)
	if status, got := do(t, srv, "GET", "/v1/orgs/acme/tasks/"+id, "Bearer good", ""); status != 200 || got["action"] != "isolate" {
		t.Fatalf("get: %d %v", status, got)
	}
	if status, got := do(t, srv, "GET", "/v1/orgs/acme/sensors/s1/tasks", "Bearer good", ""); status != 200 || ids(got["tasks"], "id") != id {
		t.Fatalf("poll: %d %v", status, got)
	}
	if status, got := do(t, srv, "POST", "/v1/orgs/acme/tasks/"+id+"/result", "Bearer good", `{"status":"done","result":"isolated"}`); status != 200 || got["status"] != "done" {
		t.Fatalf("result: %d %v", status, got)
	}
	if status, _ := do(t, srv, "POST", "/v1/orgs/acme/tasks/"+id+"/result", "Bearer good", `{"status":"failed"}`); status != 409 {
		t.Fatalf("second result: %d, want 409", status)
	}
	for _, body := range []string{`{"action":"explode"}`, `{"action":"isolate","deadline_seconds":-1}`, `{"action":"isolate","extra":1}`, `not json`} {
		if status, got := do(t, srv, "POST", "/v1/orgs/acme/sensors/s1/tasks", "Bearer good", body); status != 400 {
			t.Errorf("%s: status %d %v, want 400", body, status, got)
		}
	}
}

// TestTaskArgs checks the API refuses a kill or snapshot task the sensor would
// refuse for its process arguments, with a 400 naming the argument.
func TestTaskArgs(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name, body string
		status     int
		want       string // in the error
	}{
		{"kill by start_time", `{"action":"kill","args":{"pid":"4242","start_time":"123"}}`, 201, ""},
		{"kill by event_time", `{"action":"kill","args":{"pid":"4242","event_time":"1763805600000000000"}}`, 201, ""},
		{"kill of a tree", `{"action":"kill","args":{"pid":"4242","event_time":"1763805600000000000","tree":"true"}}`, 201, ""},
		{"kill of the process only", `{"action":"kill","args":{"pid":"4242","event_time":"1763805600000000000","tree":"false"}}`, 201, ""},
		{"kill with a bad tree", `{"action":"kill","args":{"pid":"4242","event_time":"1763805600000000000","tree":"yes"}}`, 400, `args.tree "yes": want true or false`},
		{"kill without start_time or event_time", `{"action":"kill","args":{"pid":"4242"}}`, 400, "args.start_time or args.event_time is required for kill"},
		{"kill with empty times", `{"action":"kill","args":{"pid":"4242","start_time":"","event_time":""}}`, 400, "args.start_time or args.event_time is required for kill"},
		{"kill with zero times", `{"action":"kill","args":{"pid":"4242","start_time":"0","event_time":"0"}}`, 400, "args.start_time or args.event_time is required for kill"},
		{"kill without args", `{"action":"kill"}`, 400, "args.pid is required for kill"},
		{"kill without pid", `{"action":"kill","args":{"start_time":"123"}}`, 400, "args.pid is required for kill"},
		{"kill of pid 0", `{"action":"kill","args":{"pid":"0","start_time":"123"}}`, 400, `args.pid "0": want a positive integer`},
		{"kill with a bad start_time", `{"action":"kill","args":{"pid":"4242","start_time":"soon"}}`, 400, `args.start_time "soon": want a non-negative integer`},
		{"kill with a negative event_time", `{"action":"kill","args":{"pid":"4242","event_time":"-5"}}`, 400, `args.event_time "-5": want a non-negative integer`},
		{"snapshot", `{"action":"snapshot","args":{"pid":"4242"}}`, 201, ""},
		{"snapshot checked by start_time", `{"action":"snapshot","args":{"pid":"4242","start_time":"123"}}`, 201, ""},
		{"snapshot without pid", `{"action":"snapshot"}`, 400, "args.pid is required for snapshot"},
		{"snapshot with a bad pid", `{"action":"snapshot","args":{"pid":"x"}}`, 400, `args.pid "x": want a positive integer`},
		{"snapshot with a bad event_time", `{"action":"snapshot","args":{"pid":"4242","event_time":"x"}}`, 400, `args.event_time "x": want a non-negative integer`},
		{"isolate names no process", `{"action":"isolate"}`, 201, ""},
		{"rejoin names no process", `{"action":"rejoin"}`, 201, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, got := do(t, srv, "POST", "/v1/orgs/acme/sensors/s1/tasks", "Bearer good", tc.body)
			if status != tc.status {
				t.Fatalf("status %d %v, want %d", status, got, tc.status)
			}
			if msg, _ := got["error"].(string); !strings.Contains(msg, tc.want) || (tc.want == "") != (msg == "") {
				t.Fatalf("error %q, want %q", msg, tc.want)
			}
		})
	}
}

// TestKeysRoutes lists, creates and revokes keys through the API on the api_keys
// table: a key is shown once, works, and gets 403 once revoked.
func TestKeysRoutes(t *testing.T) {
	srv := newServer(t)
	status, body := do(t, srv, "GET", "/v1/orgs/acme/keys", "Bearer good", "")
	if status != 200 || ids(body["keys"], "name") != "ci,old" && ids(body["keys"], "name") != "old,ci" {
		t.Fatalf("list: %d %v", status, body)
	}
	for _, k := range body["keys"].([]any) {
		for _, f := range []string{"key", "key_hash", "hash"} {
			if _, ok := k.(map[string]any)[f]; ok {
				t.Errorf("a listed key shows %s: %v", f, k)
			}
		}
	}
	status, created := do(t, srv, "POST", "/v1/orgs/acme/keys", "Bearer good", `{"name":"ops","role":"admin"}`)
	key, _ := created["key"].(string)
	id, _ := created["id"].(string)
	if status != 201 || !strings.HasPrefix(key, "vk_") || created["name"] != "ops" || created["role"] != "admin" || created["prefix"] != key[:8] || id != api.KeyID(api.HashKey(key)) {
		t.Fatalf("create: %d %v", status, created)
	}
	if status, _ := do(t, srv, "GET", "/v1/orgs/acme/sensors", "Bearer "+key, ""); status != 200 {
		t.Fatalf("the new key: %d", status)
	}
	_, body = do(t, srv, "GET", "/v1/orgs/acme/keys", "Bearer "+key, "")
	if got := ids(body["keys"], "id"); !strings.Contains(got, id) || strings.Contains(fmt.Sprint(body), key) {
		t.Errorf("the new key in the list: %v", body)
	}
	tests := []struct {
		name, method, path, key, body string
		status                        int
		want                          string
	}{
		{"no name", "POST", "/v1/orgs/acme/keys", "good", `{}`, 400, "name is required"},
		{"unknown field", "POST", "/v1/orgs/acme/keys", "good", `{"name":"x","org":"globex"}`, 400, "unknown field"},
		{"control character", "POST", "/v1/orgs/acme/keys", "good", `{"name":"a\nb"}`, 400, "control characters"},
		{"long name", "POST", "/v1/orgs/acme/keys", "good", `{"name":"` + strings.Repeat("n", 65) + `"}`, 400, "longer than 64"},
		{"bad id", "DELETE", "/v1/orgs/acme/keys/zz", "good", "", 400, "16 hex digits"},
		{"unknown id", "DELETE", "/v1/orgs/acme/keys/0123456789abcdef", "good", "", 404, "not found"},
		{"another org's key", "DELETE", "/v1/orgs/globex/keys/" + id, "other", "", 404, "not found"},
		{"another org's keys", "GET", "/v1/orgs/globex/keys", "good", "", 403, "not valid for org globex"},
		{"revoked caller", "GET", "/v1/orgs/acme/keys", "old", "", 403, "revoked"},
		{"revoke", "DELETE", "/v1/orgs/acme/keys/" + id, "good", "", 200, ""},
		{"the revoked key", "GET", "/v1/orgs/acme/sensors", key, "", 403, "API key ops is revoked"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, got := do(t, srv, tc.method, tc.path, "Bearer "+tc.key, tc.body)
			if status != tc.status {
				t.Fatalf("status %d %v, want %d", status, got, tc.status)
			}
			if msg, _ := got["error"].(string); !strings.Contains(msg, tc.want) || (tc.want == "") != (msg == "") {
				t.Fatalf("error %q, want %q", msg, tc.want)
			}
		})
	}
	_, body = do(t, srv, "GET", "/v1/orgs/acme/keys", "Bearer good", "")
	for _, k := range body["keys"].([]any) {
		if m := k.(map[string]any); m["id"] == id && m["revoked"] != true {
			t.Errorf("the revoked key is listed as %v", m)
		}
	}
}

// TestKeysRoutesUnconfigured answers 501 where keys are managed elsewhere.
func TestKeysRoutesUnconfigured(t *testing.T) {
	s := &api.Server{}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	req, _ := http.NewRequestWithContext(api.WithOrg(context.Background(), "acme"), "GET", srv.URL+"/v1/orgs/acme/keys", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("a client's context admits nothing: %d, want 401", resp.StatusCode)
	}
	h := s.Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(api.WithOrg(context.Background(), "acme"), "GET", "/v1/orgs/acme/keys", nil))
	if rec.Code != 501 || !strings.Contains(rec.Body.String(), "not configured") {
		t.Errorf("keys without a KeyAdmin: %d %s", rec.Code, rec.Body)
	}
}
