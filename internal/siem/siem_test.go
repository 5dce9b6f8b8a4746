package siem

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/event"
)

var fast = Retry{Attempts: 4, Backoff: time.Millisecond, Max: 5 * time.Millisecond, Timeout: 5 * time.Second}

func detections(n int) []detect.Detection {
	at := time.Date(2026, 11, 22, 23, 59, 59, 500_000_000, time.UTC)
	var ds []detect.Detection
	for i := range n {
		t := at.Add(time.Duration(i) * time.Second) // crosses midnight: two daily indexes
		ds = append(ds, detect.Detection{ID: fmt.Sprintf("d%d", i), Rule: "miner", Name: "cryptominer", Severity: "high", Category: "malware", Time: t,
			Event: event.Event{SensorID: "s1", Hostname: "web-1", Tags: []string{"env:prod"}, Type: event.NewProcess, TimeNanos: t.UnixNano(), FilePath: "/tmp/xmrig"}})
	}
	return ds
}

type recorder struct {
	mu       sync.Mutex
	requests []*http.Request
	bodies   [][]byte
}

func (r *recorder) record(req *http.Request) []byte {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, req)
	r.bodies = append(r.bodies, body)
	return body
}

// The HEC event endpoint's format: https://docs.splunk.com/Documentation/Splunk/latest/Data/FormateventsforHTTPEventCollector
func TestSplunkHEC(t *testing.T) {
	var rec recorder
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		calls++
		if calls == 1 {
			w.WriteHeader(503)
			fmt.Fprint(w, `{"text":"Server is busy","code":9}`)
			return
		}
		fmt.Fprint(w, `{"text":"Success","code":0}`)
	}))
	defer srv.Close()
	s := &Splunk{URL: srv.URL + "/", Token: "tok-123", Index: "security", Retry: fast}
	if err := s.Publish(context.Background(), detections(3)); err != nil {
		t.Fatal(err)
	}
	if len(rec.requests) != 2 {
		t.Fatalf("%d requests, want 2 (503 retried)", len(rec.requests))
	}
	r, body := rec.requests[1], rec.bodies[1]
	if r.Method != "POST" || r.URL.Path != "/services/collector/event" || r.Header.Get("Authorization") != "Splunk tok-123" {
		t.Fatalf("request %s %s %v", r.Method, r.URL.Path, r.Header)
	}
	if !bytes.Equal(body, rec.bodies[0]) {
		t.Error("the retry sent a different body")
	}
	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d events, want 3:\n%s", len(lines), body)
	}
	for i, l := range lines {
		var ev map[string]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line %d is not a JSON object: %v", i, err)
		}
		for _, k := range []string{"time", "host", "source", "sourcetype", "index", "event", "fields"} {
			if _, ok := ev[k]; !ok {
				t.Errorf("event %d lacks %q: %s", i, k, l)
			}
		}
		if _, ok := ev["time"].(float64); !ok {
			t.Errorf("time is not epoch seconds: %v", ev["time"])
		}
		if ev["host"] != "web-1" || ev["source"] != "vigil" || ev["sourcetype"] != "vigil:detection" || ev["index"] != "security" {
			t.Errorf("metadata %v", ev)
		}
		inner := ev["event"].(map[string]any)
		if inner["id"] != fmt.Sprintf("d%d", i) || inner["severity"] != "high" || inner["sensor_id"] != "s1" {
			t.Errorf("event body %v", inner)
		}
		fields := ev["fields"].(map[string]any)
		for _, v := range fields {
			if _, ok := v.(string); !ok {
				t.Errorf("indexed field values must be strings or arrays of strings: %v", fields)
			}
		}
	}
	var first map[string]any
	json.Unmarshal([]byte(lines[0]), &first)
	if first["time"].(float64) != 1795391999.5 {
		t.Errorf("time %v", first["time"])
	}
}

