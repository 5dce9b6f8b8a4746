package aws

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/explain"
	"github.com/vigil-sec/vigil/internal/testenv"
)

var _ engine.EventKeeper = (*RuleState)(nil)

// TestRuleStateKeptEvents checks EventKeeper on DynamoDB: a bounded list in a
// fixed window, replaced by SetEvents, dropped by Reset and at expiry, fields
// kept through the JSON.
func TestRuleStateKeptEvents(t *testing.T) {
	c := dynamo(t)
	st := &RuleState{Client: c, Table: testenv.CreateTable(t, c, testenv.RuleStateTable)}
	ctx := context.Background()
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	ids := func(key string, at time.Time) string {
		t.Helper()
		refs, err := st.KeptEvents(ctx, key, at)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range refs {
			out = append(out, r.ID)
		}
		return strings.Join(out, ",")
	}
	if got := ids("k", t0); got != "" {
		t.Fatalf("nothing kept yet: %q", got)
	}
	for i, id := range []string{"a", "b", "c"} {
		ref := explain.EventRef{ID: id, Time: t0, Type: "NEW_PROCESS", Fields: map[string]any{"event/FILE_PATH": "/bin/" + id}}
		if err := st.AddEvent(ctx, "k", ref, t0.Add(time.Duration(i)*time.Second), time.Minute, 2); err != nil {
			t.Fatal(err)
		}
	}
	if got := ids("k", t0.Add(10*time.Second)); got != "b,c" {
		t.Errorf("kept: %q, want b,c (at most 2, the oldest removed)", got)
	}
	refs, _ := st.KeptEvents(ctx, "k", t0)
	if len(refs) != 2 || refs[0].Fields["event/FILE_PATH"] != "/bin/b" || !refs[0].Time.Equal(t0) {
		t.Errorf("kept events %+v", refs)
	}
	if got := ids("k", t0.Add(time.Minute)); got != "" {
		t.Errorf("kept at the end of the window: %q", got)
	}
	if err := st.AddEvent(ctx, "k", explain.EventRef{ID: "d"}, t0.Add(2*time.Minute), time.Minute, 2); err != nil {
		t.Fatal(err)
	}
	if got := ids("k", t0.Add(2*time.Minute)); got != "d" {
		t.Errorf("a new window: %q, want d", got)
	}
	if err := st.SetEvents(ctx, "k", []explain.EventRef{{ID: "e"}}, t0.Add(3*time.Minute), time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := ids("k", t0.Add(30*time.Minute)); got != "e" {
		t.Errorf("after SetEvents: %q, want e", got)
	}
	if err := st.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if got := ids("k", t0.Add(3*time.Minute)); got != "" {
		t.Errorf("after Reset: %q", got)
	}
}

// TestRuleStateExplains runs a with child rule and a count rule through the
// engine with the DynamoDB state: the matches name the parent and the counted
// events.
func TestRuleStateExplains(t *testing.T) {
	c := dynamo(t)
	st := &RuleState{Client: c, Table: testenv.CreateTable(t, c, testenv.RuleStateTable)}
	var rs []*engine.Rule
	for name, src := range map[string]string{
		"web_shell": "detection:\n  event: NEW_PROCESS\n  op: ends with\n  path: event/FILE_PATH\n  value: nginx\n  with child:\n    op: ends with\n    path: event/FILE_PATH\n    value: /sh\nresponse:\n  - action: report\n    name: web shell\n",
		"three_ls":  "detection:\n  event: NEW_PROCESS\n  op: ends with\n  path: event/FILE_PATH\n  value: /ls\n  count: 3\n  within: 1m\nresponse:\n  - action: report\n    name: ls\n",
	} {
		r, err := engine.Parse(name+".yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	eng, err := engine.New(rs)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	run := func(id string, pid, ppid uint32, path string) []engine.Match {
		t.Helper()
		ev := event.Event{Type: event.NewProcess, SensorID: "s1", ID: id, PID: pid, PPID: ppid, FilePath: path, TimeNanos: now.UnixNano()}
		ms, err := eng.Process(ctx, &ev, st, now, nil)
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
	run("P", 10, 1, "/usr/sbin/nginx")
	ms := run("C", 11, 10, "/bin/sh")
	if len(ms) != 1 || len(ms[0].Earlier) != 1 || ms[0].Earlier[0].ID != "P" {
		t.Fatalf("with child: %+v", ms)
	}
	if x := ms[0].Explain(); x.Detection == nil || !x.Detection.Matched || x.Detection.Actual != "/usr/sbin/nginx" {
		t.Errorf("with child: the detection on the parent: %+v", x.Detection)
	}
	run("L1", 20, 1, "/bin/ls")
	run("L2", 21, 1, "/bin/ls")
	ms = run("L3", 22, 1, "/bin/ls")
	if len(ms) != 1 || len(ms[0].Earlier) != 3 || ms[0].Earlier[0].ID != "L1" || ms[0].Earlier[2].ID != "L3" {
		t.Fatalf("count: %+v", ms)
	}
}
