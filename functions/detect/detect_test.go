package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/testcheck"
	"github.com/vigil-sec/vigil/internal/testenv"
	"github.com/vigil-sec/vigil/rules"
	"github.com/vigil-sec/vigil/sensor/shipper"
)

// lambdaEvent renders records as the JSON document Lambda's Kinesis event source
// mapping delivers to the function, and decodes it the way the runtime does.
func lambdaEvent(t *testing.T, stream string, recs []types.Record) events.KinesisEvent {
	t.Helper()
	type kin struct {
		KinesisSchemaVersion        string  `json:"kinesisSchemaVersion"`
		PartitionKey                string  `json:"partitionKey"`
		SequenceNumber              string  `json:"sequenceNumber"`
		Data                        string  `json:"data"`
		ApproximateArrivalTimestamp float64 `json:"approximateArrivalTimestamp"`
	}
	type rec struct {
		Kinesis           kin    `json:"kinesis"`
		EventSource       string `json:"eventSource"`
		EventVersion      string `json:"eventVersion"`
		EventID           string `json:"eventID"`
		EventName         string `json:"eventName"`
		InvokeIdentityArn string `json:"invokeIdentityArn"`
		AwsRegion         string `json:"awsRegion"`
		EventSourceArn    string `json:"eventSourceARN"`
	}
	var doc struct {
		Records []rec `json:"Records"`
	}
	for _, r := range recs {
		seq := sdkaws.ToString(r.SequenceNumber)
		doc.Records = append(doc.Records, rec{
			Kinesis: kin{"1.0", sdkaws.ToString(r.PartitionKey), seq, base64.StdEncoding.EncodeToString(r.Data),
				float64(sdkaws.ToTime(r.ApproximateArrivalTimestamp).UnixMilli()) / 1000},
			EventSource: "aws:kinesis", EventVersion: "1.0", EventID: "shardId-000000000000:" + seq,
			EventName: "aws:kinesis:record", InvokeIdentityArn: "arn:aws:iam::123456789012:role/detect",
			AwsRegion: "us-east-1", EventSourceArn: "arn:aws:kinesis:us-east-1:123456789012:stream/" + stream,
		})
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var out events.KinesisEvent
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestKinesisToDetection ships a batch through the real shipper to a Kinesis API,
// reads it back with GetRecords, hands it to the detect handler exactly as Lambda
// would, and checks the detection it prints; a poison record is reported failed.
func TestKinesisToDetection(t *testing.T) {
	ep := testenv.Kinesis(t)
	client := kinesis.NewFromConfig(testenv.AWSConfig(t, ep))
	const stream = "vigil-events"
	testenv.CreateStream(t, client, stream)

	sh := shipper.New(shipper.Options{SensorID: "i-0123", Stream: &vaws.Kinesis{Client: client, StreamName: stream}})
	at := time.Date(2026, 11, 22, 15, 0, 0, 0, time.UTC)
	for i, cmd := range []string{"docker ps", "docker run --privileged --rm alpine"} {
		e := event.Event{SensorID: "i-0123", Hostname: "web-1", Tags: []string{"env:prod"}, Type: event.NewProcess,
			TimeNanos: at.Add(time.Duration(i) * time.Second).UnixNano(), ID: fmt.Sprintf("ev-%d", i), PID: uint32(100 + i),
			User: "root", FilePath: "/usr/bin/docker", CommandLine: cmd, ParentFilePath: "/bin/bash"}
		sh.Add(&e)
	}
	if err := sh.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutRecord(context.Background(), &kinesis.PutRecordInput{
		StreamName: sdkaws.String(stream), PartitionKey: sdkaws.String("i-0123"), Data: []byte("not parquet")}); err != nil {
		t.Fatal(err)
	}
	recs := testenv.ReadRecords(t, client, stream, 2)

	eng, err := rules.Engine()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	h := &detect.KinesisHandler{Detector: detect.NewDetector(eng), Publisher: &detect.Printer{W: &out, JSON: true}}
	resp, err := h.Handle(context.Background(), lambdaEvent(t, stream, recs))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != sdkaws.ToString(recs[1].SequenceNumber) {
		t.Fatalf("failures = %+v, want only the poison record %s", resp.BatchItemFailures, sdkaws.ToString(recs[1].SequenceNumber))
	}
	var d struct {
		ID, Rule, Severity, SensorID string
		Event                        struct {
			Event map[string]any `json:"event"`
		}
	}
	dec := json.NewDecoder(&out)
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("no detection printed: %v", err)
	}
	if d.Rule != "privileged_docker_container" || d.Severity != "medium" || d.ID != detect.DetectionID(d.Rule, "ev-1") {
		t.Errorf("detection = %+v", d)
	}
	if d.Event.Event["COMMAND_LINE"] != "docker run --privileged --rm alpine" {
		t.Errorf("event = %v", d.Event.Event)
	}
	if dec.More() {
		t.Errorf("more than one detection: %s", out.String())
	}
}

func TestNewHandlerNamesMissingEnvironment(t *testing.T) {
	for _, k := range []string{"VIGIL_DETECTIONS_TABLE", "VIGIL_SENSORS_TABLE", "VIGIL_STATE_TABLE", "VIGIL_BUS_NAME", "VIGIL_STATE_MACHINE_ARN", "VIGIL_LAKE_BUCKET", "VIGIL_MODEL_KEY", "VIGIL_TASKS_TABLE"} {
		t.Setenv(k, "")
	}
	t.Setenv("VIGIL_BUS_NAME", "vigil")
	_, err := newHandler(context.Background())
	if err == nil || !strings.Contains(err.Error(), "VIGIL_DETECTIONS_TABLE") || strings.Contains(err.Error(), "VIGIL_BUS_NAME") {
		t.Fatalf("err = %v, want the missing variables named (and only those)", err)
	}
}

// setHandlerEnv sets every variable newHandler requires, and clears the optional ones.
func setHandlerEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"VIGIL_DETECTIONS_TABLE", "VIGIL_SENSORS_TABLE", "VIGIL_STATE_TABLE", "VIGIL_BUS_NAME",
		"VIGIL_STATE_MACHINE_ARN", "VIGIL_LAKE_BUCKET", "VIGIL_MODEL_KEY", "VIGIL_TASKS_TABLE"} {
		t.Setenv(k, "x")
	}
	t.Setenv("VIGIL_S3_PATH_STYLE", "")
	t.Setenv("DD_API_KEY_SECRET_ARN", "")
	t.Setenv("AWS_REGION", "us-east-1")
}

