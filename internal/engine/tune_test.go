package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/testcheck"
)

// TestWithException runs testdata/exceptions/cases.yaml.
func TestWithException(t *testing.T) {
	type step struct {
		Fire  bool           `yaml:"fire"`
		Event map[string]any `yaml:"event"`
	}
	cases := testcheck.Cases[struct {
		Name       string      `yaml:"name"`
		Rule       string      `yaml:"rule"`
		Exceptions []yaml.Node `yaml:"exceptions"`
		Error      string      `yaml:"error"`
		Events     []step      `yaml:"events"`
	}](t, "testdata/exceptions/cases.yaml")
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			lib := mustLib(t)
			orig, err := ParseWith("case.yaml", []byte(c.Rule), lib)
			if err != nil {
				t.Fatal(err)
			}
			r := orig
			for i := range c.Exceptions {
				ex := Exception{Name: fmt.Sprintf("e%d", i), File: "tuning.yaml", Line: 1, Node: &c.Exceptions[i]}
				if r, err = r.WithException(ex, lib); err != nil {
					break
				}
			}
			if testcheck.Err(t, err, c.Error) {
				return
			}
			if got := len(r.Exceptions()); got != len(c.Exceptions) || len(orig.Exceptions()) != 0 {
				t.Errorf("Exceptions() = %d (original rule %d), want %d and 0", got, len(orig.Exceptions()), len(c.Exceptions))
			}
			eng, err := New([]*Rule{r})
			if err != nil {
				t.Fatal(err)
			}
			st := NewMemoryState()
			now := fixtureEpoch
			for i, e := range c.Events {
				ev, err := event.FromTree(e.Event)
				if err != nil {
					t.Fatal(err)
				}
				if ev.Type == "" {
					ev.Type = r.Events[0]
				}
				now = now.Add(time.Second)
				ms, err := eng.Process(context.Background(), &ev, st, now, nil)
				if err != nil {
					t.Fatal(err)
				}
				if fired := len(ms) > 0; fired != e.Fire {
					t.Errorf("event %d: fired = %v, want %v", i, fired, e.Fire)
				}
			}
		})
	}
}

// TestExceptionLeavesOriginal: the rule an exception was added to still matches
// what it matched, so one loaded pack can be tuned differently twice.
func TestExceptionLeavesOriginal(t *testing.T) {
	lib := mustLib(t)
	r, err := ParseWith("tmp.yaml", []byte(detRule("NEW_PROCESS", "  op: starts with\n  path: event/FILE_PATH\n  value: /tmp/")), lib)
	if err != nil {
		t.Fatal(err)
	}
	var node yaml.Node
	if err := yaml.Unmarshal([]byte("{op: starts with, path: event/FILE_PATH, value: /tmp/ok}"), &node); err != nil {
		t.Fatal(err)
	}
	tuned, err := r.WithException(Exception{Name: "ok", File: "t.yaml", Line: 3, Node: node.Content[0]}, lib)
	if err != nil {
		t.Fatal(err)
	}
	ev := event.Event{Type: event.NewProcess, FilePath: "/tmp/ok/x"}
	if !r.Matches(&ev) || tuned.Matches(&ev) {
		t.Errorf("original matches %v (want true), tuned %v (want false)", r.Matches(&ev), tuned.Matches(&ev))
	}
	eng, err := New([]*Rule{tuned})
	if err != nil {
		t.Fatal(err)
	}
	if got := eng.Eval(&ev, nil); len(got) != 0 {
		t.Errorf("Eval fired %d rules on an excepted event", len(got))
	}
}

func TestWithSeverity(t *testing.T) {
	const isolateCritical = `
detection:
  event: NEW_PROCESS
  op: is
  path: event/USER
  value: root
response:
  - action: report
    name: root_exec
    metadata: {severity: high, category: execution}
  - action: isolate
    condition: severity >= critical
`
	const actionOnly = `
detection:
  event: NEW_PROCESS
  op: is
  path: event/USER
  value: root
response:
  - action: kill
`
	tests := []struct {
		name, rule, severity string
		wantActions          []string
		wantErr              string
	}{
		{"raised past a condition", isolateCritical, "critical", []string{ActReport, ActIsolate}, ""},
		{"lowered", isolateCritical, "low", []string{ActReport}, ""},
		{"rule without report gets one", actionOnly, "medium", []string{ActReport, ActKill}, ""},
		{"unknown severity", isolateCritical, "urgent", nil, `severity "urgent" is not one of info, low, medium, high, critical`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse("root_exec.yaml", []byte(tt.rule))
			if err != nil {
				t.Fatal(err)
			}
			before := r.Report()
			tuned, err := r.WithSeverity(tt.severity)
			if testcheck.Err(t, err, tt.wantErr) {
				return
			}
			if got := tuned.Report(); got == nil || got.Severity() != tt.severity || got.Name == "" {
				t.Fatalf("report = %+v, want severity %s", got, tt.severity)
			}
			if before != nil && before.Severity() == tt.severity || r.Report() != before {
				t.Errorf("the original rule changed")
			}
			eng, err := New([]*Rule{tuned})
			if err != nil {
				t.Fatal(err)
			}
			ev := event.Event{Type: event.NewProcess, User: "root"}
			ms, err := eng.Process(context.Background(), &ev, NewMemoryState(), fixtureEpoch, nil)
			if err != nil || len(ms) != 1 {
				t.Fatalf("Process: %v, %d matches", err, len(ms))
			}
			var got []string
			for _, a := range ms[0].Actions {
				got = append(got, a.Action)
			}
			if strings.Join(got, ",") != strings.Join(tt.wantActions, ",") {
				t.Errorf("actions = %v, want %v", got, tt.wantActions)
			}
		})
	}
}
