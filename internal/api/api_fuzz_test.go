package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/k8saudit"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/internal/search"
	"github.com/vigil-sec/vigil/internal/task"
)

// The fuzz targets of this file drive the API's real handler, over the store
// vigil local uses (localAPI), its event lake (searchLake) and its in-process
// stream, with untrusted request bodies, query strings, path values and API
// Gateway events. For any input they check that the handler answers 2xx or 4xx
// (never 5xx: the store under them does not fail), with a JSON object body
// whose 4xx error names what was wrong, that answers stay within the API's
// documented limits, and that a refused request stores nothing: neither the
// store's log nor the detections change, nothing reaches the stream.

// fuzzAPI is the API under fuzzing and what it stores into.
type fuzzAPI struct {
	h      http.Handler
	st     *local.Store
	stream *local.Stream
	search string // the id of a search held by the API
	tasks  atomic.Int64
}

// pageSize is the search page size of the fuzzed API.
const pageSize = 2

// newFuzzAPI builds the API once per fuzzing process: vigil local's (localAPI)
// with its search lake, an in-process stream for the audit webhook, a
// k8s-audit key ("audit", cluster prod), one pending task per sensor (t-s0,
// t-s1) and one search started.
func newFuzzAPI(f *testing.F) *fuzzAPI {
	s, st := localAPI(f)
	dir, _ := searchLake(f)
	s.Events = &search.Results{Searcher: &search.Lake{Dir: dir}, PageSize: pageSize}
	fx := &fuzzAPI{st: st, stream: local.NewStream(64)}
	s.Stream = fx.stream
	fx.h = s.Handler()
	// a key's last use is noted once an hour: the store's clock stands still so
	// that only the first request of each key writes it (below)
	now := s.Now()
	st.Now = func() time.Time { return now }
	ctx := context.Background()
	if err := st.PutKey(ctx, "audit", api.Key{Org: "acme", Name: "prod-apiserver", Role: api.RoleK8sAudit, SensorID: "prod"}); err != nil {
		f.Fatal(err)
	}
	for _, id := range []string{"s0", "s1"} {
		if _, err := st.TaskStore().Create(ctx, taskFor(id, now)); err != nil {
			f.Fatal(err)
		}
	}
	for key := range localKeys {
		fx.serve("GET", "/v1/orgs/acme/nothing", key, nil)
	}
	fx.serve("GET", "/v1/orgs/acme/nothing", "audit", nil)
	rec, ok := fx.serve("POST", "/v1/orgs/acme/events/search", "viewer", []byte(`{"since":"2h"}`))
	if !ok || rec.Code != http.StatusAccepted {
		f.Fatalf("start a search: %v %d %s", ok, rec.Code, rec.Body)
	}
	var started struct{ ID string }
	if err := json.Unmarshal(rec.Body.Bytes(), &started); err != nil || started.ID == "" {
		f.Fatalf("start a search: %s", rec.Body)
	}
	fx.search = started.ID
	return fx
}

// request is the request the API's server makes of a request line with target
// (as net/http's server parses it); ok is false for a target no server admits.
func request(method, target string, body []byte) (*http.Request, bool) {
	if strings.ContainsAny(target, " \r\n") || !strings.HasPrefix(target, "/") {
		return nil, false
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, false
	}
	r := httptest.NewRequest(method, "/", bytes.NewReader(body))
	r.URL, r.RequestURI = u, target
	return r, true
}

