package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func testClient(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, "k", "acme")
	if err != nil {
		t.Fatal(err)
	}
	c.Backoff, c.MaxBackoff, c.Timeout = time.Millisecond, 5*time.Millisecond, 2*time.Second
	return c
}

func TestNewSaysWhatToDo(t *testing.T) {
	for _, tc := range []struct{ url, key, org, want string }{
		{"", "k", "o", "VIGIL_API_URL is not set: export it or pass --api-url"},
		{"http://x", "", "o", "VIGIL_API_KEY is not set: export it or pass --api-key"},
		{"http://x", "k", "", "VIGIL_ORG"},
		{"ftp://x", "k", "o", "want http(s)://"},
	} {
		if _, err := New(tc.url, tc.key, tc.org); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%q,%q,%q) = %v, want %q", tc.url, tc.key, tc.org, err, tc.want)
		}
	}
}

func TestRetriesServerErrors(t *testing.T) {
	var n atomic.Int32
	c := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer k" || r.URL.Path != "/v1/orgs/acme/sensors" || r.URL.Query().Get("tag") != "a:b" {
			t.Errorf("request %s %v", r.URL, r.Header)
		}
		if n.Add(1) < 3 {
			w.WriteHeader(503)
			return
		}
		fmt.Fprint(w, `{"sensors":[{"sensor_id":"s1"}]}`)
	})
	got, err := c.Sensors(context.Background(), "a:b")
	if err != nil || len(got) != 1 || got[0].SensorID != "s1" || n.Load() != 3 {
		t.Fatalf("got %v %v after %d attempts", got, err, n.Load())
	}
}

func TestGivesUpAfterRetries(t *testing.T) {
	var n atomic.Int32
	c := testClient(t, func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		w.WriteHeader(500)
		fmt.Fprint(w, `{"error":"internal error"}`)
	})
	c.Retries = 2
	_, err := c.Rules(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 500 || n.Load() != 3 || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Fatalf("err %v after %d attempts", err, n.Load())
	}
}

func TestNoRetryOn4xxAndTypedErrors(t *testing.T) {
	for status, want := range map[int]error{401: ErrUnauthorized, 403: ErrForbidden, 404: ErrNotFound} {
		var n atomic.Int32
		c := testClient(t, func(w http.ResponseWriter, _ *http.Request) {
			n.Add(1)
			w.WriteHeader(status)
			fmt.Fprint(w, `{"error":"nope"}`)
		})
		_, err := c.Task(context.Background(), "t1")
		if !errors.Is(err, want) || n.Load() != 1 || !strings.Contains(err.Error(), "nope") {
			t.Errorf("%d: err %v after %d attempts", status, err, n.Load())
		}
	}
}

func TestPerRequestTimeoutIsRetried(t *testing.T) {
	var n atomic.Int32
	c := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			select { // first attempt hangs past the client's timeout
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		fmt.Fprint(w, `{"rules":[]}`)
	})
	c.Timeout = 50 * time.Millisecond
	if _, err := c.Rules(context.Background()); err != nil || n.Load() != 2 {
		t.Fatalf("err %v after %d attempts", err, n.Load())
	}
}

func TestContextCancelStopsRetrying(t *testing.T) {
	c := testClient(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(502) })
	c.Backoff, c.MaxBackoff, c.Retries = time.Hour, time.Hour, 10
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Rules(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("err %v after %s", err, time.Since(start))
	}
}

func TestNetworkErrorIsRetried(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens: connection refused
	c, _ := New(addr, "k", "o")
	c.Backoff, c.MaxBackoff, c.Retries = time.Millisecond, time.Millisecond, 2
	_, err := c.Rules(context.Background())
	if err == nil || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Fatalf("err %v", err)
	}
}

func TestCreateTaskIsNotRetried(t *testing.T) {
	var n atomic.Int32
	c := testClient(t, func(w http.ResponseWriter, _ *http.Request) { n.Add(1); w.WriteHeader(503) })
	if _, err := c.CreateTask(context.Background(), "s1", TaskRequest{Action: "isolate"}); err == nil || n.Load() != 1 {
		t.Fatalf("err %v after %d attempts", err, n.Load())
	}
}

func TestPagination(t *testing.T) {
	pages := map[string]string{
		"":   `{"detections":[{"id":"d3"},{"id":"d2"}],"next_cursor":"c1"}`,
		"c1": `{"detections":[{"id":"d1"}],"next_cursor":"c2"}`,
		"c2": `{"detections":[],"next_cursor":""}`,
	}
	c := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("tag") != "deployment:7" || r.URL.Query().Get("since") != "2026-11-22T10:00:00Z" {
			t.Errorf("query %s", r.URL.RawQuery)
		}
		fmt.Fprint(w, pages[r.URL.Query().Get("cursor")])
	})
	since := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	all, err := c.AllDetections(context.Background(), DetectionQuery{Tag: "deployment:7", Since: since}, 0)
	if err != nil || len(all) != 3 || all[2].ID != "d1" {
		t.Fatalf("got %v %v", all, err)
	}
	two, err := c.AllDetections(context.Background(), DetectionQuery{Tag: "deployment:7", Since: since}, 2)
	if err != nil || len(two) != 2 {
		t.Fatalf("max 2: got %v %v", two, err)
	}
}

func TestNotJSON(t *testing.T) {
	var n atomic.Int32
	c := testClient(t, func(w http.ResponseWriter, _ *http.Request) { n.Add(1); fmt.Fprint(w, "<html>") })
	if _, err := c.Rules(context.Background()); err == nil || !strings.Contains(err.Error(), "is the API URL right") || n.Load() != 1 {
		t.Fatalf("err %v after %d attempts", err, n.Load())
	}
}

// TestWhatIsRetried checks which answers are retried: 5xx and 429, not other 4xx
// nor a 2xx whose body does not decode.
func TestWhatIsRetried(t *testing.T) {
	tests := []struct {
		status   int
		body     string
		attempts int32
	}{
		{500, `{"error":"internal error"}`, 3},
		{503, "", 3},
		{429, `{"error":"slow down"}`, 3},
		{400, `{"error":"bad"}`, 1},
		{401, `{"error":"nope"}`, 1},
		{404, `{"error":"nope"}`, 1},
		{409, `{"error":"nope"}`, 1},
		{200, "<html>", 1},
		{200, `{"rules":`, 1},
		{200, `{"rules":"x"}`, 1},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d %s", tc.status, tc.body), func(t *testing.T) {
			var n atomic.Int32
			c := testClient(t, func(w http.ResponseWriter, _ *http.Request) {
				n.Add(1)
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			})
			c.Retries = 2
			if _, err := c.Rules(context.Background()); err == nil || n.Load() != tc.attempts {
				t.Fatalf("err %v after %d attempts, want %d", err, n.Load(), tc.attempts)
			}
		})
	}
}
