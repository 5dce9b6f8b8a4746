package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/task"
)

// KeyStore finds API keys; ok is false for an unknown key.
type KeyStore interface {
	Lookup(ctx context.Context, key string) (k Key, ok bool, err error)
}

// KeyManager lists, creates and revokes an org's API keys (stored hashed).
// RevokeKey returns an error wrapping ErrNotFound for an id the org has no key
// with, and the key's record (revoked) otherwise.
type KeyManager interface {
	ListKeys(ctx context.Context, org string) ([]Key, error)
	PutKey(ctx context.Context, key string, rec Key) error
	RevokeKey(ctx context.Context, org, id string) (Key, error)
}

// Sensor is a sensor as the API shows it.
type Sensor struct {
	SensorID string    `json:"sensor_id"`
	Hostname string    `json:"hostname"`
	Version  string    `json:"version"`
	Tags     []string  `json:"tags"`
	LastSeen time.Time `json:"last_seen"`
	Uptime   uint64    `json:"uptime_seconds"`
	Drops    uint64    `json:"drops"`
}

// SensorStore lists sensors carrying all of tags, and finds one by id: Get
// returns an error wrapping ErrNotFound for a sensor that never registered.
type SensorStore interface {
	List(ctx context.Context, tags []string) ([]Sensor, error)
	Get(ctx context.Context, id string) (Sensor, error)
}

// DetectionQuery selects detections, newest first.
type DetectionQuery struct {
	Tag      string
	SensorID string
	Since    time.Time
	Limit    int32
	Cursor   string
	// Status keeps only detections with this status ("" for any).
	Status Status
}

// ErrBadCursor is what stores return (wrapped) for a cursor they did not issue.
var ErrBadCursor = errors.New("invalid cursor")

// DetectionStore lists stored detections (JSON documents) a page at a time, with
// their status and assignee added to each document (MergeObject), and keeps
// their triage.
//
// GetDetection returns a detection's stored document and its triage (an error
// wrapping ErrNotFound for an unknown id). UpdateTriage reads a detection's
// triage, calls change on it and stores the result only if no other update was
// stored in between; otherwise it reads again and calls change again, so that
// concurrent updates are all kept, one after the other. An error from change
// aborts the update and is returned.
type DetectionStore interface {
	List(ctx context.Context, q DetectionQuery) ([]json.RawMessage, string, error)
	GetDetection(ctx context.Context, id string) (json.RawMessage, Triage, error)
	UpdateTriage(ctx context.Context, id string, change func(*Triage) error) (json.RawMessage, Triage, error)
}

// TaskStore keeps sensor tasks.
type TaskStore interface {
	Create(ctx context.Context, t task.Task) (task.Task, error)
	Get(ctx context.Context, id string) (task.Task, error)
	Update(ctx context.Context, id string, status task.Status, result string, now time.Time) (task.Task, error)
	ForSensor(ctx context.Context, sensorID string, since time.Time) ([]task.Task, error)
}

// Errors stores return (wrapped) that map to HTTP statuses.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// Server is the API. Every store must be set, but Keys may be nil behind API
// Gateway's authorizer (see Lambda) and KeyAdmin nil where keys are managed
// elsewhere (the keys routes then answer 501); Now defaults to time.Now.
type Server struct {
	Keys       KeyStore
	KeyAdmin   KeyManager
	Sensors    SensorStore
	Detections DetectionStore
	Tasks      TaskStore
	Rules      []*engine.Rule
	// Stream takes the Kubernetes audit events POSTed to the API; nil, the
	// route answers 501.
	Stream EventStream
	// Events searches the event lake (search.go); nil: the search routes answer 501.
	Events EventSearch
	Now    func() time.Time
	Log    *slog.Logger
}

