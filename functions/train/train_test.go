package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/anomaly"
	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/testenv"
)

// TestTrainOnS3Lake runs the training job as the function wires it — the S3 lake
// in a real S3 API (s3rver, or AWS_ENDPOINT_URL), environment defaults — and
// loads the model the way detection does (anomaly.Live over the same bucket).
func TestTrainOnS3Lake(t *testing.T) {
	ep := testenv.S3(t)
	bucket := vaws.NewBucket(testenv.S3Config(t, ep), "vigil-lake-train", true)
	testenv.CreateBucket(t, bucket.Client, bucket.Name)
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)

	// Two days of prod and dev sensors, an hour per file, plus a file too old.
	r := rand.New(rand.NewPCG(4, 4))
	around := func(m float64) uint64 { return uint64(math.Round(m * math.Exp(0.25*r.NormFloat64()))) }
	enc := event.NewEncoder()
	put := func(sensor, env string, hour time.Time) {
		var evs []event.Event
		for m := range 60 {
			at := hour.Add(time.Duration(m) * time.Minute)
			evs = append(evs, event.Event{SensorID: sensor, Tags: []string{"env:" + env}, Type: event.HostStats,
				TimeNanos: at.UnixNano(), ID: event.NewID(at), IntervalSeconds: 60, CountExec: around(3),
				CountFileOpen: around(300), CountConnect: around(20), CountDNS: around(10), OutboundBytes: around(1e5)})
		}
		data, err := enc.Encode(evs)
		if err != nil {
			t.Fatal(err)
		}
		if err := bucket.Put(ctx, event.LakeKey(sensor, hour, evs[0].ID), data); err != nil {
			t.Fatal(err)
		}
	}
	for h := 1; h <= 24; h += 2 {
		hour := now.Add(-time.Duration(h) * 2 * time.Hour).Truncate(time.Hour)
		put("p-1", "prod", hour)
		put("d-1", "dev", hour)
	}
	put("p-1", "prod", now.Add(-10*24*time.Hour))

	job, err := anomaly.JobFromEnv(func(k string) string {
		return map[string]string{"VIGIL_TRAIN_DAYS": "3", "VIGIL_ANOMALY_TREES": "30"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	job.Lake, job.Out, job.Now = bucket, bucket, func() time.Time { return now }
	job.Options.MinGroupRows = 500
	s, err := job.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.Files != 24 || s.BadFiles != 0 || s.Rows != 24*60 || fmt.Sprint(s.Groups) != "[dev prod]" {
		t.Errorf("summary %+v", s)
	}

	live := &anomaly.Live{Source: bucket, Key: anomaly.DefaultModelKey}
	sc, err := live.Scorer(ctx)
	if err != nil || sc == nil {
		t.Fatalf("load model: %v", err)
	}
	burst := event.Event{Type: event.HostStats, Tags: []string{"env:prod"}, IntervalSeconds: 60, CountExec: 900,
		CountFileOpen: 90000, CountConnect: 5000, CountDNS: 3000, OutboundBytes: 1e9, NewExecutables: 50}
	f, ok := sc.Check(&burst)
	if !ok || f.Group != "prod" || len(f.Top) == 0 {
		t.Errorf("burst: %+v, %v", f, ok)
	}
}
