package localrun

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/local"
)

// serveApp builds an App over the store in data and serves it on a free
// loopback port.
func serveApp(t *testing.T, data string, newKey bool) (*App, *bytes.Buffer) {
	t.Helper()
	var stderr bytes.Buffer
	a := newApp(t, Options{Data: data, Listen: "127.0.0.1:0", NewKey: newKey, Stderr: &stderr})
	if err := a.Serve(ctx); err != nil {
		t.Fatal(err)
	}
	return a, &stderr
}

// TestServesAndRestarts serves the API over a replay, reads the detection with
// the key made at first start, then restarts on the same store: no new key, the
// old one works, the detection is still there.
func TestServesAndRestarts(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	a, stderr := serveApp(t, data, false)
	key := a.APIKey()
	if !strings.HasPrefix(key, "vk_") || !strings.Contains(a.loginLink, "/login#") {
		t.Fatalf("key %q login %q", key, a.loginLink)
	}
	base := "http://" + a.Addr()
	for _, want := range []string{
		fmt.Sprintf("vigil local: API and dashboard on %s (org \"local\")\n", base),
		fmt.Sprintf("vigil local: API key %s (shown only now; stored hashed in %s)\n", key, data),
		"vigil local: dashboard login (one-time link): " + a.loginLink + "\n",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if _, err := a.Replay(ctx, fixtureLake); err != nil {
		t.Fatal(err)
	}
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
	a.Close()
	if _, err := http.Get(base + "/"); err == nil {
		t.Error("the API is still served after Close")
	}
	if _, err := os.Stat(filepath.Join(data, ControlSocket)); !os.IsNotExist(err) {
		t.Errorf("the control socket outlives the App: %v", err)
	}

	a, stderr = serveApp(t, data, false)
	if a.APIKey() != "" || !strings.Contains(stderr.String(), "vigil local: API key: the one printed at first start") {
		t.Errorf("a restart made a new key, or does not say which works:\n%s", stderr)
	}
	page = detectionsPage{}
	if code := apiGet(t, "http://"+a.Addr(), "/v1/orgs/local/detections?sensor=replay-sensor", key, &page); code != 200 || !hasDetection(page, id) {
		t.Errorf("after restart: %d, %s not in %+v", code, id, page)
	}
}

// TestNewKey checks NewKey: the new key works, the old one and the dashboard
// sessions are refused, other keys stay.
func TestNewKey(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	a, _ := serveApp(t, data, false)
	old := a.APIKey()
	ci := api.NewKey()
	if err := a.store.PutKey(ctx, ci, api.Key{ID: api.KeyID(api.HashKey(ci)), Org: Org, Name: "ci", Created: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	// a dashboard session, by the login link
	resp, err := http.Post("http://"+a.Addr()+"/dashboard/login", "application/json", strings.NewReader(`{"token":"`+a.loginLink[strings.Index(a.loginLink, "#")+1:]+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookie := resp.Cookies()
	if resp.StatusCode != 200 || len(cookie) != 1 {
		t.Fatalf("login: %d %v", resp.StatusCode, cookie)
	}
	a.Close()

	a, stderr := serveApp(t, data, true)
	base := "http://" + a.Addr()
	if !strings.HasPrefix(a.APIKey(), "vk_") || a.APIKey() == old {
		t.Fatalf("NewKey made no new key: %q", a.APIKey())
	}
	if !strings.Contains(stderr.String(), `revoked 1 earlier API key(s) named "local" and signed out 1 dashboard session(s)`) {
		t.Errorf("NewKey does not say what it did:\n%s", stderr)
	}
	for key, want := range map[string]int{old: 403, a.APIKey(): 200, ci: 200} {
		if code := apiGet(t, base, "/v1/orgs/local/sensors", key, nil); code != want {
			t.Errorf("key %s…: %d, want %d", key[:8], code, want)
		}
	}
	req, _ := http.NewRequest("GET", base+"/dashboard/whoami", nil)
	req.AddCookie(cookie[0])
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("a dashboard session after NewKey: %d, want 401", resp.StatusCode)
	}
}

// TestLegacyDashboardKeys revokes, at start, the keys earlier versions' login
// links made (named dashboard, with no creation time), and no other.
func TestLegacyDashboardKeys(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	legacy, named := api.NewKey(), api.NewKey()
	line := fmt.Sprintf(`{"key":{"hash":%q,"org":"local","name":"dashboard"}}`+"\n"+`{"key":{"hash":%q,"org":"local","name":"dashboard","created":"2026-11-22T10:00:00Z"}}`+"\n",
		api.HashKey(legacy), api.HashKey(named))
	if err := os.WriteFile(filepath.Join(data, local.StoreFile), []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	a, stderr := serveApp(t, data, false)
	base := "http://" + a.Addr()
	if code := apiGet(t, base, "/v1/orgs/local/sensors", legacy, nil); code != 403 {
		t.Errorf("a legacy login-link key: %d, want 403", code)
	}
	if code := apiGet(t, base, "/v1/orgs/local/sensors", named, nil); code != 200 {
		t.Errorf("a key someone named dashboard: %d, want 200", code)
	}
	if !strings.Contains(stderr.String(), "revoked 1 API key(s) that earlier versions' dashboard login links made") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}
