package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/explain"
	"github.com/vigil-sec/vigil/internal/task"
)

// Sentinel errors matched by errors.Is against an *APIError.
var (
	ErrUnauthorized = errors.New("unauthorized")
	ErrForbidden    = errors.New("forbidden")
	ErrNotFound     = errors.New("not found")
)

// APIError is a non-2xx answer of the API.
type APIError struct {
	Status  int
	Message string // the API's {"error": "..."}, or the start of the body
	Method  string
	Path    string
}

func (e *APIError) Error() string {
	hint := ""
	switch e.Status {
	case http.StatusUnauthorized:
		hint = " (check VIGIL_API_KEY or --api-key)"
	case http.StatusForbidden:
		hint = " (the key is revoked, belongs to another org, or its role does not allow this: check VIGIL_ORG or --org, and the key's role in vigil keys list)"
	}
	return fmt.Sprintf("%s %s: %d %s: %s%s", e.Method, e.Path, e.Status, http.StatusText(e.Status), e.Message, hint)
}

// Is matches the sentinel errors by status.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	}
	return false
}

// errNotJSON is wrapped by the error for a 2xx answer whose body does not decode.
var errNotJSON = errors.New("the answer is not the expected JSON (is the API URL right?)")

// Temporary reports whether the request may succeed when retried.
func (e *APIError) Temporary() bool { return e.Status >= 500 || e.Status == http.StatusTooManyRequests }

// Client talks to one org of one Vigil API.
type Client struct {
	BaseURL string // e.g. https://abc.execute-api.eu-west-1.amazonaws.com or http://127.0.0.1:8080
	Key     string
	Org     string
	// HTTP is the transport; default http.DefaultClient.
	HTTP *http.Client
	// Timeout bounds each attempt; default 30s.
	Timeout time.Duration
	// Retries is how many times a failed attempt is retried; default 4, negative for none.
	Retries int
	// Backoff is the delay before the first retry, doubled after each; default 250ms.
	Backoff time.Duration
	// MaxBackoff caps the delay; default 5s.
	MaxBackoff time.Duration
	// UserAgent is sent with every request; default "vigil-cli".
	UserAgent string
}

// New returns a client, checking the configuration and saying what to do when it is
// incomplete.
func New(baseURL, key, org string) (*Client, error) {
	switch {
	case strings.TrimSpace(baseURL) == "":
		return nil, errors.New("VIGIL_API_URL is not set: export it or pass --api-url (for `vigil local`: http://127.0.0.1:8080)")
	case strings.TrimSpace(key) == "":
		return nil, errors.New("VIGIL_API_KEY is not set: export it or pass --api-key")
	case strings.TrimSpace(org) == "":
		return nil, errors.New("the org is empty: export VIGIL_ORG or pass --org (default \"local\")")
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("API URL %q: want http(s)://host[:port][/prefix]", baseURL)
	}
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Key: strings.TrimSpace(key), Org: org}, nil
}

func (c *Client) retries() int {
	switch {
	case c.Retries < 0:
		return 0
	case c.Retries == 0:
		return 4
	}
	return c.Retries
}

func (c *Client) backoff(attempt int) time.Duration {
	base, max := c.Backoff, c.MaxBackoff
	if base <= 0 {
		base = 250 * time.Millisecond
	}
	if max <= 0 {
		max = 5 * time.Second
	}
	d := base << attempt
	if d > max || d <= 0 {
		d = max
	}
	// full jitter in [d/2, d)
	return d/2 + rand.N(d/2+1)
}

