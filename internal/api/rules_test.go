package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/engine"
)

// TestListRulesMetadata checks that GET .../rules carries what triage reads
// first from each rule's report metadata: description, MITRE techniques and
// maturity (empty, never missing, for a rule without them).
func TestListRulesMetadata(t *testing.T) {
	var rules []*engine.Rule
	for _, name := range []string{"described.yaml", "bare.yaml", "no_report.yaml"} {
		path := filepath.Join("testdata", "rules", name)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		r, err := engine.Parse(path, data)
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, r)
	}
	s := &api.Server{Rules: rules}
	req := httptest.NewRequest("GET", "/v1/orgs/acme/rules", nil)
	req = req.WithContext(api.WithIdentity(req.Context(), api.Identity{Org: "acme", Name: "v", Role: api.RoleViewer}))
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET rules: %d %s", rec.Code, rec.Body)
	}
	var got struct {
		Rules []map[string]any `json:"rules"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, description, maturity, severity string
		mitre                                 []any
	}{
		{"described", "a web server started a shell", "incubating", "high", []any{"T1059.004", "T1505.003"}},
		{"bare", "", "", "low", []any{}},
		{"no_report", "", "", "info", []any{}},
	}
	if len(got.Rules) != len(want) {
		t.Fatalf("%d rules, want %d: %s", len(got.Rules), len(want), rec.Body)
	}
	for i, w := range want {
		r := got.Rules[i]
		if r["name"] != w.name || r["severity"] != w.severity {
			t.Errorf("rule %d: name %v severity %v, want %s %s", i, r["name"], r["severity"], w.name, w.severity)
		}
		if i == 0 && r["report"] != "shell_from_web" {
			t.Errorf("%s: report %v, want shell_from_web", w.name, r["report"])
		}
		if d, _ := r["description"].(string); d != w.description {
			t.Errorf("%s: description %q, want %q", w.name, d, w.description)
		}
		if m, _ := r["maturity"].(string); m != w.maturity {
			t.Errorf("%s: maturity %q, want %q", w.name, m, w.maturity)
		}
		if !reflect.DeepEqual(r["mitre"], w.mitre) {
			t.Errorf("%s: mitre %#v, want %#v", w.name, r["mitre"], w.mitre)
		}
	}
}