// serve sends the request to the API with key; ok is false for a target no
// server admits.
func (fx *fuzzAPI) serve(method, target, key string, body []byte) (*httptest.ResponseRecorder, bool) {
	r, ok := request(method, target, body)
	if !ok {
		return nil, false
	}
	if key != "" {
		r.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	fx.h.ServeHTTP(rec, r)
	return rec, true
}

// state is what a refused request must leave as it was: the size of the store's
// log (every change the store keeps is a line of it), the detections as the API
// shows them and the records waiting on the stream.
func (fx *fuzzAPI) state(t *testing.T) string {
	t.Helper()
	fi, err := os.Stat(filepath.Join(fx.st.Dir(), local.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "log %d bytes, %d records on the stream\n", fi.Size(), len(fx.stream.Records()))
	for _, id := range []string{"d0", "d1"} {
		doc, tr, err := fx.st.GetDetection(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		view, _ := json.Marshal(tr)
		fmt.Fprintf(&b, "%s %s %s\n", id, doc, view)
	}
	return b.String()
}

// drain takes the records waiting on the stream.
func (fx *fuzzAPI) drain() []local.Record {
	var out []local.Record
	for {
		select {
		case r := <-fx.stream.Records():
			out = append(out, r)
		default:
			return out
		}
	}
}

// newTask stores a pending task of sensor s0 for a result to be posted to.
func (fx *fuzzAPI) newTask(t *testing.T) string {
	t.Helper()
	now := time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC)
	tk := taskFor("s0", now)
	tk.ID = fmt.Sprintf("t-fuzz-%d", fx.tasks.Add(1))
	if _, err := fx.st.TaskStore().Create(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	return tk.ID
}

// checkAnswer checks what holds for the answer to any request: 2xx or 4xx (a
// 3xx only as the redirect of a path that is not clean), a JSON object, and for
// a 4xx a non-empty "error" that, for a 400 or 413, names one of fields (when
// given). It returns the decoded body (nil for a redirect).
func checkAnswer(t *testing.T, what string, code int, header http.Header, body []byte, fields []string) map[string]any {
	t.Helper()
	switch {
	case code >= 500:
		t.Fatalf("%s: %d %s: a server error for a request the store could serve", what, code, body)
	case code >= 300 && code < 400:
		return nil
	case code < 200 || code >= 500:
		t.Fatalf("%s: status %d", what, code)
	}
	if ct := header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s: %d with Content-Type %q: %s", what, code, ct, body)
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("%s: %d: the body is not a JSON object (%v): %s", what, code, err, body)
	}
	if code < 400 {
		return out
	}
	msg, _ := out["error"].(string)
	if msg == "" || msg == "internal error" {
		t.Fatalf("%s: %d without an error message: %s", what, code, body)
	}
	if (code == http.StatusBadRequest || code == http.StatusRequestEntityTooLarge) && len(fields) > 0 {
		named := false
		for _, f := range fields {
			named = named || strings.Contains(msg, f)
		}
		if !named {
			t.Fatalf("%s: %d %q names none of %v", what, code, msg, fields)
		}
	}
	return out
}

// checkDetection checks a detection as the API shows it against the limits of
// triage.go.
func checkDetection(t *testing.T, what string, d map[string]any) {
	t.Helper()
	st, _ := d["status"].(string)
	if !isStatus(st) {
		t.Fatalf("%s: status %q", what, st)
	}
	if a, _ := d["assignee"].(string); len(a) > api.MaxAssignee || strings.TrimSpace(a) != a {
		t.Fatalf("%s: assignee %q", what, a)
	}
	comments, _ := d["comments"].([]any)
	if len(comments) > api.MaxComments {
		t.Fatalf("%s: %d comments, more than %d", what, len(comments), api.MaxComments)
	}
	for _, c := range comments {
		if text, _ := c.(map[string]any)["text"].(string); text == "" || len(text) > api.MaxComment {
			t.Fatalf("%s: a comment of %d bytes", what, len(text))
		}
	}
	if b, _ := json.Marshal(map[string]any{"comments": d["comments"], "history": d["history"]}); len(b) > api.MaxTriage {
		t.Fatalf("%s: comments and history of %d bytes, more than %d", what, len(b), api.MaxTriage)
	}
}

func isStatus(s string) bool {
	for _, x := range api.Statuses {
		if string(x) == s {
			return true
		}
	}
	return false
}

// readSeeds returns the files of testdata/requests/dir.
func readSeeds(f *testing.F, dir string) [][]byte {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "requests", dir, "*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata/requests/%s: %v", dir, err)
	}
	var out [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// readSeedLines returns the fields of each line of testdata/requests/name but
// comments; "-" stands for an empty field.
func readSeedLines(f *testing.F, name string) [][]string {
	f.Helper()
	file, err := os.Open(filepath.Join("testdata", "requests", name))
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()
	var out [][]string
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			fields := strings.Fields(line)
			for i, x := range fields {
				if x == "-" {
					fields[i] = ""
				}
			}
			out = append(out, fields)
		}
	}
	if err := sc.Err(); err != nil || len(out) == 0 {
		f.Fatalf("%s: no seeds (%v)", name, err)
	}
	return out
}

