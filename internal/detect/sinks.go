package detect

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
)

// DetectionStore keeps detections. Claim stores them and returns those not yet
// published (new ones, or ones an earlier attempt stored but did not publish);
// MarkPublished records that they reached the bus and the workflow.
type DetectionStore interface {
	Claim(ctx context.Context, ds []Detection) ([]Detection, error)
	MarkPublished(ctx context.Context, ids []string) error
}

// Workflow starts a response execution named name (idempotent by name).
type Workflow interface {
	Start(ctx context.Context, name string, input []byte) error
}

// SensorRegistry records sensors from their heartbeats.
type SensorRegistry interface {
	Heartbeat(ctx context.Context, ev *event.Event) error
}

// Sinks is the cloud detection path: store (deduplicating), publish on the bus,
// start the response workflow for rules with response actions, then mark
// published. Any step failing fails the call, and a retry resumes where it stopped.
type Sinks struct {
	Store    DetectionStore
	Bus      Publisher // may be nil
	Workflow Workflow  // may be nil
	// DeadlineSeconds bounds each sensor task of a response; default 300.
	DeadlineSeconds int
}

// Publish implements Publisher.
func (s *Sinks) Publish(ctx context.Context, ds []Detection) error {
	todo, err := s.Store.Claim(ctx, ds)
	if err != nil || len(todo) == 0 {
		return err
	}
	if s.Bus != nil {
		if err := s.Bus.Publish(ctx, todo); err != nil {
			return err
		}
	}
	ids := make([]string, 0, len(todo))
	for i := range todo {
		if s.Workflow != nil {
			if in, ok := s.workflowInput(&todo[i]); ok {
				if err := s.Workflow.Start(ctx, todo[i].ID, in); err != nil {
					return err
				}
			}
		}
		ids = append(ids, todo[i].ID)
	}
	return s.Store.MarkPublished(ctx, ids)
}

// WorkflowInput is the response execution's input (the state machine's contract).
type WorkflowInput struct {
	Detection       Detection       `json:"detection"`
	SensorID        string          `json:"sensor_id"`
	Steps           map[string]bool `json:"steps"`
	DeadlineSeconds int             `json:"deadline_seconds"`
	// KillTree: the rule's kill action says descendants: true (the respond
	// function's kill task then kills the process's descendants too).
	KillTree bool `json:"kill_tree"`
}

// ResponseSteps are the response actions the workflow carries out, in order.
var ResponseSteps = []string{"isolate", "kill", "snapshot", "notify"}

// workflowInput returns the execution input for d, and false when its rule has no
// action the workflow carries out: the sensor's edge actions are not the
// workflow's.
func (s *Sinks) workflowInput(d *Detection) ([]byte, bool) {
	// every step is present: the state machine's Choice states read each one
	steps := make(map[string]bool, len(ResponseSteps))
	for _, st := range ResponseSteps {
		steps[st] = false
	}
	found, tree := false, false
	for _, a := range d.Actions {
		if slices.Contains(d.EdgeActions, a.Action) {
			continue // the sensor carried it out on its host
		}
		if _, ok := steps[a.Action]; ok {
			steps[a.Action], found = true, true
		}
		tree = tree || (a.Action == engine.ActKill && a.Descendants)
	}
	if !found {
		return nil, false
	}
	deadline := s.DeadlineSeconds
	if deadline <= 0 {
		deadline = 300
	}
	in, err := json.Marshal(WorkflowInput{Detection: *d, SensorID: d.Event.SensorID, Steps: steps, DeadlineSeconds: deadline, KillTree: tree})
	if err != nil {
		panic(fmt.Sprintf("detect: marshal workflow input: %v", err)) // only plain data: cannot fail
	}
	return in, true
}

// WouldDo says what the host action a of d would do, for a dry run's task
// result and log: "would isolate host", "would kill pid 42 (/usr/bin/x)", ….
func WouldDo(d *Detection, a *engine.Action) string {
	switch a.Action {
	case engine.ActIsolate:
		return "would isolate " + d.Event.Hostname
	case engine.ActKill:
		s := fmt.Sprintf("would kill pid %d (%s)", d.Event.PID, d.Event.FilePath)
		if a.Descendants {
			s += " and its descendants"
		}
		return s
	case engine.ActSnapshot:
		return fmt.Sprintf("would snapshot (%s) pid %d", cmp.Or(a.Command, engine.DefaultSnapshotCommand), d.Event.PID)
	}
	return "would " + a.Action
}
