package detect

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/explain"
)

var update = flag.Bool("update", false, "rewrite testdata/detection_explained.json from the current output")

// webShellRule fires on a shell whose parent is a web server.
const webShellRule = `
detection:
  event: NEW_PROCESS
  op: ends with
  path: event/FILE_PATH
  value: /nginx
  with child:
    op: and
    rules:
      - op: in list
        path: event/FILE_NAME
        values: [sh, bash, dash]
      - op: contains
        path: event/COMMAND_LINE
        value: "-c"
  within: 10m
response:
  - action: report
    name: web server spawns a shell
    metadata:
      severity: high
      category: execution
`

// explainedDetection is the detection of webShellRule on an nginx worker's
// shell: its wire form is testdata/detection_explained.json, the fixture the
// client and CLI tests serve.
func explainedDetection(t *testing.T) Detection {
	t.Helper()
	r, err := engine.Parse("web_server_shell.yaml", []byte(webShellRule))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New([]*engine.Rule{r})
	if err != nil {
		t.Fatal(err)
	}
	parent := privileged()
	parent.ID, parent.PID, parent.FilePath, parent.CommandLine = "01KAQ0000000000000000000P1", 40, "/usr/sbin/nginx", "nginx: worker process"
	child := privileged()
	child.ID, child.PID, child.PPID, child.FilePath, child.CommandLine = "01KAQ0000000000000000000C1", 41, 40, "/bin/sh", "sh -c id"
	child.ParentFilePath, child.TimeNanos = "/usr/sbin/nginx", parent.TimeNanos+int64(2e9)
	ds := NewDetector(eng).Evaluate(nil, []event.Event{parent, child})
	if len(ds) != 1 {
		t.Fatalf("%d detections, want 1", len(ds))
	}
	return ds[0]
}

// TestDetectionExplanation checks that a detection carries its explanation in
// its wire form and back, and that the form is testdata/detection_explained.json.
func TestDetectionExplanation(t *testing.T) {
	d := explainedDetection(t)
	x := d.Explanation
	if x == nil || !x.Matched || x.Child == nil || !x.Child.Matched || x.Detection == nil || !x.Detection.Matched ||
		len(x.Earlier) != 1 || x.Earlier[0].ID != "01KAQ0000000000000000000P1" {
		t.Fatalf("explanation = %+v, want the child's conditions and the parent", x)
	}
	raw, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	raw = append(raw, '\n')
	const golden = "testdata/detection_explained.json"
	if *update {
		if err := os.WriteFile(golden, raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, want) {
		t.Errorf("wire form differs from %s (go test -update rewrites it):\n%s", golden, raw)
	}
	var back Detection
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if got, want := explain.Text(back.Explanation), explain.Text(d.Explanation); got != want {
		t.Errorf("explanation after the round trip:\n%s\nwant:\n%s", got, want)
	}
}

// TestStoredWithoutExplanation checks that a detection stored before detections
// carried explanations still decodes, without one.
func TestStoredWithoutExplanation(t *testing.T) {
	raw, err := os.ReadFile("testdata/detection_without_explanation.json")
	if err != nil {
		t.Fatal(err)
	}
	var d Detection
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if d.ID != "3c0f2a9d6b1e4f5a8c7d9e0f1a2b3c4d" || d.Rule != "privileged_docker_container" || d.Event.PID != 42 || d.Explanation != nil {
		t.Errorf("decoded %+v", d)
	}
}
