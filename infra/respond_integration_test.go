package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/vigil-sec/vigil/internal/api"
	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/respond"
	"github.com/vigil-sec/vigil/internal/task"
	"github.com/vigil-sec/vigil/internal/testenv"
	"github.com/vigil-sec/vigil/sensor/shipper"
)

// recorder is a loopback HTTP endpoint that keeps the JSON bodies it receives and
// answers with reply.
type recorder struct {
	mu     sync.Mutex
	bodies []map[string]any
}

func (r *recorder) serve(t *testing.T, status int, reply func(body map[string]any) any) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		raw, _ := io.ReadAll(req.Body)
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			http.Error(w, "not json", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.bodies = append(r.bodies, body)
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(reply(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (r *recorder) all() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.bodies)
}

func dummyLambdaDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, fn := range functionNames {
		if err := os.MkdirAll(filepath.Join(dir, fn), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fn, "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestResponseScenario runs the cloud path on loopback emulators: a sensor batch
// with a miner exec → Kinesis (kinesalite) → the detect handler, delivered twice →
// one detection in DynamoDB (dynalite) → one PutEvents → the response workflow the
// CDK app synthesizes, on stepfunctions-local, whose tasks run the respond handler →
// a simulated sensor completes the isolate task → SUCCEEDED → PagerDuty Events v2.
func TestResponseScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("integration scenario")
	}
	ctx := context.Background()
	cb := newCloud(t)
	template, dets, tasks, sensors, handler := cb.template, cb.dets, cb.tasks, cb.sensors, cb.handler
	sf, sm, pagerduty, bus := cb.sf, cb.sm, &cb.pagerduty, &cb.bus

	// a sensor ships a batch: a heartbeat, a benign exec and a miner
	kin := kinesis.NewFromConfig(testenv.AWSConfig(t, testenv.Kinesis(t)))
	testenv.CreateStream(t, kin, "vigil-events")
	ship := shipper.New(shipper.Options{SensorID: "i-0abc", Stream: &vaws.Kinesis{Client: kin, StreamName: "vigil-events"}})
	at := time.Now().UTC().Truncate(time.Second)
	for i, ev := range []event.Event{
		{Type: event.SensorHeartbeat, SensorVersion: "1.2.3", UptimeSeconds: 30},
		{Type: event.NewProcess, PID: 10, User: "www-data", FilePath: "/usr/bin/ls", CommandLine: "ls"},
		{Type: event.NewProcess, PID: 11, User: "www-data", FilePath: "/tmp/.x/xmrig", CommandLine: "/tmp/.x/xmrig -o pool:3333"},
	} {
		ev.SensorID, ev.Hostname, ev.Tags = "i-0abc", "web-1", []string{"env:prod", "deployment:d-1"}
		ev.TimeNanos, ev.ID = at.Add(time.Duration(i)*time.Millisecond).UnixNano(), event.NewID(at)
		ship.Add(&ev)
	}
	if err := ship.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	recs := testenv.ReadRecords(t, kin, "vigil-events", 1)
	var in events.KinesisEvent
	for _, r := range recs {
		var er events.KinesisEventRecord
		er.EventSource, er.EventSourceArn = "aws:kinesis", "arn:aws:kinesis:us-east-1:123456789012:stream/vigil-events"
		er.Kinesis.Data, er.Kinesis.PartitionKey, er.Kinesis.SequenceNumber = r.Data, sdkaws.ToString(r.PartitionKey), sdkaws.ToString(r.SequenceNumber)
		in.Records = append(in.Records, er)
	}

	// delivered twice, as Lambda does after a retry
	for i := range 2 {
		resp, err := handler.Handle(ctx, in)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("delivery %d: %v %+v", i+1, err, resp)
		}
	}

	docs, _, err := dets.List(ctx, api.DetectionQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 {
		t.Fatalf("%d detections stored, want exactly 1 despite the replay", len(docs))
	}
	var d struct {
		ID, Rule, Severity string
	}
	if err := json.Unmarshal(docs[0], &d); err != nil || d.Rule != "miner_isolate" || d.Severity != "high" {
		t.Fatalf("detection %s (%v)", docs[0], err)
	}
	if got, err := sensors.List(ctx, []string{"deployment:d-1"}); err != nil || len(got) != 1 || got[0].Version != "1.2.3" {
		t.Fatalf("sensors = %+v, %v", got, err)
	}

	// EventBridge got the detection once, and the bus rule's pattern from the template selects it
	calls := bus.all()
	if len(calls) != 1 || len(calls[0]["Entries"].([]any)) != 1 {
		t.Fatalf("PutEvents calls %v, want one entry once", calls)
	}
	entry := calls[0]["Entries"].([]any)[0].(map[string]any)
	var detail map[string]any
	if err := json.Unmarshal([]byte(entry["Detail"].(string)), &detail); err != nil {
		t.Fatal(err)
	}
	if entry["Source"] != "vigil" || entry["DetailType"] != "Detection" || detail["id"] != d.ID {
		t.Fatalf("entry %v", entry)
	}
	busEvent := map[string]any{"source": entry["Source"], "detail-type": entry["DetailType"], "detail": detail, "account": "123456789012"}
	if n := matchingRules(t, template, busEvent); n == 0 {
		t.Fatalf("no bus rule of the template matches the high detection %v", busEvent)
	}
	detail["severity"] = "medium"
	if n := matchingRules(t, template, busEvent); n != 0 {
		t.Fatalf("%d bus rules page for a medium detection", n)
	}

	// a simulated sensor picks up its isolate task and completes it
	var isolate task.Task
	waitFor(t, "the isolate task", func() bool {
		list, err := tasks.ForSensor(ctx, "i-0abc", at.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range list {
			if tk.Action == "isolate" {
				isolate = tk
				return true
			}
		}
		return false
	})
	if _, err := tasks.Update(ctx, isolate.ID, task.Running, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // the workflow keeps waiting while the task runs
	if _, err := tasks.Update(ctx, isolate.ID, task.Done, "isolated: backend endpoints allowed", time.Now()); err != nil {
		t.Fatal(err)
	}

	execArn := "arn:aws:states:us-east-1:123456789012:execution:vigil-response:" + d.ID
	if list, err := sf.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: sm.StateMachineArn}); err == nil && len(list.Executions) == 1 {
		execArn = sdkaws.ToString(list.Executions[0].ExecutionArn)
	}
	var out *sfn.DescribeExecutionOutput
	waitFor(t, "the response execution to end", func() bool {
		out, err = sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: sdkaws.String(execArn)})
		if err != nil {
			t.Fatal(err)
		}
		return out.Status != sfntypes.ExecutionStatusRunning
	})
	if out.Status != sfntypes.ExecutionStatusSucceeded || reachedFail(t, sf, execArn) {
		t.Fatalf("execution %s, or it reached a Fail state: %s", out.Status, sdkaws.ToString(out.Output))
	}

	pages := pagerduty.all()
	if len(pages) != 1 {
		t.Fatalf("PagerDuty got %d events, want 1", len(pages))
	}
	payload := pages[0]["payload"].(map[string]any)
	if pages[0]["routing_key"] != "R0UTING-KEY" || pages[0]["event_action"] != "trigger" || pages[0]["dedup_key"] != d.ID ||
		payload["severity"] != "error" || payload["source"] != "web-1" || payload["summary"] != "cryptocurrency_miner_detected on web-1" {
		t.Fatalf("PagerDuty event %v", pages[0])
	}
}

