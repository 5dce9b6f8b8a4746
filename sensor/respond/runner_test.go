package respond

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/internal/task"
)

// memSource is a TaskSource in memory that records reports.
type memSource struct {
	mu      sync.Mutex
	tasks   map[string]*task.Task
	reports []string
	failing bool // Report fails
}

func (m *memSource) Pending(context.Context) ([]task.Task, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []task.Task
	for _, t := range m.tasks {
		if !t.Status.Final() {
			out = append(out, *t)
		}
	}
	return out, nil
}

func (m *memSource) Report(_ context.Context, id string, s task.Status, result string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failing {
		return errors.New("backend unreachable")
	}
	t := m.tasks[id]
	if t.Status.Final() {
		return ErrEnded
	}
	t.Status, t.Result = s, result
	m.reports = append(m.reports, id+" "+string(s))
	return nil
}

func newTask(id, action string, args map[string]string) *task.Task {
	now := time.Now()
	return &task.Task{ID: id, SensorID: "s-1", Action: action, Args: args, Status: task.Pending, Created: now, Deadline: now.Add(time.Minute)}
}

func TestRunnerRunsEachTaskOnce(t *testing.T) {
	ctx := context.Background()
	src := &memSource{tasks: map[string]*task.Task{
		"t-1": newTask("t-1", "isolate", nil),
		"t-2": newTask("t-2", "kill", nil),
	}}
	late := newTask("t-late", "isolate", nil)
	late.Deadline = time.Now().Add(-time.Second)
	src.tasks["t-late"] = late
	var calls []string
	actions := map[string]Action{
		"isolate": func(_ context.Context, tk task.Task) (string, error) {
			calls = append(calls, tk.ID)
			return `{"isolated":true}`, nil
		},
		"kill": func(_ context.Context, tk task.Task) (string, error) {
			calls = append(calls, tk.ID)
			return "", errors.New("no such process")
		},
	}
	state := filepath.Join(t.TempDir(), "respond.json")
	r := &Runner{Source: src, StatePath: state, Actions: actions}
	if n, err := r.Poll(ctx); err != nil || n != 2 {
		t.Fatalf("poll ran %d, %v", n, err)
	}
	if got := src.tasks["t-1"]; got.Status != task.Done || got.Result != `{"isolated":true}` {
		t.Fatalf("t-1 = %+v", got)
	}
	var failed map[string]any
	if got := src.tasks["t-2"]; got.Status != task.Failed || json.Unmarshal([]byte(got.Result), &failed) != nil || failed["error"] != "no such process" {
		t.Fatalf("t-2 = %+v", got)
	}
	if src.tasks["t-late"].Status != task.Pending || strings.Contains(strings.Join(calls, " "), "t-late") {
		t.Fatal("a task past its deadline was run")
	}

	// the source shows the tasks as pending again (a stale read, a replayed
	// workflow): a restarted sensor does not run them twice
	for _, id := range []string{"t-1", "t-2"} {
		src.tasks[id].Status = task.Pending
	}
	r2 := &Runner{Source: src, StatePath: state, Actions: actions}
	if n, err := r2.Poll(ctx); err != nil || n != 0 {
		t.Fatalf("second poll ran %d, %v", n, err)
	}
	if len(calls) != 2 {
		t.Fatalf("actions ran %v, want each once", calls)
	}

	// a result that cannot be reported is reported on a later poll
	src.tasks["t-3"] = newTask("t-3", "isolate", nil)
	src.failing = true
	if _, err := r2.Poll(ctx); err == nil {
		t.Fatal("a failed report is not an error")
	}
	src.failing = false
	if _, err := r2.Poll(ctx); err != nil || src.tasks["t-3"].Status != task.Done || len(calls) != 3 {
		t.Fatalf("after the backend is back: %+v, %v, calls %v", src.tasks["t-3"], err, calls)
	}
}

func TestRunnerInterruptedTaskIsNotRunAgain(t *testing.T) {
	ctx := context.Background()
	src := &memSource{tasks: map[string]*task.Task{"t-1": newTask("t-1", "kill", nil)}}
	state := filepath.Join(t.TempDir(), "respond.json")
	ran := 0
	crash := errors.New("crash")
	r := &Runner{Source: src, StatePath: state, Actions: map[string]Action{"kill": func(context.Context, task.Task) (string, error) {
		ran++
		panic(crash)
	}}}
	// the panic is caught and reported as a failure
	if _, err := r.Poll(ctx); err != nil || src.tasks["t-1"].Status != task.Failed || !strings.Contains(src.tasks["t-1"].Result, "panic") {
		t.Fatalf("%+v %v", src.tasks["t-1"], err)
	}

	// a sensor that died mid-task: the state file says running
	src.tasks["t-2"] = newTask("t-2", "kill", nil)
	r.state.Tasks["t-2"] = &taskRecord{Action: "kill", Status: task.Running, Started: time.Now()}
	if err := r.save(); err != nil {
		t.Fatal(err)
	}
	r2 := &Runner{Source: src, StatePath: state, Actions: r.Actions}
	if _, err := r2.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if ran != 1 || src.tasks["t-2"].Status != task.Failed || !strings.Contains(src.tasks["t-2"].Result, "not run again") {
		t.Fatalf("ran %d, t-2 = %+v", ran, src.tasks["t-2"])
	}
}

