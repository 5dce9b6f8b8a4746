package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
	"go.yaml.in/yaml/v3"
)

// Rule is a compiled detection and response rule.
type Rule struct {
	// Name is the rule's identity: the file name without extension.
	Name string
	// File is where the rule was loaded from.
	File string
	// Target is what the rule evaluates; only "events" exists today.
	Target string
	// Events are the event types the rule applies to.
	Events []event.Type
	// Response is the ordered list of actions to take on a match.
	Response []Action

	root matcher
}

// Matches reports whether the event is of one of the rule's types and satisfies its
// detection.
func (r *Rule) Matches(e *event.Event) bool {
	return contains(r.Events, e.Type) && r.root.match(e)
}

// Report returns the rule's report action, or nil when the rule only acts.
func (r *Rule) Report() *Action {
	for i := range r.Response {
		if r.Response[i].Action == "report" {
			return &r.Response[i]
		}
	}
	return nil
}

// Action is one entry of a rule's response.
type Action struct {
	// Action is the verb: report, task, isolate, rejoin, kill, snapshot, notify.
	Action string
	// Name is the report name (for report).
	Name string
	// Metadata holds report metadata such as severity and category.
	Metadata map[string]string
	// Params holds the remaining keys of the action as written.
	Params map[string]any
	// Line is the action's line in its file.
	Line int
}

// Severity returns the report's severity, "info" when none is given.
func (a *Action) Severity() string {
	if s := a.Metadata["severity"]; s != "" {
		return s
	}
	return "info"
}

// Error is a rule validation error with its position.
type Error struct {
	File string
	Line int
	Rule string
	Msg  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d: rule %s: %s", e.File, e.Line, e.Rule, e.Msg)
}

// Severities lists the accepted report severities, lowest first.
var Severities = []string{"info", "low", "medium", "high", "critical"}

var knownActions = map[string]bool{
	"report": true, "task": true, "isolate": true, "rejoin": true,
	"kill": true, "snapshot": true, "notify": true, "add tag": true, "remove tag": true,
}

// Parse compiles one rule file. file is used in error messages; the rule's name is
// the file's base name without extension.
func Parse(file string, data []byte) (*Rule, error) {
	name := strings.TrimSuffix(path.Base(file), path.Ext(file))
	p := &parser{file: file, rule: name}

	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, p.errf(0, "file is empty")
		}
		return nil, p.errf(yamlLine(err), "invalid YAML: %v", err)
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, p.errf(top.Line, "want a mapping with detection: and response:, got %s", kindName(top))
	}
	keys, err := p.mapping(top, "detection", "response")
	if err != nil {
		return nil, err
	}
	det, ok := keys["detection"]
	if !ok {
		return nil, p.errf(top.Line, "missing detection:")
	}
	r := &Rule{Name: name, File: file}
	if err := p.detection(det, r); err != nil {
		return nil, err
	}
	if resp, ok := keys["response"]; ok {
		if r.Response, err = p.response(resp); err != nil {
			return nil, err
		}
	}
	if len(r.Response) == 0 {
		return nil, p.errf(top.Line, "response: needs at least one action (e.g. report)")
	}
	return r, nil
}

type parser struct {
	file, rule string
}

func (p *parser) errf(line int, format string, args ...any) error {
	return &Error{File: p.file, Line: line, Rule: p.rule, Msg: fmt.Sprintf(format, args...)}
}

// mapping returns the values of a mapping node by key, refusing keys not in allowed.
func (p *parser) mapping(n *yaml.Node, allowed ...string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n.Line, "want a mapping, got %s", kindName(n))
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !contains(allowed, k.Value) {
			return nil, p.errf(k.Line, "unknown key %q (allowed: %s)", k.Value, strings.Join(allowed, ", "))
		}
		if _, dup := out[k.Value]; dup {
			return nil, p.errf(k.Line, "key %q given twice", k.Value)
		}
		out[k.Value] = v
	}
	return out, nil
}

func (p *parser) scalar(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", p.errf(n.Line, "%s: want a single value, got %s", what, kindName(n))
	}
	return n.Value, nil
}