func TestSplunkBatchesAndRefusals(t *testing.T) {
	var rec recorder
	status := 200
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		w.WriteHeader(status)
		if status == 403 {
			fmt.Fprint(w, `{"text":"Invalid token","code":4}`)
		} else {
			fmt.Fprint(w, `{"text":"Success","code":0}`)
		}
	}))
	defer srv.Close()
	s := &Splunk{URL: srv.URL, Token: "t", MaxBatchBytes: 1500, Retry: fast}
	if err := s.Publish(context.Background(), detections(4)); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, b := range rec.bodies {
		if len(b) > 1500 {
			t.Errorf("request of %d bytes over MaxBatchBytes", len(b))
		}
		total += bytes.Count(b, []byte("\n"))
	}
	if len(rec.bodies) < 2 || total != 4 {
		t.Fatalf("%d requests carrying %d events", len(rec.bodies), total)
	}
	status, rec.bodies, rec.requests = 403, nil, nil
	err := s.Publish(context.Background(), detections(1))
	if err == nil || !strings.Contains(err.Error(), "Invalid token (HEC code 4)") || len(rec.requests) != 1 {
		t.Fatalf("403: %v after %d requests", err, len(rec.requests))
	}
}

// TestSplunkCountsSent checks a failed Publish says how many detections HEC
// accepted before the failing request, whichever request fails.
func TestSplunkCountsSent(t *testing.T) {
	var rec recorder
	failAt := 0 // the request refused, counting from 1; 0 for none
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		if len(rec.requests) == failAt {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"text":"Invalid data format","code":6}`)
			return
		}
		fmt.Fprint(w, `{"text":"Success","code":0}`)
	}))
	defer srv.Close()
	s := &Splunk{URL: srv.URL, Token: "t", MaxBatchBytes: 2500, Retry: fast}
	ds := detections(8)
	if err := s.Publish(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	var batches []int // detections per request
	for _, b := range rec.bodies {
		batches = append(batches, bytes.Count(b, []byte("\n")))
	}
	if len(batches) < 3 || batches[0] < 2 {
		t.Fatalf("requests carrying %v detections, want at least 3 requests of more than one", batches)
	}
	before := 0
	for i, n := range batches {
		failAt, rec.requests, rec.bodies = i+1, nil, nil
		t.Run(fmt.Sprintf("request %d of %d", i+1, len(batches)), func(t *testing.T) {
			err := s.Publish(context.Background(), ds)
			want := fmt.Sprintf("(%d of %d detections sent)", before, len(ds))
			if err == nil || !strings.Contains(err.Error(), "Invalid data format") || !strings.HasSuffix(err.Error(), want) {
				t.Errorf("err = %v, want it to end %q", err, want)
			}
			if len(rec.requests) != i+1 {
				t.Errorf("%d requests, want %d: a refused batch stops the publish", len(rec.requests), i+1)
			}
		})
		before += n
	}
}

// The bulk API's format: https://www.elastic.co/guide/en/elasticsearch/reference/current/docs-bulk.html
func TestElasticBulk(t *testing.T) {
	var rec recorder
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := rec.record(r)
		calls++
		sc := bufio.NewScanner(bytes.NewReader(body))
		var items []string
		for sc.Scan() {
			var action map[string]map[string]string
			if err := json.Unmarshal(sc.Bytes(), &action); err != nil {
				t.Errorf("action line: %v", err)
			}
			if !sc.Scan() {
				t.Error("action without a document")
			}
			items = append(items, action["index"]["_id"])
		}
		// first call: d1 refused with 429 (sent again), the rest indexed
		var out []string
		for _, id := range items {
			st := 201
			errJSON := ""
			if id == "d1" && calls == 1 {
				st, errJSON = 429, `,"error":{"type":"es_rejected_execution_exception","reason":"rejected execution"}`
			}
			out = append(out, fmt.Sprintf(`{"index":{"_index":"x","_id":%q,"status":%d%s}}`, id, st, errJSON))
		}
		fmt.Fprintf(w, `{"took":3,"errors":%v,"items":[%s]}`, calls == 1, strings.Join(out, ","))
	}))
	defer srv.Close()
	e := &Elastic{URL: srv.URL, APIKey: "a2V5", Retry: fast}
	if err := e.Publish(context.Background(), detections(3)); err != nil {
		t.Fatal(err)
	}
	if len(rec.requests) != 2 {
		t.Fatalf("%d requests, want 2", len(rec.requests))
	}
	r, body := rec.requests[0], rec.bodies[0]
	if r.URL.Path != "/_bulk" || r.Header.Get("Content-Type") != "application/x-ndjson" || r.Header.Get("Authorization") != "ApiKey a2V5" {
		t.Fatalf("request %s %v", r.URL.Path, r.Header)
	}
	if !bytes.HasSuffix(body, []byte("\n")) {
		t.Error("bulk body must end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d lines, want 3 action+document pairs", len(lines))
	}
	wantIndex := []string{"vigil-detections-2026.11.22", "vigil-detections-2026.11.23", "vigil-detections-2026.11.23"}
	for i := 0; i < 6; i += 2 {
		var action map[string]map[string]string
		var doc map[string]any
		if json.Unmarshal([]byte(lines[i]), &action) != nil || json.Unmarshal([]byte(lines[i+1]), &doc) != nil {
			t.Fatalf("lines %d-%d not JSON", i, i+1)
		}
		a := action["index"]
		if a["_index"] != wantIndex[i/2] || a["_id"] != fmt.Sprintf("d%d", i/2) || len(action) != 1 {
			t.Errorf("action %v", action)
		}
		if doc["id"] != a["_id"] || doc["@timestamp"] == nil || doc["rule"] != "miner" {
			t.Errorf("document %v", doc)
		}
	}
	if again := strings.Count(string(rec.bodies[1]), `"_id"`); again != 1 || !strings.Contains(string(rec.bodies[1]), `"_id":"d1"`) {
		t.Errorf("second request should carry only d1:\n%s", rec.bodies[1])
	}
}

func TestElasticItemErrorAndAuth(t *testing.T) {
	var rec recorder
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		fmt.Fprint(w, `{"took":1,"errors":true,"items":[{"index":{"_id":"d0","status":201}},{"index":{"_id":"d1","status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [event]"}}}]}`)
	}))
	defer srv.Close()
	e := &Elastic{URL: srv.URL, Username: "elastic", Password: "pw", Index: "sec-%{+yyyy.MM}", Retry: fast}
	err := e.Publish(context.Background(), detections(2))
	if err == nil || !strings.Contains(err.Error(), "1 of 2 detections refused; first: detection d1: 400 mapper_parsing_exception") || len(rec.requests) != 1 {
		t.Fatalf("err %v after %d requests", err, len(rec.requests))
	}
	if u, p, ok := rec.requests[0].BasicAuth(); !ok || u != "elastic" || p != "pw" {
		t.Errorf("basic auth %v %v %v", u, p, ok)
	}
	if !strings.Contains(string(rec.bodies[0]), `"_index":"sec-2026.11"`) {
		t.Errorf("index template: %s", rec.bodies[0])
	}
	if err := (&Elastic{URL: srv.URL, Index: "Vigil-%{+yyyy}"}).Publish(context.Background(), detections(1)); err == nil || !strings.Contains(err.Error(), "lowercase") {
		t.Errorf("uppercase index: %v", err)
	}
}

func TestElasticGivesUpOn5xx(t *testing.T) {
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		w.WriteHeader(502)
	}))
	defer srv.Close()
	err := (&Elastic{URL: srv.URL, Retry: fast}).Publish(context.Background(), detections(1))
	if err == nil || n != fast.Attempts || !strings.Contains(err.Error(), "502") {
		t.Fatalf("err %v after %d attempts", err, n)
	}
}

var _ detect.Publisher = (*Splunk)(nil)
var _ detect.Publisher = (*Elastic)(nil)