func TestRunnerUnknownActionAndBadArgs(t *testing.T) {
	ctx := context.Background()
	src := &memSource{tasks: map[string]*task.Task{
		"t-1": newTask("t-1", "kill", map[string]string{"pid": "12"}),
		"t-2": newTask("t-2", "snapshot", map[string]string{"pid": "x"}),
		"t-3": newTask("t-3", "reboot", nil),
	}}
	r := &Runner{Source: src, StatePath: filepath.Join(t.TempDir(), "s.json"), Lake: &local.Lake{Dir: t.TempDir()}}
	if _, err := r.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"t-1": `argument \"start_time\" or \"event_time\" is required`, "t-2": `pid=\"x\"`, "t-3": "not one this sensor carries out"} {
		if got := src.tasks[id]; got.Status != task.Failed || !strings.Contains(got.Result, want) {
			t.Errorf("%s = %s %s, want failed with %s", id, got.Status, got.Result, want)
		}
	}
}

// TestHTTPSource runs the API (internal/api on the embedded store) and a sensor
// polling it over HTTP.
func TestHTTPSource(t *testing.T) {
	ctx := context.Background()
	store, err := local.OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.PutKey(ctx, "k-sensor", api.Key{Org: "acme", Name: "sensors"}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&api.Server{Keys: store, Sensors: store.SensorStore(), Detections: store, Tasks: store.TaskStore()}).Handler())
	t.Cleanup(srv.Close)
	now := time.Now().UTC()
	for _, tk := range []task.Task{
		{ID: "t-1", SensorID: "s-1", Action: "isolate", Status: task.Pending, Created: now, Deadline: now.Add(time.Minute)},
		{ID: "t-2", SensorID: "s-2", Action: "isolate", Status: task.Pending, Created: now, Deadline: now.Add(time.Minute)},
		{ID: "t-3", SensorID: "s-1", Action: "kill", Status: task.Done, Created: now, Deadline: now.Add(time.Minute)},
	} {
		if _, err := store.TaskStore().Create(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	src := &HTTPSource{Endpoint: srv.URL, Org: "acme", SensorID: "s-1", APIKey: "k-sensor"}
	list, err := src.Pending(ctx)
	if err != nil || len(list) != 1 || list[0].ID != "t-1" {
		t.Fatalf("pending = %+v, %v", list, err)
	}
	if err := src.Report(ctx, "t-1", task.Done, `{"isolated":true}`); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.TaskStore().Get(ctx, "t-1"); got.Status != task.Done || got.Result != `{"isolated":true}` {
		t.Fatalf("stored %+v", got)
	}
	if err := src.Report(ctx, "t-1", task.Failed, ""); !errors.Is(err, ErrEnded) {
		t.Fatalf("reporting an ended task: %v, want ErrEnded", err)
	}
	bad := &HTTPSource{Endpoint: srv.URL, Org: "acme", SensorID: "s-1", APIKey: "wrong"}
	if _, err := bad.Pending(ctx); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("a wrong key: %v", err)
	}

	// StoreSource over the same store
	ss := &StoreSource{Store: store.TaskStore(), SensorID: "s-2"}
	if list, err := ss.Pending(ctx); err != nil || len(list) != 1 || list[0].ID != "t-2" {
		t.Fatalf("store pending = %+v, %v", list, err)
	}
	if err := ss.Report(ctx, "t-3", task.Done, ""); !errors.Is(err, ErrEnded) {
		t.Fatalf("store report of an ended task: %v", err)
	}
}

// TestExecute: a task carried out at once (an edge action) runs with the
// checks of a polled one, at most once by id, is recorded in the state file as
// reported, and a polled task of the same id is not run again.
func TestExecute(t *testing.T) {
	ctx := context.Background()
	state := filepath.Join(t.TempDir(), "respond.json")
	var calls []string
	actions := map[string]Action{"isolate": func(_ context.Context, tk task.Task) (string, error) {
		calls = append(calls, tk.ID)
		return `{"isolated":true}`, nil
	}}
	src := &memSource{tasks: map[string]*task.Task{}}
	r := &Runner{Source: src, StatePath: state, Actions: actions}
	tests := []struct {
		name   string
		task   *task.Task
		status task.Status
		result string // part of it
		calls  int    // actions run so far
	}{
		{"runs", newTask("d-isolate", "isolate", nil), task.Done, `{"isolated":true}`, 1},
		{"not twice", newTask("d-isolate", "isolate", nil), task.Done, `{"isolated":true}`, 1},
		{"checks its arguments", newTask("d-kill", "kill", map[string]string{"pid": "12"}), task.Failed, `\"start_time\" or \"event_time\" is required`, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := r.Execute(ctx, *tc.task)
			if got.ID != tc.task.ID || got.Status != tc.status || !strings.Contains(got.Result, tc.result) || got.Updated.IsZero() {
				t.Errorf("Execute = %s %s, want %s with %s", got.Status, got.Result, tc.status, tc.result)
			}
			if len(calls) != tc.calls {
				t.Errorf("actions ran %v, want %d", calls, tc.calls)
			}
		})
	}
	// the workflow's task of the same id, polled after a restart: not run again,
	// nor reported by the sensor (the edge record reports it)
	src.tasks["d-isolate"] = newTask("d-isolate", "isolate", nil)
	r2 := &Runner{Source: src, StatePath: state, Actions: actions}
	if n, err := r2.Poll(ctx); err != nil || n != 0 || len(calls) != 1 || len(src.reports) != 0 {
		t.Fatalf("poll ran %d (%v), actions %v, reports %v", n, err, calls, src.reports)
	}
}
