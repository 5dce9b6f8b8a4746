package detect

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/anomaly"
	"github.com/vigil-sec/vigil/internal/event"
)

func hostStats(i int, execs, connects, ips, opens, dns uint64) event.Event {
	at := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
	return event.Event{SensorID: "s1", Hostname: "web-1", Type: event.HostStats, TimeNanos: at.UnixNano(), ID: fmt.Sprint("hs-", i),
		IntervalSeconds: 60, CountExec: execs, CountConnect: connects, DistinctDestIPs: ips, CountFileOpen: opens, CountDNS: dns}
}

// around draws a count near mean (independent noise per feature).
func around(r *rand.Rand, mean float64) uint64 {
	v := mean * (1 + 0.3*r.NormFloat64())
	if v < 0 {
		v = 0
	}
	return uint64(v)
}

func TestAnomalies(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	var train []event.Event
	for i := range 2000 {
		train = append(train, hostStats(i, around(r, 40), around(r, 80), around(r, 12), around(r, 500), around(r, 60)))
	}
	models, err := anomaly.Train(train, anomaly.TrainOptions{Params: anomaly.Params{Trees: 100, MaxSamples: 256, Contamination: 0.01, Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := anomaly.NewScorer(models)
	if err != nil {
		t.Fatal(err)
	}
	a := &Anomalies{Scorer: func(context.Context) (*anomaly.Scorer, error) { return sc, nil }}
	// a scan: every counter at once far above its usual level
	normal, scan := hostStats(5000, 40, 80, 12, 500, 60), hostStats(5001, 400, 3000, 900, 5000, 800)
	other := privileged()
	ds, err := a.Append(context.Background(), nil, []event.Event{normal, other, scan})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Event.ID != scan.ID || ds[0].Rule != anomaly.RuleName || ds[0].Anomaly == nil || len(ds[0].Anomaly.Top) == 0 {
		t.Fatalf("detections = %+v, want one for the scan minute", ds)
	}
	raw, err := json.Marshal(ds[0])
	if err != nil {
		t.Fatal(err)
	}
	var back Detection
	if err := json.Unmarshal(raw, &back); err != nil || back.Anomaly == nil || back.Anomaly.Score != ds[0].Anomaly.Score {
		t.Fatalf("round trip lost the finding: %s (%v)", raw, err)
	}

	none := &Anomalies{Scorer: func(context.Context) (*anomaly.Scorer, error) { return nil, nil }}
	if ds, err := none.Append(context.Background(), nil, []event.Event{scan}); err != nil || len(ds) != 0 {
		t.Fatalf("without a model: %v %v", ds, err)
	}
}
