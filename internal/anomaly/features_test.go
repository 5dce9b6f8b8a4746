package anomaly

import (
	"math"
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
)

func TestHostStatsFeatures(t *testing.T) {
	if len(HostFeatures) != NumHostFeatures {
		t.Fatalf("%d feature names, NumHostFeatures = %d", len(HostFeatures), NumHostFeatures)
	}
	all := event.Event{Type: event.HostStats, IntervalSeconds: 60,
		CountExec: 1, CountFileOpen: 2, CountFileChange: 3, CountConnect: 4, CountAccept: 5, CountDNS: 6,
		CountModuleLoad: 7, CountPrivChange: 8, DistinctDestIPs: 9, DistinctDestPorts: 10, NewExecutables: 11,
		FailedConnects: 12, OutboundBytes: 13}
	ln := math.Log1p
	cases := []struct {
		name string
		ev   event.Event
		ok   bool
		want map[string]float64 // features not listed are 0
	}{
		{"every counter in its column", all, true, map[string]float64{
			"exec": ln(1), "file_open": ln(2), "file_change": ln(3), "connect": ln(4), "accept": ln(5), "dns": ln(6),
			"module_load": ln(7), "privilege_change": ln(8), "distinct_dest_ips": ln(9), "distinct_dest_ports": ln(10),
			"new_executables": ln(11), "failed_connects": ln(12), "outbound_bytes": ln(13)}},
		{"idle minute", event.Event{Type: event.HostStats, IntervalSeconds: 60}, true, nil},
		{"30 s interval doubles to per minute", event.Event{Type: event.HostStats, IntervalSeconds: 30, CountExec: 5, OutboundBytes: 1000},
			true, map[string]float64{"exec": ln(10), "outbound_bytes": ln(2000)}},
		{"2 min interval halves", event.Event{Type: event.HostStats, IntervalSeconds: 120, CountDNS: 9},
			true, map[string]float64{"dns": ln(4.5)}},
		{"no interval counts as a minute", event.Event{Type: event.HostStats, CountConnect: 3},
			true, map[string]float64{"connect": ln(3)}},
		{"huge counter stays finite", event.Event{Type: event.HostStats, IntervalSeconds: 1, OutboundBytes: math.MaxUint64},
			true, map[string]float64{"outbound_bytes": ln(float64(math.MaxUint64) * 60)}},
		{"other event types are not rows", event.Event{Type: event.NewProcess, CountExec: 4}, false, nil},
	}
	for _, c := range cases {
		x := make([]float64, NumHostFeatures)
		for i := range x {
			x[i] = -1 // must be overwritten
		}
		ok := HostStatsFeatures(x, &c.ev)
		if ok != c.ok {
			t.Errorf("%s: ok = %v", c.name, ok)
			continue
		}
		if !ok {
			continue
		}
		for i, name := range HostFeatures {
			if want := c.want[name]; math.Abs(x[i]-want) > 1e-12 || math.IsInf(x[i], 0) {
				t.Errorf("%s: %s = %v, want %v", c.name, name, x[i], want)
			}
		}
	}
	if got := PerMinute(math.Log1p(42)); math.Abs(got-42) > 1e-9 {
		t.Errorf("PerMinute(log1p(42)) = %v", got)
	}
}

func TestGroupOf(t *testing.T) {
	for _, c := range []struct {
		tags []string
		key  string
		want string
	}{
		{[]string{"env:prod", "role:web"}, "env", "prod"},
		{[]string{"env:prod", "role:web"}, "role", "web"},
		{[]string{"environment:prod", "env:dev"}, "env", "dev"},
		{[]string{"env:", "env:x"}, "env", "x"},
		{[]string{"env:a:b"}, "env", "a:b"},
		{[]string{"env:prod"}, "", ""},
		{nil, "env", ""},
		{[]string{"env"}, "env", ""},
	} {
		if got := GroupOf(c.tags, c.key); got != c.want {
			t.Errorf("GroupOf(%v, %q) = %q, want %q", c.tags, c.key, got, c.want)
		}
	}
}
