package explain

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Detection is what WriteDetection prints of a detection: its wire form's fields
// (the API's, package detect's JSON), the event in rule-path shape.
type Detection struct {
	ID, Rule, Name, Severity, Category string
	Time                               time.Time
	SensorID, Hostname                 string
	Tags, Actions                      []string
	Output                             string
	Edge                               bool
	Event                              map[string]any
	Explanation                        *Explanation
}

// KeyPaths are the event fields WriteDetection shows when the event has them,
// besides the paths the explanation's conditions read.
var KeyPaths = []string{
	"routing/event_type", "routing/event_id",
	"event/FILE_PATH", "event/COMMAND_LINE", "event/PROCESS_ID", "event/PARENT_PROCESS_ID", "event/USER",
	"event/PARENT/FILE_PATH", "event/PARENT/COMMAND_LINE",
	"event/TARGET/FILE_PATH", "event/DOMAIN_NAME", "event/DESTINATION/IP_ADDRESS", "event/DESTINATION/PORT",
}

// WriteDetection prints a detection for triage: its identity and where it
// happened, its key fields (KeyPaths and the paths its conditions read, those the
// event has), then why it fired (Write).
func WriteDetection(w io.Writer, d *Detection) error {
	p := &printer{w: w}
	p.line(0, "detection "+d.ID)
	name := d.Rule
	if d.Name != "" && d.Name != d.Rule {
		name += " (" + d.Name + ")"
	}
	where := orNone(d.SensorID)
	if d.Hostname != "" {
		where += " (" + d.Hostname + ")"
	}
	if d.Edge {
		where += ", detected on the sensor"
	}
	rows := [][2]string{
		{"rule", name}, {"severity", d.Severity}, {"category", d.Category},
		{"time", d.Time.UTC().Format(time.RFC3339Nano)}, {"sensor", where},
		{"tags", strings.Join(d.Tags, ", ")}, {"actions", strings.Join(d.Actions, ", ")}, {"output", d.Output},
	}
	for _, r := range rows {
		if r[1] != "" {
			p.line(1, fmt.Sprintf("%-9s %s", r[0]+":", r[1]))
		}
	}
	paths := slices.Clone(KeyPaths)
	if x := d.Explanation; x != nil {
		paths = append(paths, x.Detection.Paths()...)
		paths = append(paths, x.Child.Paths()...)
	}
	var fields []string
	seen := map[string]bool{}
	for _, path := range paths {
		if v, ok := lookup(d.Event, path); ok && !seen[path] && !zero(v) {
			seen[path] = true
			fields = append(fields, path+": "+Format(v))
		}
	}
	if len(fields) > 0 {
		p.line(0, "key fields:")
		for _, f := range fields {
			p.line(1, f)
		}
	}
	if p.err != nil {
		return p.err
	}
	if d.Explanation == nil {
		p.line(0, "why it fired: no explanation (an anomaly detection, or one stored before detections carried explanations)")
		return p.err
	}
	p.line(0, "why it fired:")
	if p.err != nil {
		return p.err
	}
	return WriteIndent(w, d.Explanation, "  ")
}

// lookup finds a rule path in an event in rule-path shape.
func lookup(tree map[string]any, path string) (any, bool) {
	parts := strings.Split(path, "/")
	node := tree
	for _, part := range parts[:len(parts)-1] {
		sub, ok := node[part].(map[string]any)
		if !ok {
			return nil, false
		}
		node = sub
	}
	v, ok := node[parts[len(parts)-1]]
	return v, ok
}

func zero(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case []string:
		return len(x) == 0
	case float64:
		return x == 0
	}
	return Format(v) == "0"
}