// Handler returns the API's http.Handler. A path no route has is 404 and a
// method a path's routes do not take is 405 (with Allow), both JSON errors like
// every other.
func (s *Server) Handler() http.Handler {
	read := func(h http.HandlerFunc) http.HandlerFunc { return s.need(RoleViewer, false, h) }
	respond := func(h http.HandlerFunc) http.HandlerFunc { return s.need(RoleResponder, false, h) }
	admin := func(h http.HandlerFunc) http.HandlerFunc { return s.need(RoleAdmin, false, h) }
	sensor := func(h http.HandlerFunc) http.HandlerFunc { return s.need(RoleViewer, true, h) }
	routes := []struct {
		method, path string
		h            http.HandlerFunc
	}{
		{"GET", "/v1/orgs/{org}/sensors", read(s.listSensors)},
		{"GET", "/v1/orgs/{org}/detections", read(s.listDetections)},
		{"GET", "/v1/orgs/{org}/detections/{id}", read(s.getDetection)},
		{"PATCH", "/v1/orgs/{org}/detections/{id}", respond(s.patchDetection)},
		{"POST", "/v1/orgs/{org}/detections/{id}/comments", respond(s.commentDetection)},
		{"GET", "/v1/orgs/{org}/rules", read(s.listRules)},
		{"POST", "/v1/orgs/{org}/events/search", read(s.startSearch)},
		{"GET", "/v1/orgs/{org}/events/search/{id}", read(s.searchPage)},
		{"GET", "/v1/orgs/{org}/detections/{id}/context", read(s.detectionContext)},
		{"POST", "/v1/orgs/{org}/sensors/{id}/tasks", respond(s.createTask)},
		{"GET", "/v1/orgs/{org}/sensors/{id}/tasks", sensor(s.sensorTasks)},
		{"GET", "/v1/orgs/{org}/tasks/{id}", sensor(s.getTask)},
		// a task's result is the sensor's word: its own sensor's key, or an admin's
		{"POST", "/v1/orgs/{org}/tasks/{id}/result", s.need(RoleAdmin, true, s.taskResult)},
		{"GET", "/v1/orgs/{org}/keys", admin(s.listKeys)},
		{"POST", "/v1/orgs/{org}/keys", admin(s.createKey)},
		{"DELETE", "/v1/orgs/{org}/keys/{id}", admin(s.revokeKey)},
		{"POST", "/v1/orgs/{org}/k8s/audit", s.postAudit}, // k8s-audit or admin keys: see postAudit
	}
	mux := http.NewServeMux()
	var paths []string
	allow := map[string][]string{}
	for _, r := range routes {
		mux.HandleFunc(r.method+" "+r.path, sameOrg(r.h))
		if allow[r.path] == nil {
			paths = append(paths, r.path)
		}
		allow[r.path] = append(allow[r.path], r.method)
		if r.method == "GET" {
			allow[r.path] = append(allow[r.path], "HEAD")
		}
	}
	for _, p := range paths {
		methods := strings.Join(allow[p], ", ")
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", methods)
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": fmt.Sprintf("method %s: %s takes %s", r.Method, p, methods)})
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no route %s %s", r.Method, r.URL.Path)})
	})
	return s.auth(mux)
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// httpError is an error with its status.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	switch {
	case errors.As(err, &he):
		writeJSON(w, he.status, map[string]string{"error": he.msg})
	case errors.Is(err, ErrBadCursor):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "cursor: not a cursor this API issued"})
	case errors.Is(err, ErrNotFound):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
	case errors.Is(err, ErrConflict):
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
	default:
		log := s.Log
		if log == nil {
			log = slog.Default()
		}
		log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
	}
}

// auth checks the bearer key against the path's org.
func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, ok := IdentityFrom(r.Context()); ok {
			// admitted by API Gateway's authorizer (see Lambda) or by the
			// server's owner (see WithOrg)
			if p := orgOf(r.URL.Path); p != "" && p != id.Org {
				writeJSON(w, http.StatusForbidden, map[string]string{"error": "API key is not valid for org " + p})
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if s.Keys == nil {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "requests must come through the API's authorizer"})
			return
		}
		h := r.Header.Get("Authorization")
		key, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || strings.TrimSpace(key) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing API key: send Authorization: Bearer <key>"})
			return
		}
		k, found, err := s.Keys.Lookup(r.Context(), strings.TrimSpace(key))
		switch {
		case err != nil:
			s.fail(w, r, err)
			return
		case !found:
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unknown API key"})
			return
		case k.Revoked:
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "API key " + k.Name + " is revoked"})
			return
		}
		if org := orgOf(r.URL.Path); org != "" && org != k.Org {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "API key is not valid for org " + org})
			return
		}
		if err := CheckRole(EffectiveRole(k.Role), k.SensorID); err != nil {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "API key " + k.Name + ": " + err.Error()})
			return
		}
		id := Identity{Org: k.Org, Name: k.Name, Role: k.Role, SensorID: k.SensorID}
		next.ServeHTTP(w, r.WithContext(WithIdentity(r.Context(), id)))
	})
}

