package task

import (
	"fmt"
	"time"
)

// Status is where a task is in its life.
type Status string

// Statuses. Done, Failed and Expired are final.
const (
	Pending Status = "pending" // created, not yet picked up
	Running Status = "running" // a sensor picked it up
	Done    Status = "done"
	Failed  Status = "failed"
	Expired Status = "expired" // no result before the deadline
)

// Final reports whether s is a final status.
func (s Status) Final() bool { return s == Done || s == Failed || s == Expired }

// Actions a sensor can carry out.
var Actions = []string{"isolate", "rejoin", "kill", "snapshot"}

// ValidAction reports whether a is one of Actions.
func ValidAction(a string) bool {
	for _, x := range Actions {
		if x == a {
			return true
		}
	}
	return false
}

// Task is one action for one sensor.
type Task struct {
	ID          string            `json:"id"`
	SensorID    string            `json:"sensor_id"`
	Action      string            `json:"action"`
	Args        map[string]string `json:"args,omitempty"`
	Status      Status            `json:"status"`
	Created     time.Time         `json:"created"`
	Deadline    time.Time         `json:"deadline"`
	DetectionID string            `json:"detection_id,omitempty"`
	RequestedBy string            `json:"requested_by,omitempty"`
	Result      string            `json:"result,omitempty"`
	Updated     time.Time         `json:"updated"`
}

// Validate checks a task before it is stored.
func (t *Task) Validate() error {
	switch {
	case t.ID == "":
		return fmt.Errorf("task: id is empty")
	case t.SensorID == "":
		return fmt.Errorf("task %s: sensor_id is empty", t.ID)
	case !ValidAction(t.Action):
		return fmt.Errorf("task %s: action %q is not one of %v", t.ID, t.Action, Actions)
	case t.Deadline.IsZero() || !t.Deadline.After(t.Created):
		return fmt.Errorf("task %s: deadline must be after creation", t.ID)
	}
	return nil
}