// bodyRoute is a route that takes a JSON body; fields are what its 400s name.
type bodyRoute struct {
	seeds, method, path, key string
	fields                   []string
	writes                   bool // a 2xx stores a change
}

var bodyRoutes = []bodyRoute{
	{"patch", "PATCH", "/v1/orgs/acme/detections/d0", "responder", []string{"body", "status", "assignee"}, true},
	{"comment", "POST", "/v1/orgs/acme/detections/d1/comments", "responder", []string{"body", "text"}, true},
	{"search", "POST", "/v1/orgs/acme/events/search", "viewer", []string{"body", "where", "since", "until", "sensor", "limit"}, false},
	{"task", "POST", "/v1/orgs/acme/sensors/s0/tasks", "responder", []string{"body", "action", "args", "deadline_seconds"}, true},
	{"result", "POST", "/v1/orgs/acme/tasks/%s/result", "sensor", []string{"body", "status"}, true},
	{"key", "POST", "/v1/orgs/acme/keys", "admin", []string{"body", "name", "role", "sensor_id"}, true},
}

// FuzzBodies sends fuzzed JSON bodies to every route that takes one: PATCH a
// detection, comment on one, start a search, start a sensor task, post a task's
// result, create a key.
func FuzzBodies(f *testing.F) {
	for i, r := range bodyRoutes {
		for _, b := range readSeeds(f, r.seeds) {
			f.Add(uint8(i), b)
		}
	}
	fx := newFuzzAPI(f)
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := bodyRoutes[int(route)%len(bodyRoutes)]
		target := r.path
		if r.seeds == "result" {
			target = fmt.Sprintf(r.path, fx.newTask(t))
		}
		before := fx.state(t)
		rec, _ := fx.serve(r.method, target, r.key, body)
		what := fmt.Sprintf("%s %s %q", r.method, target, body)
		out := checkAnswer(t, what, rec.Code, rec.Header(), rec.Body.Bytes(), r.fields)
		after := fx.state(t)
		if rec.Code >= 300 {
			if after != before {
				t.Fatalf("%s: refused with %d, yet the store changed:\n%s→\n%s", what, rec.Code, before, after)
			}
			return
		}
		if r.writes != (after != before) {
			t.Fatalf("%s: %d, yet the store changed: %v:\n%s→\n%s", what, rec.Code, after != before, before, after)
		}
		switch r.seeds {
		case "patch", "comment":
			checkDetection(t, what, out)
		case "task":
			var tk task.Task
			if err := json.Unmarshal(rec.Body.Bytes(), &tk); err != nil || tk.Validate() != nil || tk.SensorID != "s0" || tk.RequestedBy != "alice" {
				t.Fatalf("%s: the task %s (%v)", what, rec.Body, err)
			}
		case "key":
			if out["org"] != "acme" || api.CheckKeyName(fmt.Sprint(out["name"])) != nil || api.CheckRole(api.Role(fmt.Sprint(out["role"])), str(out["sensor_id"])) != nil {
				t.Fatalf("%s: created %v", what, out)
			}
		}
	})
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// FuzzAuditWebhook posts fuzzed bodies to the Kubernetes audit webhook, with
// the k8s-audit key of cluster prod or, naming a fuzzed ?cluster=, an admin
// key: what it accepts reaches the stream as that many K8S_AUDIT events of the
// cluster; what it refuses puts nothing on it.
func FuzzAuditWebhook(f *testing.F) {
	files, err := filepath.Glob("../k8saudit/testdata/*")
	if err != nil || len(files) == 0 {
		f.Fatalf("no audit seeds: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(0), "", b)
		f.Add(uint8(1), "staging", b)
	}
	fx := newFuzzAPI(f)
	f.Fuzz(func(t *testing.T, who uint8, cluster string, body []byte) {
		admin := who%2 == 1
		key, target, want := "audit", "/v1/orgs/acme/k8s/audit", "prod"
		if admin {
			key, target, want = "admin", target+"?cluster="+url.QueryEscape(cluster), cluster
		}
		before := fx.state(t)
		rec, _ := fx.serve("POST", target, key, body)
		what := fmt.Sprintf("POST %s %q", target, body)
		out := checkAnswer(t, what, rec.Code, rec.Header(), rec.Body.Bytes(), []string{"cluster", "audit event", "body"})
		recs := fx.drain()
		if rec.Code >= 300 {
			if len(recs) != 0 || fx.state(t) != before {
				t.Fatalf("%s: refused with %d, yet %d records reached the stream", what, rec.Code, len(recs))
			}
			return
		}
		if rec.Code != http.StatusAccepted || out["records"] != float64(len(recs)) {
			t.Fatalf("%s: %d %v, with %d records on the stream", what, rec.Code, out, len(recs))
		}
		n := 0
		for _, r := range recs {
			evs, err := event.Decode(nil, r.Data, detect.MaxBatchRows)
			if err != nil {
				t.Fatalf("%s: a record the API put does not decode: %v", what, err)
			}
			for _, e := range evs {
				if e.Type != event.K8sAudit || e.SensorID != k8saudit.SensorID(want) || e.SensorID != r.PartitionKey || e.Hostname != want {
					t.Fatalf("%s: an event of %s/%s/%s on partition %s, want cluster %s", what, e.Type, e.SensorID, e.Hostname, r.PartitionKey, want)
				}
			}
			n += len(evs)
		}
		if out["events"] != float64(n) || n == 0 {
			t.Fatalf("%s: answered %v, put %d events", what, out, n)
		}
	})
}

// queryRoute is a route whose query string is fuzzed; fields are what its 400s
// name.
type queryRoute struct {
	name, method, path, key string
	body                    []byte
	fields                  []string
}

// FuzzQueries sends fuzzed query strings to the routes that read one: list
// sensors and detections (filters, limit, cursor), a search's pages, a
// sensor's tasks, a detection's context, the audit webhook's cluster.
func FuzzQueries(f *testing.F) {
	fx := newFuzzAPI(f)
	list, err := os.ReadFile("../k8saudit/testdata/eventlist.json")
	if err != nil {
		f.Fatal(err)
	}
	routes := []queryRoute{
		{"detections", "GET", "/v1/orgs/acme/detections", "viewer", nil, []string{"tag", "sensor", "status", "limit", "since", "cursor"}},
		{"sensors", "GET", "/v1/orgs/acme/sensors", "viewer", nil, []string{"tag"}},
		{"tasks", "GET", "/v1/orgs/acme/sensors/s0/tasks", "sensor", nil, []string{"since"}},
		{"search", "GET", "/v1/orgs/acme/events/search/" + fx.search, "viewer", nil, []string{"cursor"}},
		{"context", "GET", "/v1/orgs/acme/detections/d0/context", "viewer", nil, []string{"minutes"}},
		{"audit", "POST", "/v1/orgs/acme/k8s/audit", "admin", list, []string{"cluster"}},
	}
	for _, seed := range readSeedLines(f, "queries.txt") {
		for i, r := range routes {
			if r.name == seed[0] {
				f.Add(uint8(i), seed[1])
			}
		}
	}
	f.Fuzz(func(t *testing.T, route uint8, query string) {
		r := routes[int(route)%len(routes)]
		before := fx.state(t)
		target := r.path + "?" + query
		rec, ok := fx.serve(r.method, target, r.key, r.body)
		if !ok {
			return
		}
		what := r.method + " " + target
		out := checkAnswer(t, what, rec.Code, rec.Header(), rec.Body.Bytes(), r.fields)
		recs := fx.drain()
		if (rec.Code >= 300 || r.method == "GET") && (fx.state(t) != before || len(recs) != 0) {
			t.Fatalf("%s: %d, yet the store changed or %d records reached the stream", what, rec.Code, len(recs))
		}
		if rec.Code >= 300 {
			return
		}
		q, _ := url.ParseQuery(query)
		switch r.name {
		case "detections":
			checkListed(t, fx, what, q, out)
		case "search":
			if evs, _ := out["events"].([]any); len(evs) > pageSize {
				t.Fatalf("%s: a page of %d events, more than %d", what, len(evs), pageSize)
			}
		case "tasks":
			for _, x := range out["tasks"].([]any) {
				if x.(map[string]any)["sensor_id"] != "s0" {
					t.Fatalf("%s: another sensor's task %v", what, x)
				}
			}
		}
	})
}

// checkListed checks a page of detections against the query that listed it:
// no more than its limit, each of its status, and a next_cursor that lists the
// next page.
func checkListed(t *testing.T, fx *fuzzAPI, what string, q url.Values, out map[string]any) {
	t.Helper()
	limit := 100
	if l := q.Get("limit"); l != "" {
		limit, _ = strconv.Atoi(l)
	}
	dets, _ := out["detections"].([]any)
	if len(dets) > limit || len(dets) > api.MaxLimit {
		t.Fatalf("%s: %d detections, more than the limit %d", what, len(dets), limit)
	}
	for _, d := range dets {
		st := fmt.Sprint(d.(map[string]any)["status"])
		if !isStatus(st) || q.Get("status") != "" && st != q.Get("status") {
			t.Fatalf("%s: a detection of status %s", what, st)
		}
	}
	if next, _ := out["next_cursor"].(string); next != "" {
		q.Set("cursor", next)
		rec, _ := fx.serve("GET", "/v1/orgs/acme/detections?"+q.Encode(), "viewer", nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: the next page (cursor %s): %d %s", what, next, rec.Code, rec.Body)
		}
	}
}

// pathRoute is a route whose {org} and {id} are fuzzed; %[1]s stands for the
// org and %[2]s for the id.
type pathRoute struct {
	name, method, path, key string
	body                    []byte
}

var pathRoutes = []pathRoute{
	{"list-detections", "GET", "/v1/orgs/%[1]s/detections", "viewer", nil},
	{"get-detection", "GET", "/v1/orgs/%[1]s/detections/%[2]s", "viewer", nil},
	{"patch", "PATCH", "/v1/orgs/%[1]s/detections/%[2]s", "responder", []byte(`{"status":"acknowledged"}`)},
	{"comment", "POST", "/v1/orgs/%[1]s/detections/%[2]s/comments", "responder", []byte(`{"text":"seen"}`)},
	{"context", "GET", "/v1/orgs/%[1]s/detections/%[2]s/context", "viewer", nil},
	{"search-page", "GET", "/v1/orgs/%[1]s/events/search/%[2]s", "viewer", nil},
	{"create-task", "POST", "/v1/orgs/%[1]s/sensors/%[2]s/tasks", "responder", []byte(`{"action":"isolate"}`)},
	{"sensor-tasks", "GET", "/v1/orgs/%[1]s/sensors/%[2]s/tasks", "sensor", nil},
	{"get-task", "GET", "/v1/orgs/%[1]s/tasks/%[2]s", "sensor", nil},
	{"task-result", "POST", "/v1/orgs/%[1]s/tasks/%[2]s/result", "admin", []byte(`{"status":"running"}`)},
	{"list-keys", "GET", "/v1/orgs/%[1]s/keys", "admin", nil},
	{"create-key", "POST", "/v1/orgs/%[1]s/keys", "admin", []byte(`{"name":"fuzz"}`)},
	{"revoke-key", "DELETE", "/v1/orgs/%[1]s/keys/%[2]s", "admin", nil},
}

// FuzzPathValues sends requests whose {org} and {id} are fuzzed (raw, so
// percent-encoded, with slashes and dots, long): a request is served for the
// key's org only, and anything it does not serve changes nothing.
func FuzzPathValues(f *testing.F) {
	for _, seed := range readSeedLines(f, "paths.txt") {
		for i, r := range pathRoutes {
			if r.name == seed[0] {
				f.Add(uint8(i), seed[1], seed[2]+strings.Join(seed[3:], ""))
			}
		}
	}
	f.Add(uint8(1), "acme", strings.Repeat("d0%2F", 2000))
	fx := newFuzzAPI(f)
	f.Fuzz(func(t *testing.T, route uint8, org, id string) {
		r := pathRoutes[int(route)%len(pathRoutes)]
		target := fmt.Sprintf(r.path, org, id)
		before := fx.state(t)
		rec, ok := fx.serve(r.method, target, r.key, r.body)
		if !ok {
			return
		}
		what := r.method + " " + target
		out := checkAnswer(t, what, rec.Code, rec.Header(), rec.Body.Bytes(), nil)
		after := fx.state(t)
		u, _ := url.ParseRequestURI(target)
		if rec.Code >= 300 && rec.Code < 400 && path.Clean(u.Path) == u.Path {
			t.Fatalf("%s: redirected (%d to %s) though its path is clean", what, rec.Code, rec.Header().Get("Location"))
		}
		if rec.Code >= 300 || r.method == "GET" {
			if after != before {
				t.Fatalf("%s: %d, yet the store changed", what, rec.Code)
			}
			return
		}
		// the org served is the key's: a key it lists or makes is acme's
		for _, k := range append(anys(out["keys"]), out) {
			if m, _ := k.(map[string]any); m != nil && m["org"] != nil && m["org"] != "acme" {
				t.Fatalf("%s: %d for org %v with a key of acme", what, rec.Code, m["org"])
			}
		}
		if r.name == "patch" || r.name == "comment" {
			checkDetection(t, what, out)
		}
	})
}

func anys(v any) []any {
	l, _ := v.([]any)
	return l
}

// FuzzLambda feeds the api function's adapter fuzzed API Gateway (HTTP API,
// payload 2.0) events as JSON, with or without the authorizer's context: it
// answers every one, as a 2xx or 4xx with a JSON body, and refused requests
// store nothing.
func FuzzLambda(f *testing.F) {
	for _, b := range readSeeds(f, "lambda") {
		f.Add(b)
	}
	fx := newFuzzAPI(f)
	h := api.Lambda(fx.h)
	f.Fuzz(func(t *testing.T, raw []byte) {
		var in events.APIGatewayV2HTTPRequest
		if json.Unmarshal(raw, &in) != nil {
			return // API Gateway sends JSON
		}
		checkLambda(t, fx, h, in)
	})
}

// FuzzLambdaRequest is FuzzLambda with the event's fields fuzzed rather than
// its JSON: the method, path, query, body (base64 or not) and the
// authorizer's context (org, role, sensor), so that fuzzed requests reach the
// routes.
func FuzzLambdaRequest(f *testing.F) {
	for _, b := range readSeeds(f, "lambda") {
		var in events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(b, &in); err != nil {
			f.Fatal(err)
		}
		var org, role, sensor string
		if a := in.RequestContext.Authorizer; a != nil {
			org, role, sensor = str(a.Lambda["org"]), str(a.Lambda["role"]), str(a.Lambda["sensor_id"])
		}
		body := in.Body
		if in.IsBase64Encoded {
			b, err := base64.StdEncoding.DecodeString(in.Body)
			if err != nil {
				f.Fatal(err)
			}
			body = string(b)
		}
		f.Add(in.RequestContext.HTTP.Method, in.RawPath, in.RawQueryString, body, in.IsBase64Encoded, org, role, sensor)
	}
	fx := newFuzzAPI(f)
	h := api.Lambda(fx.h)
	f.Fuzz(func(t *testing.T, method, rawPath, query, body string, b64 bool, org, role, sensor string) {
		in := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: rawPath, RawQueryString: query, Body: body, IsBase64Encoded: b64}
		if b64 {
			in.Body = base64.StdEncoding.EncodeToString([]byte(body))
		}
		in.RequestContext.HTTP.Method, in.RequestContext.HTTP.Path = method, rawPath
		if org != "" {
			in.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				Lambda: map[string]any{"org": org, "key": "fuzz", "role": role, "sensor_id": sensor}}
		}
		// through JSON, as API Gateway hands it over
		raw, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		in = events.APIGatewayV2HTTPRequest{}
		if err := json.Unmarshal(raw, &in); err != nil {
			t.Fatal(err)
		}
		checkLambda(t, fx, h, in)
	})
}

// checkLambda answers in and checks the answer as checkAnswer does, and that a
// refused request (or any GET) changed nothing.
func checkLambda(t *testing.T, fx *fuzzAPI, h func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error), in events.APIGatewayV2HTTPRequest) {
	t.Helper()
	before := fx.state(t)
	out, err := h(context.Background(), in)
	what := fmt.Sprintf("%s %s?%s %q", in.RequestContext.HTTP.Method, in.RawPath, in.RawQueryString, in.Body)
	if err != nil {
		t.Fatalf("%s: %v: API Gateway answers 500 for an event the function fails", what, err)
	}
	header := http.Header{}
	for k, v := range out.Headers {
		header.Set(k, v)
	}
	checkAnswer(t, what, out.StatusCode, header, []byte(out.Body), nil)
	recs := fx.drain()
	if (out.StatusCode >= 300 || in.RequestContext.HTTP.Method == "GET") && (fx.state(t) != before || len(recs) != 0) {
		t.Fatalf("%s: %d, yet the store changed or %d records reached the stream", what, out.StatusCode, len(recs))
	}
}
