package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"

	"github.com/vigil-sec/vigil/internal/anomaly"
	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/testenv"
)

// TestTrainOnS3Lake runs the training job as the function wires it (newJob and
// handler) — the S3 lake in a real S3 API (s3rver, or AWS_ENDPOINT_URL),
// environment defaults — and loads the model the way detection does
// (anomaly.Live over the same bucket).
func TestTrainOnS3Lake(t *testing.T) {
	ep := testenv.S3(t)
	cfg := testenv.S3Config(t, ep)
	bucket := vaws.NewBucket(cfg, "vigil-lake-train", true)
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

	job, err := newJob(cfg, func(k string) string {
		return map[string]string{"VIGIL_LAKE_BUCKET": bucket.Name, "VIGIL_S3_PATH_STYLE": "true",
			"VIGIL_TRAIN_DAYS": "3", "VIGIL_ANOMALY_TREES": "30"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	job.Now = func() time.Time { return now }
	job.Options.MinGroupRows = 500
	var logged []string
	s, err := handler(job, func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) })(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.Files != 24 || s.BadFiles != 0 || s.Rows != 24*60 || fmt.Sprint(s.Groups) != "[dev prod]" {
		t.Errorf("summary %+v", s)
	}
	if len(logged) != 1 || !strings.Contains(logged[0], "1440 rows from 24 files") || !strings.Contains(logged[0], "groups [dev prod]") {
		t.Errorf("logged %q, want the summary once", logged)
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

func TestNewJob(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		pathStyle bool
		days      int
		wantErr   []string // each named in the error
	}{
		{name: "defaults", env: map[string]string{"VIGIL_LAKE_BUCKET": "lake"}, days: 7},
		{name: "path style", env: map[string]string{"VIGIL_LAKE_BUCKET": "lake", "VIGIL_S3_PATH_STYLE": "true"}, pathStyle: true, days: 7},
		{name: "path style off", env: map[string]string{"VIGIL_LAKE_BUCKET": "lake", "VIGIL_S3_PATH_STYLE": "false", "VIGIL_TRAIN_DAYS": "3"}, days: 3},
		{
			name:    "path style misspelt",
			env:     map[string]string{"VIGIL_LAKE_BUCKET": "lake", "VIGIL_S3_PATH_STYLE": "ture"},
			wantErr: []string{`VIGIL_S3_PATH_STYLE="ture"`},
		},
		{name: "no bucket", env: map[string]string{}, wantErr: []string{"VIGIL_LAKE_BUCKET"}},
		{
			name:    "everything wrong",
			env:     map[string]string{"VIGIL_S3_PATH_STYLE": "yes", "VIGIL_TRAIN_DAYS": "365"},
			wantErr: []string{"VIGIL_LAKE_BUCKET", `VIGIL_S3_PATH_STYLE="yes"`, `VIGIL_TRAIN_DAYS="365"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			job, err := newJob(sdkaws.Config{Region: "us-east-1"}, func(k string) string { return tt.env[k] })
			if len(tt.wantErr) > 0 {
				for _, want := range tt.wantErr {
					if err == nil || !strings.Contains(err.Error(), want) {
						t.Errorf("error = %v, want one naming %s", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, ok := job.Lake.(*vaws.Bucket)
			if out, _ := job.Out.(*vaws.Bucket); !ok || out != b {
				t.Fatalf("lake %T, out %T: want the same bucket", job.Lake, job.Out)
			}
			if b.Name != "lake" || b.Client.Options().UsePathStyle != tt.pathStyle || job.Days != tt.days {
				t.Errorf("bucket %s, path style %v, %d days; want lake, %v, %d days",
					b.Name, b.Client.Options().UsePathStyle, job.Days, tt.pathStyle, tt.days)
			}
		})
	}
}

// emptyLake has no objects and takes no writes.
type emptyLake struct{}

func (emptyLake) List(context.Context, string) ([]string, error) { return nil, nil }
func (emptyLake) Get(context.Context, string) ([]byte, error)    { return nil, fmt.Errorf("no objects") }
func (emptyLake) Put(context.Context, string, []byte) error      { return fmt.Errorf("no writes") }

func TestHandlerLogsFailedRun(t *testing.T) {
	job := &anomaly.Job{Lake: emptyLake{}, Out: emptyLake{}, Days: 1}
	var logged []string
	_, err := handler(job, func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) })(context.Background())
	if err == nil {
		t.Fatal("a run over an empty lake succeeded, want an error")
	}
	if len(logged) != 1 || !strings.Contains(logged[0], "0 rows from 0 files") {
		t.Errorf("logged %q, want the summary of the failed run", logged)
	}
}