// do sends one request (retrying as documented) and decodes a 2xx JSON body into out.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("%s %s: encode body: %w", method, path, err)
		}
	}
	full := c.BaseURL + "/v1/orgs/" + url.PathEscape(c.Org) + path
	if len(query) > 0 {
		full += "?" + query.Encode()
	}
	var last error
	for attempt := 0; ; attempt++ {
		last = c.attempt(ctx, method, full, path, payload, out)
		if last == nil {
			return nil
		}
		var ae *APIError
		retry := !errors.Is(last, errNotJSON) && (!errors.As(last, &ae) || ae.Temporary())
		if ctx.Err() != nil {
			return fmt.Errorf("%s %s: %w", method, path, ctx.Err())
		}
		if !retry || attempt >= c.retries() {
			if attempt > 0 {
				return fmt.Errorf("%w (after %d attempts)", last, attempt+1)
			}
			return last
		}
		t := time.NewTimer(c.backoff(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s %s: %w (last error: %v)", method, path, ctx.Err(), last)
		case <-t.C:
		}
	}
}

func (c *Client) attempt(ctx context.Context, method, full, path string, payload []byte, out any) error {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(actx, method, full, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Key)
	req.Header.Set("Accept", "application/json")
	ua := c.UserAgent
	if ua == "" {
		ua = "vigil-cli"
	}
	req.Header.Set("User-Agent", ua)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		if actx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
			return fmt.Errorf("%s %s: no answer within %s: %w", method, path, timeout, err)
		}
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ae := &APIError{Status: resp.StatusCode, Method: method, Path: path}
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Error != "" {
			ae.Message = e.Error
		} else {
			msg := strings.TrimSpace(string(raw))
			if len(msg) > 200 {
				msg = msg[:200] + "…"
			}
			if msg == "" {
				msg = "(empty body)"
			}
			ae.Message = msg
		}
		return ae
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: %w: %w", method, path, errNotJSON, err)
	}
	return nil
}

// Sensor is a sensor as the API shows it.
type Sensor = api.Sensor

// Sensors lists the sensors carrying every one of tags (K:V).
func (c *Client) Sensors(ctx context.Context, tags ...string) ([]Sensor, error) {
	q := url.Values{}
	for _, t := range tags {
		q.Add("tag", t)
	}
	var out struct {
		Sensors []Sensor `json:"sensors"`
	}
	if err := c.do(ctx, http.MethodGet, "/sensors", q, nil, &out); err != nil {
		return nil, err
	}
	return out.Sensors, nil
}

// Detection is a detection as the API shows it (detect.Detection's JSON form).
type Detection struct {
	ID       string         `json:"id"`
	Rule     string         `json:"rule"`
	Name     string         `json:"name"`
	Severity string         `json:"severity"`
	Category string         `json:"category,omitempty"`
	Time     time.Time      `json:"time"`
	SensorID string         `json:"sensor_id"`
	Hostname string         `json:"hostname"`
	Tags     []string       `json:"tags"`
	Event    map[string]any `json:"event"`
	Actions  []string       `json:"actions,omitempty"`
	Output   string         `json:"output,omitempty"`
	Edge     bool           `json:"edge,omitempty"`
	// Explanation says why the rule fired (nil for anomaly detections and older
	// ones): see package explain.
	Explanation *explain.Explanation `json:"explanation,omitempty"`
	Triage
}

// Tag returns the value of the detection's tag key, or "".
func (d *Detection) Tag(key string) string {
	for _, t := range d.Tags {
		if k, v, ok := strings.Cut(t, ":"); ok && k == key {
			return v
		}
	}
	return ""
}

// DetectionQuery selects detections; the zero value is every detection, newest first.
type DetectionQuery struct {
	Tag      string    // K:V
	SensorID string    // not with Tag
	Since    time.Time // only detections at or after
	Limit    int       // page size, 1 to 1000; default the API's (100)
	Cursor   string
}

// DetectionPage is one page of detections.
type DetectionPage struct {
	Detections []Detection `json:"detections"`
	NextCursor string      `json:"next_cursor"`
}

