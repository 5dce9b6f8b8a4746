package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/cost"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/local"
)

func runCost(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	root := newRoot()
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"cost"}, args...))
	err := root.Execute()
	return out.String(), err
}

func TestCostTable(t *testing.T) {
	out, err := runCost(t, "--hosts", "1000", "--events-per-host", "100")
	if err != nil {
		t.Fatal(err)
	}
	p := cost.DefaultParams()
	p.Hosts, p.EventsPerHostPerSec = 1000, 100
	e, err := cost.Run(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"1000 hosts × 100 events/s, lake kept 365 days, us-east-1",
		"Kinesis: provisioned, 9 shards",
		"records of 100 events, 6285 bytes",
		"api: sensors' task polls, when their bell rang and every 3600s per host",
		"reads: sensors' task bells, every 30s per host",
		"writes: sensors' entries every 300s",
		"lake: files of 90000 events, 1099200 bytes",
		"Standard: the last 30 days of the lake",
		"steady state: the lake holds a full 365 days",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	subtotals := append(e.ByService(), cost.Line{Service: "total a month", Monthly: e.Total})
	for _, s := range subtotals {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(s.Service) + ` +` + regexp.QuoteMeta(fmt.Sprintf("%.2f", s.Monthly)) + ` *$`).MatchString(out) {
			t.Errorf("no %s subtotal %.2f in:\n%s", s.Service, s.Monthly, out)
		}
	}
	if !regexp.MustCompile(`(?m)^per host a month +` + regexp.QuoteMeta(fmt.Sprintf("%.4f", e.PerHost)) + `$`).MatchString(out) {
		t.Errorf("no per-host figure %.4f in:\n%s", e.PerHost, out)
	}
}

