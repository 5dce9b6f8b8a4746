package engine

import (
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/explain"
)

// The explain methods evaluate a node again on an event and say how it came out.
// Each reports the same outcome as match (a test checks it across the pack and
// its fixtures); and and or evaluate every branch, so that all of them show.

func (n andNode) explain(e *event.Event) *explain.Condition {
	c := &explain.Condition{Op: "and", Matched: true, Rules: make([]*explain.Condition, len(n))}
	for i, m := range n {
		c.Rules[i] = m.explain(e)
		c.Matched = c.Matched && c.Rules[i].Matched
	}
	return c
}

func (n orNode) explain(e *event.Event) *explain.Condition {
	c := &explain.Condition{Op: "or", Rules: make([]*explain.Condition, len(n))}
	for i, m := range n {
		c.Rules[i] = m.explain(e)
		c.Matched = c.Matched || c.Rules[i].Matched
	}
	return c
}

func (n notNode) explain(e *event.Event) *explain.Condition {
	sub := n.m.explain(e)
	return &explain.Condition{Op: "not", Matched: !sub.Matched, Rules: []*explain.Condition{sub}}
}

// with returns a copy of the node's description with the outcome and the actual
// value.
func (d described) with(matched bool, actual any) *explain.Condition {
	c := *d.d
	c.Matched, c.Actual = matched, actual
	return &c
}

func (n *strNode) explain(e *event.Event) *explain.Condition {
	return n.with(n.match(e), n.get(e))
}

func (n *listNode) explain(e *event.Event) *explain.Condition {
	return n.with(n.match(e), listValue(n.get(e)))
}

func (n *numNode) explain(e *event.Event) *explain.Condition {
	return n.with(n.match(e), n.get(e))
}

func (n *reNode) explain(e *event.Event) *explain.Condition {
	return n.with(n.match(e), n.get(e))
}

func (n *reListNode) explain(e *event.Event) *explain.Condition {
	return n.with(n.match(e), listValue(n.get(e)))
}

func (n *strExists) explain(e *event.Event) *explain.Condition {
	return n.with(n.match(e), n.get(e))
}

func (n *numExists) explain(e *event.Event) *explain.Condition {
	return n.with(n.match(e), n.get(e))
}

func (n *listExists) explain(e *event.Event) *explain.Condition {
	return n.with(n.match(e), listValue(n.get(e)))
}

func (n *strLen) explain(e *event.Event) *explain.Condition {
	return n.with(n.match(e), int64(len(n.get(e))))
}

func (n *listLen) explain(e *event.Event) *explain.Condition {
	return n.with(n.match(e), int64(len(n.get(e))))
}

func (n *cidrNode) explain(e *event.Event) *explain.Condition {
	return n.with(n.match(e), n.get(e))
}

func (n *setNode) explain(e *event.Event) *explain.Condition {
	return n.with(n.match(e), n.get(e))
}

func (n *setListNode) explain(e *event.Event) *explain.Condition {
	return n.with(n.match(e), listValue(n.getList(e)))
}

func (n *numSetNode) explain(e *event.Event) *explain.Condition {
	return n.with(n.match(e), n.get(e))
}

// maxKeptValues bounds the expected values of in list and cidr an explanation
// holds: a shared list may be long, and detections carry explanations.
const maxKeptValues = 16

// keptValues returns the expected values an explanation holds and how many are
// left out.
func keptValues(items []string) ([]string, int) {
	if len(items) <= maxKeptValues {
		return items, 0
	}
	return items[:maxKeptValues:maxKeptValues], len(items) - maxKeptValues
}

// listValue is a list as an explanation shows it: a copy, never nil.
func listValue(l []string) []string { return append([]string{}, l...) }

// fieldValue is the value of f in ev as an EventRef keeps it.
func fieldValue(f *event.Field, ev *event.Event) any {
	switch f.Kind {
	case event.String:
		return f.Str(ev)
	case event.Number:
		return f.Num(ev)
	}
	return listValue(f.List(ev))
}

// keyPaths are kept of every earlier event, besides the paths the rule reads.
var keyPaths = []string{"event/FILE_PATH", "event/COMMAND_LINE", "event/PROCESS_ID", "event/PARENT_PROCESS_ID"}

// refFields returns the fields an EventRef of an event matching r's detection
// keeps: those its detection reads, its group by, and keyPaths, where they
// apply to every one of its event types.
func refFields(r *Rule) []*event.Field {
	paths := r.root.explain(&event.Event{}).Paths()
	paths = append(append(paths, r.GroupBy...), keyPaths...)
	var out []*event.Field
	seen := map[string]bool{}
	for _, p := range paths {
		if seen[p] {
			continue
		}
		seen[p] = true
		f, err := event.Lookup(p)
		for err == nil && f.Derived != "" { // keep what it is derived from
			f, err = event.Lookup(f.Derived)
		}
		if err != nil || seen[f.Path] && f.Path != p {
			continue
		}
		seen[f.Path] = true
		if _, ok := fromRef(explain.EventRef{Fields: map[string]any{f.Path: fieldValue(f, &event.Event{})}}); !ok {
			continue // not a field an event can be rebuilt with
		}
		applies := true
		for _, t := range r.Events {
			applies = applies && f.AppliesTo(t)
		}
		if applies {
			out = append(out, f)
		}
	}
	return out
}