func TestNewHandlerPathStyle(t *testing.T) {
	tests := []struct {
		value   string
		wantErr string
	}{
		{value: ""},
		{value: "true"},
		{value: "false"},
		{value: "ture", wantErr: `VIGIL_S3_PATH_STYLE="ture"`},
		{value: "yes", wantErr: `VIGIL_S3_PATH_STYLE="yes"`},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			setHandlerEnv(t)
			t.Setenv("VIGIL_S3_PATH_STYLE", tt.value)
			_, err := newHandler(context.Background())
			if tt.wantErr == "" && err != nil {
				t.Fatalf("newHandler: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("newHandler error = %v, want one naming %s", err, tt.wantErr)
			}
		})
	}
}

// TestRuleSourcesFromEnvironment: the function evaluates the rule set its
// environment names (the pack unless VIGIL_BUILTIN_RULES=false, and the sources of
// VIGIL_RULE_SOURCES) on a Kinesis batch, tuning included, and refuses to start on
// a broken rule file, naming it.
func TestRuleSourcesFromEnvironment(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano()
	batch := []event.Event{
		{ID: "docker", Type: event.NewProcess, SensorID: "i-1", TimeNanos: at, User: "root", FilePath: "/usr/bin/docker",
			CommandLine: "docker run --privileged --rm alpine", ParentFilePath: "/bin/bash"},
		{ID: "creds", Type: event.FileOpen, SensorID: "i-1", TimeNanos: at + 1, User: "root", FilePath: "/usr/bin/cat",
			TargetPath: "/root/.aws/credentials", FileFlags: "read"},
		{ID: "xmrig", Type: event.NewProcess, SensorID: "i-1", TimeNanos: at + 2, User: "root", FilePath: "/opt/xmrig",
			CommandLine: "xmrig -o pool:3333"},
		{ID: "xmrig-bench", Type: event.NewProcess, SensorID: "i-2", Tags: []string{"role:bench"}, TimeNanos: at + 3, User: "root",
			FilePath: "/opt/xmrig", CommandLine: "xmrig --bench"},
	}
	data, err := event.NewEncoder().Encode(batch)
	if err != nil {
		t.Fatal(err)
	}
	in := events.KinesisEvent{Records: []events.KinesisEventRecord{{Kinesis: events.KinesisRecord{Data: data, SequenceNumber: "1"}}}}
	site, broken := filepath.Join("testdata", "site"), filepath.Join("testdata", "broken")
	tests := []struct {
		name    string
		env     map[string]string
		has     []string // rule:event detections raised (exactly these with exact)
		hasNot  []string
		exact   bool
		wantErr string
	}{
		{name: "the pack alone", env: map[string]string{},
			has: []string{"privileged_docker_container:docker"}, hasNot: []string{"root_reads_cloud_creds:creds", "xmrig_started:xmrig"}},
		{name: "the pack, the site's rules and tuning", env: map[string]string{"VIGIL_RULE_SOURCES": site},
			has:    []string{"root_reads_cloud_creds:creds", "xmrig_started:xmrig"},
			hasNot: []string{"privileged_docker_container:docker", "xmrig_started:xmrig-bench"}},
		{name: "the site's rules without the pack", env: map[string]string{"VIGIL_RULE_SOURCES": site, "VIGIL_BUILTIN_RULES": "false"},
			has: []string{"root_reads_cloud_creds:creds", "xmrig_started:xmrig"}, exact: true},
		{name: "a broken file", env: map[string]string{"VIGIL_RULE_SOURCES": site + ":" + broken},
			wantErr: `testdata/broken/bad.yaml:4: rule bad: unknown path "event/USR": did you mean event/USER?`},
		{name: "a missing source", env: map[string]string{"VIGIL_RULE_SOURCES": "/nonexistent/vigil-rules"},
			wantErr: "/nonexistent/vigil-rules: not a directory or file of rules"},
		{name: "a bad switch", env: map[string]string{"VIGIL_BUILTIN_RULES": "off"}, wantErr: `VIGIL_BUILTIN_RULES="off"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng, err := loadEngine(func(k string) string { return tt.env[k] })
			if testcheck.Err(t, err, tt.wantErr) {
				return
			}
			var out bytes.Buffer
			h := &detect.KinesisHandler{Detector: detect.NewDetector(eng), Publisher: &detect.Printer{W: &out, JSON: true}}
			resp, err := h.Handle(context.Background(), in)
			if err != nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("Handle: %v, %+v", err, resp)
			}
			var got []string
			dec := json.NewDecoder(&out)
			for dec.More() {
				var d struct {
					Rule  string
					Event struct {
						Routing map[string]any `json:"routing"`
					}
				}
				if err := dec.Decode(&d); err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprintf("%s:%v", d.Rule, d.Event.Routing["event_id"]))
			}
			sort.Strings(got)
			if tt.exact && !slices.Equal(got, tt.has) {
				t.Errorf("detections %v, want exactly %v", got, tt.has)
			}
			for _, d := range tt.has {
				if !slices.Contains(got, d) {
					t.Errorf("detections %v lack %s", got, d)
				}
			}
			for _, d := range tt.hasNot {
				if slices.Contains(got, d) {
					t.Errorf("detections %v include %s", got, d)
				}
			}
		})
	}
}