// sameOrg refuses a request routed to another org than the one admitted. auth
// checks the org of the decoded path; the route's {org} is matched on the path
// as sent, one segment at a time, so that an org holding an escaped slash
// ("acme%2Fx") is the admitted org's only as auth saw it ("acme").
func sameOrg(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if id, _ := IdentityFrom(r.Context()); r.PathValue("org") != id.Org {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": fmt.Sprintf("API key is not valid for org %q", r.PathValue("org"))})
			return
		}
		h(w, r)
	}
}

func orgOf(path string) string {
	rest, ok := strings.CutPrefix(path, "/v1/orgs/")
	if !ok {
		return ""
	}
	org, _, _ := strings.Cut(rest, "/")
	return org
}

func (s *Server) listSensors(w http.ResponseWriter, r *http.Request) {
	tags := r.URL.Query()["tag"]
	for _, t := range tags {
		if !strings.Contains(t, ":") {
			s.fail(w, r, badRequest("tag %q: want K:V", t))
			return
		}
	}
	list, err := s.Sensors.List(r.Context(), tags)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if list == nil {
		list = []Sensor{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sensors": list})
}

// MaxLimit bounds a page.
const MaxLimit = 1000

func (s *Server) listDetections(w http.ResponseWriter, r *http.Request) {
	q, err := s.detectionQuery(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	docs, next, err := s.Detections.List(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if docs == nil {
		docs = []json.RawMessage{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"detections": docs, "next_cursor": next})
}

func (s *Server) detectionQuery(r *http.Request) (DetectionQuery, error) {
	v := r.URL.Query()
	q := DetectionQuery{Tag: v.Get("tag"), SensorID: v.Get("sensor"), Cursor: v.Get("cursor"), Limit: 100}
	if q.Tag != "" && q.SensorID != "" {
		return q, badRequest("give tag or sensor, not both")
	}
	if st := v.Get("status"); st != "" {
		if !validStatus(Status(st)) {
			return q, badRequest("status %q: want one of %s", st, statusList())
		}
		q.Status = Status(st)
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxLimit {
			return q, badRequest("limit %q: want an integer from 1 to %d", l, MaxLimit)
		}
		q.Limit = int32(n)
	}
	if since := v.Get("since"); since != "" {
		t, err := parseSince(since, s.now())
		if err != nil {
			return q, err
		}
		q.Since = t
	}
	return q, nil
}

// parseSince accepts RFC 3339 times and durations back from now ("15m", "24h").
func parseSince(v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, badRequest("since %q: want an RFC 3339 time (2026-11-22T10:00:00Z) or a duration (15m)", v)
}

// ruleInfo is a rule as GET .../rules shows it: what it reports and, from its
// report's metadata, what a person triaging its detections reads first.
type ruleInfo struct {
	Name        string   `json:"name"`
	Events      []string `json:"events"`
	Report      string   `json:"report,omitempty"`
	Severity    string   `json:"severity"`
	Category    string   `json:"category,omitempty"`
	Description string   `json:"description,omitempty"`
	MITRE       []string `json:"mitre"`
	Maturity    string   `json:"maturity,omitempty"`
	Actions     []string `json:"actions"`
}

func (s *Server) listRules(w http.ResponseWriter, _ *http.Request) {
	out := make([]ruleInfo, 0, len(s.Rules))
	for _, r := range s.Rules {
		ri := ruleInfo{Name: r.Name, Events: r.Events, Severity: "info", MITRE: []string{}, Actions: []string{}}
		if rep := r.Report(); rep != nil {
			ri.Report, ri.Severity, ri.Category = rep.Name, rep.Severity(), rep.Metadata["category"]
			ri.Description, ri.Maturity = rep.Metadata["description"], rep.Metadata["maturity"]
			if rep.MITRE != nil {
				ri.MITRE = rep.MITRE
			}
		}
		for _, a := range r.Response {
			ri.Actions = append(ri.Actions, a.Action)
		}
		out = append(out, ri)
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": out})
}

type taskRequest struct {
	Action          string            `json:"action"`
	Args            map[string]string `json:"args"`
	DeadlineSeconds int               `json:"deadline_seconds"`
}

// MaxBody bounds a request's body: a larger one is refused (413) before it is
// decoded.
const MaxBody = 64 << 10

// decodeBody decodes the request's JSON body into v, reading at most MaxBody
// bytes of it.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("body: larger than %d bytes", tooBig.Limit)}
		}
		return badRequest("body: %v", err)
	}
	if dec.More() {
		return badRequest("body: one JSON object expected, found more after it")
	}
	return nil
}

func (s *Server) createTask(w http.ResponseWriter, r *http.Request) {
	var req taskRequest
	if err := decodeBody(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if !task.ValidAction(req.Action) {
		s.fail(w, r, badRequest("action %q: want one of %s", req.Action, strings.Join(task.Actions, ", ")))
		return
	}
	if err := checkProcessArgs(req.Action, req.Args); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.DeadlineSeconds == 0 {
		req.DeadlineSeconds = 300
	}
	if req.DeadlineSeconds < 1 || req.DeadlineSeconds > 86400 {
		s.fail(w, r, badRequest("deadline_seconds %d: want 1 to 86400", req.DeadlineSeconds))
		return
	}
	sensorID := r.PathValue("id")
	if _, err := s.Sensors.Get(r.Context(), sensorID); err != nil {
		if errors.Is(err, ErrNotFound) {
			err = &httpError{http.StatusNotFound, fmt.Sprintf("sensor %q: no such sensor has registered (vigil sensors list shows those that have)", sensorID)}
		}
		s.fail(w, r, err)
		return
	}
	id, _ := IdentityFrom(r.Context())
	now := s.now().UTC()
	t, err := s.Tasks.Create(r.Context(), task.Task{
		ID: "t-" + event.NewID(now), SensorID: sensorID, Action: req.Action, Args: req.Args, Status: task.Pending,
		Created: now, Updated: now, Deadline: now.Add(time.Duration(req.DeadlineSeconds) * time.Second), RequestedBy: id.Name,
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, t)
}

// checkProcessArgs refuses a kill or snapshot task the sensor would refuse for its
// process arguments: both need "pid" (a positive integer); "start_time" (field 22
// of /proc/PID/stat) and "event_time" (Unix nanoseconds), when given, are
// non-negative integers, 0 counting as not given; kill needs one of them, since a
// pid can be reused. Other actions take no process.
func checkProcessArgs(action string, args map[string]string) error {
	if action != "kill" && action != "snapshot" {
		return nil
	}
	pid, ok := args["pid"]
	if !ok || pid == "" {
		return badRequest("args.pid is required for %s: the id of the process to act on", action)
	}
	if n, err := strconv.ParseInt(pid, 10, 64); err != nil || n <= 0 {
		return badRequest("args.pid %q: want a positive integer", pid)
	}
	given := false
	for _, name := range []string{"start_time", "event_time"} {
		v := args[name]
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return badRequest("args.%s %q: want a non-negative integer", name, v)
		}
		given = given || n > 0
	}
	if action == "kill" && !given {
		return badRequest("args.start_time or args.event_time is required for kill: a pid can be reused, so the sensor kills only the process that started at start_time (field 22 of /proc/PID/stat) or by event_time (Unix nanoseconds)")
	}
	if v, ok := args["tree"]; ok && action == "kill" {
		if _, err := strconv.ParseBool(v); err != nil {
			return badRequest("args.tree %q: want true or false (true kills the process's descendants too)", v)
		}
	}
	return nil
}

func (s *Server) sensorTasks(w http.ResponseWriter, r *http.Request) {
	if err := ownSensor(r, r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	since := s.now().Add(-24 * time.Hour)
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := parseSince(v, s.now())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		since = t
	}
	list, err := s.Tasks.ForSensor(r.Context(), r.PathValue("id"), since)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if list == nil {
		list = []task.Task{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tasks": list})
}

func (s *Server) getTask(w http.ResponseWriter, r *http.Request) {
	t, err := s.Tasks.Get(r.Context(), r.PathValue("id"))
	if err == nil {
		err = ownSensor(r, t.SensorID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) taskResult(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Status task.Status `json:"status"`
		Result string      `json:"result"`
	}
	if err := decodeBody(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Status != task.Running && req.Status != task.Done && req.Status != task.Failed {
		s.fail(w, r, badRequest("status %q: want running, done or failed", req.Status))
		return
	}
	if id, _ := IdentityFrom(r.Context()); id.Role == RoleSensor {
		t, err := s.Tasks.Get(r.Context(), r.PathValue("id"))
		if err == nil {
			err = ownSensor(r, t.SensorID)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	t, err := s.Tasks.Update(r.Context(), r.PathValue("id"), req.Status, req.Result, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}
