package detect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/klauspost/compress/zstd"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
)

func packEngine(t testing.TB) *engine.Engine {
	t.Helper()
	return loadEngine(t, "../../rules")
}

// loadEngine returns an engine of the rules of the directory dir.
func loadEngine(t testing.TB, dir string) *engine.Engine {
	t.Helper()
	rs, err := engine.Load(os.DirFS(dir), ".")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(rs)
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func privileged() event.Event {
	return event.Event{SensorID: "s-1", Hostname: "web-1", Tags: []string{"env:prod"}, Type: event.NewProcess,
		TimeNanos: 1763800000000000000, ID: "01KAQ0000000000000000000AA", PID: 42, PPID: 1, User: "root",
		FilePath: "/usr/bin/docker", CommandLine: "docker run --privileged alpine", ParentFilePath: "/bin/bash"}
}

func TestEvaluate(t *testing.T) {
	benign := privileged()
	benign.CommandLine = "docker ps"
	miner := privileged()
	miner.FilePath, miner.CommandLine, miner.ID = "/usr/bin/cryptominer", "cryptominer -o pool", "other"
	tests := []struct {
		name   string
		events []event.Event
		want   []string // rule names in order
	}{
		{"none", nil, nil},
		{"benign", []event.Event{benign}, nil},
		{"privileged", []event.Event{privileged()}, []string{"privileged_docker_container"}},
		{"two", []event.Event{benign, privileged(), miner}, []string{"privileged_docker_container", "cryptocurrency_miner"}},
	}
	d := NewDetector(packEngine(t))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := d.Evaluate(nil, tc.events)
			var got []string
			for _, x := range ds {
				got = append(got, x.Rule)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("rules = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDetectionJSON(t *testing.T) {
	ds := NewDetector(packEngine(t)).Evaluate(nil, []event.Event{privileged()})
	if len(ds) != 1 {
		t.Fatalf("%d detections", len(ds))
	}
	d := ds[0]
	if d.ID != DetectionID("privileged_docker_container", "01KAQ0000000000000000000AA") || len(d.ID) != 32 {
		t.Errorf("id = %s", d.ID)
	}
	var out bytes.Buffer
	if err := (&Printer{W: &out, JSON: true}).Publish(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	for k, want := range map[string]any{
		"id": d.ID, "rule": "privileged_docker_container", "name": "privileged_docker_container",
		"severity": "medium", "category": "container_security", "sensor_id": "s-1", "hostname": "web-1",
		"time": "2025-11-22T08:26:40Z",
	} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	ev := got["event"].(map[string]any)
	body := ev["event"].(map[string]any)
	if body["FILE_PATH"] != "/usr/bin/docker" || body["COMMAND_LINE"] != "docker run --privileged alpine" || body["USER"] != "root" {
		t.Errorf("event body = %v", body)
	}
	if body["PARENT"].(map[string]any)["FILE_PATH"] != "/bin/bash" {
		t.Errorf("parent = %v", body["PARENT"])
	}
	if ev["routing"].(map[string]any)["event_type"] != "NEW_PROCESS" {
		t.Errorf("routing = %v", ev["routing"])
	}
	if strings.Count(out.String(), "\n") != 1 {
		t.Errorf("want one line, got %q", out.String())
	}
}

type recorder struct {
	got []Detection
	err error
}

func (r *recorder) Publish(_ context.Context, ds []Detection) error {
	if r.err != nil {
		return r.err
	}
	r.got = append(r.got, ds...)
	return nil
}

func record(seq string, data []byte) events.KinesisEventRecord {
	var r events.KinesisEventRecord
	r.EventSource = "aws:kinesis"
	r.Kinesis.SequenceNumber = seq
	r.Kinesis.PartitionKey = "s-1"
	r.Kinesis.Data = data
	return r
}

// countMetrics keeps what the handler reports.
type countMetrics struct{ counts map[string]int64 }

func (m *countMetrics) Count(name string, n int64, tags ...string) {
	m.counts[name+"|"+strings.Join(tags, ",")] += n
}
func (m *countMetrics) Timing(name string, _ time.Duration, _ ...string) { m.counts[name]++ }
func (m *countMetrics) Flush() error                                     { return nil }

func TestKinesisHandler(t *testing.T) {
	good, err := event.NewEncoder().Encode([]event.Event{privileged()})
	if err != nil {
		t.Fatal(err)
	}
	good = bytes.Clone(good)
	framed, err := event.NewRecordEncoder().Encode([]event.Event{privileged()})
	if err != nil {
		t.Fatal(err)
	}
	framed = bytes.Clone(framed)
	zenc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		t.Fatal(err)
	}
	bomb := zenc.EncodeAll(make([]byte, 32<<20), nil)
	tests := []struct {
		name       string
		records    []events.KinesisEventRecord
		publishErr error
		failures   []string
		published  int
	}{
		{"good", []events.KinesisEventRecord{record("1", good)}, nil, nil, 1},
		{"framed", []events.KinesisEventRecord{record("1", framed)}, nil, nil, 1},
		{"framed and bare", []events.KinesisEventRecord{record("1", framed), record("2", good), record("3", framed)}, nil, nil, 3},
		{"zstd bomb in the middle", []events.KinesisEventRecord{record("1", framed), record("2", bomb), record("3", good)}, nil, []string{"2"}, 2},
		{"truncated frame", []events.KinesisEventRecord{record("1", framed[:len(framed)-8]), record("2", framed)}, nil, []string{"1"}, 1},
		{"poison in the middle", []events.KinesisEventRecord{record("1", good), record("2", []byte("garbage")), record("3", good)}, nil, []string{"2"}, 2},
		{"publisher down", []events.KinesisEventRecord{record("1", good)}, errors.New("down"), []string{"1"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{err: tc.publishErr}
			m := &countMetrics{counts: map[string]int64{}}
			h := &KinesisHandler{Detector: NewDetector(packEngine(t)), Publisher: rec, Metrics: m}
			resp, err := h.Handle(context.Background(), events.KinesisEvent{Records: tc.records})
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, f := range resp.BatchItemFailures {
				failed = append(failed, f.ItemIdentifier)
			}
			if strings.Join(failed, ",") != strings.Join(tc.failures, ",") {
				t.Errorf("failures = %v, want %v", failed, tc.failures)
			}
			if len(rec.got) != tc.published {
				t.Errorf("published %d detections, want %d", len(rec.got), tc.published)
			}
			ok := m.counts[MetricRecords+"|result:ok"] + m.counts[MetricRecords+"|result:poison"] + m.counts[MetricRecords+"|result:failed"]
			if ok != int64(len(tc.records)) || m.counts[MetricBatchTime] != int64(len(tc.records)) ||
				m.counts[MetricRecords+"|result:poison"]+m.counts[MetricRecords+"|result:failed"] != int64(len(tc.failures)) ||
				tc.publishErr == nil && m.counts[MetricRecords+"|result:poison"] != int64(len(tc.failures)) {
				t.Errorf("metrics %v for %d records with %d failures", m.counts, len(tc.records), len(tc.failures))
			}
			if tc.publishErr == nil && m.counts[MetricDetections+"|rule:privileged_docker_container,severity:medium"] != int64(tc.published) {
				t.Errorf("detection metrics %v, want %d", m.counts, tc.published)
			}
		})
	}
}

// TestDetectorState checks that the detector keeps state across batches (a count
// rule fires on the third event of two batches), reads its clock, and leaves out
// matches whose actions suppression held back.
func TestDetectorState(t *testing.T) {
	count, err := engine.Parse("three_roots.yaml", []byte(`
detection:
  event: NEW_PROCESS
  op: is
  path: event/USER
  value: root
  count: 3
  within: 1m
response:
  - action: report
    name: three roots
    suppression: {max_count: 1, period: 1h}
`))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New([]*engine.Rule{count})
	if err != nil {
		t.Fatal(err)
	}
	st := engine.NewMemoryState()
	d := NewDetectorState(eng, st)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d.Clock = func() time.Time { return now }
	ev := privileged()
	batch := func(n int) []Detection {
		evs := make([]event.Event, n)
		for i := range evs {
			evs[i] = ev
			evs[i].ID = fmt.Sprintf("e%d", i)
		}
		ds, err := d.EvaluateContext(context.Background(), nil, evs)
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	if ds := batch(2); len(ds) != 0 {
		t.Fatalf("%d detections after two events", len(ds))
	}
	ds := batch(1)
	if len(ds) != 1 || ds[0].Rule != "three_roots" || ds[0].ID != DetectionID("three_roots", "e0") || len(ds[0].Actions) != 1 {
		t.Fatalf("detections = %+v", ds)
	}
	// the next crossing within the hour is suppressed: no detection
	if ds := batch(3); len(ds) != 0 {
		t.Fatalf("suppressed crossing gave %d detections", len(ds))
	}
	// after the suppression period it reports again
	now = now.Add(2 * time.Hour)
	if ds := batch(3); len(ds) != 1 {
		t.Fatalf("%d detections after the period", len(ds))
	}
}

func TestDetectionJSONRoundTrip(t *testing.T) {
	ds := NewDetector(packEngine(t)).Evaluate(nil, []event.Event{privileged()})
	if len(ds) != 1 {
		t.Fatalf("%d detections", len(ds))
	}
	raw, err := json.Marshal(ds[0])
	if err != nil {
		t.Fatal(err)
	}
	var back Detection
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	want := ds[0]
	if back.ID != want.ID || back.Rule != want.Rule || back.Severity != want.Severity || !back.Time.Equal(want.Time) ||
		back.Event.CommandLine != want.Event.CommandLine || back.Event.TimeNanos != want.Event.TimeNanos || back.Event.ParentFilePath != "/bin/bash" {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back, want)
	}
	if err := json.Unmarshal([]byte(`{"id":"x","event":{"event":{"NOPE":1}}}`), &back); err == nil || !strings.Contains(err.Error(), "NOPE") {
		t.Fatalf("err = %v, want the unknown path named", err)
	}
}

// TestWorkflowInput: the steps of a rule's response, and kill_tree when its kill
// action takes the descendants, reach the response workflow's input.
func TestWorkflowInput(t *testing.T) {
	for _, tc := range []struct {
		name    string
		actions []engine.Action
		edge    []string // actions the sensor carried out itself
		start   bool
		steps   []string
		tree    bool
	}{
		{"report only", []engine.Action{{Action: engine.ActReport}}, nil, false, nil, false},
		{"kill", []engine.Action{{Action: engine.ActReport}, {Action: engine.ActKill}}, nil, true, []string{"kill"}, false},
		{"kill with descendants", []engine.Action{{Action: engine.ActKill, Descendants: true}}, nil, true, []string{"kill"}, true},
		{"isolate and snapshot", []engine.Action{{Action: engine.ActIsolate}, {Action: engine.ActSnapshot}}, nil, true, []string{"isolate", "snapshot"}, false},
		{"edge kill left out", []engine.Action{{Action: engine.ActKill, Descendants: true}, {Action: engine.ActIsolate}}, []string{"kill"}, true, []string{"isolate"}, false},
		{"edge actions only", []engine.Action{{Action: engine.ActReport}, {Action: engine.ActKill}}, []string{"kill"}, false, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Detection{ID: "d-1", Rule: "r", Actions: tc.actions, Event: event.Event{SensorID: "s-1"}, Edge: tc.edge != nil, EdgeActions: tc.edge}
			raw, ok := (&Sinks{}).workflowInput(&d)
			if ok != tc.start {
				t.Fatalf("workflow started = %v, want %v", ok, tc.start)
			}
			if !ok {
				return
			}
			var in struct {
				SensorID string          `json:"sensor_id"`
				Steps    map[string]bool `json:"steps"`
				Deadline int             `json:"deadline_seconds"`
				KillTree bool            `json:"kill_tree"`
			}
			if err := json.Unmarshal(raw, &in); err != nil {
				t.Fatal(err)
			}
			var steps []string
			for _, st := range ResponseSteps {
				if on, present := in.Steps[st]; !present {
					t.Errorf("step %q missing from the input", st)
				} else if on {
					steps = append(steps, st)
				}
			}
			if fmt.Sprint(steps) != fmt.Sprint(tc.steps) || in.KillTree != tc.tree || in.SensorID != "s-1" || in.Deadline != 300 {
				t.Errorf("input %s: want steps %v, kill_tree %v, sensor s-1, deadline 300", raw, tc.steps, tc.tree)
			}
		})
	}
}
