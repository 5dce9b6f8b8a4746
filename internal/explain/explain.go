package explain

import "time"

// Explanation says why a rule fired on an event (Matched), or why it did not.
type Explanation struct {
	// Rule is the rule's name.
	Rule string `json:"rule"`
	// Matched is whether the rule fired on the event.
	Matched bool `json:"matched"`
	// EventType is the type of the event explained; Events are the types the
	// rule's detection applies to.
	EventType string   `json:"event_type"`
	Events    []string `json:"events,omitempty"`
	// Detection is the rule's detection (its root node) evaluated on the event;
	// for with child and with descendant, once the rule fired, on the parent or
	// ancestor that completed it (Earlier), evaluated again from the fields kept
	// of it. Nil when the detection's event types leave the event out.
	Detection *Condition `json:"detection,omitempty"`
	// With is "child" or "descendant" for those rules; Child is their second node
	// evaluated on the event (nil when its event types leave the event out), and
	// ChildEvents its event types.
	With        string     `json:"with,omitempty"`
	ChildEvents []string   `json:"child_events,omitempty"`
	Child       *Condition `json:"child,omitempty"`
	// Count, Within and GroupBy are the rule's: it fires when its detection
	// matched Count times within Within for the same values of GroupBy.
	Count   int      `json:"count,omitempty"`
	Within  string   `json:"within,omitempty"`
	GroupBy []string `json:"group_by,omitempty"`
	// Earlier are the earlier events that completed a stateful rule: the parent
	// or ancestor process (with child, with descendant), the counted events
	// oldest first, the last being the event itself (count).
	Earlier []EventRef `json:"earlier,omitempty"`
	// Note says what the conditions alone do not: why a stateful rule did not
	// fire, or that the earlier events were not kept.
	Note string `json:"note,omitempty"`
}

// Condition is one node of a rule's detection evaluated on an event.
type Condition struct {
	// Op is the node's operator: and, or, not, or a comparison (is, contains,
	// starts with, ends with, matches, exists, is greater than, is lower than,
	// length of, cidr, in list, is tagged).
	Op string `json:"op"`
	// Matched is whether the node matched the event.
	Matched bool `json:"matched"`
	// Path is the rule path a comparison reads (routing/tags for is tagged).
	Path string `json:"path,omitempty"`
	// Value is the expected value of is, contains, starts with, ends with, is
	// greater than, is lower than and length of, the regular expression of
	// matches and the tag of is tagged.
	Value string `json:"value,omitempty"`
	// Compare is how length of compares (is, is greater than, is lower than).
	Compare string `json:"compare,omitempty"`
	// List names the shared list of in list; Values are its items, the values:
	// of in list or the prefixes of cidr.
	List   string   `json:"list,omitempty"`
	Values []string `json:"values,omitempty"`
	// ValuesLeftOut counts the items of a long list left out of Values.
	ValuesLeftOut int `json:"values_left_out,omitempty"`
	// IgnoreCase is set on string comparisons made without regard to case.
	IgnoreCase bool `json:"ignore_case,omitempty"`
	// Actual is the event's value at Path: a string, an integer or a list of
	// strings (the length for length of); nil for and, or and not.
	Actual any `json:"actual,omitempty"`
	// Rules are the nodes under and, or and not, in the rule's order.
	Rules []*Condition `json:"rules,omitempty"`
}

// EventRef is an earlier event a stateful rule's match rests on: its id, time,
// type and key fields (the paths the rule's detection reads, its group by, and
// the process's executable, command line and id).
type EventRef struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
	Type string    `json:"type"`
	// Fields maps rule paths to values: a string, an integer or a list of strings.
	Fields map[string]any `json:"fields,omitempty"`
}

// Paths returns the rule paths the comparisons under c read, each once, in the
// order met.
func (c *Condition) Paths() []string {
	var out []string
	seen := map[string]bool{}
	var walk func(c *Condition)
	walk = func(c *Condition) {
		if c == nil {
			return
		}
		if c.Path != "" && !seen[c.Path] {
			seen[c.Path] = true
			out = append(out, c.Path)
		}
		for _, r := range c.Rules {
			walk(r)
		}
	}
	walk(c)
	return out
}

// Decisive returns the comparisons under c that decided its outcome, depth first:
// when c did not match, those that did not match under and, every one under or,
// those that matched under not; when it matched, the other way around.
func (c *Condition) Decisive() []*Condition {
	if c == nil {
		return nil
	}
	return decisive(c, c.Matched)
}

// decisive returns the comparisons under c that made it come out as want; nil
// when it did not.
func decisive(c *Condition, want bool) []*Condition {
	if c == nil || c.Matched == !want {
		return nil
	}
	switch c.Op {
	case "and", "or":
		var out []*Condition
		for _, r := range c.Rules {
			out = append(out, decisive(r, want)...)
		}
		return out
	case "not":
		if len(c.Rules) == 1 {
			return decisive(c.Rules[0], !want)
		}
	}
	return []*Condition{c}
}
