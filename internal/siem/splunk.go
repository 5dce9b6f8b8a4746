package siem

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/vigil-sec/vigil/internal/detect"
)

// Splunk forwards detections to a Splunk HTTP Event Collector: POST
// <URL>/services/collector/event with `Authorization: Splunk <token>` and a body of
// JSON event objects separated by newlines, each
//
//	{"time": <epoch seconds>, "host": ..., "source": ..., "sourcetype": ...,
//	 "index": ... (when set), "fields": {...}, "event": <the detection>}
//
// The detection is the same JSON the API serves. severity, rule, sensor_id and
// category are also sent as indexed fields for fast searches.
type Splunk struct {
	URL        string // https://splunk.example.com:8088
	Token      string // the HEC token
	Index      string // optional: the token's default index when empty
	Source     string // default "vigil"
	Sourcetype string // default "vigil:detection"
	// MaxBatchBytes splits a Publish into requests of at most this size; default 1 MiB
	// (below HEC's default max_content_length).
	MaxBatchBytes int
	HTTP          *http.Client
	Retry         Retry
}

type hecEvent struct {
	Time       float64           `json:"time"`
	Host       string            `json:"host,omitempty"`
	Source     string            `json:"source"`
	Sourcetype string            `json:"sourcetype"`
	Index      string            `json:"index,omitempty"`
	Fields     map[string]string `json:"fields,omitempty"`
	Event      detect.Detection  `json:"event"`
}

// Publish implements detect.Publisher.
func (s *Splunk) Publish(ctx context.Context, ds []detect.Detection) error {
	if s.URL == "" || s.Token == "" {
		return fmt.Errorf("splunk: URL and token are required")
	}
	max := s.MaxBatchBytes
	if max <= 0 {
		max = 1 << 20
	}
	source, sourcetype := s.Source, s.Sourcetype
	if source == "" {
		source = "vigil"
	}
	if sourcetype == "" {
		sourcetype = "vigil:detection"
	}
	var batch bytes.Buffer
	sent, batched := 0, 0 // detections HEC accepted; detections in batch
	flush := func() error {
		if batched == 0 {
			return nil
		}
		if err := s.send(ctx, batch.Bytes()); err != nil {
			return fmt.Errorf("%w (%d of %d detections sent)", err, sent, len(ds))
		}
		sent += batched
		batch.Reset()
		batched = 0
		return nil
	}
	for i := range ds {
		d := &ds[i]
		host := d.Event.Hostname
		if host == "" {
			host = d.Event.SensorID
		}
		fields := map[string]string{"severity": d.Severity, "rule": d.Rule, "sensor_id": d.Event.SensorID}
		if d.Category != "" {
			fields["category"] = d.Category
		}
		line, err := json.Marshal(hecEvent{Time: float64(d.Time.UnixMicro()) / 1e6, Host: host, Source: source,
			Sourcetype: sourcetype, Index: s.Index, Fields: fields, Event: *d})
		if err != nil {
			return fmt.Errorf("splunk: detection %s: %w", d.ID, err)
		}
		if batch.Len() > 0 && batch.Len()+len(line)+1 > max {
			if err := flush(); err != nil {
				return err
			}
		}
		batch.Write(line)
		batch.WriteByte('\n')
		batched++
	}
	return flush()
}

func (s *Splunk) send(ctx context.Context, body []byte) error {
	url := strings.TrimRight(s.URL, "/") + "/services/collector/event"
	h := http.Header{}
	h.Set("Authorization", "Splunk "+s.Token)
	h.Set("Content-Type", "application/json")
	return withRetry(ctx, s.Retry, func() error {
		raw, err := post(ctx, s.HTTP, s.Retry, "splunk HEC", url, h, body)
		if err != nil {
			var se *StatusError
			if asStatus(err, &se) {
				// HEC answers {"text": "...", "code": N}: name it
				var ans struct {
					Text string `json:"text"`
					Code int    `json:"code"`
				}
				if json.Unmarshal(raw, &ans) == nil && ans.Text != "" {
					se.Body = fmt.Sprintf("%s (HEC code %d)", ans.Text, ans.Code)
				}
			}
			return err
		}
		return nil
	})
}
