package main

import (
	"slices"
	"strings"
	"testing"
)

// The api function may run the event search in Athena, and only in the
// hunting workgroup, over the lake's table, events and results prefix.
func TestAPISearchGrants(t *testing.T) {
	s := synthApp(t, nil)
	fn := functionsByName(t, s.json)[fnAPI]
	ids := idsOf(t, s)
	stmts := statementsOf(s.json, fn.role)
	// every Allow, as action → rendered resources
	granted := map[string][]string{}
	for _, st := range stmts {
		if st.Effect != "Allow" {
			continue
		}
		for _, a := range st.Actions {
			for _, r := range st.Resources {
				granted[a] = append(granted[a], render(t, r, refName))
			}
		}
	}
	has := func(action string, parts ...string) bool {
		return slices.ContainsFunc(granted[action], func(r string) bool {
			for _, p := range parts {
				if !strings.Contains(r, p) {
					return false
				}
			}
			return true
		})
	}
	for _, tc := range []struct {
		action string
		parts  []string
	}{
		{"athena:StartQueryExecution", []string{":athena:", ":workgroup/vigil"}},
		{"athena:GetQueryExecution", []string{":athena:", ":workgroup/vigil"}},
		{"athena:GetQueryResults", []string{":athena:", ":workgroup/vigil"}},
		{"glue:GetTable", []string{":glue:", ":table/vigil/events"}},
		{"glue:GetTable", []string{":glue:", ":table/vigil/events_all_sensors"}},
		{"glue:GetDatabase", []string{":glue:", ":database/vigil"}},
		{"s3:ListBucket", []string{"<" + ids.lake + ".Arn>"}},
		{"s3:GetObject", []string{"<" + ids.lake + ".Arn>/events/*"}},
		{"s3:PutObject", []string{"<" + ids.lake + ".Arn>/athena-results/*"}},
		{"kms:Decrypt", []string{"<" + ids.key + ".Arn>"}},
		{"kms:GenerateDataKey", []string{"<" + ids.key + ".Arn>"}},
	} {
		if !has(tc.action, tc.parts...) {
			t.Errorf("api function lacks %s on %v (granted: %v)", tc.action, tc.parts, granted[tc.action])
		}
	}
	for _, a := range []string{"s3:PutObject", "s3:DeleteObject"} {
		for _, r := range granted[a] {
			if strings.Contains(r, "/events/") || strings.HasSuffix(r, "/*") && !strings.Contains(r, "athena-results") {
				t.Errorf("api function may %s on %s: it only reads the lake", a, r)
			}
		}
	}
	// The tables' partitions are projected: nothing lists or adds partitions.
	for a := range granted {
		if strings.HasPrefix(a, "glue:") && strings.Contains(a, "Partition") {
			t.Errorf("api function may %s: the lake's partitions are projected", a)
		}
	}
	for _, a := range []string{"athena:StartQueryExecution"} {
		for _, r := range granted[a] {
			if !strings.Contains(r, ":workgroup/vigil") {
				t.Errorf("api function may %s on %s, beyond its workgroup", a, r)
			}
		}
	}
}
