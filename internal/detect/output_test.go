package detect

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
)

func outputRule(t *testing.T, metadata string) *engine.Rule {
	t.Helper()
	r, err := engine.Parse("r.yaml", []byte(`detection:
  event: FILE_OPEN
  op: exists
  path: event/TARGET/FILE_PATH
response:
  - action: report
    name: r
    metadata:
`+metadata))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestOutput(t *testing.T) {
	ev := event.Event{Type: event.FileOpen, ID: "01KAQ0000000000000000000AB", FilePath: "/usr/bin/cat", TargetPath: "/etc/shadow",
		User: "alice", PID: 42, FileFlags: "read"}
	ev.SetAncestors([]event.Ancestor{{PID: 41, Path: "/bin/bash"}, {PID: 1, Path: "/usr/sbin/sshd"}})
	for _, tc := range []struct{ name, metadata, want string }{
		{"paths, derived and positional", `      output: o
      output_template: 'file={{ path "event/TARGET/FILE_PATH" }} proc={{ path "event/FILE_NAME" }} pid={{ path "event/PROCESS_ID" }} gparent={{ path "event/ANCESTORS/1/FILE_NAME" }} far={{ path "event/ANCESTORS/5/FILE_NAME" }}'
`, "file=/etc/shadow proc=cat pid=42 gparent=sshd far="},
		{"a path the type lacks", `      output_template: 'dest={{ path "event/DESTINATION/IP_ADDRESS" }}'
`, "dest=<NA>"},
		{"the tree", `      output_template: 'user={{ .event.USER }}'
`, "user=alice"},
		{"a broken template keeps the text", `      output: Sensitive file read
      output_template: '{{ path "event/USER" '
`, "Sensitive file read"},
		{"an unknown path keeps the text", `      output: plain
      output_template: '{{ path "event/NOPE" }}'
`, "plain"},
		{"text only", `      output: just text
`, "just text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := New(outputRule(t, tc.metadata), &ev)
			if d.Output != tc.want {
				t.Errorf("output %q, want %q", d.Output, tc.want)
			}
		})
	}
	d := New(outputRule(t, "      output_template: 'file={{ path \"event/TARGET/FILE_PATH\" }}'\n"), &ev)
	var out bytes.Buffer
	if err := (&Printer{W: &out, JSON: true}).Publish(context.Background(), []Detection{d}); err != nil {
		t.Fatal(err)
	}
	var back Detection
	if err := json.Unmarshal(out.Bytes(), &back); err != nil || back.Output != "file=/etc/shadow" {
		t.Errorf("JSON round trip: %q %v\n%s", back.Output, err, out.String())
	}
	out.Reset()
	if err := (&Printer{W: &out}).Publish(context.Background(), []Detection{d}); err != nil || !strings.Contains(out.String(), `output="file=/etc/shadow"`) ||
		strings.Contains(out.String(), "source=edge") {
		t.Errorf("printed line: %q %v", out.String(), err)
	}
	out.Reset()
	d.Edge = true
	if err := (&Printer{W: &out}).Publish(context.Background(), []Detection{d}); err != nil || !strings.HasSuffix(out.String(), " source=edge\n") {
		t.Errorf("printed line of an edge detection: %q %v", out.String(), err)
	}
}