// Detections returns one page.
func (c *Client) Detections(ctx context.Context, q DetectionQuery) (DetectionPage, error) {
	v := url.Values{}
	if q.Tag != "" {
		v.Set("tag", q.Tag)
	}
	if q.SensorID != "" {
		v.Set("sensor", q.SensorID)
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if q.Limit > 0 {
		v.Set("limit", fmt.Sprint(q.Limit))
	}
	if q.Cursor != "" {
		v.Set("cursor", q.Cursor)
	}
	var p DetectionPage
	err := c.do(ctx, http.MethodGet, "/detections", v, nil, &p)
	return p, err
}

// EachDetection calls fn for every detection q selects, following cursors, newest
// first. It stops at the first error fn returns (returning it), or when fn returns
// ErrStop (returning nil).
func (c *Client) EachDetection(ctx context.Context, q DetectionQuery, fn func(Detection) error) error {
	for {
		p, err := c.Detections(ctx, q)
		if err != nil {
			return err
		}
		for _, d := range p.Detections {
			if err := fn(d); err != nil {
				if errors.Is(err, ErrStop) {
					return nil
				}
				return err
			}
		}
		if p.NextCursor == "" || len(p.Detections) == 0 {
			return nil
		}
		q.Cursor = p.NextCursor
	}
}

// ErrStop stops EachDetection without an error.
var ErrStop = errors.New("stop")

// AllDetections returns every detection q selects (all pages), up to max (0: no limit).
func (c *Client) AllDetections(ctx context.Context, q DetectionQuery, max int) ([]Detection, error) {
	var out []Detection
	err := c.EachDetection(ctx, q, func(d Detection) error {
		out = append(out, d)
		if max > 0 && len(out) >= max {
			return ErrStop
		}
		return nil
	})
	return out, err
}

// Rule is a rule in force as the API shows it.
type Rule struct {
	Name     string   `json:"name"`
	Events   []string `json:"events"`
	Report   string   `json:"report,omitempty"`
	Severity string   `json:"severity"`
	Category string   `json:"category,omitempty"`
	Actions  []string `json:"actions"`
}

// Rules lists the rules in force.
func (c *Client) Rules(ctx context.Context) ([]Rule, error) {
	var out struct {
		Rules []Rule `json:"rules"`
	}
	if err := c.do(ctx, http.MethodGet, "/rules", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Rules, nil
}

// Task is a sensor task.
type Task = task.Task

// TaskRequest asks a sensor to carry out an action.
type TaskRequest struct {
	Action          string            `json:"action"`
	Args            map[string]string `json:"args,omitempty"`
	DeadlineSeconds int               `json:"deadline_seconds,omitempty"`
}

// CreateTask queues a task for a sensor. It is not retried on a network error or
// 5xx after the request may have reached the API: the action would be queued twice.
func (c *Client) CreateTask(ctx context.Context, sensorID string, r TaskRequest) (Task, error) {
	var t Task
	cc := *c
	cc.Retries = -1
	err := cc.do(ctx, http.MethodPost, "/sensors/"+url.PathEscape(sensorID)+"/tasks", nil, r, &t)
	return t, err
}

// Task returns a task by id.
func (c *Client) Task(ctx context.Context, id string) (Task, error) {
	var t Task
	err := c.do(ctx, http.MethodGet, "/tasks/"+url.PathEscape(id), nil, nil, &t)
	return t, err
}

// SensorTasks lists a sensor's tasks created since (zero: the API's default, 24h).
func (c *Client) SensorTasks(ctx context.Context, sensorID string, since time.Time) ([]Task, error) {
	v := url.Values{}
	if !since.IsZero() {
		v.Set("since", since.UTC().Format(time.RFC3339Nano))
	}
	var out struct {
		Tasks []Task `json:"tasks"`
	}
	if err := c.do(ctx, http.MethodGet, "/sensors/"+url.PathEscape(sensorID)+"/tasks", v, nil, &out); err != nil {
		return nil, err
	}
	return out.Tasks, nil
}

// WaitTask polls a task every interval until its status is final or ctx ends.
func (c *Client) WaitTask(ctx context.Context, id string, interval time.Duration, progress func(Task)) (Task, error) {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	for {
		t, err := c.Task(ctx, id)
		if err != nil {
			return t, err
		}
		if progress != nil {
			progress(t)
		}
		if t.Status.Final() {
			return t, nil
		}
		select {
		case <-ctx.Done():
			return t, ctx.Err()
		case <-time.After(interval):
		}
	}
}
