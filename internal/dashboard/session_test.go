package dashboard_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/dashboard"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/local"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// clock is a test clock the dashboard and the store read.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	dash  *dashboard.Server
	store *local.Store
	clock *clock
	srv   *httptest.Server
	key   string // a key of org local
}

// newFixture serves the dashboard and the API (wrapped by the dashboard, as
// vigil local serves them) over a local store, on a real listener; tls serves
// HTTPS.
func newFixture(t *testing.T, tls bool) *fixture {
	t.Helper()
	store, err := local.OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f := &fixture{store: store, clock: &clock{now: t0}, key: api.NewKey()}
	store.Now = f.clock.Now
	ctx := context.Background()
	if err := store.PutKey(ctx, f.key, api.Key{Org: "local", Name: "local"}); err != nil {
		t.Fatal(err)
	}
	for key, rec := range map[string]api.Key{"vk_old-key": {Org: "local", Name: "old", Revoked: true}, "vk_other-org": {Org: "acme", Name: "x"}} {
		if err := store.PutKey(ctx, key, rec); err != nil {
			t.Fatal(err)
		}
	}
	f.dash = dashboard.New("local", store, store)
	f.dash.Now = f.clock.Now
	apiSrv := &api.Server{Keys: store, KeyAdmin: store, Sensors: store.SensorStore(), Detections: store, Tasks: store.TaskStore(), Now: f.clock.Now}
	mux := http.NewServeMux()
	mux.Handle("/v1/", f.dash.API(apiSrv.Handler()))
	mux.Handle("/", f.dash.Handler())
	if tls {
		f.srv = httptest.NewTLSServer(mux)
	} else {
		f.srv = httptest.NewServer(mux)
	}
	t.Cleanup(f.srv.Close)
	return f
}

// req is one request as a browser page (or another client) would send it.
type req struct {
	method, path, body string
	cookie             *http.Cookie
	csrf               string
	origin             string // "" for none; "self" for the server's own
	fetchSite          string
	bearer             string
}

func (f *fixture) do(t *testing.T, r req) (*http.Response, map[string]any) {
	t.Helper()
	hr, err := http.NewRequest(r.method, f.srv.URL+r.path, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if r.body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.cookie != nil {
		hr.AddCookie(r.cookie)
	}
	if r.csrf != "" {
		hr.Header.Set(dashboard.CSRFHeader, r.csrf)
	}
	switch r.origin {
	case "":
	case "self":
		hr.Header.Set("Origin", f.srv.URL)
	default:
		hr.Header.Set("Origin", r.origin)
	}
	if r.fetchSite != "" {
		hr.Header.Set("Sec-Fetch-Site", r.fetchSite)
	}
	if r.bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	resp, err := f.srv.Client().Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: %d, body is not a JSON object: %s", r.method, r.path, resp.StatusCode, raw)
	}
	return resp, out
}

// login signs in with a fresh login link and returns the session cookie and
// the CSRF token.
func (f *fixture) login(t *testing.T) (*http.Cookie, string) {
	t.Helper()
	resp, out := f.do(t, req{method: "POST", path: "/dashboard/login", body: `{"token":"` + f.dash.LoginToken() + `"}`,
		origin: "self", fetchSite: "same-origin"})
	if resp.StatusCode != 200 {
		t.Fatalf("login: %d %v", resp.StatusCode, out)
	}
	for _, c := range resp.Cookies() {
		if c.Name == dashboard.CookieName {
			return c, out["csrf"].(string)
		}
	}
	t.Fatalf("login set no %s cookie: %v", dashboard.CookieName, resp.Header["Set-Cookie"])
	return nil, ""
}

func TestSessionCookieAttributes(t *testing.T) {
	for _, tls := range []bool{false, true} {
		f := newFixture(t, tls)
		resp, out := f.do(t, req{method: "POST", path: "/dashboard/login", body: `{"token":"` + f.dash.LoginToken() + `"}`})
		set := resp.Header.Get("Set-Cookie")
		if resp.StatusCode != 200 || out["csrf"] == "" || out["key"] != nil {
			t.Fatalf("tls %v: login %d %v", tls, resp.StatusCode, out)
		}
		for _, want := range []string{dashboard.CookieName + "=", "Path=/", "HttpOnly", "SameSite=Strict", "Max-Age=604800"} {
			if !strings.Contains(set, want) {
				t.Errorf("tls %v: cookie %q lacks %s", tls, set, want)
			}
		}
		if strings.Contains(set, "Secure") != tls {
			t.Errorf("tls %v: cookie %q: Secure only over TLS", tls, set)
		}
		if strings.Contains(set, "Domain") {
			t.Errorf("cookie %q names a domain", set)
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("the login answer may be cached")
		}
	}
}

