package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/vigil-sec/vigil/internal/api"
	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/rulesource"
	"github.com/vigil-sec/vigil/internal/task"
	"github.com/vigil-sec/vigil/internal/testenv"
	"github.com/vigil-sec/vigil/rules"
	"github.com/vigil-sec/vigil/sensor/edge"
	"github.com/vigil-sec/vigil/sensor/shipper"
)

// edgeKillRule is a site rule whose kill is an edge action.
const edgeKillRule = `
detection:
  event: NEW_PROCESS
  op: is
  path: event/FILE_NAME
  value: edge-test-agent
response:
  - action: report
    name: edge test agent
    metadata: {severity: critical}
  - action: kill
    edge: true
  - action: isolate
`

// TestEdgeDetectionStoredOnce: a sensor's edge evaluation (package sensor/edge,
// the real shipper, kinesalite) puts its detection on the stream ahead of the
// batch that carries the event; the detect handler, storing in dynalite's
// detections and tasks tables, stores and publishes it once, though its own
// evaluation of the batch finds it again, and again when the stream is
// replayed. The edge's dry-run kill is a finished task in the tasks table,
// also when the workflow had created that task first and waits on it.
func TestEdgeDetectionStoredOnce(t *testing.T) {
	ctx := context.Background()
	kc := kinesis.NewFromConfig(testenv.AWSConfig(t, testenv.Kinesis(t)))
	db := dynamodb.NewFromConfig(testenv.AWSConfig(t, testenv.DynamoDB(t)))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "edge_test_agent.yaml"), []byte(edgeKillRule), 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := rulesource.Load(rulesource.Options{Pack: rules.FS, Paths: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := set.Engine()
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	tests := []struct {
		name string
		// workflowFirst: the workflow created the kill task (pending) before the
		// edge record reached the function
		workflowFirst bool
	}{
		{"edge record first", false},
		{"the workflow's task first", true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stream := "vigil-edge-" + string(rune('a'+i))
			testenv.CreateStream(t, kc, stream)
			detections := &vaws.Detections{Client: db, Table: testenv.CreateTable(t, db, testenv.DetectionsTable)}
			tasks := &vaws.Tasks{Client: db, Table: testenv.CreateTable(t, db, testenv.TasksTable)}

			// the sensor: edge evaluation, then the event into the batch
			ship := shipper.New(shipper.Options{SensorID: "i-0edge", Stream: &vaws.Kinesis{Client: kc, StreamName: stream}, Log: quiet})
			eval, err := edge.New(edge.Options{Rules: set.Rules, SensorID: "i-0edge", Sink: ship, Log: quiet})
			if err != nil {
				t.Fatal(err)
			}
			at := time.Now()
			ev := event.Event{SensorID: "i-0edge", Hostname: "web-1", Tags: []string{"env:prod"}, Type: event.NewProcess,
				TimeNanos: at.UnixNano(), ID: event.NewID(at), PID: 4321, PPID: 1, User: "root",
				FilePath: "/opt/agent/edge-test-agent", CommandLine: "edge-test-agent --pool x", ParentFilePath: "/bin/bash"}
			eval.Observe(&ev)
			ship.Add(&ev)
			eval.Close() // the dry-run kill's task record
			if err := ship.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			recs := testenv.ReadRecords(t, kc, stream, 3)
			if len(recs) != 3 || !detect.IsEdgeRecord(recs[0].Data) || !detect.IsEdgeRecord(recs[1].Data) || detect.IsEdgeRecord(recs[2].Data) {
				t.Fatalf("%d records; want the detection's edge record, the task's, then the batch", len(recs))
			}
			want := detect.DetectionID("edge_test_agent", ev.ID)
			killID := detect.EdgeTaskID(want, "kill")
			if tc.workflowFirst {
				now := time.Now().UTC()
				if _, err := tasks.Create(ctx, task.Task{ID: killID, SensorID: "i-0edge", Action: "kill", Status: task.Pending,
					Created: now, Updated: now, Deadline: now.Add(5 * time.Minute), DetectionID: want, RequestedBy: "workflow"}); err != nil {
					t.Fatal(err)
				}
			}

			var bus bytes.Buffer
			h := &detect.KinesisHandler{Detector: detect.NewDetector(eng), Log: quiet, Tasks: tasks,
				Publisher: &detect.Sinks{Store: detections, Bus: &detect.Printer{W: &bus, JSON: true}}}
			for replay := range 2 { // the stream replayed: nothing stored or published again
				resp, err := h.Handle(ctx, lambdaEvent(t, stream, recs))
				if err != nil || len(resp.BatchItemFailures) != 0 {
					t.Fatalf("replay %d: %v, %+v", replay, err, resp)
				}
			}

			docs, _, err := detections.List(ctx, api.DetectionQuery{})
			if err != nil {
				t.Fatal(err)
			}
			stored := map[string]int{}
			for _, doc := range docs {
				var d struct {
					ID          string
					Edge        bool     `json:"edge"`
					EdgeActions []string `json:"edge_actions"`
				}
				if err := json.Unmarshal(doc, &d); err != nil {
					t.Fatal(err)
				}
				stored[d.ID]++
				if !d.Edge {
					t.Errorf("detection %s stored as the cloud's, though the edge sent it first", d.ID)
				}
				if d.ID == want && strings.Join(d.EdgeActions, ",") != "kill" {
					t.Errorf("detection %s: edge actions %v, want [kill]", d.ID, d.EdgeActions)
				}
			}
			if stored[want] != 1 {
				t.Fatalf("stored %v, want %s once", stored, want)
			}
			for id, n := range stored {
				if n != 1 {
					t.Errorf("detection %s stored %d times", id, n)
				}
			}
			if lines := strings.Count(bus.String(), "\n"); lines != len(stored) {
				t.Errorf("published %d detections for %d stored:\n%s", lines, len(stored), bus.String())
			}
			kill, err := tasks.Get(ctx, killID)
			if err != nil {
				t.Fatal(err)
			}
			if kill.Status != task.Done || !strings.HasPrefix(kill.Result, "dry run: would kill pid 4321") || kill.DetectionID != want {
				t.Errorf("kill task %+v", kill)
			}
		})
	}
}
