package localrun

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/respond"
	"github.com/vigil-sec/vigil/internal/task"
)

// taskCreator is where the responder records the host actions: the store's
// tasks, which the API lists and the sensor's task runner polls.
type taskCreator interface {
	Create(ctx context.Context, t task.Task) (task.Task, error)
}

// responder carries out the response steps of new detections, in the order the
// cloud workflow does (detect.ResponseSteps). Host actions (isolate, kill,
// snapshot) are dry runs unless Enforce: a finished task "dry run: would isolate"
// records what would have happened. With Enforce they are pending tasks for the
// sensor, created like the workflow's (id <detection>-<action>), which the
// sensor's task runner (started by Live) carries out. A detection's edge actions
// (Detection.EdgeActions) are left out: the sensor carried them out itself and
// its edge record brings their tasks. notify posts the detection; a failed
// notify is logged, never stops detection.
type responder struct {
	Tasks    taskCreator
	Enforce  bool
	Notify   respond.Notifier // the webhook of the options; may be nil
	Log      *slog.Logger
	Now      func() time.Time
	Deadline time.Duration // default 5m
}

func (r *responder) Publish(ctx context.Context, ds []detect.Detection) error {
	for i := range ds {
		if err := r.respond(ctx, &ds[i]); err != nil {
			return err
		}
	}
	return nil
}

func (r *responder) respond(ctx context.Context, d *detect.Detection) error {
	acts := map[string]*engine.Action{}
	for i := range d.Actions {
		if _, ok := acts[d.Actions[i].Action]; !ok {
			acts[d.Actions[i].Action] = &d.Actions[i]
		}
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	deadline := r.Deadline
	if deadline <= 0 {
		deadline = 5 * time.Minute
	}
	for _, step := range detect.ResponseSteps {
		act := acts[step]
		if act == nil || slices.Contains(d.EdgeActions, step) {
			continue // none, or the sensor carried it out itself (an edge action)
		}
		if step == engine.ActNotify {
			r.notify(ctx, d, act)
			continue
		}
		t0 := now().UTC()
		t := task.Task{ID: d.ID + "-" + step, SensorID: d.Event.SensorID, Action: step, Created: t0, Updated: t0,
			Deadline: t0.Add(deadline), DetectionID: d.ID, RequestedBy: "vigil local"}
		if act.Command != "" {
			t.Args = map[string]string{"command": act.Command}
		}
		if (step == engine.ActKill || step == engine.ActSnapshot) && d.Event.PID != 0 {
			if t.Args == nil {
				t.Args = map[string]string{}
			}
			t.Args["pid"] = strconv.FormatUint(uint64(d.Event.PID), 10)
			t.Args["event_time"] = strconv.FormatInt(d.Event.TimeNanos, 10)
			if step == engine.ActKill && act.Descendants {
				t.Args["tree"] = "true"
			}
		}
		if r.Enforce {
			t.Status = task.Pending
		} else {
			t.Status, t.Result = task.Done, "dry run: "+detect.WouldDo(d, act)
			t.RequestedBy = "vigil local (dry run)"
		}
		if _, err := r.Tasks.Create(ctx, t); err != nil {
			return fmt.Errorf("response %s for detection %s: %w", step, d.ID, err)
		}
		if r.Enforce {
			r.Log.Warn("response: task created for the sensor", "action", step, "task", t.ID, "rule", d.Rule, "sensor", t.SensorID)
		} else {
			r.Log.Warn("response (dry run, --enforce to act): "+detect.WouldDo(d, act), "task", t.ID, "rule", d.Rule)
		}
	}
	return nil
}

// notify posts the detection to the action's own http(s) webhook, else to
// r.Notify: its JSON document, or the action's body template rendered.
func (r *responder) notify(ctx context.Context, d *detect.Detection, act *engine.Action) {
	n := r.Notify
	if isHTTPURL(act.Webhook) {
		n = &webhook{URL: act.Webhook}
	}
	if n == nil {
		r.Log.Info("response: notify skipped: no --webhook given", "rule", d.Rule, "detection", d.ID)
		return
	}
	doc, err := json.Marshal(d)
	if err == nil {
		if wh, ok := n.(*webhook); ok && act.Body != "" {
			var body string
			if body, err = act.RenderBody(d); err == nil {
				err = wh.post(ctx, []byte(body), "text/plain; charset=utf-8")
			}
		} else {
			err = n.Notify(ctx, doc)
		}
	}
	if err != nil {
		r.Log.Error("response: notify failed", "rule", d.Rule, "detection", d.ID, "error", err)
		return
	}
	r.Log.Info("response: notified", "rule", d.Rule, "detection", d.ID)
}
