package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/client"
	"github.com/vigil-sec/vigil/internal/tuning"
)

// TestDetectionsStatus acknowledges, comments on and resolves detections with
// the CLI against vigil local's API, and checks who each change is recorded as.
func TestDetectionsStatus(t *testing.T) {
	e := newAPIEnv(t)
	now := time.Now()
	id := e.detect(t, "s1", "high", now.Add(-time.Minute), "deployment:d1")
	fp := e.detect(t, "s1", "high", now.Add(-time.Minute), "deployment:d1")
	out, stderr, code := e.run(t, "detections", "ack", id, "--assign", "alice")
	if code != 0 || !strings.Contains(out, id+" r-high: acknowledged, assigned to alice (0 comments)") || !strings.Contains(out, "last change: assignee by ci") {
		t.Fatalf("ack: code %d\n%s%s", code, out, stderr)
	}
	if out, stderr, code = e.run(t, "detections", "comment", id, "rebuilt the image"); code != 0 || !strings.Contains(out, "(1 comments)") {
		t.Fatalf("comment: code %d\n%s%s", code, out, stderr)
	}
	out, stderr, code = e.run(t, "detections", "resolve", id, "--json")
	var d client.ChangedDetection
	if code != 0 || json.Unmarshal([]byte(out), &d) != nil || d.Status != "resolved" || len(d.History) != 4 || d.Comments[0].Author != "ci" || d.Tuning != "" {
		t.Fatalf("resolve: code %d\n%s%s", code, out, stderr)
	}
	out, stderr, code = e.run(t, "detections", "resolve", fp, "--false-positive")
	if code != 0 || !strings.Contains(out, fp+" r-high: false_positive") || !strings.Contains(out, "Tuning entry for review (not applied):") {
		t.Fatalf("false positive: code %d\n%s%s", code, out, stderr)
	}
	entry := out[strings.Index(out, "# For review"):]
	if _, err := tuning.Parse("entry.yaml", []byte(entry)); err != nil || !strings.Contains(entry, "rules: [r-high]") || !strings.Contains(entry, "/tmp/x") {
		t.Fatalf("the printed entry: %v\n%s", err, entry)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"detections", "ack", "nope"}, 2, "404 Not Found: detection nope"},
		{[]string{"detections", "comment", id, "  "}, 2, "comment: TEXT is empty"},
		{[]string{"detections", "comment", id}, 2, "accepts 2 arg(s)"},
		{[]string{"detections", "resolve"}, 2, "accepts 1 arg(s)"},
	} {
		if _, stderr, code := e.run(t, tc.args...); code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: code %d %s, want %d %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	// a viewer key reads but changes nothing and starts no response
	if err := e.store.PutKey(context.Background(), "view", api.Key{Org: "acme", Name: "dash", Role: api.RoleViewer}); err != nil {
		t.Fatal(err)
	}
	e.heartbeat(t, "s1", "1.0", now)
	for _, args := range [][]string{{"detections", "ack", fp}, {"task", "isolate", "s1"}} {
		_, stderr, code := runCLI(t, append(args, "--api-url", e.url, "--api-key", "view", "--org", "acme")...)
		if code != 2 || !strings.Contains(stderr, "API key dash has role viewer") || !strings.Contains(stderr, "needs a responder key") {
			t.Errorf("%v with a viewer key: code %d %s", args, code, stderr)
		}
	}
	if _, _, code := runCLI(t, "detections", "list", "--api-url", e.url, "--api-key", "view", "--org", "acme"); code != 0 {
		t.Errorf("list with a viewer key: code %d", code)
	}
}

// TestGateLeavesOutResolved: resolved detections and false positives do not
// count against the gate, acknowledged ones do, and one marked during the
// window stops counting.
func TestGateLeavesOutResolved(t *testing.T) {
	e := newAPIEnv(t)
	now := time.Now()
	e.heartbeat(t, "s1", "1.0", now, "deployment:d9")
	ids := map[string]string{}
	for _, name := range []string{"new", "ack", "resolved", "fp"} {
		ids[name] = e.detect(t, "s1", "high", now.Add(-time.Minute), "deployment:d9")
	}
	for name, args := range map[string][]string{"ack": {"ack"}, "resolved": {"resolve"}, "fp": {"resolve", "--false-positive"}} {
		if _, stderr, code := e.run(t, append(append([]string{"detections"}, args...), ids[name])...); code != 0 {
			t.Fatalf("%s: %s", name, stderr)
		}
	}
	since := now.Add(-time.Hour).Format(time.RFC3339Nano)
	gate := func() (gateResult, int, string) {
		out, stderr, code := e.run(t, "gate", "--tag", "deployment:d9", "--since", since, "--duration", "50ms", "--interval", "10ms", "--threshold", "1", "-o", "json")
		var res gateResult
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("code %d %v\n%s%s", code, err, out, stderr)
		}
		return res, code, stderr
	}
	res, code, stderr := gate()
	if code != 1 || res.Detections != 2 || res.NotCounted != 2 || res.Passed {
		t.Fatalf("new and acknowledged count: code %d %+v %s", code, res, stderr)
	}
	if _, stderr, code := e.run(t, "detections", "resolve", ids["new"], "--false-positive"); code != 0 {
		t.Fatal(stderr)
	}
	if res, code, stderr = gate(); code != 0 || res.Detections != 1 || res.NotCounted != 3 || !res.Passed || res.List[0].ID != ids["ack"] {
		t.Fatalf("after marking a false positive: code %d %+v %s", code, res, stderr)
	}
}
