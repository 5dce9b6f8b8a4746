package importer

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Ops of the D&R rule language the importers emit, and two constants the
// converters fold away before printing.
const (
	OpAnd       = "and"
	OpOr        = "or"
	OpIs        = "is"
	OpContains  = "contains"
	OpStarts    = "starts with"
	OpEnds      = "ends with"
	OpMatches   = "matches"
	OpExists    = "exists"
	OpGreater   = "is greater than"
	OpLower     = "is lower than"
	OpCIDR      = "cidr"
	OpInList    = "in list"
	opTrue      = "true"
	opFalse     = "false"
	alwaysPath  = "routing/event_type"
	maxNodeSize = 1 << 16
)

// Node is one D&R detection node. Leaves carry Path and the op's operand (Value
// for is/contains/starts with/ends with/is greater than/is lower than, Values for
// in list, Re for matches, CIDR for cidr); and/or carry Rules. Value and Values
// items are strings or int64 (numbers on number paths).
type Node struct {
	Op     string
	Path   string
	Value  any
	Values []any
	Re     string
	CIDR   []string
	Rules  []*Node
	Not    bool
	// Fold makes a string comparison case-insensitive (case sensitive: false).
	Fold bool
}

// True is a node that always holds; False one that never does. Both are folded
// away by Simplify; a rule whose detection simplifies to True matches every event
// of its types, one that simplifies to False is an error for the converter.
func True() *Node  { return &Node{Op: opTrue} }
func False() *Node { return &Node{Op: opFalse} }

// IsTrue and IsFalse report whether n is the constant true or false.
func (n *Node) IsTrue() bool  { return n.Op == opTrue && !n.Not || n.Op == opFalse && n.Not }
func (n *Node) IsFalse() bool { return n.Op == opFalse && !n.Not || n.Op == opTrue && n.Not }

// Leaf builds a comparison node.
func Leaf(op, path string, value any) *Node { return &Node{Op: op, Path: path, Value: value} }

// And and Or combine nodes; Negate flips a node (returning a copy).
func And(ns ...*Node) *Node { return &Node{Op: OpAnd, Rules: ns} }
func Or(ns ...*Node) *Node  { return &Node{Op: OpOr, Rules: ns} }
func Negate(n *Node) *Node {
	c := *n
	c.Not = !c.Not
	return &c
}

// Simplify folds constants (x and false = false, x or true = true, ...), flattens
// nested and/or of the same op and drops single-child and/or.
func Simplify(n *Node) *Node {
	switch n.Op {
	case opTrue, opFalse:
		if n.IsTrue() {
			return True()
		}
		return False()
	case OpAnd, OpOr:
	default:
		return n
	}
	isAnd := n.Op == OpAnd
	var kids []*Node
	for _, c := range n.Rules {
		c = Simplify(c)
		switch {
		case c.IsTrue() && isAnd, c.IsFalse() && !isAnd:
			continue // neutral element
		case c.IsFalse() && isAnd:
			return constant(false, n.Not)
		case c.IsTrue() && !isAnd:
			return constant(true, n.Not)
		case c.Op == n.Op && !c.Not:
			kids = append(kids, c.Rules...)
		default:
			kids = append(kids, c)
		}
	}
	switch len(kids) {
	case 0:
		return constant(isAnd, n.Not)
	case 1:
		k := *kids[0]
		if n.Not {
			k.Not = !k.Not
		}
		return &k
	}
	return &Node{Op: n.Op, Rules: kids, Not: n.Not}
}

func constant(v, not bool) *Node {
	if v != not {
		return True()
	}
	return False()
}

// Size counts the nodes of a tree; converters refuse trees beyond a sane size
// (a macro expanded into itself many times over).
func (n *Node) Size() int {
	s := 1
	for _, c := range n.Rules {
		s += c.Size()
	}
	return s
}

// MaxSize is the largest detection tree a converter emits.
const MaxSize = maxNodeSize