// TestSessionSignIn signs in by login link and by API key, and refuses what must
// be refused.
func TestSessionSignIn(t *testing.T) {
	f := newFixture(t, false)
	tok := f.dash.LoginToken()
	tests := []struct {
		name, body, origin, fetchSite string
		status                        int
		want                          string
	}{
		{"foreign origin", `{"token":"` + tok + `"}`, "http://evil.example", "", 403, "cross-origin"},
		{"cross-site fetch", `{"token":"` + tok + `"}`, "", "cross-site", 403, "cross-origin"},
		{"login link", `{"token":"` + tok + `"}`, "self", "same-origin", 200, ""},
		{"used link", `{"token":"` + tok + `"}`, "self", "", 401, "already used"},
		{"key", `{"key":"` + f.key + `"}`, "self", "same-origin", 200, ""},
		{"unknown key", `{"key":"vk_nope"}`, "self", "", 401, "unknown API key"},
		{"revoked key", `{"key":"vk_old-key"}`, "self", "", 403, "revoked"},
		{"other org's key", `{"key":"vk_other-org"}`, "self", "", 403, "not valid for org local"},
		{"both", `{"key":"a","token":"b"}`, "self", "", 400, "want"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, out := f.do(t, req{method: "POST", path: "/dashboard/login", body: tc.body, origin: tc.origin, fetchSite: tc.fetchSite})
			if resp.StatusCode != tc.status {
				t.Fatalf("%d %v, want %d", resp.StatusCode, out, tc.status)
			}
			if msg, _ := out["error"].(string); !strings.Contains(msg, tc.want) || (tc.want == "") != (msg == "") {
				t.Fatalf("error %q, want %q", msg, tc.want)
			}
			if (len(resp.Cookies()) > 0) != (tc.status == 200) {
				t.Errorf("cookies %v", resp.Cookies())
			}
		})
	}
}

