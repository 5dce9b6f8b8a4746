package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestRuleEdge: which rules a sensor may evaluate on its host, and the actions
// a rule marks for the edge.
func TestRuleEdge(t *testing.T) {
	exists := "  op: exists\n  path: event/USER"
	tests := []struct {
		name  string
		src   string
		ok    bool
		why   string // part of the reason, when not ok
		edges string // verbs of the actions with edge: true
	}{
		{"stateless", detRule("NEW_PROCESS", exists), true, "", ""},
		{"edge true", detRule("NEW_PROCESS", exists) + "edge: true\n", true, "", ""},
		{"edge false", detRule("NEW_PROCESS", exists) + "edge: false\n", false, "edge: false", ""},
		{"count per sensor by default", detRule("NETWORK_CONNECT", exists+"\n  count: 3\n  within: 1m"), true, "", ""},
		{"count per sensor", detRule("NETWORK_CONNECT", exists+"\n  count: 3\n  within: 1m\n  group by: [routing/sensor_id, event/PROCESS_ID]"), true, "", ""},
		{"count across hosts", detRule("NETWORK_CONNECT", exists+"\n  count: 3\n  within: 1m\n  group by: [event/DESTINATION/IP_ADDRESS]"),
			false, "counts across hosts", ""},
		{"suppression per sensor by default", detRule("NEW_PROCESS", exists) + "    suppression: {max_count: 1, period: 1h}\n", true, "", ""},
		{"suppression across hosts", detRule("NEW_PROCESS", exists) +
			"    suppression: {max_count: 1, period: 1h, keys: [\"{{ .event.FILE_PATH }}\"]}\n", false, "action report is suppressed across hosts", ""},
		{"edge actions", detRule("NEW_PROCESS", exists) + "  - action: kill\n    edge: true\n    descendants: true\n  - action: snapshot\n    edge: false\n" +
			"  - action: isolate\n    edge: true\n", true, "", "kill isolate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse("r.yaml", []byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			ok, why := r.Edge()
			if ok != tc.ok || !strings.Contains(why, tc.why) || (ok && why != "") {
				t.Errorf("Edge() = %v, %q; want %v, %q", ok, why, tc.ok, tc.why)
			}
			var edges []string
			for _, a := range r.Response {
				if a.Edge {
					edges = append(edges, a.Action)
				}
			}
			if got := strings.Join(edges, " "); got != tc.edges {
				t.Errorf("edge actions %q, want %q", got, tc.edges)
			}
		})
	}
}

// TestBoundedMemoryState: the state never holds more than its bound; expired
// entries go first, then the live ones that expire soonest, counted.
func TestBoundedMemoryState(t *testing.T) {
	ctx := context.Background()
	t0 := fixtureEpoch
	const bound = 1000
	tests := []struct {
		name string
		// write i is made at t0 (at t0+2i s when nothing is to be evicted)
		// and expires ttl(i) later
		ttl      func(i int) time.Duration
		evicted  bool // live entries must be dropped
		byExpiry bool // the entries that expire first are the ones dropped
	}{
		{"expired entries make room", func(int) time.Duration { return time.Second }, false, false},
		{"soonest to expire dropped", func(i int) time.Duration { return time.Hour + time.Duration(i)*time.Second }, true, true},
		{"same expiry", func(int) time.Duration { return time.Hour }, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := NewBoundedMemoryState(bound)
			for i := range 3 * bound {
				now := t0
				if !tc.evicted {
					now = t0.Add(time.Duration(i) * 2 * time.Second) // the earlier writes have expired
				}
				key := fmt.Sprint("k", i)
				if i%2 == 0 {
					st.Mark(ctx, key, now, tc.ttl(i))
				} else if _, err := st.Incr(ctx, key, now, tc.ttl(i)); err != nil {
					t.Fatal(err)
				}
				if n := st.Len(); n > bound {
					t.Fatalf("write %d: %d entries held, bound %d", i, n, bound)
				}
			}
			if got := st.Evicted() > 0; got != tc.evicted {
				t.Fatalf("evicted %d live entries, want some: %v", st.Evicted(), tc.evicted)
			}
			if tc.byExpiry {
				if n, _ := st.Incr(ctx, fmt.Sprint("k", 3*bound-1), t0, tc.ttl(3*bound-1)); n != 2 {
					t.Errorf("the counter that expires last was dropped (count %d)", n)
				}
				if _, ok, _ := st.Marker(ctx, "k0", t0); ok {
					t.Error("the marker that expires first is still held")
				}
				if _, ok, _ := st.Marker(ctx, fmt.Sprint("k", 3*bound-2), t0); !ok {
					t.Error("the marker that expires last was dropped")
				}
			}
		})
	}
	t.Run("unbounded", func(t *testing.T) {
		st := NewBoundedMemoryState(0)
		for i := range 3 * bound {
			st.Mark(ctx, fmt.Sprint("k", i), t0, time.Hour)
		}
		if st.Len() != 3*bound || st.Evicted() != 0 {
			t.Fatalf("%d entries, %d evicted", st.Len(), st.Evicted())
		}
	})
}