// Report is the report action of a converted rule. Metadata keeps its order; a value
// is a string or a []string.
type Report struct {
	Name     string
	Metadata []KV
}

// KV is one metadata entry.
type KV struct {
	Key   string
	Value any
}

// Doc is one D&R rule document.
type Doc struct {
	// Comment is written above the document (one or more lines, without "# ").
	Comment   string
	Events    []string
	Detection *Node
	Report    Report
}

// Marshal prints the document as D&R YAML. The detection must not be the constant
// false; the constant true becomes a node that holds for every event
// (routing/event_type exists).
func (d *Doc) Marshal() ([]byte, error) {
	det := Simplify(d.Detection)
	if det.IsFalse() {
		return nil, fmt.Errorf("detection never matches")
	}
	if det.IsTrue() {
		det = Leaf(OpExists, alwaysPath, nil)
	}
	root := mapping()
	detNode := mapping()
	if len(d.Events) == 1 {
		add(detNode, "event", str(d.Events[0]))
	} else {
		seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, e := range d.Events {
			seq.Content = append(seq.Content, str(e))
		}
		add(detNode, "events", seq)
	}
	if err := fillNode(detNode, det); err != nil {
		return nil, err
	}
	add(root, "detection", detNode)
	rep := mapping()
	add(rep, "action", str("report"))
	add(rep, "name", str(d.Report.Name))
	if len(d.Report.Metadata) > 0 {
		md := mapping()
		for _, kv := range d.Report.Metadata {
			switch v := kv.Value.(type) {
			case string:
				add(md, kv.Key, str(v))
			case []string:
				seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
				for _, s := range v {
					seq.Content = append(seq.Content, str(s))
				}
				add(md, kv.Key, seq)
			default:
				return nil, fmt.Errorf("metadata %s: unsupported value %T", kv.Key, kv.Value)
			}
		}
		add(rep, "metadata", md)
	}
	add(root, "response", &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{rep}})
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}
	if d.Comment != "" {
		var lines []string
		for _, l := range strings.Split(strings.TrimRight(d.Comment, "\n"), "\n") {
			lines = append(lines, "# "+l)
		}
		root.HeadComment = strings.Join(lines, "\n")
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("print rule: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("print rule: %w", err)
	}
	return buf.Bytes(), nil
}

func fillNode(m *yaml.Node, n *Node) error {
	if n.Op == opTrue || n.Op == opFalse {
		return fmt.Errorf("constant %s inside a detection (simplify first)", n.Op)
	}
	add(m, "op", str(n.Op))
	if n.Path != "" {
		add(m, "path", str(n.Path))
	}
	switch n.Op {
	case OpAnd, OpOr:
		seq := &yaml.Node{Kind: yaml.SequenceNode}
		for _, c := range n.Rules {
			cm := mapping()
			if err := fillNode(cm, c); err != nil {
				return err
			}
			seq.Content = append(seq.Content, cm)
		}
		add(m, "rules", seq)
	case OpMatches:
		add(m, "re", str(n.Re))
	case OpCIDR:
		if len(n.CIDR) == 1 {
			add(m, "cidr", str(n.CIDR[0]))
		} else {
			seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
			for _, c := range n.CIDR {
				seq.Content = append(seq.Content, str(c))
			}
			add(m, "cidr", seq)
		}
	case OpInList:
		seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, v := range n.Values {
			seq.Content = append(seq.Content, scalar(v))
		}
		add(m, "values", seq)
	case OpExists:
	default:
		add(m, "value", scalar(n.Value))
	}
	if n.Fold {
		add(m, "case sensitive", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "false"})
	}
	if n.Not {
		add(m, "not", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	}
	return nil
}

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }

func add(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, str(key), v)
}

func str(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func scalar(v any) *yaml.Node {
	switch x := v.(type) {
	case int64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(x, 10)}
	case int:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(x)}
	case string:
		return str(x)
	}
	return str(fmt.Sprint(v))
}
