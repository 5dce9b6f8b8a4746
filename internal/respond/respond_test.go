package respond

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/task"
	"github.com/vigil-sec/vigil/internal/testenv"
)

func tasksTable(t *testing.T) *vaws.Tasks {
	t.Helper()
	c := dynamodb.NewFromConfig(testenv.AWSConfig(t, testenv.DynamoDB(t)))
	return &vaws.Tasks{Client: c, Table: testenv.CreateTable(t, c, testenv.TasksTable)}
}

const detection = `{"id":"d1","rule":"miner","name":"cryptocurrency_miner_detected","severity":"high","hostname":"web-1","sensor_id":"s1","time":"2026-11-22T10:00:00Z","event":{"event":{"PROCESS_ID":4242},"routing":{"event_time":1763805600000000000}}}`

func state(op, action string, extra string) json.RawMessage {
	return json.RawMessage(`{"request":{"op":"` + op + `","action":"` + action + `"},"sensor_id":"s1","deadline_seconds":60,"detection":` + detection + extra + `}`)
}

func TestTaskLifecycle(t *testing.T) {
	store := tasksTable(t)
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	h := &Handler{Tasks: store, Now: func() time.Time { return now }}
	ctx := context.Background()

	out, err := h.Handle(ctx, state("create_task", "isolate", ""))
	if err != nil {
		t.Fatal(err)
	}
	c := out.(Created)
	if c.TaskID != "d1-isolate" || c.Deadline != now.Add(time.Minute).Unix() {
		t.Fatalf("created %+v", c)
	}
	// a retried create finds the same task
	if again, err := h.Handle(ctx, state("create_task", "isolate", "")); err != nil || again.(Created) != c {
		t.Fatalf("retried create = %+v, %v", again, err)
	}
	checkState := state("check_task", "isolate", `,"isolate_task":{"task_id":"d1-isolate","deadline":`+jsonInt(c.Deadline)+`}`)
	check := func() Checked {
		t.Helper()
		out, err := h.Handle(ctx, checkState)
		if err != nil {
			t.Fatal(err)
		}
		return out.(Checked)
	}
	if got := check(); got.Status != task.Pending {
		t.Fatalf("new task: %+v", got)
	}
	if _, err := store.Update(ctx, "d1-isolate", task.Running, "", now); err != nil {
		t.Fatal(err)
	}
	if got := check(); got.Status != task.Pending {
		t.Fatalf("running task: %+v, want pending for the workflow", got)
	}
	if _, err := store.Update(ctx, "d1-isolate", task.Done, "isolated: 3 endpoints allowed", now); err != nil {
		t.Fatal(err)
	}
	if got := check(); got.Status != task.Done || !strings.HasPrefix(got.Result, "isolated") {
		t.Fatalf("done task: %+v", got)
	}
}