func (p *parser) detection(n *yaml.Node, r *Rule) error {
	keys, err := p.mapping(n, append([]string{"target", "event", "events"}, nodeKeys...)...)
	if err != nil {
		return err
	}
	r.Target = "events"
	if t, ok := keys["target"]; ok {
		if r.Target, err = p.scalar(t, "target"); err != nil {
			return err
		}
		if r.Target != "events" {
			return p.errf(t.Line, "target %q is not supported (want events)", r.Target)
		}
	}
	if ev, ok := keys["event"]; ok {
		s, err := p.scalar(ev, "event")
		if err != nil {
			return err
		}
		r.Events = append(r.Events, s)
	}
	if evs, ok := keys["events"]; ok {
		if evs.Kind != yaml.SequenceNode {
			return p.errf(evs.Line, "events: want a list of event types")
		}
		for _, ev := range evs.Content {
			s, err := p.scalar(ev, "events item")
			if err != nil {
				return err
			}
			r.Events = append(r.Events, s)
		}
	}
	if len(r.Events) == 0 {
		return p.errf(n.Line, "detection needs event: (one of %s)", strings.Join(event.Types, ", "))
	}
	for _, ev := range r.Events {
		if !event.KnownType(ev) {
			return p.errf(n.Line, "unknown event type %q (known: %s)", ev, strings.Join(event.Types, ", "))
		}
	}
	delete(keys, "target")
	delete(keys, "event")
	delete(keys, "events")
	r.root, err = p.node(n, keys, r.Events)
	return err
}

func (p *parser) response(n *yaml.Node) ([]Action, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, p.errf(n.Line, "response: want a list of actions, got %s", kindName(n))
	}
	var out []Action
	for _, item := range n.Content {
		if item.Kind != yaml.MappingNode {
			return nil, p.errf(item.Line, "response item: want a mapping with action:, got %s", kindName(item))
		}
		a := Action{Line: item.Line, Params: map[string]any{}}
		for i := 0; i+1 < len(item.Content); i += 2 {
			k, v := item.Content[i], item.Content[i+1]
			switch k.Value {
			case "action":
				s, err := p.scalar(v, "action")
				if err != nil {
					return nil, err
				}
				a.Action = s
			case "name":
				s, err := p.scalar(v, "name")
				if err != nil {
					return nil, err
				}
				a.Name = s
			case "metadata":
				md, err := p.metadata(v)
				if err != nil {
					return nil, err
				}
				a.Metadata = md
			default:
				var val any
				if err := v.Decode(&val); err != nil {
					return nil, p.errf(v.Line, "%s: %v", k.Value, err)
				}
				a.Params[k.Value] = val
			}
		}
		switch {
		case a.Action == "":
			return nil, p.errf(item.Line, "response item without action:")
		case !knownActions[a.Action]:
			return nil, p.errf(item.Line, "unknown action %q (known: %s)", a.Action, strings.Join(sortedKeys(knownActions), ", "))
		case a.Action == "report" && a.Name == "":
			return nil, p.errf(item.Line, "report needs a name:")
		}
		if sev, ok := a.Metadata["severity"]; ok && !contains(Severities, sev) {
			return nil, p.errf(item.Line, "severity %q is not one of %s", sev, strings.Join(Severities, ", "))
		}
		out = append(out, a)
	}
	return out, nil
}

func (p *parser) metadata(n *yaml.Node) (map[string]string, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n.Line, "metadata: want a mapping, got %s", kindName(n))
	}
	md := make(map[string]string, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch v.Kind {
		case yaml.ScalarNode:
			md[k.Value] = v.Value
		case yaml.SequenceNode:
			var items []string
			if err := v.Decode(&items); err != nil {
				return nil, p.errf(v.Line, "metadata %s: %v", k.Value, err)
			}
			md[k.Value] = strings.Join(items, ",")
		default:
			return nil, p.errf(v.Line, "metadata %s: want a value or a list, got %s", k.Value, kindName(v))
		}
	}
	return md, nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

func yamlLine(err error) int {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return 0
	}
	var line int
	if _, scanErr := fmt.Sscanf(err.Error(), "yaml: line %d:", &line); scanErr == nil {
		return line
	}
	return 0
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
