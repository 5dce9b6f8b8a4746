package localrun

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestAuditWebhookDetects posts the API server's audit events (JSON lines, as
// it writes them) to a running vigil local through a key of role k8s-audit,
// made through the API as an operator would, and finds the pack's detections
// of them in the store.
func TestAuditWebhookDetects(t *testing.T) {
	a, _ := serveApp(t, filepath.Join(t.TempDir(), "data"), false)
	base := "http://" + a.Addr()
	post := func(path, key, body string) (int, map[string]any) {
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
	code, created := post("/v1/orgs/local/keys", a.APIKey(), `{"name":"prod-apiserver","role":"k8s-audit","sensor_id":"prod"}`)
	auditKey, _ := created["key"].(string)
	if code != 201 || auditKey == "" {
		t.Fatalf("create key: %d %v", code, created)
	}
	lines, err := os.ReadFile("../k8saudit/testdata/audit.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if code, out := post("/v1/orgs/local/k8s/audit", auditKey, string(lines)); code != 202 || out["events"] != float64(8) {
		t.Fatalf("post audit events: %d %v", code, out)
	}
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
