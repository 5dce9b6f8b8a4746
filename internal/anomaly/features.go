package anomaly

import (
	"math"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
)

// HostFeatures names the features of a HOST_STATS event, in model column order.
// Each is the event's counter as a rate per minute (count × 60 / interval
// seconds), then log1p: activity counts are heavy-tailed, and an isolation
// forest's uniform split thresholds separate a burst of 10× as easily at 10 as
// at 10 000 only on a log scale.
var HostFeatures = []string{
	"exec", "file_open", "file_change", "connect", "accept", "dns", "module_load",
	"privilege_change", "distinct_dest_ips", "distinct_dest_ports", "new_executables",
	"failed_connects", "outbound_bytes",
}

// NumHostFeatures is len(HostFeatures).
const NumHostFeatures = 13

// defaultInterval is assumed for HOST_STATS events that carry no interval.
const defaultInterval = 60

// HostStatsFeatures writes the features of a HOST_STATS event into dst (len
// NumHostFeatures) and reports whether ev is one. One event is one row: the sensor
// sends one per interval (a minute by default), so rows are per sensor and minute;
// other intervals are brought to per-minute rates.
func HostStatsFeatures(dst []float64, ev *event.Event) bool {
	if ev.Type != event.HostStats {
		return false
	}
	iv := float64(ev.IntervalSeconds)
	if iv == 0 {
		iv = defaultInterval
	}
	k := 60 / iv
	f := func(i int, c uint64) { dst[i] = math.Log1p(float64(c) * k) }
	f(0, ev.CountExec)
	f(1, ev.CountFileOpen)
	f(2, ev.CountFileChange)
	f(3, ev.CountConnect)
	f(4, ev.CountAccept)
	f(5, ev.CountDNS)
	f(6, ev.CountModuleLoad)
	f(7, ev.CountPrivChange)
	f(8, ev.DistinctDestIPs)
	f(9, ev.DistinctDestPorts)
	f(10, ev.NewExecutables)
	f(11, ev.FailedConnects)
	f(12, ev.OutboundBytes)
	return true
}

// PerMinute undoes the log1p of a feature value: the rate per minute.
func PerMinute(v float64) float64 { return math.Expm1(v) }

// GroupOf returns the value of the first tag "key:value" (value not empty) in
// tags, or "" when key is empty or no tag has it.
func GroupOf(tags []string, key string) string {
	if key == "" {
		return ""
	}
	for _, t := range tags {
		if len(t) > len(key)+1 && t[len(key)] == ':' && strings.HasPrefix(t, key) {
			return t[len(key)+1:]
		}
	}
	return ""
}