// reachedFail reports whether the execution entered a Fail state. stepfunctions-local
// ends such an execution as SUCCEEDED with no output (it only records the Fail state
// in the history), so the history is the reliable signal on the emulator and on AWS.
func reachedFail(t *testing.T, sf *sfn.Client, execArn string) bool {
	t.Helper()
	h, err := sf.GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ExecutionArn: sdkaws.String(execArn), MaxResults: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range h.Events {
		if e.Type == sfntypes.HistoryEventTypeFailStateEntered || e.Type == sfntypes.HistoryEventTypeExecutionFailed {
			return true
		}
	}
	return false
}

// cloud is the backend of a scenario on loopback emulators: the synthesized
// template, the DynamoDB tables (dynalite), the response state machine the template
// defines running on stepfunctions-local with the respond handler in process,
// EventBridge and PagerDuty as recording servers, and the detect handler wired as
// functions/detect wires it (rules from testdata/).
type cloud struct {
	template       map[string]any
	dets           *vaws.Detections
	tasks          *vaws.Tasks
	bells          *vaws.TaskBells
	sensors        *vaws.Sensors
	pagerduty, bus recorder
	sf             *sfn.Client
	sm             *sfn.CreateStateMachineOutput
	handler        *detect.KinesisHandler
}

func newCloud(t *testing.T) *cloud {
	t.Helper()
	c := &cloud{}
	var err error
	if c.template, err = Synth(map[string]string{"lambdaDir": dummyLambdaDir(t), "taskPollSeconds": "1"}); err != nil {
		t.Fatal(err)
	}
	arn := func(fn string) string { return "arn:aws:lambda:us-east-1:123456789012:function:" + fn }
	definition, err := StateMachineDefinition(c.template, map[string]string{"detect": arn("detect"), "respond": arn("respond"), "api": arn("api"), "authorizer": arn("authorizer")})
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(testenv.AWSConfig(t, testenv.DynamoDB(t)))
	c.dets = &vaws.Detections{Client: db, Table: testenv.CreateTable(t, db, testenv.DetectionsTable)}
	c.bells = &vaws.TaskBells{Client: db, Table: testenv.CreateTable(t, db, testenv.TaskBellsTable)}
	c.tasks = &vaws.Tasks{Client: db, Table: testenv.CreateTable(t, db, testenv.TasksTable), Bells: c.bells}
	c.sensors = &vaws.Sensors{Client: db, Table: testenv.CreateTable(t, db, testenv.SensorsTable)}

	pdURL := c.pagerduty.serve(t, http.StatusAccepted, func(map[string]any) any { return map[string]string{"status": "success"} })
	busURL := c.bus.serve(t, http.StatusOK, func(body map[string]any) any {
		entries := make([]map[string]string, len(body["Entries"].([]any)))
		for i := range entries {
			entries[i] = map[string]string{"EventId": "e"}
		}
		return map[string]any{"FailedEntryCount": 0, "Entries": entries}
	})

	responder := &respond.Handler{Tasks: c.tasks, Notify: &respond.PagerDuty{URL: pdURL,
		RoutingKey: func(context.Context) (string, error) { return "R0UTING-KEY", nil }}}
	lambdas := testenv.LambdaEndpoint(t, map[string]testenv.LambdaFunc{"respond": responder.Handle})
	c.sf = sfn.NewFromConfig(testenv.AWSConfig(t, testenv.StepFunctions(t, lambdas)))
	c.sm, err = c.sf.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{Name: sdkaws.String("vigil-response"),
		Definition: sdkaws.String(definition), RoleArn: sdkaws.String("arn:aws:iam::123456789012:role/vigil-response")})
	if err != nil {
		t.Fatalf("the synthesized definition is refused: %v\n%s", err, definition)
	}

	rules, err := engine.LoadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(rules)
	if err != nil {
		t.Fatal(err)
	}
	c.handler = &detect.KinesisHandler{Detector: detect.NewDetector(eng), Sensors: c.sensors, Publisher: &detect.Sinks{
		Store:    c.dets,
		Bus:      &vaws.Bus{Client: eventbridge.NewFromConfig(testenv.AWSConfig(t, busURL)), BusName: "vigil"},
		Workflow: &vaws.Workflow{Client: c.sf, StateMachineArn: sdkaws.ToString(c.sm.StateMachineArn)}, DeadlineSeconds: 60}}
	return c
}

// matchingRules counts the template's AWS::Events::Rule resources whose event
// pattern matches ev.
func matchingRules(t *testing.T, template map[string]any, ev map[string]any) int {
	t.Helper()
	n := 0
	for _, r := range template["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] != "AWS::Events::Rule" {
			continue
		}
		pattern, _ := res["Properties"].(map[string]any)["EventPattern"].(map[string]any)
		if pattern != nil && patternMatches(pattern, ev) {
			n++
		}
	}
	return n
}

// patternMatches implements EventBridge's matching for the pattern forms Vigil's
// rules use: nested objects and lists of allowed values. Tokens (account) match any
// value.
func patternMatches(pattern, ev map[string]any) bool {
	for k, want := range pattern {
		got, present := ev[k]
		switch w := want.(type) {
		case map[string]any:
			sub, ok := got.(map[string]any)
			if !ok || !patternMatches(w, sub) {
				return false
			}
		case []any:
			if !present {
				return false
			}
			found := false
			for _, v := range w {
				if _, isToken := v.(map[string]any); isToken || v == got {
					found = true
				}
			}
			if !found {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
