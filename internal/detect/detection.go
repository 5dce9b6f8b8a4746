package detect

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/internal/anomaly"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/explain"
)

// Detection is one rule match on one event.
type Detection struct {
	// ID is stable for a rule and an event: see DetectionID.
	ID string
	// Rule is the rule's name; Name is its report name (the rule's name when the rule
	// has no report action).
	Rule string
	Name string
	// Severity and Category come from the report's metadata.
	Severity string
	Category string
	// Time is when the event happened.
	Time time.Time
	// Event is the event that matched.
	Event event.Event
	// Actions is the rule's full response, report included.
	Actions []engine.Action
	// Anomaly is set on anomaly/host_activity detections: the model's finding.
	Anomaly *anomaly.Finding
	// Output is the report's output rendered for the event (see OutputKey), or
	// its plain text when it has no template.
	Output string
	// Edge is set on a detection a sensor made on its host (package
	// sensor/edge); EdgeActions are the actions that sensor carried out itself
	// (edge: true in the rule), which the response workflow leaves out.
	Edge        bool
	EdgeActions []string
	// Explanation says why the rule fired: its conditions evaluated on the event
	// and the earlier events of a stateful rule (engine.Match.Explain). Nil for
	// anomaly detections and for detections stored before explanations existed.
	Explanation *explain.Explanation
}

// DetectionID is the id of the detection of rule on the event with id eventID: the
// first 128 bits of SHA-256 over both, in hex.
func DetectionID(rule, eventID string) string {
	h := sha256.New()
	h.Write([]byte(rule))
	h.Write([]byte{0})
	h.Write([]byte(eventID))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// FromMatch builds the detection of a match of Engine.Process: its rule on its
// event, with the actions the match lets through and its explanation.
func FromMatch(m *engine.Match) Detection {
	d := New(m.Rule, m.Event)
	d.Actions = m.Actions
	d.Explanation = m.Explain()
	return d
}

// New builds the detection of rule r on event ev.
func New(r *engine.Rule, ev *event.Event) Detection {
	d := Detection{
		ID:       DetectionID(r.Name, ev.ID),
		Rule:     r.Name,
		Name:     r.Name,
		Severity: "info",
		Time:     time.Unix(0, ev.TimeNanos).UTC(),
		Event:    *ev,
		Actions:  r.Response,
	}
	if rep := r.Report(); rep != nil {
		d.Name = rep.Name
		d.Severity = rep.Severity()
		d.Category = rep.Metadata["category"]
		d.Output = output(r, ev)
	}
	return d
}

// output is the output of a detection of rule r on ev: its report's output
// template rendered for ev, or its plain output when it has no template (or
// the template fails).
func output(r *engine.Rule, ev *event.Event) string {
	rep := r.Report()
	if rep == nil {
		return ""
	}
	if text := rep.Metadata[OutputKey]; text != "" {
		if out, err := Output(text, ev); err == nil {
			return out
		}
	}
	return rep.Metadata["output"]
}

// jsonDetection is the wire form of a Detection: flat routing fields for
// consumers that filter (sensor_id, hostname, tags) and the event in rule-path shape.
type jsonDetection struct {
	ID          string               `json:"id"`
	Rule        string               `json:"rule"`
	Name        string               `json:"name"`
	Severity    string               `json:"severity"`
	Category    string               `json:"category,omitempty"`
	Time        time.Time            `json:"time"`
	SensorID    string               `json:"sensor_id"`
	Hostname    string               `json:"hostname"`
	Tags        []string             `json:"tags"`
	Event       map[string]any       `json:"event"`
	Actions     []string             `json:"actions,omitempty"`
	Anomaly     *anomaly.Finding     `json:"anomaly,omitempty"`
	Edge        bool                 `json:"edge,omitempty"`
	EdgeActions []string             `json:"edge_actions,omitempty"`
	Output      string               `json:"output,omitempty"`
	Explanation *explain.Explanation `json:"explanation,omitempty"`
}

// MarshalJSON writes the detection as one JSON object with the event in rule-path
// shape: {"routing": {...}, "event": {"FILE_PATH": ..., ...}}.
func (d Detection) MarshalJSON() ([]byte, error) {
	tags := d.Event.Tags
	if tags == nil {
		tags = []string{}
	}
	var actions []string
	for _, a := range d.Actions {
		if a.Action != "report" {
			actions = append(actions, a.Action)
		}
	}
	return json.Marshal(jsonDetection{
		ID: d.ID, Rule: d.Rule, Name: d.Name, Severity: d.Severity, Category: d.Category,
		Time: d.Time, SensorID: d.Event.SensorID, Hostname: d.Event.Hostname, Tags: tags,
		Event: d.Event.Tree(), Actions: actions, Anomaly: d.Anomaly, Edge: d.Edge, EdgeActions: d.EdgeActions,
		Output: d.Output, Explanation: d.Explanation,
	})
}

// UnmarshalJSON reads a detection back from its wire form (an EventBridge event's
// detail, a stored document). Actions come back as their verbs only.
func (d *Detection) UnmarshalJSON(data []byte) error {
	var j jsonDetection
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("detection: %w", err)
	}
	ev, err := event.FromTree(j.Event)
	if err != nil {
		return fmt.Errorf("detection %s: event: %w", j.ID, err)
	}
	*d = Detection{ID: j.ID, Rule: j.Rule, Name: j.Name, Severity: j.Severity, Category: j.Category, Time: j.Time, Event: ev,
		Anomaly: j.Anomaly, Edge: j.Edge, EdgeActions: j.EdgeActions, Output: j.Output, Explanation: j.Explanation}
	for _, a := range j.Actions {
		d.Actions = append(d.Actions, engine.Action{Action: a})
	}
	return nil
}
