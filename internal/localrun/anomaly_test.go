package localrun

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/anomaly"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/sensor/shipper"
)

// TestAnomalyModel replays HOST_STATS minutes with a model: the one minute
// unlike the others is raised as anomaly/host_activity beside the rules'
// detections.
func TestAnomalyModel(t *testing.T) {
	dir := t.TempDir()
	lake, model := filepath.Join(dir, "lake"), filepath.Join(dir, "model.json")
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	minute := func(i int, exec, conns uint64) event.Event {
		return event.Event{SensorID: "s1", Hostname: "h1", Type: event.HostStats, TimeNanos: at.Add(time.Duration(i) * time.Minute).UnixNano(),
			ID: fmt.Sprintf("hs-%04d", i), IntervalSeconds: 60, CountExec: exec, CountFileOpen: 400 + exec*3 + rng.Uint64N(200),
			CountConnect: conns, CountDNS: conns/2 + rng.Uint64N(5), DistinctDestIPs: 2 + rng.Uint64N(4), DistinctDestPorts: 1 + rng.Uint64N(3)}
	}
	var train []event.Event
	for i := range 400 {
		train = append(train, minute(i, 15+rng.Uint64N(20), 5+rng.Uint64N(15)))
	}
	m, err := anomaly.Train(train, anomaly.TrainOptions{Params: anomaly.Params{Trees: 50, Seed: 1, Contamination: 0.02}})
	if err != nil {
		t.Fatal(err)
	}
	data, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(model, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ship := shipper.New(shipper.Options{SensorID: "s1", Lake: &local.Lake{Dir: lake}})
	for i := 500; i < 510; i++ {
		ev := minute(i, 22, 12)
		if i == 505 {
			ev = minute(i, 5000, 3000) // an exec and connect storm
			ev.DistinctDestIPs, ev.DistinctDestPorts = 900, 800
		}
		ship.Add(&ev)
	}
	if err := ship.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var stdout syncBuffer
	sum, err := newApp(t, Options{JSON: true, Model: model, Stdout: &stdout}).Replay(ctx, lake)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, d := range jsonLines(t, stdout.String()) {
		if d["rule"] == anomaly.RuleName {
			found = true
			if d["id"] != detect.DetectionID(anomaly.RuleName, "hs-0505") || d["severity"] != "medium" || d["category"] != "anomaly" {
				t.Errorf("anomaly detection = %v", d)
			}
		}
	}
	if !found || len(sum.ByRule) != 1 || sum.ByRule[anomaly.RuleName] != 1 {
		t.Errorf("want exactly the storm minute raised; summary %+v, stdout:\n%s", sum, stdout.String())
	}
}
