package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/anomaly"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/local"
)

func runAnomaly(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := newAnomalyCmd()
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), errb.String(), err
}

// hostStatsLake writes 4 sensors × 400 minutes of ordinary HOST_STATS, one
// minute of a port scan with an upload on s-3, and some other events.
func hostStatsLake(t *testing.T) string {
	dir := t.TempDir()
	lake := &local.Lake{Dir: dir}
	r := rand.New(rand.NewPCG(1, 2))
	around := func(m float64) uint64 { return uint64(math.Round(m * math.Exp(0.25*r.NormFloat64()))) }
	start := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	enc := event.NewEncoder()
	for s := range 4 {
		var evs []event.Event
		for m := range 400 {
			at := start.Add(time.Duration(m) * time.Minute)
			ev := event.Event{SensorID: fmt.Sprintf("s-%d", s), Hostname: fmt.Sprintf("web-%d", s), Tags: []string{"env:prod"},
				Type: event.HostStats, TimeNanos: at.UnixNano(), ID: event.NewID(at), IntervalSeconds: 60,
				CountExec: around(3), CountFileOpen: around(400), CountConnect: around(30), CountAccept: around(60),
				CountDNS: around(20), DistinctDestIPs: around(12), DistinctDestPorts: around(3), OutboundBytes: around(2e5)}
			if s == 3 && m == 200 {
				ev.CountConnect, ev.DistinctDestIPs, ev.DistinctDestPorts, ev.FailedConnects = 3000, 900, 1000, 2500
				ev.CountDNS, ev.OutboundBytes = 2000, 5e8
			}
			evs = append(evs, ev)
		}
		evs = append(evs, event.Event{SensorID: "s-0", Type: event.NewProcess, TimeNanos: start.UnixNano(), ID: "p"})
		data, err := enc.Encode(evs)
		if err != nil {
			t.Fatal(err)
		}
		if err := lake.Put(context.Background(), event.LakeKey(evs[0].SensorID, start, evs[0].ID), data); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestAnomalyTrainAndScore(t *testing.T) {
	dir := hostStatsLake(t)
	model := filepath.Join(t.TempDir(), "model.json")
	out, _, err := runAnomaly(t, "train", "--lake", dir, "--out", model, "--trees", "50", "--contamination", "0.001")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "trained on 1600 rows from 4 files (0 unreadable); group models: prod") {
		t.Errorf("train output: %s", out)
	}
	data, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anomaly.Decode(data); err != nil {
		t.Fatal(err)
	}

	out, stderr, err := runAnomaly(t, "score", "--model", model, "--lake", dir)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "TIME") || !strings.Contains(lines[1], "s-3") ||
		!strings.Contains(lines[1], "2026-11-21T11:20:00Z") || !strings.Contains(lines[1], "prod") {
		t.Fatalf("score table, want the scan first:\n%s", out)
	}
	if !strings.Contains(stderr, "1600 HOST_STATS events scored") {
		t.Errorf("stderr: %s", stderr)
	}

	out, _, err = runAnomaly(t, "score", "--model", model, "--lake", dir, "--json", "--all", "--top", "2")
	if err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1600 {
		t.Fatalf("--all printed %d lines", len(lines))
	}
	var first struct {
		SensorID string                 `json:"sensor_id"`
		Rule     string                 `json:"rule"`
		Score    float64                `json:"score"`
		Top      []anomaly.Contribution `json:"top"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first.SensorID != "s-3" || first.Rule != anomaly.RuleName || len(first.Top) != 2 {
		t.Errorf("first: %+v", first)
	}
}

func TestAnomalyErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"version":3}`), 0o644)
	csv := filepath.Join(dir, "x.csv")
	os.WriteFile(csv, []byte("a,b,label\n1,2,0\n3,x,1\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"train", "--out", "m.json"}, "--lake and --out are required", 2},
		{[]string{"train", "--lake", dir, "--out", filepath.Join(dir, "m.json")}, "no HOST_STATS rows", 1},
		{[]string{"train", "--lake", dir, "--out", "m.json", "--contamination", "0.9"}, "contamination", 2},
		{[]string{"score", "--model", bad, "--lake", dir}, "format version 3", 1},
		{[]string{"eval", "--csv", csv, "--label-column", "nope"}, `no column "nope"`, 1},
		{[]string{"eval", "--csv", csv, "--label-column", "label"}, `line 3, column "b": "x" is not a finite number`, 1},
	} {
		_, _, err := runAnomaly(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) || exitCode(err) != c.code {
			t.Errorf("%v: %v (exit %d), want %q exit %d", c.args, err, exitCode(err), c.want, c.code)
		}
	}
}

func TestAnomalyEval(t *testing.T) {
	out, _, err := runAnomaly(t, "eval", "--csv", "../../internal/anomaly/testdata/datasets/blobs.csv",
		"--label-column", "outlier", "--trees", "100", "--samples", "256", "--seed", "0")
	if err != nil {
		t.Fatal(err)
	}
	var auc float64
	if _, err := fmt.Sscanf(out, "AUC %f", &auc); err != nil || auc < 0.95 {
		t.Errorf("output %q", out)
	}
	if !strings.Contains(out, "2060 rows, 60 outliers, 4 features; trees 100, samples 256, seed 0, runs 1") {
		t.Errorf("output %q", out)
	}
}
