package detect

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/testenv"
)

func auditLines(t testing.TB) []string {
	t.Helper()
	data, err := os.ReadFile("../k8saudit/testdata/audit.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

const eksGroup, eksStream = "/aws/eks/prod-eu/cluster", "kube-apiserver-audit-4c6f1e0e2b7a8e9d3f1a"

// TestLogsRecordDetects hands the detect handler the EKS audit log as a
// CloudWatch Logs subscription delivers it on the stream, beside a sensor's
// batch, and checks the pack's Kubernetes rules fire on it.
func TestLogsRecordDetects(t *testing.T) {
	good, err := event.NewEncoder().Encode([]event.Event{privileged()})
	if err != nil {
		t.Fatal(err)
	}
	good = bytes.Clone(good)
	lines := auditLines(t)
	recs := []events.KinesisEventRecord{
		record("1", testenv.LogsRecord(t, "CONTROL_MESSAGE", "", "", []string{"CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."})),
		record("2", testenv.LogsRecord(t, "DATA_MESSAGE", eksGroup, eksStream, lines)),
		record("3", good),
		record("4", testenv.LogsRecord(t, "DATA_MESSAGE", eksGroup, "authenticator-4c6f1e0e2b7a8e9d3f1a", []string{`time="2025-06-03T09:14:02Z" level=info msg="access granted"`})),
		record("5", testenv.LogsRecord(t, "DATA_MESSAGE", eksGroup, eksStream, []string{lines[0], `{"kind":"Event","auditID":"x"}`})),
		record("6", []byte{0x1f, 0x8b, 0, 1, 2}),
		record("7", testenv.LogsRecord(t, "DATA_MESSAGE", "/app/logs", eksStream, lines[:1])),
	}
	rec := &recorder{}
	h := &KinesisHandler{Detector: NewDetector(packEngine(t)), Publisher: rec}
	resp, err := h.Handle(context.Background(), events.KinesisEvent{Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if strings.Join(failed, ",") != "5,6,7" {
		t.Errorf("failed records %v, want 5 (a bad audit event), 6 (not gzip) and 7 (no EKS log group)", failed)
	}
	var rules []string
	for _, d := range rec.got {
		if d.Event.Type == event.K8sAudit {
			if d.Event.SensorID != "k8s-prod-eu" || d.Event.Hostname != "prod-eu" {
				t.Errorf("detection %s of sensor %s on %s", d.Rule, d.Event.SensorID, d.Event.Hostname)
			}
			rules = append(rules, d.Rule)
		}
	}
	for _, want := range []string{"k8s_pod_exec_attach", "k8s_privileged_pod", "k8s_cluster_admin_binding", "k8s_anonymous_request", "k8s_security_resource_deleted"} {
		if !slices.Contains(rules, want) {
			t.Errorf("no %s detection among %v", want, rules)
		}
	}
	if !slices.ContainsFunc(rec.got, func(d Detection) bool { return d.Rule == "privileged_docker_container" }) {
		t.Error("the sensor's batch beside the audit log fired nothing")
	}
}

func TestDecodeLogsRecordErrors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"unknown message type", testenv.LogsRecord(t, "OTHER", eksGroup, eksStream, nil), `messageType "OTHER"`},
		{"bad line", testenv.LogsRecord(t, "DATA_MESSAGE", eksGroup, eksStream, []string{`{"auditID":"a","stage":"x","verb":"get","stageTimestamp":"then"}`}),
			`logEvents[0] (id 00000000000000000000000000000000000000000003748942042000): line 1: stageTimestamp`},
		{"not JSON", func() []byte {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write([]byte("hello"))
			zw.Close()
			return b.Bytes()
		}(), "invalid character"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeLogsRecord(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !poison(err) {
				t.Fatalf("err = %v, want %q (poison)", err, tc.want)
			}
		})
	}
}

func FuzzDecodeLogsRecord(f *testing.F) {
	f.Add(testenv.LogsRecord(f, "DATA_MESSAGE", eksGroup, eksStream, auditLines(f)[:2]))
	f.Add(testenv.LogsRecord(f, "CONTROL_MESSAGE", "", "", nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := DecodeLogsRecord(data)
		if err != nil && !poison(err) {
			t.Fatalf("an unreadable record is not poison: %v", err)
		}
		for _, e := range evs {
			if e.Type != event.K8sAudit || !strings.HasPrefix(e.SensorID, "k8s-") {
				t.Fatalf("event %+v", e)
			}
		}
	})
}
