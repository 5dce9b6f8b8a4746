package siem

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/detect"
)

// Elastic forwards detections to Elasticsearch (or OpenSearch) with the bulk API:
// POST <URL>/_bulk, `Content-Type: application/x-ndjson`, one action line
// {"index": {"_index": ..., "_id": <detection id>}} and one document line per
// detection, the body ending with a newline. The document is the detection's JSON
// plus "@timestamp". Indexing under the detection id makes a re-sent detection
// overwrite itself instead of duplicating.
//
// The bulk answer reports each item: items refused with 429 or 5xx are sent again
// (only those), other item errors (a mapping conflict, a closed index) fail the
// Publish naming the first of them.
type Elastic struct {
	URL string // https://es.example.com:9200
	// Index is the index name template; %{+yyyy.MM.dd} (Joda-style: yyyy, MM, dd,
	// HH) is replaced by the detection's UTC time. Default
	// "vigil-detections-%{+yyyy.MM.dd}".
	Index string
	// APIKey (the base64 "id:api_key" Elasticsearch issues) or Username/Password.
	APIKey             string
	Username, Password string
	// MaxBatchBytes splits a Publish into requests of at most this size; default 5 MiB.
	MaxBatchBytes int
	HTTP          *http.Client
	Retry         Retry
}

// DefaultIndex is the default index template.
const DefaultIndex = "vigil-detections-%{+yyyy.MM.dd}"

var dateTemplate = regexp.MustCompile(`%\{\+([^}]+)\}`)

// IndexName returns the index for a detection at t.
func IndexName(template string, t time.Time) string {
	if template == "" {
		template = DefaultIndex
	}
	return dateTemplate.ReplaceAllStringFunc(template, func(m string) string {
		layout := dateTemplate.FindStringSubmatch(m)[1]
		layout = strings.NewReplacer("yyyy", "2006", "YYYY", "2006", "MM", "01", "dd", "02", "HH", "15").Replace(layout)
		return t.UTC().Format(layout)
	})
}

// CheckIndex reports a template that cannot name an Elasticsearch index.
func CheckIndex(template string) error {
	name := IndexName(template, time.Now())
	switch {
	case name != strings.ToLower(name):
		return fmt.Errorf("index %q: Elasticsearch index names must be lowercase", template)
	case strings.ContainsAny(name, `\/*?"<>| ,#:`):
		return fmt.Errorf("index %q: must not contain \\ / * ? \" < > | space , # :", template)
	case strings.HasPrefix(name, "-") || strings.HasPrefix(name, "_") || strings.HasPrefix(name, "+"):
		return fmt.Errorf("index %q: must not start with -, _ or +", template)
	}
	return nil
}

type bulkItem struct {
	id   string
	line []byte // action + document, newline-terminated
}

type bulkAnswer struct {
	Errors bool                        `json:"errors"`
	Items  []map[string]bulkItemResult `json:"items"`
}

type bulkItemResult struct {
	ID     string `json:"_id"`
	Status int    `json:"status"`
	Error  *struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
}

// Publish implements detect.Publisher.
func (e *Elastic) Publish(ctx context.Context, ds []detect.Detection) error {
	if e.URL == "" {
		return errors.New("elasticsearch: URL is required")
	}
	if err := CheckIndex(e.Index); err != nil {
		return fmt.Errorf("elasticsearch: %w", err)
	}
	max := e.MaxBatchBytes
	if max <= 0 {
		max = 5 << 20
	}
	var batch []bulkItem
	size := 0
	for i := range ds {
		it, err := e.item(&ds[i])
		if err != nil {
			return err
		}
		if len(batch) > 0 && size+len(it.line) > max {
			if err := e.sendItems(ctx, batch); err != nil {
				return err
			}
			batch, size = nil, 0
		}
		batch = append(batch, it)
		size += len(it.line)
	}
	if len(batch) == 0 {
		return nil
	}
	return e.sendItems(ctx, batch)
}

func (e *Elastic) item(d *detect.Detection) (bulkItem, error) {
	raw, err := json.Marshal(d)
	if err != nil {
		return bulkItem{}, fmt.Errorf("elasticsearch: detection %s: %w", d.ID, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return bulkItem{}, fmt.Errorf("elasticsearch: detection %s: %w", d.ID, err)
	}
	doc["@timestamp"] = d.Time.UTC().Format(time.RFC3339Nano)
	action, _ := json.Marshal(map[string]any{"index": map[string]string{"_index": IndexName(e.Index, d.Time), "_id": d.ID}})
	body, err := json.Marshal(doc)
	if err != nil {
		return bulkItem{}, fmt.Errorf("elasticsearch: detection %s: %w", d.ID, err)
	}
	line := make([]byte, 0, len(action)+len(body)+2)
	line = append(append(append(append(line, action...), '\n'), body...), '\n')
	return bulkItem{id: d.ID, line: line}, nil
}

// sendItems posts items, re-sending those refused temporarily.
func (e *Elastic) sendItems(ctx context.Context, items []bulkItem) error {
	url := strings.TrimRight(e.URL, "/") + "/_bulk"
	h := http.Header{}
	h.Set("Content-Type", "application/x-ndjson")
	switch {
	case e.APIKey != "":
		h.Set("Authorization", "ApiKey "+e.APIKey)
	case e.Username != "":
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(e.Username+":"+e.Password)))
	}
	pending := items
	return withRetry(ctx, e.Retry, func() error {
		var body bytes.Buffer
		for _, it := range pending {
			body.Write(it.line)
		}
		raw, err := post(ctx, e.HTTP, e.Retry, "elasticsearch bulk", url, h, body.Bytes())
		if err != nil {
			return err
		}
		var ans bulkAnswer
		if err := json.Unmarshal(raw, &ans); err != nil {
			return &permanentError{fmt.Errorf("elasticsearch bulk: the answer is not a bulk response (is the URL right?): %w", err)}
		}
		if !ans.Errors {
			return nil
		}
		if len(ans.Items) != len(pending) {
			return &permanentError{fmt.Errorf("elasticsearch bulk: %d items answered for %d sent", len(ans.Items), len(pending))}
		}
		var again []bulkItem
		var permanent []string
		var lastTemp string
		for i, m := range ans.Items {
			var r bulkItemResult
			for _, v := range m { // one key: the action
				r = v
			}
			if r.Error == nil && r.Status < 300 {
				continue
			}
			reason := fmt.Sprintf("detection %s: %d", pending[i].id, r.Status)
			if r.Error != nil {
				reason += " " + r.Error.Type + ": " + r.Error.Reason
			}
			if r.Status == http.StatusTooManyRequests || r.Status >= 500 {
				again = append(again, pending[i])
				lastTemp = reason
			} else {
				permanent = append(permanent, reason)
			}
		}
		if len(permanent) > 0 {
			return &permanentError{fmt.Errorf("elasticsearch bulk: %d of %d detections refused; first: %s", len(permanent), len(pending), permanent[0])}
		}
		if len(again) == 0 {
			return nil
		}
		pending = again
		return fmt.Errorf("elasticsearch bulk: %d detections to send again; last: %s", len(again), lastTemp)
	})
}
