package detect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/task"
)

// edgeEngine is a rule set with a rule whose kill is an edge action.
func edgeEngine(t testing.TB) *engine.Engine {
	t.Helper()
	r, err := engine.Parse("docker_privileged_edge.yaml", []byte(`
detection:
  event: NEW_PROCESS
  op: contains
  path: event/COMMAND_LINE
  value: --privileged
response:
  - action: report
    name: privileged container
    metadata: {severity: high}
  - action: isolate
  - action: kill
    descendants: true
    edge: true
`))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New([]*engine.Rule{r})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// edgeDetection is the detection a sensor makes of privileged() with edgeEngine.
func edgeDetection(t testing.TB) Detection {
	t.Helper()
	ds := NewDetector(edgeEngine(t)).Evaluate(nil, []event.Event{privileged()})
	if len(ds) != 1 {
		t.Fatalf("%d detections", len(ds))
	}
	ds[0].Edge, ds[0].EdgeActions = true, []string{engine.ActKill}
	return ds[0]
}

func edgeTask(id, sensor string, status task.Status) task.Task {
	at := time.Date(2026, 11, 22, 15, 0, 0, 0, time.UTC)
	return task.Task{ID: id, SensorID: sensor, Action: "kill", Status: status, Created: at, Updated: at,
		Deadline: at.Add(5 * time.Minute), Result: `{"action":"kill"}`}
}

func encodeEdge(t testing.TB, r EdgeRecord) []byte {
	t.Helper()
	data, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestEdgeRecordRoundTrip(t *testing.T) {
	d := edgeDetection(t)
	tk := edgeTask(EdgeTaskID(d.ID, "kill"), "s-1", task.Done)
	data := encodeEdge(t, EdgeRecord{Detections: []Detection{d}, Tasks: []task.Task{tk}})
	if !IsEdgeRecord(data) {
		t.Fatal("an edge record is not told from a batch")
	}
	batch, err := event.NewEncoder().Encode([]event.Event{privileged()})
	if err != nil {
		t.Fatal(err)
	}
	if IsEdgeRecord(batch) {
		t.Fatal("a Parquet batch is taken for an edge record")
	}
	back, err := DecodeEdgeRecord(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Detections) != 1 || len(back.Tasks) != 1 {
		t.Fatalf("decoded %+v", back)
	}
	got := back.Detections[0]
	if got.ID != d.ID || got.Rule != d.Rule || got.Name != "privileged container" || got.Severity != "high" || !got.Edge ||
		fmt.Sprint(got.EdgeActions) != "[kill]" || got.Event.CommandLine != d.Event.CommandLine || got.Event.ID != d.Event.ID {
		t.Errorf("detection %+v, want %+v", got, d)
	}
	if b := back.Tasks[0]; b.ID != tk.ID || b.Status != task.Done || b.Result != tk.Result || !b.Deadline.Equal(tk.Deadline) {
		t.Errorf("task %+v, want %+v", b, tk)
	}
}

func TestDecodeEdgeRecordRefuses(t *testing.T) {
	d := edgeDetection(t)
	big := d
	big.Event.CommandLine = strings.Repeat("x", MaxEdgeRecordBytes)
	noDeadline := edgeTask("t-1", "s-1", task.Done)
	noDeadline.Deadline = time.Time{}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"not an edge record", []byte("PAR1..."), ""},
		{"not JSON", []byte(edgeMagic + "{"), "unexpected end"},
		{"too large", encodeEdge(t, EdgeRecord{Detections: []Detection{big}}), "over"},
		{"unknown path", []byte(edgeMagic + `{"detections":[{"id":"x","event":{"event":{"NOPE":1}}}]}`), "NOPE"},
		{"task not finished", encodeEdge(t, EdgeRecord{Tasks: []task.Task{edgeTask("t-1", "s-1", task.Running)}}), "not finished"},
		{"task invalid", encodeEdge(t, EdgeRecord{Tasks: []task.Task{noDeadline}}), "deadline"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeEdgeRecord(tc.data)
			if !errors.Is(err, ErrNotEdgeRecord) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrNotEdgeRecord saying %q", err, tc.want)
			}
		})
	}
}

// TestKinesisHandlerEdge: an edge record's detections are published as the
// sensor made them, with the rule's actions as the rule set has them; a record
// that names another sensor or forges an id is poison.
func TestKinesisHandlerEdge(t *testing.T) {
	d := edgeDetection(t)
	other := d
	other.Event.SensorID = "s-2"
	forged := d
	forged.ID = DetectionID("another_rule", d.Event.ID)
	unknownRule := d
	unknownRule.Rule = "not_in_the_rule_set"
	unknownRule.ID = DetectionID(unknownRule.Rule, d.Event.ID)
	tests := []struct {
		name    string
		rec     EdgeRecord
		poison  bool
		actions string // of the published detection
	}{
		{"edge detection", EdgeRecord{Detections: []Detection{d}}, false, "report isolate kill(descendants)"},
		{"rule the cloud does not have", EdgeRecord{Detections: []Detection{unknownRule}}, false, "isolate kill"},
		{"another sensor's detection", EdgeRecord{Detections: []Detection{other}}, true, ""},
		{"forged id", EdgeRecord{Detections: []Detection{forged}}, true, ""},
		{"another sensor's task", EdgeRecord{Tasks: []task.Task{edgeTask("t-1", "s-2", task.Done)}}, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pub := &recorder{}
			m := &countMetrics{counts: map[string]int64{}}
			h := &KinesisHandler{Detector: NewDetector(edgeEngine(t)), Publisher: pub, Metrics: m}
			resp, err := h.Handle(context.Background(), events.KinesisEvent{Records: []events.KinesisEventRecord{record("1", encodeEdge(t, tc.rec))}})
			if err != nil {
				t.Fatal(err)
			}
			if poisoned := len(resp.BatchItemFailures) == 1 && m.counts[MetricRecords+"|result:poison"] == 1; poisoned != tc.poison {
				t.Fatalf("failures %v, metrics %v; want poison %v", resp.BatchItemFailures, m.counts, tc.poison)
			}
			if tc.poison {
				if len(pub.got) != 0 {
					t.Fatalf("published %d detections of a poison record", len(pub.got))
				}
				return
			}
			if len(pub.got) != 1 || !pub.got[0].Edge || pub.got[0].ID != tc.rec.Detections[0].ID {
				t.Fatalf("published %+v", pub.got)
			}
			var verbs []string
			for _, a := range pub.got[0].Actions {
				if a.Descendants {
					a.Action += "(descendants)"
				}
				verbs = append(verbs, a.Action)
			}
			if got := strings.Join(verbs, " "); got != tc.actions {
				t.Errorf("actions %q, want %q", got, tc.actions)
			}
			if m.counts[MetricDetections+"|rule:"+pub.got[0].Rule+",severity:high,source:edge"] != 1 {
				t.Errorf("metrics %v, want the detection counted as the edge's", m.counts)
			}
		})
	}
}

// TestEdgeAndBatchAgree: the cloud's evaluation of the batch that carries the
// event yields the detection the edge sent, by id.
func TestEdgeAndBatchAgree(t *testing.T) {
	d := edgeDetection(t)
	batch, err := event.NewEncoder().Encode([]event.Event{privileged()})
	if err != nil {
		t.Fatal(err)
	}
	ds, _, err := NewDetector(edgeEngine(t)).Batch(nil, bytes.Clone(batch))
	if err != nil || len(ds) != 1 || ds[0].ID != d.ID {
		t.Fatalf("batch detections %+v (%v), want id %s", ds, err, d.ID)
	}
}
