package edge

import (
	"context"
	"strconv"
	"time"

	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/task"
)

// actionTimeout bounds one edge action (a snapshot reads and uploads up to its
// bound of memory).
const actionTimeout = 2 * time.Minute

// task is the task of an edge action of d, as the response workflow would
// create it (the same id, arguments and deadline), pending.
func (e *Evaluator) task(d *detect.Detection, a *engine.Action, now time.Time) task.Task {
	now = now.UTC()
	t := task.Task{ID: detect.EdgeTaskID(d.ID, a.Action), SensorID: e.o.SensorID, Action: a.Action, Status: task.Pending,
		Created: now, Updated: now, Deadline: now.Add(DefaultTaskDeadline), DetectionID: d.ID, RequestedBy: "edge"}
	if a.Action != engine.ActKill && a.Action != engine.ActSnapshot {
		return t
	}
	if d.Event.PID == 0 {
		t.Status, t.Result = task.Failed, "the detection's event names no process (PROCESS_ID): nothing to "+a.Action
		return t
	}
	t.Args = map[string]string{"pid": strconv.FormatUint(uint64(d.Event.PID), 10), "event_time": strconv.FormatInt(d.Event.TimeNanos, 10)}
	if a.Action == engine.ActKill && a.Descendants {
		t.Args["tree"] = "true"
	}
	if a.Action == engine.ActSnapshot && a.MaxBytes > 0 {
		t.Args["max_bytes"] = strconv.FormatInt(a.MaxBytes, 10)
	}
	return t
}

// work carries out queued edge actions until Close.
func (e *Evaluator) work() {
	for j := range e.actions {
		for _, t := range j.tasks {
			e.finish(e.run(j.d, t))
		}
	}
}

// run carries out one edge task and returns it finished.
func (e *Evaluator) run(d detect.Detection, t task.Task) task.Task {
	switch {
	case t.Status.Final(): // refused when it was made
	case !e.o.Enforce:
		t.Status, t.Result, t.RequestedBy = task.Done, "dry run: "+detect.WouldDo(&d, action(&d, t.Action)), "edge (dry run)"
		t.Updated = e.now().UTC()
	default:
		ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
		t = e.o.Executor.Execute(ctx, t)
		cancel()
	}
	return t
}

// finish counts and logs a finished edge task and sends it.
func (e *Evaluator) finish(t task.Task) {
	log := e.log.Info
	if t.Status != task.Done {
		log = e.log.Warn
	}
	log("edge action", "action", t.Action, "task", t.ID, "status", t.Status, "result", t.Result)
	e.add(func(r *detect.EdgeRecord) { r.Tasks = append(r.Tasks, t) }, func(s *Stats) {
		switch {
		case t.Status != task.Done:
			s.ActionsFailed++
		case t.RequestedBy == "edge (dry run)":
			s.DryRuns++
		default:
			s.Actions++
		}
	})
}

// refuse finishes tasks that cannot be queued as failed, saying why.
func (e *Evaluator) refuse(tasks []task.Task, why string) {
	for _, t := range tasks {
		t.Status, t.Result, t.Updated = task.Failed, why, e.now().UTC()
		e.finish(t)
	}
}

// action is the action of d named name: the one its edge task was made of.
func action(d *detect.Detection, name string) *engine.Action {
	for i := range d.Actions {
		if d.Actions[i].Action == name {
			return &d.Actions[i]
		}
	}
	return &engine.Action{Action: name}
}
