package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
	"go.yaml.in/yaml/v3"
)

// ParseEvents reads events in rule-path shape ({routing: {...}, event: {...}}, as
// fixtures hold them) from data, JSON or YAML: one event (an object) or a list
// of them. Events without routing/event_type get defaultType. The data is
// untrusted: errors name file, the line and the field, and nothing it holds makes
// ParseEvents panic.
func ParseEvents(file string, data []byte, defaultType event.Type) ([]event.Event, error) {
	if t := bytes.TrimSpace(data); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		// JSON: its own parser places syntax errors better than YAML's
		var v any
		var se *json.SyntaxError
		if err := json.Unmarshal(data, &v); errors.As(err, &se) {
			return nil, fmt.Errorf("%s:%d: not valid JSON: %w", file, 1+bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n")), err)
		}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s:%d: not JSON or YAML: %w", file, yamlLine(err), err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: no events", file)
	}
	top := doc.Content[0]
	items := []*yaml.Node{top}
	switch top.Kind {
	case yaml.SequenceNode:
		items = top.Content
	case yaml.MappingNode:
	default:
		return nil, fmt.Errorf("%s:%d: want an event (an object with routing and event) or a list of events, got %s", file, top.Line, kindName(top))
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%s:%d: no events", file, top.Line)
	}
	events := make([]event.Event, 0, len(items))
	for i, it := range items {
		where := fmt.Sprintf("%s:%d: event %d", file, it.Line, i)
		if it.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s: want an object with routing and event, got %s", where, kindName(it))
		}
		if err := checkLeaves(it, ""); err != nil {
			var le *leafError
			if errors.As(err, &le) {
				return nil, fmt.Errorf("%s:%d: event %d: %s", file, le.line, i, le.msg)
			}
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		var tree map[string]any
		if err := it.Decode(&tree); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		ev, err := event.FromTree(tree)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if ev.Type == "" {
			ev.Type = defaultType
		}
		events = append(events, ev)
	}
	return events, nil
}

// leafError is a field of an event file that does not make an event, at its line.
type leafError struct {
	line int
	msg  string
}

func (e *leafError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// checkLeaves builds an event from each field under n on its own, so that an
// error names the field's line.
func checkLeaves(n *yaml.Node, prefix string) error {
	if n.Kind != yaml.MappingNode {
		return &leafError{n.Line, fmt.Sprintf("%s: want an object, got %s", orRoot(prefix), kindName(n))}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return &leafError{k.Line, fmt.Sprintf("%s: a key must be a name, got %s", orRoot(prefix), kindName(k))}
		}
		path := k.Value
		if prefix != "" {
			path = prefix + "/" + k.Value
		}
		if prefix == "" && v.Kind != yaml.MappingNode {
			return &leafError{v.Line, fmt.Sprintf("%s: want an object, got %s", path, kindName(v))}
		}
		if v.Kind == yaml.MappingNode && path != "event/ANCESTORS" {
			if err := checkLeaves(v, path); err != nil {
				return err
			}
			continue
		}
		var val any
		if err := v.Decode(&val); err != nil {
			return &leafError{v.Line, fmt.Sprintf("%s: %v", path, err)}
		}
		tree := map[string]any{}
		node := tree
		parts := strings.Split(path, "/")
		for _, part := range parts[:len(parts)-1] {
			sub := map[string]any{}
			node[part] = sub
			node = sub
		}
		node[parts[len(parts)-1]] = val
		if _, err := event.FromTree(tree); err != nil {
			return &leafError{k.Line, err.Error()}
		}
	}
	return nil
}

func orRoot(prefix string) string {
	if prefix == "" {
		return "the event"
	}
	return prefix
}
