package engine

import (
	"github.com/vigil-sec/vigil/internal/event"
	"go.yaml.in/yaml/v3"
)

// Where is a detection node compiled on its own, outside a rule: the
// condition of a search over stored events (package search). It is the node a
// rule's detection: holds, with the same operators, paths, case handling and
// errors, so that a search and a rule agree on what matches.
type Where struct {
	// Events are the event types named by event: or events: at the top of
	// the condition; nil when it names none (every type).
	Events []event.Type
	// Node is the condition's YAML, for compilers to other query languages;
	// it was validated when the condition was compiled.
	Node *yaml.Node

	root matcher
}

// conditionKeys are the keys of a condition's top node: a node's, and the
// event types it applies to.
var conditionKeys = append([]string{"event", "events"}, nodeKeys...)

// ParseWhere compiles a detection node written in YAML (block or flow
// form: {op: contains, path: event/COMMAND_LINE, value: curl}). The top node
// may name event: or events:; stateful keys (with child, count) and shared
// lists and macros are refused. Errors name source (a file name or a flag)
// and the line, as rule errors do.
func ParseWhere(source string, data []byte) (*Where, error) {
	p := newParser(source, "", nil)
	top, err := p.document(data)
	if err != nil {
		return nil, err
	}
	keys, err := p.mapping(top, conditionKeys...)
	if err != nil {
		return nil, err
	}
	c := &Where{Node: top}
	_, named := keys["event"]
	if _, ok := keys["events"]; ok {
		named = true
	}
	if named {
		if c.Events, err = p.eventTypes(top, keys, nil); err != nil {
			return nil, err
		}
	}
	if c.root, err = p.node(top, keys, scope{events: c.Events}); err != nil {
		return nil, err
	}
	return c, nil
}

// Match reports whether e is of one of the condition's event types (any when
// it names none) and satisfies its node.
func (c *Where) Match(e *event.Event) bool {
	if c.Events != nil && !contains(c.Events, e.Type) {
		return false
	}
	return c.root.match(e)
}
