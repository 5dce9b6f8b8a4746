package localrun

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/event"
)

// TestProcess: Process appends a batch's detections after dst, publishes only
// those (once: a batch processed again is evaluated again but publishes
// nothing), and registers the sensors whose heartbeats it carries.
func TestProcess(t *testing.T) {
	var stdout syncBuffer
	a := newApp(t, Options{JSON: true, Stdout: &stdout})
	evs := recordedEvents(time.Now().Add(-time.Minute))
	ds, err := a.Process(ctx, []detect.Detection{{ID: "earlier"}}, evs, WallClock)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) < 2 || ds[0].ID != "earlier" {
		t.Fatalf("detections %+v: want the earlier one, then the batch's", ds)
	}
	printed := jsonLines(t, stdout.String())
	if len(printed) != len(ds)-1 {
		t.Fatalf("printed %d detections, want the batch's %d", len(printed), len(ds)-1)
	}
	for i, d := range printed {
		if d["id"] != ds[i+1].ID {
			t.Errorf("printed %v, want %s", d["id"], ds[i+1].ID)
		}
	}
	if sensors, _ := a.store.Sensors(ctx, nil); len(sensors) != 1 || sensors[0].SensorID != "replay-sensor" {
		t.Errorf("sensors %+v, want the heartbeat's", sensors)
	}

	again, err := a.Process(ctx, nil, evs, WallClock)
	if err != nil || len(again) != len(ds)-1 || again[0].ID != ds[1].ID {
		t.Errorf("the batch again: %d detections (%v), want the same %d", len(again), err, len(ds)-1)
	}
	if n := len(jsonLines(t, stdout.String())); n != len(printed) {
		t.Errorf("the batch again printed %d more detections, want none", n-len(printed))
	}
}

// TestProcessClock: windows run on the wall clock for events as they come, on
// the events' own times for a recording.
func TestProcessClock(t *testing.T) {
	tests := []struct {
		name  string
		gap   time.Duration // between the three curl runs
		clock Clock
		want  int // curl_burst detections
	}{
		{"within the window, wall clock", 10 * time.Second, WallClock, 1},
		{"within the window, event clock", 10 * time.Second, EventClock, 1},
		{"minutes apart, processed at once", 2 * time.Minute, WallClock, 1},
		{"minutes apart, on their own times", 2 * time.Minute, EventClock, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newApp(t, Options{LoadRules: packRules(true, "testdata/rules/curl_burst.yaml")})
			at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
			var evs []event.Event
			for i := range 3 {
				evs = append(evs, event.Event{Type: event.NewProcess, SensorID: "s1", ID: fmt.Sprintf("curl-%d", i), PID: uint32(100 + i),
					TimeNanos: at.Add(time.Duration(i) * tt.gap).UnixNano(), FilePath: "/usr/bin/curl"})
			}
			ds, err := a.Process(ctx, nil, evs, tt.clock)
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) != tt.want || (tt.want > 0 && (ds[0].Rule != "curl_burst" || ds[0].Event.ID != "curl-2")) {
				t.Errorf("detections %+v, want %d on the third run", ds, tt.want)
			}
		})
	}
}

// TestProcessConcurrent: paths may process batches at once; every detection is
// stored once.
func TestProcessConcurrent(t *testing.T) {
	a := newApp(t, Options{})
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		evs := recordedEvents(time.Now().Add(-time.Duration(i+1) * time.Hour))
		wg.Go(func() {
			var ds []detect.Detection
			for range 5 {
				if ds, errs[i] = a.Process(ctx, ds[:0], evs, WallClock); errs[i] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("path %d: %v", i, err)
		}
	}
	docs, _, err := a.store.List(ctx, api.DetectionQuery{Tag: "env:replay", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	for _, doc := range docs {
		var d struct{ ID, Rule string }
		if err := json.Unmarshal(doc, &d); err != nil {
			t.Fatal(err)
		}
		if d.Rule == "privileged_docker_container" {
			ids[d.ID]++
		}
	}
	if len(ids) != len(errs) {
		t.Errorf("privileged_docker_container detections stored: %v, want %d, one each", ids, len(errs))
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("detection %s stored %d times", id, n)
		}
	}
}
