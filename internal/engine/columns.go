package engine

import (
	"slices"
	"text/template/parse"

	"github.com/vigil-sec/vigil/internal/event"
)

// engineKeyPaths are the paths Process reads of every event besides its
// rules' (the event's identity, and the process tree of with child and with
// descendant rules), and a detection of every match.
var engineKeyPaths = []string{
	"routing/event_id", "routing/event_time", "routing/event_type", "routing/sensor_id",
	"event/PROCESS_ID", "event/PARENT_PROCESS_ID",
}

// Columns returns the top-level lake columns (event.Field.Columns) Process
// reads of an event with the engine's rules, in the order of Event's fields:
// every path its detection nodes, group bys and suppression keys read, what a
// stateful rule keeps of an event for explanations, and engineKeyPaths. A decoder
// reading only these columns (event.Decoder.Project) gives Process the same
// matches. Nil means every column: a path whose columns cannot be told apart
// (a variable of event/ENV/<NAME>), or a suppression key that is more than
// field references.
func (e *Engine) Columns() []string {
	e.columnsOnce.Do(func() { e.columns = e.readColumns() })
	return slices.Clone(e.columns)
}

func (e *Engine) readColumns() []string {
	paths := slices.Clone(engineKeyPaths)
	for _, r := range e.rules {
		paths = append(paths, r.root.explain(&event.Event{}).Paths()...)
		if r.child != nil {
			paths = append(paths, r.child.explain(&event.Event{}).Paths()...)
		}
		paths = append(paths, r.GroupBy...)
		if r.Stateful() { // what Match.Earlier keeps
			for _, f := range r.refFields {
				paths = append(paths, f.Path)
			}
		}
		for _, a := range r.Response {
			if a.Suppression == nil {
				continue
			}
			for _, t := range a.Suppression.keys {
				ps, ok := templatePaths(t.Tree)
				if !ok {
					return nil
				}
				paths = append(paths, ps...)
			}
		}
	}
	slices.Sort(paths)
	var fs []*event.Field
	for _, p := range slices.Compact(paths) {
		f, err := event.Lookup(p)
		if err != nil {
			return nil
		}
		fs = append(fs, f)
	}
	cols, ok := event.ColumnsOf(fs...)
	if !ok {
		return nil
	}
	return cols
}

// templatePaths returns the rule paths a template of field references reads
// ({{ .routing.sensor_id }}/{{ .event.FILE_PATH }} reads routing/sensor_id and
// event/FILE_PATH); ok is false for a template with anything else in its
// actions (functions, conditions, variables), whose reads are not told by
// its text.
func templatePaths(t *parse.Tree) (paths []string, ok bool) {
	if t == nil || t.Root == nil {
		return nil, false
	}
	for _, n := range t.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
		case *parse.ActionNode:
			if n.Pipe == nil || len(n.Pipe.Decl) > 0 || len(n.Pipe.Cmds) != 1 || len(n.Pipe.Cmds[0].Args) != 1 {
				return nil, false
			}
			f, isField := n.Pipe.Cmds[0].Args[0].(*parse.FieldNode)
			if !isField || len(f.Ident) < 2 {
				return nil, false
			}
			p := f.Ident[0]
			for _, id := range f.Ident[1:] {
				p += "/" + id
			}
			paths = append(paths, p)
		default:
			return nil, false
		}
	}
	return paths, true
}