func TestCostJSON(t *testing.T) {
	out, err := runCost(t, "--hosts", "10", "--events-per-host", "50", "--retention", "90", "--region", "eu-west-1", "--task-poll", "0",
		"--roll-interval", "60m", "--batch-interval", "2s", "--registry-write", "0s", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var e cost.Estimate
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if e.Region != "eu-west-1" || e.Params.RetentionDays != 90 || !e.Params.NoTaskPolling || e.Params.Hosts != 10 ||
		e.Params.RollIntervalSec != 3600 || e.Lake.EventsPerFile != 180000 || e.Params.BatchIntervalSec != 2 ||
		e.Capacity.Stream.EventsPerRecord != 100 || e.Params.RegistryWriteSec != 0 {
		t.Errorf("estimate of %+v", e.Params)
	}
	var sum float64
	for _, l := range e.Lines {
		sum += l.Monthly
		if l.Service == "API Gateway" {
			t.Errorf("--task-poll 0 still has %+v", l)
		}
	}
	if math.Abs(sum-e.Total) > 1e-9 || math.Abs(e.PerHost-sum/10) > 1e-9 {
		t.Errorf("total %v per host %v, lines add up to %v", e.Total, e.PerHost, sum)
	}
}

// TestCostTaskBell: the task polling flags reach the model, and a bad pair is
// refused naming what is wrong.
func TestCostTaskBell(t *testing.T) {
	tests := []struct {
		args    []string
		noBell  bool
		full    float64
		wantErr string
	}{
		{nil, false, 3600, ""},
		{[]string{"--task-bell=false"}, true, 3600, ""},
		{[]string{"--task-full-poll", "15m"}, false, 900, ""},
		{[]string{"--task-poll", "1m", "--task-full-poll", "30s"}, false, 0, "task full poll interval"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, err := runCost(t, append([]string{"--hosts", "10", "--events-per-host", "50", "--json"}, tc.args...)...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var e cost.Estimate
			if err := json.Unmarshal([]byte(out), &e); err != nil {
				t.Fatal(err)
			}
			if e.Params.NoTaskBell != tc.noBell || e.Params.TaskFullPollSec != tc.full {
				t.Errorf("no bell %v, full poll %vs; want %v, %vs", e.Params.NoTaskBell, e.Params.TaskFullPollSec, tc.noBell, tc.full)
			}
		})
	}
}

// TestCostFromLake measures a lake the project's file writer wrote: 2 sensors, 4
// five-minute files each at 10 events/s.
func TestCostFromLake(t *testing.T) {
	dir := t.TempDir()
	lake := &local.Lake{Dir: dir}
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var bytesWritten, rows int
	for _, sensor := range []string{"i-0aaa", "i-0bbb"} {
		for f := range 4 {
			evs := make([]event.Event, 3000)
			for i := range evs {
				at := start.Add(time.Duration(f*3000+i) * 100 * time.Millisecond)
				evs[i] = event.Event{SensorID: sensor, Hostname: "h-" + sensor, Type: event.FileOpen, TimeNanos: at.UnixNano(),
					ID: event.NewID(at), PID: uint32(100 + i%40), User: "app", FilePath: "/usr/bin/python3",
					TargetPath: []string{"/etc/hosts", "/srv/app/a.py", "/tmp/x"}[i%3], FileFlags: "read"}
			}
			fw := event.NewFileWriter()
			if err := fw.Write(evs); err != nil {
				t.Fatal(err)
			}
			data, err := fw.Close()
			if err != nil {
				t.Fatal(err)
			}
			at := time.Unix(0, evs[0].TimeNanos)
			if err := lake.Put(context.Background(), event.LakeKey(sensor, at, event.NewID(at)), data); err != nil {
				t.Fatal(err)
			}
			bytesWritten += len(data)
			rows += len(evs)
		}
	}
	out, err := runCost(t, "--hosts", "50", "--from-lake", dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	perEvent := float64(bytesWritten) / float64(rows)
	// 12,000 events a sensor, 0.1 s apart: 12,000 / 1199.9 s.
	rate := 12000 / 1199.9
	for _, want := range []string{
		fmt.Sprintf("measured %s: 8 files, 24000 events of 2 sensors, %d bytes: %.2f bytes/event in the lake", dir, bytesWritten, perEvent),
		fmt.Sprintf("%.2f events/s per sensor over 20m0s", rate),
		fmt.Sprintf("50 hosts × %s events/s", strconv.FormatFloat(rate, 'g', -1, 64)),
		fmt.Sprintf("(%.2f bytes/event)", perEvent),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// --events-per-host wins over the measured rate; the measured size stays.
	out, err = runCost(t, "--hosts", "50", "--events-per-host", "100", "--from-lake", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "50 hosts × 100 events/s") || !strings.Contains(out, fmt.Sprintf("(%.2f bytes/event)", perEvent)) {
		t.Errorf("output:\n%s", out)
	}
}

func TestCostBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"no hosts flag", []string{"--events-per-host", "100"}, []string{"--hosts is required"}},
		{"zero hosts", []string{"--hosts", "0", "--events-per-host", "100"}, []string{"hosts", "at least 1"}},
		{"negative rate", []string{"--hosts", "10", "--events-per-host", "-5"}, []string{"events per host per second", "-5"}},
		{"no rate", []string{"--hosts", "10"}, []string{"--events-per-host is required"}},
		{"unknown region", []string{"--hosts", "10", "--events-per-host", "1", "--region", "xx-1"}, []string{`"xx-1"`, "us-east-1"}},
		{"bad retention", []string{"--hosts", "10", "--events-per-host", "1", "--retention", "1y"}, []string{"--retention", `"1y"`}},
		{"zero roll", []string{"--hosts", "10", "--events-per-host", "1", "--roll-interval", "0s"}, []string{"--roll-interval"}},
		{"zero batch", []string{"--hosts", "10", "--events-per-host", "1", "--batch-interval", "0s"}, []string{"--batch-interval", "0s"}},
		{"batch over a minute", []string{"--hosts", "10", "--events-per-host", "1", "--batch-interval", "2m"}, []string{"--batch-interval", "2m0s"}},
		{"negative registry write", []string{"--hosts", "10", "--events-per-host", "1", "--registry-write", "-1s"}, []string{"--registry-write", "-1s"}},
		{"missing lake", []string{"--hosts", "10", "--from-lake", "/nonexistent/lake"}, []string{"--from-lake", "/nonexistent/lake"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runCost(t, tc.args...)
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != 2 {
				t.Fatalf("err %v, want a usage error (exit 2)", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
