package dashboard

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
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/event"
)

type memKeys struct {
	mu   sync.Mutex
	keys map[string]api.Key
}

func (m *memKeys) Lookup(_ context.Context, key string) (api.Key, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[key]
	return k, ok, nil
}

type memSessions struct {
	mu sync.Mutex
	m  map[string]Session
}

func (m *memSessions) PutSession(_ context.Context, hash string, s Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[hash] = s
	return nil
}

func (m *memSessions) Session(_ context.Context, hash string) (Session, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.m[hash]
	return s, ok, nil
}

func (m *memSessions) TouchSession(_ context.Context, hash string, seen time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.m[hash]; ok {
		s.Seen = seen
		m.m[hash] = s
	}
	return nil
}

func (m *memSessions) EndSession(_ context.Context, hash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, hash)
	return nil
}

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func newTest(t *testing.T) (*Server, *httptest.Server, *memKeys) {
	keys := &memKeys{keys: map[string]api.Key{
		"good": {Org: "local", Name: "local"}, "other": {Org: "acme", Name: "x"}, "old": {Org: "local", Name: "y", Revoked: true},
	}}
	s := New("local", keys, &memSessions{m: map[string]Session{}})
	s.Now = func() time.Time { return t0.Add(5 * time.Minute) }
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return s, srv, keys
}

func get(t *testing.T, url, key string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestPageAndAuth(t *testing.T) {
	_, srv, _ := newTest(t)
	for _, path := range []string{"/", "/login", "/static/app.js", "/static/style.css"} {
		resp, body := get(t, srv.URL+path, "")
		if resp.StatusCode != 200 || len(body) < 100 {
			t.Errorf("%s: %d (%d bytes)", path, resp.StatusCode, len(body))
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
	}
	_, page := get(t, srv.URL+"/", "")
	if strings.Contains(page, "http://") && !strings.Contains(page, "http://www.w3.org") || strings.Contains(page, "https://") {
		t.Error("the page loads something from elsewhere")
	}
	tests := []struct {
		key  string
		want int
	}{{"", 401}, {"nope", 401}, {"old", 403}, {"other", 403}, {"good", 200}}
	for _, tc := range tests {
		for _, path := range []string{"/dashboard/whoami", "/dashboard/timeline"} {
			if resp, body := get(t, srv.URL+path, tc.key); resp.StatusCode != tc.want {
				t.Errorf("%s key %q: %d %s, want %d", path, tc.key, resp.StatusCode, body, tc.want)
			}
		}
	}
	if resp, _ := get(t, srv.URL+"/dashboard/timeline?minutes=0", "good"); resp.StatusCode != 400 {
		t.Errorf("minutes=0: %d", resp.StatusCode)
	}
}

func TestLoginTokenOnce(t *testing.T) {
	s, srv, _ := newTest(t)
	tok := s.LoginToken()
	post := func(body string) (*http.Response, map[string]string) {
		resp, err := http.Post(srv.URL+"/dashboard/login", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp, out
	}
	resp, out := post(`{"token":"` + tok + `"}`)
	if resp.StatusCode != 200 || out["org"] != "local" || out["csrf"] == "" || out["key"] != "" || len(resp.Cookies()) != 1 {
		t.Fatalf("login = %d %v %v", resp.StatusCode, out, resp.Cookies())
	}
	if resp, _ := post(`{"token":"` + tok + `"}`); resp.StatusCode != 401 {
		t.Errorf("second use of the token: %d, want 401", resp.StatusCode)
	}
	for _, body := range []string{`{"tok":1}`, `{}`, `{"token":"a","key":"b"}`} {
		if resp, _ := post(body); resp.StatusCode != 400 {
			t.Errorf("%s: %d, want 400", body, resp.StatusCode)
		}
	}
}

func TestStreamAndTimeline(t *testing.T) {
	s, srv, _ := newTest(t)
	req, _ := http.NewRequest("GET", srv.URL+"/dashboard/stream", nil)
	req.Header.Set("Authorization", "Bearer good")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	r := bufio.NewReader(resp.Body)
	readEvent := func() (string, string) {
		t.Helper()
		var typ, data string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			line = strings.TrimRight(line, "\n")
			if line == "" && typ != "" {
				return typ, data
			}
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				typ = v
			}
			if v, ok := strings.CutPrefix(line, "data: "); ok {
				data = v
			}
		}
	}
	if typ, _ := readEvent(); typ != "hello" {
		t.Fatalf("first event %q, want hello", typ)
	}
	ev := event.Event{SensorID: "s1", Type: event.NewProcess, TimeNanos: t0.Add(90 * time.Second).UnixNano(), ID: "e1", FilePath: "/usr/bin/docker"}
	d := detect.Detection{ID: "d1", Rule: "privileged_docker_container", Name: "privileged_docker_container", Severity: "medium", Time: t0.Add(90 * time.Second), Event: ev}
	if err := s.Publish(context.Background(), []detect.Detection{d}); err != nil {
		t.Fatal(err)
	}
	typ, data := readEvent()
	var got map[string]any
	if typ != "detection" || json.Unmarshal([]byte(data), &got) != nil || got["id"] != "d1" || got["rule"] != "privileged_docker_container" {
		t.Fatalf("event %q %s", typ, data)
	}

	s.Observe([]event.Event{ev, ev, {TimeNanos: t0.UnixNano()}})
	s.SeedDetections([]time.Time{t0})
	tl := s.Timeline(6)
	if len(tl) != 6 || !tl[0].Time.Equal(t0) || !tl[5].Time.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("timeline span %v .. %v", tl[0].Time, tl[len(tl)-1].Time)
	}
	if tl[0].Events != 1 || tl[0].Detections != 1 || tl[1].Events != 2 || tl[1].Detections != 1 || tl[2].Events != 0 {
		t.Errorf("timeline = %+v", tl)
	}
	_, body := get(t, srv.URL+"/dashboard/timeline?minutes=3", "good")
	var out struct{ Minutes []Minute }
	if json.Unmarshal([]byte(body), &out) != nil || len(out.Minutes) != 3 {
		t.Errorf("timeline endpoint: %s", body)
	}
}

func TestTimelineBounded(t *testing.T) {
	s := New("local", &memKeys{}, &memSessions{})
	s.Now = func() time.Time { return t0 }
	for i := range MaxMinutes + 10 {
		s.Observe([]event.Event{{TimeNanos: t0.Add(time.Duration(i) * time.Minute).UnixNano()}})
	}
	m := s.sortedMinutes()
	if len(m) != MaxMinutes || m[0] != t0.Unix()/60+10 {
		t.Errorf("kept %d minutes from %d", len(m), m[0])
	}
}