// TestSessionCSRF makes the page's calls with the cookie: reads need only the
// cookie; state changes need the CSRF token and this origin; Bearer callers
// need neither.
func TestSessionCSRF(t *testing.T) {
	f := newFixture(t, false)
	c, csrf := f.login(t)
	// the API refuses tasks for sensors that never registered
	if err := f.store.Heartbeat(context.Background(), &event.Event{SensorID: "s1", Type: event.SensorHeartbeat, TimeNanos: t0.UnixNano()}); err != nil {
		t.Fatal(err)
	}
	task := `{"action":"isolate"}`
	tests := []struct {
		name   string
		r      req
		status int
		want   string
	}{
		{"whoami", req{method: "GET", path: "/dashboard/whoami", cookie: c}, 200, ""},
		{"timeline", req{method: "GET", path: "/dashboard/timeline", cookie: c}, 200, ""},
		{"API read", req{method: "GET", path: "/v1/orgs/local/detections", cookie: c}, 200, ""},
		{"API read of another org", req{method: "GET", path: "/v1/orgs/acme/detections", cookie: c}, 403, "not valid for org acme"},
		{"no cookie", req{method: "GET", path: "/v1/orgs/local/detections"}, 401, "missing API key"},
		{"forged cookie", req{method: "GET", path: "/v1/orgs/local/detections", cookie: &http.Cookie{Name: dashboard.CookieName, Value: "forged"}}, 401, "signed out"},
		{"task without token", req{method: "POST", path: "/v1/orgs/local/sensors/s1/tasks", body: task, cookie: c, origin: "self"}, 403, "missing X-CSRF-Token"},
		{"task with a wrong token", req{method: "POST", path: "/v1/orgs/local/sensors/s1/tasks", body: task, cookie: c, origin: "self", csrf: "nope"}, 403, "does not match"},
		{"task from another origin", req{method: "POST", path: "/v1/orgs/local/sensors/s1/tasks", body: task, cookie: c, origin: "http://evil.example", csrf: csrf}, 403, "cross-origin"},
		{"task from a null origin", req{method: "POST", path: "/v1/orgs/local/sensors/s1/tasks", body: task, cookie: c, origin: "null", csrf: csrf}, 403, "cross-origin"},
		{"task from another site", req{method: "POST", path: "/v1/orgs/local/sensors/s1/tasks", body: task, cookie: c, fetchSite: "same-site", csrf: csrf}, 403, "cross-origin"},
		{"task", req{method: "POST", path: "/v1/orgs/local/sensors/s1/tasks", body: task, cookie: c, origin: "self", fetchSite: "same-origin", csrf: csrf}, 201, ""},
		{"key revocation without token", req{method: "DELETE", path: "/v1/orgs/local/keys/0123456789abcdef", cookie: c}, 403, "missing X-CSRF-Token"},
		{"task by Bearer key", req{method: "POST", path: "/v1/orgs/local/sensors/s1/tasks", body: task, bearer: f.key}, 201, ""},
		{"Bearer key wins over the cookie", req{method: "GET", path: "/v1/orgs/local/detections", bearer: "vk_old-key", cookie: c}, 403, "revoked"},
		{"revoked key", req{method: "GET", path: "/dashboard/timeline", bearer: "vk_old-key"}, 403, "revoked"},
		{"sign-out without token", req{method: "POST", path: "/dashboard/logout", cookie: c, origin: "self"}, 403, "missing X-CSRF-Token"},
		{"sign-out from another origin", req{method: "POST", path: "/dashboard/logout", cookie: c, origin: "http://evil.example", csrf: csrf}, 403, "cross-origin"},
		{"still signed in", req{method: "GET", path: "/dashboard/whoami", cookie: c}, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, out := f.do(t, tc.r)
			if resp.StatusCode != tc.status {
				t.Fatalf("%d %v, want %d", resp.StatusCode, out, tc.status)
			}
			if msg, _ := out["error"].(string); !strings.Contains(msg, tc.want) || (tc.want == "") != (msg == "") {
				t.Fatalf("error %q, want %q", msg, tc.want)
			}
		})
	}
	_, who := f.do(t, req{method: "GET", path: "/dashboard/whoami", cookie: c})
	if who["org"] != "local" || who["csrf"] != csrf {
		t.Errorf("whoami = %v, want the session's csrf token", who)
	}
	if _, who = f.do(t, req{method: "GET", path: "/dashboard/whoami", bearer: f.key}); who["csrf"] != nil {
		t.Errorf("whoami by key = %v: a Bearer caller has no session", who)
	}
}

// TestSessionSignOut ends the session server-side: the old cookie no longer
// works anywhere.
func TestSessionSignOut(t *testing.T) {
	f := newFixture(t, false)
	c, csrf := f.login(t)
	other, _ := f.login(t)
	resp, out := f.do(t, req{method: "POST", path: "/dashboard/logout", cookie: c, csrf: csrf, origin: "self", fetchSite: "same-origin"})
	if resp.StatusCode != 200 {
		t.Fatalf("sign-out: %d %v", resp.StatusCode, out)
	}
	if set := resp.Header.Get("Set-Cookie"); !strings.Contains(set, dashboard.CookieName+"=;") || !strings.Contains(set, "Max-Age=0") {
		t.Errorf("sign-out does not clear the cookie: %q", set)
	}
	for _, path := range []string{"/dashboard/whoami", "/dashboard/timeline", "/dashboard/stream", "/v1/orgs/local/sensors"} {
		if resp, out := f.do(t, req{method: "GET", path: path, cookie: c}); resp.StatusCode != 401 {
			t.Errorf("%s with the old cookie: %d %v, want 401", path, resp.StatusCode, out)
		}
	}
	if resp, _ := f.do(t, req{method: "GET", path: "/dashboard/whoami", cookie: other}); resp.StatusCode != 200 {
		t.Errorf("another browser's session ended too: %d", resp.StatusCode)
	}
	// signing out again, or without a session, is harmless
	if resp, _ := f.do(t, req{method: "POST", path: "/dashboard/logout", cookie: c, origin: "self"}); resp.StatusCode != 200 {
		t.Errorf("second sign-out: %d", resp.StatusCode)
	}
}