// ref is what is kept of an event that matched r's detection: its id, time, type
// and key fields (see refFields) that are not zero, the strings copied out of the
// event.
func (r *Rule) ref(ev *event.Event) explain.EventRef {
	fs := make(map[string]any, len(r.refFields))
	for _, f := range r.refFields {
		// zero values are left out: the rebuilt event has them all the same
		switch v := fieldValue(f, ev).(type) {
		case string:
			if v != "" {
				fs[f.Path] = strings.Clone(v)
			}
		case int64:
			if v != 0 {
				fs[f.Path] = v
			}
		case []string:
			for i := range v {
				v[i] = strings.Clone(v[i])
			}
			if len(v) > 0 {
				fs[f.Path] = v
			}
		}
	}
	return explain.EventRef{ID: strings.Clone(ev.ID), Time: time.Unix(0, ev.TimeNanos).UTC(), Type: string(ev.Type), Fields: fs}
}

// fromRef rebuilds the part of an event a ref keeps, for its detection to be
// evaluated again; ok is false when the ref's fields do not make an event.
func fromRef(ref explain.EventRef) (event.Event, bool) {
	tree := map[string]any{}
	for p, v := range ref.Fields {
		node := tree
		parts := strings.Split(p, "/")
		for _, part := range parts[:len(parts)-1] {
			sub, ok := node[part].(map[string]any)
			if !ok {
				sub = map[string]any{}
				node[part] = sub
			}
			node = sub
		}
		node[parts[len(parts)-1]] = v
	}
	ev, err := event.FromTree(tree)
	if err != nil {
		return event.Event{}, false
	}
	ev.ID, ev.Type, ev.TimeNanos = ref.ID, event.Type(ref.Type), ref.Time.UnixNano()
	return ev, true
}

// base is the part of an explanation the rule alone gives.
func (r *Rule) base(ev *event.Event) *explain.Explanation {
	x := &explain.Explanation{Rule: r.Name, EventType: string(ev.Type), Events: typeNames(r.Events),
		With: r.With, Count: r.Count}
	if r.With != "" {
		x.ChildEvents = typeNames(r.ChildEvents)
	}
	if r.Stateful() {
		x.Within = r.Within.String()
	}
	if r.Count > 0 {
		x.GroupBy = append([]string{}, r.GroupBy...)
	}
	return x
}

func typeNames(ts []event.Type) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return out
}

// Explain evaluates the rule on ev alone, with no earlier events, and says how
// each condition came out. Matched is whether ev alone makes the rule fire: a
// stateless rule whose detection matches, a count of 1. For with child and with
// descendant both nodes are evaluated on ev (Detection as if ev were the parent,
// Child as the child) and Note says what the rule still needs; for a count above
// 1, Note says ev counts toward it. Use Match.Explain for a rule that fired
// through Process.
func (r *Rule) Explain(ev *event.Event) *explain.Explanation {
	x := r.base(ev)
	inRoot := contains(r.Events, ev.Type)
	if inRoot {
		x.Detection = r.root.explain(ev)
	}
	switch {
	case r.With != "":
		if contains(r.ChildEvents, ev.Type) {
			x.Child = r.child.explain(ev)
		}
		x.Note = "with " + r.With + ": the rule fires on an event matching the child node whose " + withWho(r.With) +
			" matched the detection within " + r.Within.String() + "; it did not fire on this event"
		if x.Detection != nil && x.Detection.Matched {
			x.Note += " (this event matches the detection: its " + r.With + " processes are watched)"
		}
	case r.Count > 1:
		x.Note = "count " + strconv.Itoa(r.Count) + " within " + r.Within.String() +
			": the rule fires when its detection matched that many times for the same group by; it did not fire on this event"
		if x.Detection != nil && x.Detection.Matched {
			x.Note += " (this event counts toward it)"
		}
	default:
		x.Matched = inRoot && x.Detection.Matched
		if !inRoot {
			x.Note = "the detection applies to " + joinTypes(r.Events) + " events, not " + string(ev.Type)
		}
	}
	return x
}

func withWho(with string) string {
	if with == "descendant" {
		return "ancestor process"
	}
	return "parent process"
}

func joinTypes(ts []event.Type) string { return strings.Join(typeNames(ts), ", ") }

// Explain says why the match's rule fired on its event: the conditions of its
// detection evaluated again on the event and, for a stateful rule, the earlier
// events that completed it (Earlier: the parent or ancestor, the counted events)
// as the State kept them, the detection of with child and with descendant
// evaluated on the parent or ancestor again from the fields kept of it. It is
// built on request, never by Process.
func (m *Match) Explain() *explain.Explanation {
	r, ev := m.Rule, m.Event
	x := r.base(ev)
	x.Matched = true
	x.Earlier = m.Earlier
	switch {
	case r.With != "":
		x.Child = r.child.explain(ev)
		if len(m.Earlier) == 0 {
			x.Note = "the " + withWho(r.With) + " was not kept by the rule state"
			break
		}
		if parent, ok := fromRef(m.Earlier[0]); ok && contains(r.Events, parent.Type) {
			x.Detection = r.root.explain(&parent)
		}
	default:
		x.Detection = r.root.explain(ev)
		if r.Count > 1 && len(m.Earlier) == 0 {
			x.Note = "the counted events were not kept by the rule state"
		}
	}
	return x
}
