package respond

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/task"
)

// TaskSource is where a sensor finds its tasks and reports on them.
type TaskSource interface {
	// Pending returns the sensor's tasks that have not ended (pending or
	// running), oldest first.
	Pending(ctx context.Context) ([]task.Task, error)
	// Report sets a task's status and result. A task that already ended
	// (expired by the workflow, say) gives an error wrapping ErrEnded.
	Report(ctx context.Context, id string, status task.Status, result string) error
}

// ErrEnded is returned (wrapped) by Report for a task that already ended.
var ErrEnded = errors.New("task already ended")

// DefaultWindow is how far back sources look for tasks.
const DefaultWindow = 24 * time.Hour

// HTTPSource is the API: the sensor's own tasks, with the sensor's API key.
type HTTPSource struct {
	// Endpoint is the API's base URL (https://abc.execute-api.us-east-1.amazonaws.com).
	Endpoint string
	Org      string
	SensorID string
	APIKey   string
	// Client defaults to one with a 30 s timeout.
	Client *http.Client
	// Window is how far back to look (DefaultWindow when zero).
	Window time.Duration
}

func (s *HTTPSource) client() *http.Client {
	if s.Client != nil {
		return s.Client
	}
	return &http.Client{Timeout: 30 * time.Second}
}

func (s *HTTPSource) do(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s %s: encode body: %w", method, path, err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(s.Endpoint, "/")+path, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+s.APIKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client().Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	switch {
	case resp.StatusCode == http.StatusConflict:
		return fmt.Errorf("%s %s: %w: %s", method, path, ErrEnded, bytes.TrimSpace(raw))
	case resp.StatusCode/100 != 2:
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(raw))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}

// Pending implements TaskSource.
func (s *HTTPSource) Pending(ctx context.Context) ([]task.Task, error) {
	w := s.Window
	if w <= 0 {
		w = DefaultWindow
	}
	var out struct {
		Tasks []task.Task `json:"tasks"`
	}
	path := fmt.Sprintf("/v1/orgs/%s/sensors/%s/tasks?since=%s", url.PathEscape(s.Org), url.PathEscape(s.SensorID), url.QueryEscape(w.String()))
	if err := s.do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return nil, fmt.Errorf("tasks: %w", err)
	}
	return open(out.Tasks, s.SensorID), nil
}

// Report implements TaskSource.
func (s *HTTPSource) Report(ctx context.Context, id string, status task.Status, result string) error {
	body := map[string]string{"status": string(status), "result": result}
	if err := s.do(ctx, http.MethodPost, fmt.Sprintf("/v1/orgs/%s/tasks/%s/result", url.PathEscape(s.Org), url.PathEscape(id)), body, nil); err != nil {
		return fmt.Errorf("report task %s: %w", id, err)
	}
	return nil
}

// TaskStore is the part of a tasks store (internal/aws.Tasks, the embedded
// internal/local store's Tasks) a StoreSource uses.
type TaskStore interface {
	ForSensor(ctx context.Context, sensorID string, since time.Time) ([]task.Task, error)
	Update(ctx context.Context, id string, status task.Status, result string, now time.Time) (task.Task, error)
}

// StoreSource reads and updates a tasks store directly: the embedded store of
// `vigil local`, or the tasks table in tests.
type StoreSource struct {
	Store    TaskStore
	SensorID string
	Window   time.Duration
	Now      func() time.Time
}

func (s *StoreSource) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Pending implements TaskSource.
func (s *StoreSource) Pending(ctx context.Context) ([]task.Task, error) {
	w := s.Window
	if w <= 0 {
		w = DefaultWindow
	}
	list, err := s.Store.ForSensor(ctx, s.SensorID, s.now().Add(-w))
	if err != nil {
		return nil, fmt.Errorf("tasks of sensor %s: %w", s.SensorID, err)
	}
	return open(list, s.SensorID), nil
}

// Report implements TaskSource.
func (s *StoreSource) Report(ctx context.Context, id string, status task.Status, result string) error {
	_, err := s.Store.Update(ctx, id, status, result, s.now())
	switch {
	case errors.Is(err, api.ErrConflict):
		return fmt.Errorf("report task %s: %w (%v)", id, ErrEnded, err)
	case err != nil:
		return fmt.Errorf("report task %s: %w", id, err)
	}
	return nil
}

// open keeps the tasks for sensorID that have not ended.
func open(list []task.Task, sensorID string) []task.Task {
	out := list[:0:0]
	for _, t := range list {
		if !t.Status.Final() && t.SensorID == sensorID {
			out = append(out, t)
		}
	}
	return out
}
