package main

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/testenv"
)

// auditRequest is the API Gateway (payload 2.0) request of the API server's
// audit webhook posting body, as the authorizer passes a k8s-audit key of
// cluster prod on.
func auditRequest(body string) events.APIGatewayV2HTTPRequest {
	var in events.APIGatewayV2HTTPRequest
	in.RawPath = "/v1/orgs/acme/k8s/audit"
	in.Body = body
	in.Headers = map[string]string{"content-type": "application/json"}
	in.RequestContext.HTTP.Method = "POST"
	in.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		Lambda: map[string]any{"org": "acme", "key": "prod-apiserver", "role": "k8s-audit", "sensor_id": "prod"},
	}
	return in
}

// TestAuditWebhookToStream runs the function as Lambda does over the audit
// webhook's request: with VIGIL_INGEST_STREAM naming a stream of a Kinesis API
// (kinesalite) the events are on it, as Parquet batches of the cluster's
// sensor id, read back with GetRecords; without it the route answers 501.
func TestAuditWebhookToStream(t *testing.T) {
	ep := testenv.Kinesis(t)
	client := kinesis.NewFromConfig(testenv.AWSConfig(t, ep))
	const stream = "vigil-ingest"
	testenv.CreateStream(t, client, stream)
	body, err := os.ReadFile("../../internal/k8saudit/testdata/audit.jsonl")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		stream string
		code   int
	}{
		{"without a stream", "", 501},
		{"with the ingest stream", stream, 202},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"VIGIL_SENSORS_TABLE", "VIGIL_DETECTIONS_TABLE", "VIGIL_TASKS_TABLE"} {
				t.Setenv(k, "t")
			}
			t.Setenv("VIGIL_API_KEYS_TABLE", "")
			t.Setenv("VIGIL_RULE_SOURCES", "")
			t.Setenv("VIGIL_BUILTIN_RULES", "")
			t.Setenv("VIGIL_INGEST_STREAM", tt.stream)
			t.Setenv("AWS_REGION", "us-east-1")
			t.Setenv("AWS_ENDPOINT_URL", ep)
			t.Setenv("AWS_ACCESS_KEY_ID", "vigil")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "vigil")
			t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			s, err := newServer(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			resp, err := api.Lambda(s.Handler())(context.Background(), auditRequest(string(body)))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.code {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.code, resp.Body)
			}
			if tt.code != 202 {
				return
			}
			var out struct{ Events, Records int }
			if err := json.Unmarshal([]byte(resp.Body), &out); err != nil || out.Events != 8 || out.Records != 1 {
				t.Fatalf("answer %s (%v), want 8 events in 1 record", resp.Body, err)
			}
			recs := testenv.ReadRecords(t, client, stream, 1)
			if len(recs) != 1 {
				t.Fatalf("%d records on the stream, want 1", len(recs))
			}
			if pk := sdkaws.ToString(recs[0].PartitionKey); pk != "k8s-prod" {
				t.Errorf("partition key %q, want k8s-prod", pk)
			}
			evs, err := event.Decode(nil, recs[0].Data, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 8 {
				t.Fatalf("%d events in the record, want 8", len(evs))
			}
			for _, e := range evs {
				if e.Type != event.K8sAudit || e.SensorID != "k8s-prod" || e.K8sVerb == "" {
					t.Errorf("event %s: type %s sensor %s verb %q", e.ID, e.Type, e.SensorID, e.K8sVerb)
				}
			}
		})
	}
}
