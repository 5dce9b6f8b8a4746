package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/vigil-sec/vigil/internal/api"
	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/testenv"
	"github.com/vigil-sec/vigil/rules"
)

// TestEKSAuditLogToDetections: the EKS control plane's audit log as a
// CloudWatch Logs subscription filter delivers it — gzip JSON records put on
// the stream (kinesalite) — read back with GetRecords and handed to the
// detect handler as Lambda does, stores the pack's Kubernetes detections in
// the detections table (dynalite), each published once though the stream is
// replayed; the control message and the authenticator's stream make none, and
// no record fails.
func TestEKSAuditLogToDetections(t *testing.T) {
	ctx := context.Background()
	kc := kinesis.NewFromConfig(testenv.AWSConfig(t, testenv.Kinesis(t)))
	db := dynamodb.NewFromConfig(testenv.AWSConfig(t, testenv.DynamoDB(t)))
	const stream = "vigil-eks"
	testenv.CreateStream(t, kc, stream)
	raw, err := os.ReadFile("../../internal/k8saudit/testdata/audit.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	const group = "/aws/eks/prod-eu/cluster"
	records := [][]byte{
		testenv.LogsRecord(t, "CONTROL_MESSAGE", "", "", []string{"CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}),
		testenv.LogsRecord(t, "DATA_MESSAGE", group, "kube-apiserver-audit-4c6f1e0e2b7a8e9d3f1a", lines[:4]),
		testenv.LogsRecord(t, "DATA_MESSAGE", group, "authenticator-4c6f1e0e2b7a8e9d3f1a", []string{`time="2025-06-03T09:14:02Z" level=info msg="access granted"`}),
		testenv.LogsRecord(t, "DATA_MESSAGE", group, "kube-apiserver-audit-4c6f1e0e2b7a8e9d3f1a", lines[4:]),
	}
	for i, data := range records {
		// CloudWatch Logs puts each record with a partition key of its own
		if _, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: sdkaws.String(stream),
			PartitionKey: sdkaws.String(strings.Repeat("c", i+1)), Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	recs := testenv.ReadRecords(t, kc, stream, len(records))
	if len(recs) != len(records) {
		t.Fatalf("read %d records, want %d", len(recs), len(records))
	}

	eng, err := rules.Engine()
	if err != nil {
		t.Fatal(err)
	}
	detections := &vaws.Detections{Client: db, Table: testenv.CreateTable(t, db, testenv.DetectionsTable)}
	var bus bytes.Buffer
	h := &detect.KinesisHandler{Detector: detect.NewDetector(eng), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Publisher: &detect.Sinks{Store: detections, Bus: &detect.Printer{W: &bus, JSON: true}}}
	for replay := range 2 {
		resp, err := h.Handle(ctx, lambdaEvent(t, stream, recs))
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("replay %d: %v, failures %+v", replay, err, resp.BatchItemFailures)
		}
	}

	docs, _, err := detections.List(ctx, api.DetectionQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for _, doc := range docs {
		var d struct {
			ID, Rule string
			SensorID string `json:"sensor_id"`
			Event    struct {
				Routing map[string]any `json:"routing"`
			}
		}
		if err := json.Unmarshal(doc, &d); err != nil {
			t.Fatal(err)
		}
		stored[d.Rule]++
		if d.SensorID != "k8s-prod-eu" || d.Event.Routing["hostname"] != "prod-eu" {
			t.Errorf("detection %s (%s) of sensor %q on %v, want k8s-prod-eu on prod-eu", d.ID, d.Rule, d.SensorID, d.Event.Routing["hostname"])
		}
		if tags, _ := d.Event.Routing["tags"].([]any); !slices.Contains(tags, any("eks")) {
			t.Errorf("detection %s: tags %v lack eks", d.ID, d.Event.Routing["tags"])
		}
	}
	var rules []string
	for r := range stored {
		rules = append(rules, r)
	}
	slices.Sort(rules)
	if want := []string{"k8s_anonymous_request", "k8s_cluster_admin_binding", "k8s_host_namespace_pod", "k8s_host_path_pod",
		"k8s_pod_exec_attach", "k8s_privileged_pod", "k8s_secret_read_unexpected", "k8s_security_resource_deleted"}; !slices.Equal(rules, want) {
		t.Errorf("detections of %v, want the eight Kubernetes rules' (%v)", stored, want)
	}
	if published := strings.Count(bus.String(), "\n"); published != len(docs) {
		t.Errorf("published %d detections for %d stored: a replay published again", published, len(docs))
	}
}
