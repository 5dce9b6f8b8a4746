package engine

import (
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
	"go.yaml.in/yaml/v3"
)

// nodeKeys are the keys of a detection node (the detection itself is a node too).
var nodeKeys = []string{"op", "path", "value", "rules", "case sensitive", "not"}

// matcher is a compiled detection node.
type matcher interface {
	match(e *event.Event) bool
}

type andNode []matcher

func (n andNode) match(e *event.Event) bool {
	for _, m := range n {
		if !m.match(e) {
			return false
		}
	}
	return true
}

type orNode []matcher

func (n orNode) match(e *event.Event) bool {
	for _, m := range n {
		if m.match(e) {
			return true
		}
	}
	return false
}

type notNode struct{ m matcher }

func (n notNode) match(e *event.Event) bool { return !n.m.match(e) }

// strOp compares one string with the rule's value; fold means case-insensitive.
type strOp func(s, value string, fold bool) bool

var stringOps = map[string]strOp{
	"is": func(s, v string, fold bool) bool {
		if fold {
			return strings.EqualFold(s, v)
		}
		return s == v
	},
	"contains": func(s, v string, fold bool) bool {
		if fold {
			return indexFold(s, v) >= 0
		}
		return strings.Contains(s, v)
	},
	"starts with": func(s, v string, fold bool) bool {
		if len(s) < len(v) {
			return false
		}
		if fold {
			return strings.EqualFold(s[:len(v)], v)
		}
		return s[:len(v)] == v
	},
	"ends with": func(s, v string, fold bool) bool {
		if len(s) < len(v) {
			return false
		}
		if fold {
			return strings.EqualFold(s[len(s)-len(v):], v)
		}
		return s[len(s)-len(v):] == v
	},
}

type strNode struct {
	get   func(*event.Event) string
	op    strOp
	value string
	fold  bool
}

func (n *strNode) match(e *event.Event) bool { return n.op(n.get(e), n.value, n.fold) }

type listNode struct {
	get   func(*event.Event) []string
	op    strOp
	value string
	fold  bool
}

func (n *listNode) match(e *event.Event) bool {
	for _, s := range n.get(e) {
		if n.op(s, n.value, n.fold) {
			return true
		}
	}
	return false
}

type numIsNode struct {
	get   func(*event.Event) int64
	value int64
}

func (n *numIsNode) match(e *event.Event) bool { return n.get(e) == n.value }

// node compiles one detection node given its keys.
func (p *parser) node(n *yaml.Node, keys map[string]*yaml.Node, events []event.Type) (matcher, error) {
	opNode, ok := keys["op"]
	if !ok {
		return nil, p.errf(n.Line, "node without op:")
	}
	op, err := p.scalar(opNode, "op")
	if err != nil {
		return nil, err
	}
	negate := false
	if nn, ok := keys["not"]; ok {
		if err := nn.Decode(&negate); err != nil {
			return nil, p.errf(nn.Line, "not: want true or false, got %q", nn.Value)
		}
	}
	fold := false
	if cs, ok := keys["case sensitive"]; ok {
		sensitive := true
		if err := cs.Decode(&sensitive); err != nil {
			return nil, p.errf(cs.Line, "case sensitive: want true or false, got %q", cs.Value)
		}
		fold = !sensitive
	}

	var m matcher
	switch op {
	case "and", "or":
		m, err = p.boolNode(op, n, keys, events)
	default:
		sop, ok := stringOps[op]
		if !ok {
			return nil, p.errf(opNode.Line, "unknown op %q (known: and, or, %s)", op, strings.Join(sortedKeys(stringOps), ", "))
		}
		m, err = p.leaf(op, sop, fold, n, keys, events)
	}
	if err != nil {
		return nil, err
	}
	if negate {
		m = notNode{m}
	}
	return m, nil
}

func (p *parser) boolNode(op string, n *yaml.Node, keys map[string]*yaml.Node, events []event.Type) (matcher, error) {
	for _, k := range []string{"path", "value"} {
		if v, ok := keys[k]; ok {
			return nil, p.errf(v.Line, "op %s takes rules:, not %s:", op, k)
		}
	}
	rs, ok := keys["rules"]
	if !ok || rs.Kind != yaml.SequenceNode || len(rs.Content) == 0 {
		return nil, p.errf(n.Line, "op %s needs a non-empty list under rules:", op)
	}
	children := make([]matcher, 0, len(rs.Content))
	for _, c := range rs.Content {
		ck, err := p.mapping(c, nodeKeys...)
		if err != nil {
			return nil, err
		}
		m, err := p.node(c, ck, events)
		if err != nil {
			return nil, err
		}
		children = append(children, m)
	}
	if op == "and" {
		return andNode(children), nil
	}
	return orNode(children), nil
}

func (p *parser) leaf(op string, sop strOp, fold bool, n *yaml.Node, keys map[string]*yaml.Node, events []event.Type) (matcher, error) {
	if rs, ok := keys["rules"]; ok {
		return nil, p.errf(rs.Line, "op %s takes path: and value:, not rules:", op)
	}
	pn, ok := keys["path"]
	if !ok {
		return nil, p.errf(n.Line, "op %s needs path:", op)
	}
	path, err := p.scalar(pn, "path")
	if err != nil {
		return nil, err
	}
	f, err := event.Lookup(path)
	if err != nil {
		return nil, p.errf(pn.Line, "%v", err)
	}
	for _, t := range events {
		if !f.AppliesTo(t) {
			return nil, p.errf(pn.Line, "path %s is not part of %s events", path, t)
		}
	}
	vn, ok := keys["value"]
	if !ok {
		return nil, p.errf(n.Line, "op %s needs value:", op)
	}
	value, err := p.scalar(vn, "value")
	if err != nil {
		return nil, err
	}
	switch f.Kind {
	case event.String:
		return &strNode{get: f.Str, op: sop, value: value, fold: fold}, nil
	case event.StringList:
		return &listNode{get: f.List, op: sop, value: value, fold: fold}, nil
	case event.Number:
		if op != "is" {
			return nil, p.errf(n.Line, "op %s does not apply to the number at %s (use is)", op, path)
		}
		v, err := strconv.ParseInt(value, 0, 64)
		if err != nil {
			return nil, p.errf(vn.Line, "value %q: %s is a number", value, path)
		}
		return &numIsNode{get: f.Num, value: v}, nil
	}
	return nil, p.errf(pn.Line, "path %s has unsupported kind %s", path, f.Kind)
}

// indexFold is strings.Index ignoring case, without allocating.
func indexFold(s, sub string) int {
	if sub == "" {
		return 0
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}
