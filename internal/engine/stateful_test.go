package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// clock is an injected clock for stateful tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time                    { return c.t }
func (c *clock) advance(d time.Duration) time.Time { c.t = c.t.Add(d); return c.t }

func engineOf(t testing.TB, files map[string]string) *Engine {
	t.Helper()
	lib := mustLib(t)
	var rs []*Rule
	for name, src := range files {
		r, err := ParseWith(name+".yaml", []byte(src), lib)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	eng, err := New(rs)
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func exec(sensor string, pid, ppid uint32, path string) event.Event {
	return event.Event{Type: event.NewProcess, SensorID: sensor, PID: pid, PPID: ppid, FilePath: path, ID: path}
}

// step runs one event through Process and returns the names of the rules that fired.
func step(t *testing.T, eng *Engine, st State, now time.Time, ev event.Event) []string {
	t.Helper()
	ms, err := eng.Process(context.Background(), &ev, st, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range ms {
		names = append(names, m.Rule.Name)
		if m.Event != &ev {
			t.Errorf("match event is not the processed event")
		}
	}
	return names
}

const webShell = `
detection:
  event: NEW_PROCESS
  op: in list
  path: event/FILE_NAME
  values: [nginx]
  with child:
    macro: is_shell
  within: 10m
response:
  - action: report
    name: web shell
`

const webDescendant = `
detection:
  event: NEW_PROCESS
  op: in list
  path: event/FILE_NAME
  values: [nginx]
  with descendant:
    op: is
    path: event/FILE_NAME
    value: curl
  within: 10m
response:
  - action: report
    name: web descendant
`

func TestWithChild(t *testing.T) {
	eng := engineOf(t, map[string]string{"web_shell": webShell})
	c := &clock{t: fixtureEpoch}
	tests := []struct {
		name   string
		events []event.Event
		gaps   []time.Duration // before each event
		fires  []bool
	}{
		{"child of the parent", []event.Event{exec("s1", 100, 1, "/usr/sbin/nginx"), exec("s1", 101, 100, "/bin/sh")}, nil, []bool{false, true}},
		{"not a child", []event.Event{exec("s1", 100, 1, "/usr/sbin/nginx"), exec("s1", 101, 99, "/bin/sh")}, nil, []bool{false, false}},
		{"other sensor", []event.Event{exec("s1", 100, 1, "/usr/sbin/nginx"), exec("s2", 101, 100, "/bin/sh")}, nil, []bool{false, false}},
		{"child does not match", []event.Event{exec("s1", 100, 1, "/usr/sbin/nginx"), exec("s1", 101, 100, "/usr/bin/id")}, nil, []bool{false, false}},
		{"grandchild is not a child", []event.Event{exec("s1", 100, 1, "/usr/sbin/nginx"), exec("s1", 101, 100, "/usr/bin/env"), exec("s1", 102, 101, "/bin/sh")}, nil, []bool{false, false, false}},
		{"parent alone", []event.Event{exec("s1", 101, 100, "/bin/sh")}, nil, []bool{false}},
		{"within the window", []event.Event{exec("s1", 100, 1, "/usr/sbin/nginx"), exec("s1", 101, 100, "/bin/sh")}, []time.Duration{0, 9 * time.Minute}, []bool{false, true}},
		{"after the window", []event.Event{exec("s1", 100, 1, "/usr/sbin/nginx"), exec("s1", 101, 100, "/bin/sh")}, []time.Duration{0, 11 * time.Minute}, []bool{false, false}},
		{"two children", []event.Event{exec("s1", 100, 1, "/usr/sbin/nginx"), exec("s1", 101, 100, "/bin/sh"), exec("s1", 102, 100, "/bin/bash")}, nil, []bool{false, true, true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := NewMemoryState()
			for i, ev := range tc.events {
				if tc.gaps != nil {
					c.advance(tc.gaps[i])
				}
				got := len(step(t, eng, st, c.now(), ev)) == 1
				if got != tc.fires[i] {
					t.Fatalf("event %d fired = %v, want %v", i, got, tc.fires[i])
				}
			}
		})
	}
}

func TestWithDescendant(t *testing.T) {
	eng := engineOf(t, map[string]string{"web_descendant": webDescendant})
	c := &clock{t: fixtureEpoch}
	t.Run("three generations", func(t *testing.T) {
		st := NewMemoryState()
		seq := []struct {
			ev    event.Event
			fires bool
		}{
			{exec("s1", 100, 1, "/usr/sbin/nginx"), false},
			{exec("s1", 200, 100, "/usr/bin/curl"), true},     // child
			{exec("s1", 201, 100, "/bin/sh"), false},          // child, no match
			{exec("s1", 300, 201, "/usr/bin/python3"), false}, // grandchild
			{exec("s1", 400, 300, "/usr/bin/curl"), true},     // great-grandchild
			{exec("s1", 500, 999, "/usr/bin/curl"), false},    // unrelated
			{exec("s2", 401, 300, "/usr/bin/curl"), false},    // same pids, other sensor
		}
		for i, s := range seq {
			if got := len(step(t, eng, st, c.advance(time.Second), s.ev)) == 1; got != s.fires {
				t.Fatalf("event %d (%s) fired = %v, want %v", i, s.ev.FilePath, got, s.fires)
			}
		}
	})
	t.Run("window from the ancestor", func(t *testing.T) {
		st := NewMemoryState()
		step(t, eng, st, c.advance(time.Second), exec("s1", 100, 1, "/usr/sbin/nginx"))
		step(t, eng, st, c.advance(5*time.Minute), exec("s1", 200, 100, "/bin/sh"))
		if got := step(t, eng, st, c.advance(4*time.Minute), exec("s1", 300, 200, "/usr/bin/curl")); len(got) != 1 {
			t.Fatal("grandchild within the window did not fire")
		}
		// the descendants' markers expire with the ancestor's
		if got := step(t, eng, st, c.advance(2*time.Minute), exec("s1", 301, 200, "/usr/bin/curl")); len(got) != 0 {
			t.Fatal("fired after the ancestor's window")
		}
	})
}

const bruteForce = `
detection:
  event: NETWORK_CONNECT
  op: is
  path: event/ERROR_CODE
  value: 111
  count: 3
  within: 1m
  group by: [routing/sensor_id, event/DESTINATION/IP_ADDRESS]
response:
  - action: report
    name: refused connections
`

func TestCount(t *testing.T) {
	eng := engineOf(t, map[string]string{"refused": bruteForce})
	refused := func(sensor, ip string) event.Event {
		return event.Event{Type: event.NetworkConnect, SensorID: sensor, DestIP: ip, ErrorCode: 111}
	}
	ok := event.Event{Type: event.NetworkConnect, SensorID: "s1", DestIP: "10.0.0.1"}
	c := &clock{t: fixtureEpoch}
	st := NewMemoryState()
	seq := []struct {
		gap   time.Duration
		ev    event.Event
		fires bool
	}{
		{0, refused("s1", "10.0.0.1"), false},
		{time.Second, ok, false},                        // does not count
		{time.Second, refused("s2", "10.0.0.1"), false}, // other sensor
		{time.Second, refused("s1", "10.0.0.2"), false}, // other address
		{time.Second, refused("s1", "10.0.0.1"), false},
		{time.Second, refused("s1", "10.0.0.1"), true},  // third within the minute
		{time.Second, refused("s1", "10.0.0.1"), false}, // the counter restarted
		{time.Second, refused("s1", "10.0.0.1"), false},
		{time.Second, refused("s1", "10.0.0.1"), true},
		// window expiry: two, then a gap past the window, then two more: no crossing
		{time.Minute, refused("s1", "10.0.0.1"), false},
		{10 * time.Second, refused("s1", "10.0.0.1"), false},
		{time.Minute, refused("s1", "10.0.0.1"), false},
		{10 * time.Second, refused("s1", "10.0.0.1"), false},
		{10 * time.Second, refused("s1", "10.0.0.1"), true},
	}
	for i, s := range seq {
		if got := len(step(t, eng, st, c.advance(s.gap), s.ev)) == 1; got != s.fires {
			t.Fatalf("event %d fired = %v, want %v", i, got, s.fires)
		}
	}
}

const suppressed = `
detection:
  event: NEW_PROCESS
  macro: is_shell
response:
  - action: report
    name: shell
    metadata:
      severity: medium
  - action: isolate
    condition: severity >= high
  - action: notify
    webhook: "{{ slack }}"
    condition: severity >= medium
    suppression:
      max_count: 2
      period: 1h
      keys: ["{{ .routing.sensor_id }}", "{{ .event.FILE_PATH }}"]
  - action: kill
    suppression:
      max_count: 1
      period: 10m
`

func TestSuppression(t *testing.T) {
	eng := engineOf(t, map[string]string{"shell": suppressed})
	c := &clock{t: fixtureEpoch}
	st := NewMemoryState()
	verbs := func(ev event.Event, gap time.Duration) (acts, held []string) {
		ms, err := eng.Process(context.Background(), &ev, st, c.advance(gap), nil)
		if err != nil || len(ms) != 1 {
			t.Fatalf("Process = %d matches, %v", len(ms), err)
		}
		for _, a := range ms[0].Actions {
			acts = append(acts, a.Action)
		}
		for _, a := range ms[0].Suppressed {
			held = append(held, a.Action)
		}
		if !ms[0].Reported() {
			t.Error("the report was held back")
		}
		return acts, held
	}
	tests := []struct {
		ev         event.Event
		gap        time.Duration
		acts, held string
	}{
		{exec("s1", 1, 0, "/bin/sh"), 0, "report notify kill", ""},
		{exec("s1", 2, 0, "/bin/sh"), time.Minute, "report notify", "kill"},
		{exec("s1", 3, 0, "/bin/sh"), time.Minute, "report", "notify kill"},
		{exec("s1", 4, 0, "/bin/bash"), time.Minute, "report notify", "kill"},    // other key for notify
		{exec("s2", 5, 0, "/bin/sh"), time.Minute, "report notify kill", ""},     // other sensor
		{exec("s1", 6, 0, "/bin/sh"), 10 * time.Minute, "report kill", "notify"}, // kill's period is over
		{exec("s1", 7, 0, "/bin/sh"), time.Hour, "report notify kill", ""},
	}
	for i, tc := range tests {
		acts, held := verbs(tc.ev, tc.gap)
		if join(acts) != tc.acts || join(held) != tc.held {
			t.Fatalf("event %d: actions %q held %q; want %q held %q", i, join(acts), join(held), tc.acts, tc.held)
		}
	}
	// without a state, suppression cannot work
	ev := exec("s1", 1, 0, "/bin/sh")
	if _, err := eng.Process(context.Background(), &ev, nil, c.now(), nil); err != ErrNoState {
		t.Fatalf("err = %v, want ErrNoState", err)
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

func TestStatelessProcessMatchesEval(t *testing.T) {
	eng := engineOf(t, map[string]string{"a": detRule(event.NewProcess, "  macro: is_shell"), "b": webShell})
	ev := exec("s1", 10, 0, "/bin/sh")
	if got := eng.Eval(&ev, nil); len(got) != 1 || got[0].Name != "a" {
		t.Fatalf("Eval = %v, want rule a only (stateful rules fire through Process)", got)
	}
	ms, err := eng.Process(context.Background(), &ev, nil, fixtureEpoch, nil)
	if err != ErrNoState || len(ms) != 1 {
		t.Fatalf("Process without state = %d, %v; want the stateless match and ErrNoState", len(ms), err)
	}
	if !eng.Stateful() {
		t.Error("Stateful() = false")
	}
}

func TestMemoryState(t *testing.T) {
	ctx := context.Background()
	st := NewMemoryState()
	t0 := fixtureEpoch
	if err := st.Mark(ctx, "m", t0, time.Minute); err != nil {
		t.Fatal(err)
	}
	if exp, ok, _ := st.Marker(ctx, "m", t0.Add(59*time.Second)); !ok || !exp.Equal(t0.Add(time.Minute)) {
		t.Fatalf("marker = %v %v", exp, ok)
	}
	if _, ok, _ := st.Marker(ctx, "m", t0.Add(time.Minute)); ok {
		t.Fatal("marker alive at its expiry")
	}
	if _, ok, _ := st.Marker(ctx, "other", t0); ok {
		t.Fatal("unknown marker set")
	}
	for i := int64(1); i <= 3; i++ {
		if n, _ := st.Incr(ctx, "c", t0.Add(time.Duration(i)*time.Second), time.Minute); n != i {
			t.Fatalf("count %d, want %d", n, i)
		}
	}
	if n, _ := st.Incr(ctx, "c", t0.Add(61*time.Second), time.Minute); n != 1 {
		t.Fatalf("count after the window = %d, want 1 (fixed window from the first increment)", n)
	}
	st.Reset(ctx, "c")
	if n, _ := st.Incr(ctx, "c", t0, time.Minute); n != 1 {
		t.Fatalf("count after reset = %d", n)
	}
	// expired entries are swept
	for i := 0; i < 3*sweepEvery; i++ {
		st.Mark(ctx, string(rune('a'+i%26))+time.Duration(i).String(), t0.Add(time.Duration(i)*time.Second), time.Second)
	}
	if n := st.Len(); n > 2*sweepEvery {
		t.Fatalf("%d entries held after sweeps, want expired ones dropped", n)
	}
	st.Sweep(t0.Add(24 * time.Hour))
	if n := st.Len(); n != 0 {
		t.Fatalf("%d entries after a full sweep", n)
	}
}

func TestMemoryStateConcurrent(t *testing.T) {
	ctx := context.Background()
	st := NewMemoryState()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				st.Incr(ctx, "shared", fixtureEpoch, time.Hour)
				st.Mark(ctx, "m", fixtureEpoch, time.Hour)
				st.Marker(ctx, "m", fixtureEpoch)
			}
		}()
	}
	wg.Wait()
	if n, _ := st.Incr(ctx, "shared", fixtureEpoch, time.Hour); n != 8001 {
		t.Fatalf("count = %d, want 8001", n)
	}
}

func TestTypeSlots(t *testing.T) {
	seen := map[int]string{}
	for _, typ := range event.Types {
		i := typeSlot(typ)
		if i < 0 || i >= numSlots {
			t.Errorf("event type %s has no slot: add it to typeSlot", typ)
			continue
		}
		if prev, dup := seen[i]; dup {
			t.Errorf("%s and %s share slot %d", prev, typ, i)
		}
		seen[i] = typ
	}
	if typeSlot("NOPE") != -1 {
		t.Error("unknown type has a slot")
	}
}
