package api_test

import (
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/vigil-sec/vigil/internal/api"
	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/testenv"
)

// TestAuditWebhook posts the API server's audit webhook body to the API, over
// real DynamoDB keys, and reads the K8S_AUDIT events back from the Kinesis
// stream the API puts them on.
func TestAuditWebhook(t *testing.T) {
	ctx := context.Background()
	db := dynamodb.NewFromConfig(testenv.AWSConfig(t, testenv.DynamoDB(t)))
	keys := &vaws.APIKeys{Client: db, Table: testenv.CreateTable(t, db, testenv.APIKeysTable)}
	kc := kinesis.NewFromConfig(testenv.AWSConfig(t, testenv.Kinesis(t)))
	testenv.CreateStream(t, kc, "ingest")
	for key, rec := range map[string]api.Key{
		"audit":  {Org: "acme", Name: "prod-apiserver", Role: api.RoleK8sAudit, SensorID: "prod"},
		"admin":  {Org: "acme", Name: "ops", Role: api.RoleAdmin},
		"viewer": {Org: "acme", Name: "v", Role: api.RoleViewer},
	} {
		if err := keys.PutKey(ctx, key, rec); err != nil {
			t.Fatal(err)
		}
	}
	s := &api.Server{Keys: keys, Stream: &vaws.Kinesis{Client: kc, StreamName: "ingest"}}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	list, err := os.ReadFile("../k8saudit/testdata/eventlist.json")
	if err != nil {
		t.Fatal(err)
	}

	status, body := do(t, srv, "POST", "/v1/orgs/acme/k8s/audit", "Bearer audit", string(list))
	if status != 202 || body["events"] != float64(3) {
		t.Fatalf("post: %d %v", status, body)
	}
	status, body = do(t, srv, "POST", "/v1/orgs/acme/k8s/audit?cluster=staging", "Bearer admin", string(list))
	if status != 202 {
		t.Fatalf("post as admin: %d %v", status, body)
	}
	recs := testenv.ReadRecords(t, kc, "ingest", 2)
	clusters := map[string]bool{}
	for _, r := range recs {
		evs, err := event.Decode(nil, r.Data, detect.MaxBatchRows)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 3 || evs[0].SensorID != *r.PartitionKey || evs[0].Type != event.K8sAudit || evs[2].K8sPrivileged != 1 {
			t.Fatalf("record %s: %+v", *r.PartitionKey, evs)
		}
		clusters[evs[0].Hostname] = true
	}
	if !clusters["prod"] || !clusters["staging"] {
		t.Errorf("clusters %v, want prod (the key's) and staging (the admin's ?cluster=)", clusters)
	}

	tests := []struct {
		name, path, key, body string
		status                int
		want                  string
	}{
		{"viewer key", "/v1/orgs/acme/k8s/audit", "viewer", string(list), 403, "needs a k8s-audit or admin key"},
		{"no key", "/v1/orgs/acme/k8s/audit", "", string(list), 401, "missing API key"},
		{"admin without cluster", "/v1/orgs/acme/k8s/audit", "admin", string(list), 400, "?cluster="},
		{"bad cluster", "/v1/orgs/acme/k8s/audit?cluster=a/b", "admin", string(list), 400, "only letters"},
		{"bad event", "/v1/orgs/acme/k8s/audit", "audit", `{"kind":"EventList","items":[{"auditID":"x","stage":"ResponseComplete","verb":"get","stageTimestamp":"now"}]}`, 400, "line 1: items[0]: stageTimestamp"},
		{"too large", "/v1/orgs/acme/k8s/audit", "audit", strings.Repeat(" ", api.MaxAuditBody+1), 413, "larger than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := ""
			if tc.key != "" {
				key = "Bearer " + tc.key
			}
			status, body := do(t, srv, "POST", tc.path, key, tc.body)
			if status != tc.status || !strings.Contains(body["error"].(string), tc.want) {
				t.Fatalf("%d %v, want %d %q", status, body, tc.status, tc.want)
			}
		})
	}
	// an audit key reaches nothing else
	if status, _ := do(t, srv, "GET", "/v1/orgs/acme/detections", "Bearer audit", ""); status != 403 {
		t.Errorf("audit key lists detections: %d", status)
	}
}

func TestAuditKeyRole(t *testing.T) {
	if err := api.CheckRole(api.RoleK8sAudit, ""); err == nil || !strings.Contains(err.Error(), "names its cluster") {
		t.Errorf("k8s-audit key without a cluster: %v", err)
	}
	if err := api.CheckRole(api.RoleK8sAudit, "prod-eu"); err != nil {
		t.Error(err)
	}
	if err := api.CheckRole(api.RoleViewer, "prod-eu"); err == nil {
		t.Error("viewer key bound to a cluster")
	}
}

func TestAuditWebhookUnconfigured(t *testing.T) {
	s := &api.Server{}
	h := s.Handler()
	req := httptest.NewRequest("POST", "/v1/orgs/acme/k8s/audit", strings.NewReader("{}"))
	req = req.WithContext(api.WithIdentity(req.Context(), api.Identity{Org: "acme", Name: "c", Role: api.RoleK8sAudit, SensorID: "prod"}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 501 {
		t.Errorf("no stream: %d %s", rec.Code, rec.Body)
	}
}
