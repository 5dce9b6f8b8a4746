package localrun

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/internal/rulesource"
	"github.com/vigil-sec/vigil/rules"
)

// fixtureLake is the lake recordedEvents(fixtureTime) makes (TestLakeFixture
// keeps it so): the recording stays within one hour, one lake file.
const fixtureLake = "testdata/lake"

// packRules loads the built-in pack and the rule sources in paths, or only the
// sources with noBuiltin, as `vigil local` does.
func packRules(noBuiltin bool, paths ...string) func() (*engine.Engine, error) {
	return func() (*engine.Engine, error) {
		opts := rulesource.Options{Pack: rules.FS, Paths: paths}
		if noBuiltin {
			opts.Pack = nil
		}
		set, err := rulesource.Load(opts)
		if err != nil {
			return nil, err
		}
		return set.Engine()
	}
}

// newApp builds an App over the built-in pack with a store in a temporary
// directory unless o says otherwise, closed when t ends.
func newApp(t *testing.T, o Options) *App {
	t.Helper()
	if o.LoadRules == nil {
		o.LoadRules = packRules(false)
	}
	if o.Data == "" {
		o.Data = filepath.Join(t.TempDir(), "data")
	}
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// apiGet GETs path with key and decodes the JSON answer into out (unless nil).
func apiGet(t *testing.T, base, path, key string, out any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	return resp.StatusCode
}

type detectionsPage struct {
	Detections []map[string]any `json:"detections"`
	Next       string           `json:"next_cursor"`
}

func hasDetection(p detectionsPage, id string) bool {
	for _, d := range p.Detections {
		if d["id"] == id {
			return true
		}
	}
	return false
}

// jsonLines decodes each line of out as a JSON object.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	dec := json.NewDecoder(bytes.NewReader([]byte(out)))
	for dec.More() {
		var x map[string]any
		if err := dec.Decode(&x); err != nil {
			t.Fatalf("%v in:\n%s", err, out)
		}
		lines = append(lines, x)
	}
	return lines
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t testing.TB, what string, cond func() bool, log *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; log:\n%s", what, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// storeOf opens the store an App closed, closed when t ends.
func storeOf(t *testing.T, dir string) *local.Store {
	t.Helper()
	st, err := local.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// ctx is the context of the tests that do not cancel.
var ctx = context.Background()