func TestTaskExpires(t *testing.T) {
	store := tasksTable(t)
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	h := &Handler{Tasks: store, Now: func() time.Time { return now }}
	ctx := context.Background()
	out, err := h.Handle(ctx, state("create_task", "kill", ""))
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(61 * time.Second)
	res, err := h.Handle(ctx, state("check_task", "kill", `,"kill_task":{"task_id":"`+out.(Created).TaskID+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	if res.(Checked).Status != task.Expired {
		t.Fatalf("after the deadline: %+v", res)
	}
	if tk, _ := store.Get(ctx, "d1-kill"); tk.Status != task.Expired || tk.Args["pid"] != "4242" || tk.Args["event_time"] != "1763805600000000000" {
		t.Fatalf("stored task %+v, want expired with the detection's pid", tk)
	}
}

// TestTaskArgs checks the arguments of the tasks create_task makes: kill and
// snapshot name the detection's process, and a kill of a rule whose kill action
// says descendants: true (kill_tree in the state) kills the tree, as vigil local
// asks it.
// createTask hands h the create_task state in and returns the task it stored.
func createTask(t *testing.T, h *Handler, in string) task.Task {
	t.Helper()
	out, err := h.Handle(context.Background(), json.RawMessage(in))
	if err != nil {
		t.Fatal(err)
	}
	tk, err := h.Tasks.Get(context.Background(), out.(Created).TaskID)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestTaskArgs(t *testing.T) {
	h := &Handler{Tasks: tasksTable(t)}
	ctx := context.Background()
	process := map[string]string{"pid": "4242", "event_time": "1763805600000000000"}
	tree := map[string]string{"pid": "4242", "event_time": "1763805600000000000", "tree": "true"}
	tests := []struct {
		name   string
		action string
		extra  string
		want   map[string]string
	}{
		{"kill", "kill", "", process},
		{"kill without descendants", "kill", `,"kill_tree":false`, process},
		{"kill with descendants", "kill", `,"kill_tree":true`, tree},
		{"snapshot ignores kill_tree", "snapshot", `,"kill_tree":true`, process},
		{"isolate names no process", "isolate", `,"kill_tree":true`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// a detection id per case: task ids derive from it
			in := strings.Replace(string(state("create_task", tc.action, tc.extra)), `"id":"d1"`, `"id":"d-`+strings.ReplaceAll(tc.name, " ", "-")+`"`, 1)
			tk := createTask(t, h, in)
			if !maps.Equal(tk.Args, tc.want) {
				t.Fatalf("args %v, want %v", tk.Args, tc.want)
			}
			if tk.Status != task.Pending {
				t.Errorf("status %s, want pending", tk.Status)
			}
		})
	}
	// A detection whose event names no process: a kill or a snapshot is
	// recorded as failed at once (the sensor would refuse it), and checking it
	// moves the workflow on.
	for _, action := range []string{"kill", "snapshot"} {
		in := strings.Replace(string(state("create_task", action, "")), `"PROCESS_ID":4242`, `"PROCESS_ID":0`, 1)
		in = strings.Replace(in, `"id":"d1"`, `"id":"d-nopid"`, 1)
		if !strings.Contains(in, `"PROCESS_ID":0`) {
			t.Fatalf("state without a pid: %s", in)
		}
		tk := createTask(t, h, in)
		if tk.Status != task.Failed || !strings.Contains(tk.Result, "names no process") || tk.Args != nil {
			t.Errorf("%s without a pid: task %s %q args %v, want failed, naming the missing process", action, tk.Status, tk.Result, tk.Args)
		}
		chk := strings.Replace(strings.Replace(in, `"op":"create_task"`, `"op":"check_task"`, 1), `"deadline_seconds":60`,
			`"deadline_seconds":60,"`+action+`_task":{"task_id":"`+tk.ID+`"}`, 1)
		got, err := h.Handle(ctx, json.RawMessage(chk))
		if err != nil || got.(Checked).Status != task.Failed {
			t.Errorf("%s without a pid: check = %+v, %v; want failed", action, got, err)
		}
	}
}

func TestHandleErrors(t *testing.T) {
	h := &Handler{Tasks: tasksTable(t)}
	tests := []struct {
		name, in, want string
	}{
		{"not json", `nope`, "not a workflow state"},
		{"unknown op", string(state("explode", "", "")), `unknown request.op "explode"`},
		{"check without task", string(state("check_task", "isolate", "")), "needs isolate_task.task_id"},
		{"create without detection", `{"request":{"op":"create_task","action":"isolate"},"sensor_id":"s1"}`, "needs detection.id"},
		{"bad action", string(state("create_task", "explode", "")), `action "explode" is not one of`},
		{"notify without notifier", string(state("notify", "", "")), "no notifier"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.Handle(context.Background(), json.RawMessage(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestErrorCauses checks a detection that does not decode is refused with the
// decoder's error wrapped, and one without an id says so.
func TestErrorCauses(t *testing.T) {
	h := &Handler{Tasks: tasksTable(t)}
	pd := &PagerDuty{URL: "http://127.0.0.1:1", RoutingKey: func(context.Context) (string, error) { return "R0UTING", nil }}
	create := func(detection string) error {
		_, err := h.Handle(context.Background(), json.RawMessage(`{"request":{"op":"create_task","action":"isolate"},"sensor_id":"s1","detection":`+detection+`}`))
		return err
	}
	notify := func(detection string) error { return pd.Notify(context.Background(), json.RawMessage(detection)) }
	tests := []struct {
		name      string
		run       func(string) error
		detection string
		decodeErr bool // the error wraps the JSON decoder's
		want      string
	}{
		{"create: id not a string", create, `{"id":5}`, true, "respond: create_task needs detection.id: detection: json: cannot unmarshal number"},
		{"create: not an object", create, `[1]`, true, "respond: create_task needs detection.id: detection: json: cannot unmarshal array"},
		{"create: no id", create, `{"name":"x"}`, false, "respond: create_task needs detection.id"},
		{"notify: id not a string", notify, `{"id":5}`, true, "pagerduty: not a detection: json: cannot unmarshal number"},
		{"notify: not JSON", notify, `{"id":`, true, "pagerduty: not a detection: unexpected end of JSON input"},
		{"notify: no id", notify, `{"name":"x"}`, false, `pagerduty: not a detection: no "id"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run(tc.detection)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			var typeErr *json.UnmarshalTypeError
			var syntaxErr *json.SyntaxError
			if got := errors.As(err, &typeErr) || errors.As(err, &syntaxErr); got != tc.decodeErr {
				t.Errorf("err = %v; wraps the decoder's error: %v, want %v", err, got, tc.decodeErr)
			}
			if strings.Contains(err.Error(), "<nil>") {
				t.Errorf("err = %v names no cause", err)
			}
		})
	}
}

func TestPagerDutyNotify(t *testing.T) {
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &got) != nil {
			http.Error(w, `{"status":"invalid event"}`, http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"status":"success","dedup_key":"d1"}`))
	}))
	defer srv.Close()
	h := &Handler{Notify: &PagerDuty{URL: srv.URL, RoutingKey: func(context.Context) (string, error) { return "R0UTING", nil }}}
	if _, err := h.Handle(context.Background(), state("notify", "", "")); err != nil {
		t.Fatal(err)
	}
	payload := got["payload"].(map[string]any)
	for k, want := range map[string]any{"routing_key": "R0UTING", "event_action": "trigger", "dedup_key": "d1"} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	for k, want := range map[string]any{"summary": "cryptocurrency_miner_detected on web-1", "severity": "error", "source": "web-1", "timestamp": "2026-11-22T10:00:00Z"} {
		if payload[k] != want {
			t.Errorf("payload.%s = %v, want %v", k, payload[k], want)
		}
	}
	if payload["custom_details"].(map[string]any)["rule"] != "miner" {
		t.Errorf("custom_details = %v", payload["custom_details"])
	}

	refuse := &PagerDuty{URL: srv.URL + "/x", RoutingKey: func(context.Context) (string, error) { return "", nil }}
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"status":"invalid routing key"}`, http.StatusBadRequest)
	})
	if err := refuse.Notify(context.Background(), json.RawMessage(detection)); err == nil || !strings.Contains(err.Error(), "invalid routing key") {
		t.Fatalf("err = %v, want PagerDuty's refusal", err)
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }
