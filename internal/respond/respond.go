package respond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/vigil-sec/vigil/internal/task"
)

// TaskStore keeps sensor tasks.
type TaskStore interface {
	Create(ctx context.Context, t task.Task) (task.Task, error)
	Get(ctx context.Context, id string) (task.Task, error)
	Update(ctx context.Context, id string, status task.Status, result string, now time.Time) (task.Task, error)
}

// Notifier delivers a detection to people (PagerDuty, a webhook).
type Notifier interface {
	Notify(ctx context.Context, detection json.RawMessage) error
}

// Handler answers the workflow's task steps.
type Handler struct {
	Tasks  TaskStore
	Notify Notifier // may be nil: notify steps then fail
	Now    func() time.Time
}

// State is the part of the execution state the handler reads.
type State struct {
	Request struct {
		Op     string `json:"op"`
		Action string `json:"action"`
	} `json:"request"`
	SensorID        string          `json:"sensor_id"`
	Detection       json.RawMessage `json:"detection"`
	DeadlineSeconds int             `json:"deadline_seconds"`
	// KillTree is set when the rule's kill action says descendants: true; the
	// kill task then kills the process's descendants too.
	KillTree bool `json:"kill_tree"`
	raw      map[string]json.RawMessage
}

// Created is the result of create_task.
type Created struct {
	TaskID   string `json:"task_id"`
	Deadline int64  `json:"deadline"`
}

// Checked is the result of check_task.
type Checked struct {
	Status task.Status `json:"status"`
	Result string      `json:"result,omitempty"`
}

// Handle runs the step the state asks for.
func (h *Handler) Handle(ctx context.Context, in json.RawMessage) (any, error) {
	var st State
	if err := json.Unmarshal(in, &st); err != nil {
		return nil, fmt.Errorf("respond: input is not a workflow state: %w", err)
	}
	if err := json.Unmarshal(in, &st.raw); err != nil {
		return nil, fmt.Errorf("respond: input is not a workflow state: %w", err)
	}
	switch st.Request.Op {
	case "create_task":
		return h.create(ctx, &st)
	case "check_task":
		return h.check(ctx, &st)
	case "notify":
		if h.Notify == nil {
			return nil, fmt.Errorf("respond: notify requested but no notifier is configured")
		}
		if err := h.Notify.Notify(ctx, st.Detection); err != nil {
			return nil, fmt.Errorf("respond: notify: %w", err)
		}
		return map[string]bool{"notified": true}, nil
	}
	return nil, fmt.Errorf("respond: unknown request.op %q (want create_task, check_task or notify)", st.Request.Op)
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) create(ctx context.Context, st *State) (Created, error) {
	var det struct {
		ID    string `json:"id"`
		Event struct {
			Event struct {
				PID uint32 `json:"PROCESS_ID"`
			} `json:"event"`
			Routing struct {
				Time int64 `json:"event_time"`
			} `json:"routing"`
		} `json:"event"`
	}
	if len(st.Detection) > 0 {
		if err := json.Unmarshal(st.Detection, &det); err != nil {
			return Created{}, fmt.Errorf("respond: create_task needs detection.id: detection: %w", err)
		}
	}
	if det.ID == "" {
		return Created{}, errors.New("respond: create_task needs detection.id")
	}
	deadline := st.DeadlineSeconds
	if deadline <= 0 {
		deadline = 300
	}
	now := h.now().UTC()
	tk := task.Task{
		ID: det.ID + "-" + st.Request.Action, SensorID: st.SensorID, Action: st.Request.Action,
		Status: task.Pending, Created: now, Updated: now, Deadline: now.Add(time.Duration(deadline) * time.Second),
		DetectionID: det.ID, RequestedBy: "workflow", Args: processArgs(st.Request.Action, det.Event.Event.PID, det.Event.Routing.Time, st.KillTree),
	}
	if tk.Args == nil && (tk.Action == "kill" || tk.Action == "snapshot") {
		// The event names no process (a file or network event of no known
		// one): the sensor would refuse the task. It is recorded as failed,
		// and the workflow moves on to its next step.
		tk.Status, tk.Result = task.Failed, "the detection's event names no process (PROCESS_ID): nothing to "+tk.Action
	}
	t, err := h.Tasks.Create(ctx, tk)
	if err != nil {
		return Created{}, fmt.Errorf("respond: %w", err)
	}
	return Created{TaskID: t.ID, Deadline: t.Deadline.Unix()}, nil
}

func (h *Handler) check(ctx context.Context, st *State) (Checked, error) {
	key := st.Request.Action + "_task"
	var c Created
	if raw, ok := st.raw[key]; !ok || json.Unmarshal(raw, &c) != nil || c.TaskID == "" {
		return Checked{}, fmt.Errorf("respond: check_task needs %s.task_id in the state", key)
	}
	t, err := h.Tasks.Get(ctx, c.TaskID)
	if err != nil {
		return Checked{}, fmt.Errorf("respond: %w", err)
	}
	now := h.now()
	if !t.Status.Final() && now.After(t.Deadline) {
		if t, err = h.Tasks.Update(ctx, t.ID, task.Expired, "no result from the sensor before the deadline", now); err != nil {
			return Checked{}, fmt.Errorf("respond: expire %s: %w", c.TaskID, err)
		}
	}
	status := t.Status
	if status == task.Running {
		status = task.Pending // the workflow only waits or moves on
	}
	return Checked{Status: status, Result: t.Result}, nil
}

// processArgs names the detection's process for the actions that act on one
// (kill, snapshot): its pid, and the event's time, against which the sensor checks
// that the process with that pid is the one the event saw (not a reused pid). A
// kill with tree also kills the process's descendants ("tree": "true", as `vigil
// local` sends it).
func processArgs(action string, pid uint32, eventTime int64, tree bool) map[string]string {
	if (action != "kill" && action != "snapshot") || pid == 0 {
		return nil
	}
	args := map[string]string{"pid": strconv.FormatUint(uint64(pid), 10), "event_time": strconv.FormatInt(eventTime, 10)}
	if action == "kill" && tree {
		args["tree"] = "true"
	}
	return args
}
