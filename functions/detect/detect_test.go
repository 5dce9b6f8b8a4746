package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
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
	for _, k := range []string{"VIGIL_DETECTIONS_TABLE", "VIGIL_SENSORS_TABLE", "VIGIL_STATE_TABLE", "VIGIL_BUS_NAME", "VIGIL_STATE_MACHINE_ARN", "VIGIL_LAKE_BUCKET", "VIGIL_MODEL_KEY"} {
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
		"VIGIL_STATE_MACHINE_ARN", "VIGIL_LAKE_BUCKET", "VIGIL_MODEL_KEY"} {
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