// TestSessionExpiry moves the clock: a session ends after Idle without use and
// after MaxAge whatever its use; use within Idle keeps it.
func TestSessionExpiry(t *testing.T) {
	f := newFixture(t, false)
	f.dash.Idle, f.dash.MaxAge = 2*time.Hour, 6*time.Hour
	whoami := func(c *http.Cookie) (int, string) {
		resp, out := f.do(t, req{method: "GET", path: "/dashboard/whoami", cookie: c})
		msg, _ := out["error"].(string)
		return resp.StatusCode, msg
	}
	idle, _ := f.login(t)
	busy, _ := f.login(t)
	for range 3 { // 3 × 1h50m of use: busy stays, idle ends
		f.clock.Add(110 * time.Minute)
		if code, msg := whoami(busy); code != 200 {
			t.Fatalf("a session in use ended: %d %s", code, msg)
		}
	}
	if code, msg := whoami(idle); code != 401 || !strings.Contains(msg, "idle") {
		t.Errorf("an idle session: %d %q, want 401 idle", code, msg)
	}
	f.clock.Add(time.Hour) // 6h30m after sign-in
	if code, msg := whoami(busy); code != 401 || !strings.Contains(msg, "limit") {
		t.Errorf("a session past MaxAge: %d %q, want 401", code, msg)
	}
	// the defaults
	f2 := newFixture(t, false)
	c, _ := f2.login(t)
	f2.clock.Add(dashboard.DefaultIdle - time.Minute)
	if resp, _ := f2.do(t, req{method: "GET", path: "/dashboard/whoami", cookie: c}); resp.StatusCode != 200 {
		t.Errorf("within the default idle time: %d", resp.StatusCode)
	}
	f2.clock.Add(dashboard.DefaultIdle)
	if resp, _ := f2.do(t, req{method: "GET", path: "/dashboard/whoami", cookie: c}); resp.StatusCode != 401 {
		t.Errorf("past the default idle time: %d", resp.StatusCode)
	}
}

// TestSessionOfRevokedKey ends a session opened with a key when the key is
// revoked.
func TestSessionOfRevokedKey(t *testing.T) {
	f := newFixture(t, false)
	resp, _ := f.do(t, req{method: "POST", path: "/dashboard/login", body: `{"key":"` + f.key + `"}`})
	c := resp.Cookies()[0]
	if resp, _ := f.do(t, req{method: "GET", path: "/dashboard/whoami", cookie: c}); resp.StatusCode != 200 {
		t.Fatalf("whoami: %d", resp.StatusCode)
	}
	if _, err := f.store.RevokeKey(context.Background(), "local", api.KeyID(api.HashKey(f.key))); err != nil {
		t.Fatal(err)
	}
	if resp, _ := f.do(t, req{method: "GET", path: "/dashboard/whoami", cookie: c}); resp.StatusCode != 401 {
		t.Errorf("the revoked key's session: %d, want 401", resp.StatusCode)
	}
}

// TestSessionStream reads the live stream with the cookie.
func TestSessionStream(t *testing.T) {
	f := newFixture(t, false)
	c, _ := f.login(t)
	hr, _ := http.NewRequest("GET", f.srv.URL+"/dashboard/stream", nil)
	hr.AddCookie(c)
	resp, err := f.srv.Client().Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "retry:") {
		t.Fatalf("first line %q, %v", line, err)
	}
}

