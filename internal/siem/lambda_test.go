package siem

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/event"
)

func TestFromEnv(t *testing.T) {
	secrets := map[string]string{"arn:splunk": "hec-token", "arn:es": "aWQ6a2V5", "arn:basic": "elastic:pw", "arn:bad": "nocolon"}
	secret := func(_ context.Context, id string) (string, error) {
		if v, ok := secrets[id]; ok {
			return v, nil
		}
		return "", errors.New("no such secret " + id)
	}
	tests := []struct {
		name string
		env  map[string]string
		want int
		err  string
	}{
		{"none", nil, 0, "no SIEM configured"},
		{"splunk", map[string]string{"SPLUNK_HEC_URL": "https://s:8088", "SPLUNK_HEC_TOKEN_SECRET": "arn:splunk"}, 1, ""},
		{"splunk without token", map[string]string{"SPLUNK_HEC_URL": "https://s:8088"}, 0, "SPLUNK_HEC_TOKEN_SECRET is not"},
		{"both", map[string]string{"SPLUNK_HEC_URL": "https://s", "SPLUNK_HEC_TOKEN_SECRET": "arn:splunk", "ELASTIC_URL": "https://e", "ELASTIC_API_KEY_SECRET": "arn:es"}, 2, ""},
		{"elastic basic", map[string]string{"ELASTIC_URL": "https://e", "ELASTIC_BASIC_AUTH_SECRET": "arn:basic"}, 1, ""},
		{"elastic basic malformed", map[string]string{"ELASTIC_URL": "https://e", "ELASTIC_BASIC_AUTH_SECRET": "arn:bad"}, 0, "want user:password"},
		{"elastic without credentials", map[string]string{"ELASTIC_URL": "https://e"}, 0, "neither"},
		{"missing secret", map[string]string{"SPLUNK_HEC_URL": "https://s", "SPLUNK_HEC_TOKEN_SECRET": "arn:gone"}, 0, "no such secret arn:gone"},
		{"bad timeout", map[string]string{"SIEM_TIMEOUT": "soon", "SPLUNK_HEC_URL": "https://s", "SPLUNK_HEC_TOKEN_SECRET": "arn:splunk"}, 0, "SIEM_TIMEOUT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pubs, err := FromEnv(context.Background(), func(k string) string { return tc.env[k] }, secret)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || len(pubs) != tc.want {
				t.Fatalf("%d forwarders, %v; want %d", len(pubs), err, tc.want)
			}
		})
	}
}

// TestHandlerForwardsBusEvents feeds the handler an EventBridge event as the bus
// rule delivers it and checks both SIEMs received the detection.
func TestHandlerForwardsBusEvents(t *testing.T) {
	var mu sync.Mutex
	got := map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got[r.URL.Path] = string(b)
		mu.Unlock()
		if r.URL.Path == "/_bulk" {
			_, _ = w.Write([]byte(`{"errors":false,"items":[{"index":{"status":201}}]}`))
			return
		}
		_, _ = w.Write([]byte(`{"text":"Success","code":0}`))
	}))
	defer srv.Close()
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	d := detect.Detection{ID: "d1", Rule: "miner", Name: "miner", Severity: "high", Time: at,
		Event: event.Event{SensorID: "s1", Hostname: "web-1", Type: event.NewProcess, TimeNanos: at.UnixNano(), FilePath: "/tmp/xmrig"}}
	detail, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	raw := `{"version":"0","id":"e1","detail-type":"Detection","source":"vigil","account":"123456789012","time":"2026-11-22T10:00:00Z","region":"us-east-1","resources":[],"detail":` + string(detail) + `}`
	var ev events.CloudWatchEvent
	if err := json.Unmarshal([]byte(raw), &ev); err != nil {
		t.Fatal(err)
	}
	h := Handler([]detect.Publisher{&Splunk{URL: srv.URL, Token: "t"}, &Elastic{URL: srv.URL, APIKey: "k"}})
	if err := h(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got["/services/collector/event"], `"id":"d1"`) || !strings.Contains(got["/_bulk"], `"_id":"d1"`) {
		t.Fatalf("received %v", got)
	}
	ev.DetailType = "Other"
	if err := h(context.Background(), ev); err == nil {
		t.Fatal("an event of another detail type was accepted")
	}
}
