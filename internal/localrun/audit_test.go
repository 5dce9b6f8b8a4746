package localrun

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/local"
)

// TestAuditWebhookDetects posts the API server's audit events (JSON lines, as
// it writes them) to a running vigil local through a key of role k8s-audit,
// made through the API as an operator would, and finds the pack's detections
// of them in the store.
func TestAuditWebhookDetects(t *testing.T) {
	a, _ := serveApp(t, filepath.Join(t.TempDir(), "data"), false)
	base := "http://" + a.Addr()
	auditKey := postAuditLog(t, a, "prod")
	var page detectionsPage
	if code := apiGet(t, base, "/v1/orgs/local/detections?sensor=k8s-prod&limit=100", a.APIKey(), &page); code != 200 {
		t.Fatalf("detections: %d", code)
	}
	var got []string
	for _, d := range page.Detections {
		got = append(got, d["rule"].(string))
	}
	for _, want := range []string{"k8s_pod_exec_attach", "k8s_secret_read_unexpected", "k8s_privileged_pod", "k8s_host_path_pod",
		"k8s_host_namespace_pod", "k8s_cluster_admin_binding", "k8s_anonymous_request", "k8s_security_resource_deleted"} {
		if !slices.Contains(got, want) {
			t.Errorf("no %s detection among %v", want, got)
		}
	}
	// the list of pods is benign: it fires nothing
	if len(page.Detections) == 0 || page.Detections[0]["event"] == nil {
		t.Fatalf("detections carry no event: %v", page.Detections)
	}
	for _, d := range page.Detections {
		if ev, _ := d["event"].(map[string]any); ev != nil && strings.Contains(string(mustJSON(t, ev)), `"VERB":"list"`) {
			t.Errorf("the pod list fired %v", d["rule"])
		}
	}
	// the audit key posts audit events and reads nothing
	if code := apiGet(t, base, "/v1/orgs/local/detections", auditKey, nil); code != 403 {
		t.Errorf("the audit key lists detections: %d", code)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// apiPost posts body to base+path with key and decodes the JSON answer.
func apiPost(t *testing.T, base, path, key, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

// postAuditLog makes a k8s-audit key of cluster through the API of the
// serving a, as an operator would, and posts the eight audit events of
// k8saudit's testdata with it; it returns the key.
func postAuditLog(t *testing.T, a *App, cluster string) string {
	t.Helper()
	base := "http://" + a.Addr()
	code, created := apiPost(t, base, "/v1/orgs/local/keys", a.APIKey(), `{"name":"`+cluster+`-apiserver","role":"k8s-audit","sensor_id":"`+cluster+`"}`)
	auditKey, _ := created["key"].(string)
	if code != 201 || auditKey == "" {
		t.Fatalf("create key: %d %v", code, created)
	}
	lines, err := os.ReadFile("../k8saudit/testdata/audit.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if code, out := apiPost(t, base, "/v1/orgs/local/k8s/audit", auditKey, string(lines)); code != 202 || out["events"] != float64(8) {
		t.Fatalf("post audit events: %d %v", code, out)
	}
	return auditKey
}

// TestAuditWebhookToLake: the audit events a running vigil local takes on its
// webhook land in its lake, in the cluster's partition and the hour of the
// events, as K8S_AUDIT events the lake's readers decode.
func TestAuditWebhookToLake(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lake")
	a := newApp(t, Options{Listen: "127.0.0.1:0", Lake: dir})
	if err := a.Serve(ctx); err != nil {
		t.Fatal(err)
	}
	postAuditLog(t, a, "prod-eu")
	files, err := (&local.Lake{Dir: dir}).Files()
	if err != nil || len(files) != 1 {
		t.Fatalf("lake files %v (%v), want one", files, err)
	}
	const prefix = "events/dt=2025-06-03/hr=09/sensor=k8s-prod-eu/"
	if !strings.HasPrefix(files[0], prefix) {
		t.Errorf("lake file %s, want it under %s", files[0], prefix)
	}
	raw, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(files[0])))
	if err != nil {
		t.Fatal(err)
	}
	evs, err := event.Decode(nil, raw, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 8 {
		t.Fatalf("%d events in the lake, want 8", len(evs))
	}
	for _, e := range evs {
		if e.Type != event.K8sAudit || e.SensorID != "k8s-prod-eu" || e.Hostname != "prod-eu" || e.K8sVerb == "" {
			t.Errorf("lake event %s: type %s sensor %s host %s verb %q", e.ID, e.Type, e.SensorID, e.Hostname, e.K8sVerb)
		}
	}
	if evs[0].ID != "3f1c9d2e-8a47-4b1e-9c0d-5e6f7a8b9c01/ResponseComplete" {
		t.Errorf("first event id %s", evs[0].ID)
	}
}
