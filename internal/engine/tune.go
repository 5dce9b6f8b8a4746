package engine

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Exception is a case excluded from a rule (a tuning file's exception): the events
// its detection node matches are not matches of the rule.
type Exception struct {
	// Name names the exception in messages and in `vigil rules validate`.
	Name string
	// File and Line say where the exception is written.
	File string
	Line int
	// Node is a detection node of the rule language (op: or macro:, rules:, not:,
	// case sensitive:) without event types: it takes the rule's.
	Node *yaml.Node
	// Text is a one-line summary of Node for listings ("event/FILE_PATH starts with
	// /tmp/go-build"); the engine keeps it as it is.
	Text string
}

// WithException returns a copy of r that no longer matches the events ex.Node
// matches. The node is compiled on the event types of the event a detection is
// raised on (the rule's; for with child and with descendant, the child's) and joined
// to that node as `and not`: a stateless rule does not fire on an excepted event, a
// count rule does not count it, a with child rule does not fire on an excepted
// child. Lists and macros resolve in lib (nil: none). Errors name ex.File, the line,
// the rule and the exception. r itself is not changed.
func (r *Rule) WithException(ex Exception, lib *Library) (*Rule, error) {
	p := newParser(ex.File, r.Name, lib)
	p.prefix = "exception " + ex.Name + ": "
	if ex.Node == nil {
		return nil, p.errf(ex.Line, "no detection node")
	}
	if ex.Node.Kind != yaml.MappingNode {
		return nil, p.errf(ex.Node.Line, "want a detection node (a mapping with op:), got %s", kindName(ex.Node))
	}
	for i := 0; i+1 < len(ex.Node.Content); i += 2 {
		if k := ex.Node.Content[i].Value; contains(rootKeys, k) {
			return nil, p.errf(ex.Node.Content[i].Line, "an exception has no %s: (it takes the rule's event types)", k)
		}
	}
	keys, err := p.mapping(ex.Node, nodeKeys...)
	if err != nil {
		return nil, err
	}
	events := r.Events
	if r.With != "" {
		events = r.ChildEvents
	}
	m, err := p.node(ex.Node, keys, scope{events: events})
	if err != nil {
		return nil, err
	}
	c := *r
	if r.With != "" {
		c.child = except(r.child, m)
	} else {
		c.root = except(r.root, m)
	}
	c.exceptions = append(slices.Clip(r.exceptions), ex)
	return &c, nil
}

// except is base and not ex, flattened.
func except(base, ex matcher) matcher {
	var neg matcher = notNode{ex}
	if n, ok := ex.(notNode); ok {
		neg = n.m
	}
	if a, ok := base.(andNode); ok {
		return append(slices.Clip(a), neg)
	}
	return andNode{base, neg}
}

// Exceptions returns the exceptions added to the rule (WithException), in order.
func (r *Rule) Exceptions() []Exception { return slices.Clip(r.exceptions) }

// WithSeverity returns a copy of r whose report has severity sev, one of Severities;
// action conditions (severity >= high) then compare with it. A rule without a report
// gets one named after the rule, the name its detections already had. r itself is
// not changed.
func (r *Rule) WithSeverity(sev string) (*Rule, error) {
	if !contains(Severities, sev) {
		return nil, fmt.Errorf("rule %s: severity %q is not one of %s", r.Name, sev, strings.Join(Severities, ", "))
	}
	c := *r
	c.Response = slices.Clone(r.Response)
	rep := c.Report()
	if rep == nil {
		c.Response = slices.Insert(c.Response, 0, Action{Action: ActReport, Line: r.Line, Name: r.Name})
		rep = &c.Response[0]
	}
	rep.Metadata = maps.Clone(rep.Metadata)
	if rep.Metadata == nil {
		rep.Metadata = map[string]string{}
	}
	rep.Metadata["severity"] = sev
	c.severity = severityRank(sev)
	return &c, nil
}