// TestSessionActsAsItsKey signs in with keys of each role and with a login
// link: a session acts in the API as the key it was opened with (a viewer's
// status change refused with 403 naming key and role, a responder's recorded
// under the key's name), a login link's as the owner ("local"), and whoami says
// which; a sensor key cannot sign in at all.
func TestSessionActsAsItsKey(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	keys := map[api.Role]string{}
	for _, role := range []api.Role{api.RoleViewer, api.RoleResponder} {
		keys[role] = api.NewKey()
		if err := f.store.PutKey(ctx, keys[role], api.Key{Org: "local", Name: "dash-" + string(role), Role: role}); err != nil {
			t.Fatal(err)
		}
	}
	sensorKey := api.NewKey()
	if err := f.store.PutKey(ctx, sensorKey, api.Key{Org: "local", Name: "s1", Role: api.RoleSensor, SensorID: "s1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Claim(ctx, []detect.Detection{{ID: "d1", Rule: "r", Name: "r", Severity: "high", Time: t0,
		Event: event.Event{SensorID: "s1", Type: event.NewProcess, TimeNanos: t0.UnixNano()}}}); err != nil {
		t.Fatal(err)
	}
	if resp, out := f.do(t, req{method: "POST", path: "/dashboard/login", body: `{"key":"` + sensorKey + `"}`, origin: "self"}); resp.StatusCode != 403 ||
		!strings.Contains(out["error"].(string), "role sensor") {
		t.Errorf("sign-in with a sensor key: %d %v, want 403 naming the role", resp.StatusCode, out)
	}
	signIn := func(body string) (*http.Cookie, string) {
		resp, out := f.do(t, req{method: "POST", path: "/dashboard/login", body: body, origin: "self", fetchSite: "same-origin"})
		if resp.StatusCode != 200 {
			t.Fatalf("sign in: %d %v", resp.StatusCode, out)
		}
		return resp.Cookies()[0], out["csrf"].(string)
	}
	tests := []struct {
		name, body         string
		whoName, whoRole   string
		status             int
		wantErr, wantActor string
	}{
		{"viewer key", `{"key":"` + keys[api.RoleViewer] + `"}`, "dash-viewer", "viewer", 403,
			"API key dash-viewer has role viewer: PATCH /v1/orgs/{org}/detections/{id} needs a responder key", ""},
		{"responder key", `{"key":"` + keys[api.RoleResponder] + `"}`, "dash-responder", "responder", 200, "", "dash-responder"},
		{"login link", `{"token":"` + f.dash.LoginToken() + `"}`, "local", "admin", 200, "", "local"},
	}
	status := []string{"acknowledged", "resolved", "acknowledged"}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, csrf := signIn(tc.body)
			if _, who := f.do(t, req{method: "GET", path: "/dashboard/whoami", cookie: c}); who["name"] != tc.whoName || who["role"] != tc.whoRole {
				t.Errorf("whoami = %v, want name %s role %s", who, tc.whoName, tc.whoRole)
			}
			if resp, _ := f.do(t, req{method: "GET", path: "/v1/orgs/local/detections/d1", cookie: c}); resp.StatusCode != 200 {
				t.Errorf("GET detection: %d", resp.StatusCode)
			}
			resp, out := f.do(t, req{method: "PATCH", path: "/v1/orgs/local/detections/d1", body: `{"status":"` + status[i] + `"}`,
				cookie: c, csrf: csrf, origin: "self", fetchSite: "same-origin"})
			if resp.StatusCode != tc.status {
				t.Fatalf("PATCH: %d %v, want %d", resp.StatusCode, out, tc.status)
			}
			if msg, _ := out["error"].(string); msg != tc.wantErr {
				t.Errorf("PATCH error %q, want %q", msg, tc.wantErr)
			}
			if tc.wantActor == "" {
				return
			}
			hist, _ := out["history"].([]any)
			if len(hist) == 0 {
				t.Fatalf("no history in %v", out)
			}
			last := hist[len(hist)-1].(map[string]any)
			if last["by"] != tc.wantActor || last["to"] != status[i] {
				t.Errorf("last change %v, want to %s by %s", last, status[i], tc.wantActor)
			}
		})
	}
}

// TestSessionOpenedBeforeRoles refuses a stored session that names its key but
// not the key's role (opened by an earlier version): it would act as an admin.
func TestSessionOpenedBeforeRoles(t *testing.T) {
	f := newFixture(t, false)
	id := "old-session-id"
	if err := f.store.PutSession(context.Background(), dashboard.SessionHash(id),
		dashboard.Session{Org: "local", KeyID: "0123456789abcdef", Created: t0, Seen: t0, Expires: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	resp, out := f.do(t, req{method: "GET", path: "/v1/orgs/local/detections", cookie: &http.Cookie{Name: dashboard.CookieName, Value: id}})
	if msg, _ := out["error"].(string); resp.StatusCode != 401 || !strings.Contains(msg, "sign in again") {
		t.Errorf("%d %v, want 401 asking to sign in again", resp.StatusCode, out)
	}
}
