package api

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"
)

// FuzzPatchBody: any PATCH body is either refused with an error or leaves a
// triage with a valid status, recorded in its history.
func FuzzPatchBody(f *testing.F) {
	for _, s := range []string{`{"status":"resolved"}`, `{"assignee":"alice"}`, `{"status":"x"}`, `{}`, `[]`, `{"status":null}`, `{"assignee":"\u0000"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("PATCH", "/v1/orgs/o/detections/d", bytes.NewReader(body))
		var p patch
		if err := decodeBody(httptest.NewRecorder(), r, &p); err != nil {
			return
		}
		if err := p.check(); err != nil {
			return
		}
		var tr Triage
		p.apply(&tr, "k", time.Unix(0, 0))
		if !validStatus(tr.Status) || tr.Version != 1 || len(tr.History) > 2 {
			t.Fatalf("%s gave %+v", body, tr)
		}
		if _, err := json.Marshal(tr); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzMergeObject: merging fields into a stored document gives a JSON object
// holding them, or an error; never invalid JSON.
func FuzzMergeObject(f *testing.F) {
	for _, s := range []string{`{"id":"d1"}`, `{}`, ` { } `, `[]`, `{"a":1`, `x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		out, err := MergeObject(doc, map[string]any{"status": "new"})
		if err != nil {
			return
		}
		var m map[string]any
		if json.Valid(doc) {
			if err := json.Unmarshal(out, &m); err != nil || m["status"] != "new" {
				t.Fatalf("%s → %s: %v", doc, out, err)
			}
		}
	})
}
