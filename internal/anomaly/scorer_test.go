package anomaly

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

var t0 = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// hostEvents returns minutes × sensors ordinary HOST_STATS events of sensors
// tagged env:<env>, starting at start: counts around scale × a web server's.
func hostEvents(seed uint64, env string, sensors, minutes int, start time.Time, scale float64) []event.Event {
	r := rand.New(rand.NewPCG(seed, 3))
	around := func(m float64) uint64 { return uint64(math.Round(scale * m * math.Exp(0.25*r.NormFloat64()))) }
	var out []event.Event
	for m := range minutes {
		for s := range sensors {
			out = append(out, event.Event{
				SensorID: fmt.Sprintf("%s-%02d", env, s), Tags: []string{"env:" + env, "role:web"},
				Type: event.HostStats, TimeNanos: start.Add(time.Duration(m) * time.Minute).UnixNano(),
				ID:              fmt.Sprintf("%s-%d-%d", env, s, m),
				IntervalSeconds: 60, CountExec: around(3), CountFileOpen: around(400), CountFileChange: around(10),
				CountConnect: around(30), CountAccept: around(60), CountDNS: around(20), DistinctDestIPs: around(12),
				DistinctDestPorts: around(3), FailedConnects: around(0.5), OutboundBytes: around(2e5),
			})
		}
	}
	return out
}

func trainedScorer(t testing.TB) *Scorer {
	t.Helper()
	evs := append(hostEvents(1, "prod", 20, 100, t0, 1), hostEvents(2, "dev", 9, 100, t0, 0.1)...)
	evs = append(evs, event.Event{Type: event.NewProcess, Tags: []string{"env:prod"}}) // ignored
	m, err := Train(evs, TrainOptions{Params: Params{Contamination: 0.001, Seed: 5}, GroupBy: "env", MinGroupRows: 1000,
		Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	if m.Global.Rows != 2900 || m.Groups["prod"].Rows != 2000 || m.Groups["dev"] != nil {
		t.Fatalf("rows: global %d, groups %v", m.Global.Rows, m.GroupNames())
	}
	sc, err := NewScorer(m)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestScorerFindsBurst(t *testing.T) {
	sc := trainedScorer(t)
	normal := hostEvents(9, "prod", 1, 1, t0, 1)[0]
	// A scan and an upload: six counters far beyond anything seen. (A burst in
	// one counter alone raises the score much less: see docs/anomaly.md.)
	scan := normal
	scan.CountConnect, scan.DistinctDestIPs, scan.DistinctDestPorts, scan.FailedConnects = 3000, 900, 1000, 2500
	scan.CountDNS, scan.OutboundBytes = 2000, 5e8

	sn, _, ok := sc.Score(&normal)
	if !ok {
		t.Fatal("HOST_STATS not scored")
	}
	ss, top, _ := sc.Score(&scan)
	if ss <= sn || ss < 0.6 {
		t.Errorf("port scan scores %.3f, an ordinary minute %.3f", ss, sn)
	}
	if _, ok := sc.Check(&normal); ok {
		t.Error("an ordinary minute is anomalous")
	}
	f, ok := sc.Check(&scan)
	if !ok {
		t.Fatal("the port scan is not anomalous")
	}
	if f.Rule != RuleName || f.Group != "prod" || f.Score != ss || f.Threshold <= 0 || f.Threshold >= ss {
		t.Errorf("finding %+v", f)
	}
	if len(top) == 0 || len(top) > 3 {
		t.Fatalf("top = %v", top)
	}
	scanFeatures := map[string]bool{"connect": true, "distinct_dest_ips": true, "distinct_dest_ports": true,
		"failed_connects": true, "dns": true, "outbound_bytes": true}
	for i, c := range top {
		if !scanFeatures[c.Feature] {
			t.Errorf("top[%d] = %+v, not one of the scan's features", i, c)
		}
		if i > 0 && c.Weight > top[i-1].Weight {
			t.Error("top not sorted by weight")
		}
	}
	if top[0].Feature == "failed_connects" && math.Abs(top[0].Value-2500) > 1e-6 {
		t.Errorf("value %v, want the per-minute rate 2500", top[0].Value)
	}

	// A dev sensor (no model of its own) is scored by the global model.
	dev := hostEvents(3, "dev", 1, 1, t0, 0.1)[0]
	dev.CountExec, dev.NewExecutables, dev.CountFileChange, dev.CountPrivChange, dev.CountModuleLoad = 5000, 300, 4000, 20, 5
	if f, ok := sc.Check(&dev); !ok || f.Group != "" {
		t.Errorf("dev exec storm with new executables, file changes, privilege changes, module loads: %+v, %v; want a finding from the global model", f, ok)
	}
	// Other events are not scored.
	if _, _, ok := sc.Score(&event.Event{Type: event.NewProcess}); ok {
		t.Error("NEW_PROCESS scored")
	}
}

func TestNewScorerChecksFeatures(t *testing.T) {
	m := smallModels(t)
	if _, err := NewScorer(m); !errors.Is(err, ErrBadModel) {
		t.Errorf("kind %q accepted: %v", m.Kind, err)
	}
	m.Kind = KindHostActivity
	if _, err := NewScorer(m); err == nil {
		t.Error("features [a b c] accepted for HOST_STATS")
	}
}

func TestTrainerBoundsRows(t *testing.T) {
	tr, err := NewTrainer(TrainOptions{MaxRows: 500, GroupBy: "env", MaxGroups: 1, Params: Params{Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for _, evs := range [][]event.Event{hostEvents(1, "a", 10, 100, t0, 1), hostEvents(2, "b", 5, 10, t0, 1)} {
		for i := range evs {
			tr.Add(&evs[i])
		}
	}
	if tr.Rows() != 1050 || len(tr.global.x) != 500*NumHostFeatures || len(tr.groups) != 1 || tr.dropped != 50 {
		t.Errorf("rows %d, kept %d, groups %d, dropped %d", tr.Rows(), len(tr.global.x)/NumHostFeatures, len(tr.groups), tr.dropped)
	}
	if _, err := Train(nil, TrainOptions{}); !errors.Is(err, ErrNoRows) {
		t.Errorf("training on nothing: %v", err)
	}
}
