package explain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Marks of a condition that matched and of one that did not.
const (
	Yes = "✓"
	No  = "✗"
)

// maxValues bounds the items of a list of expected values a line shows.
const maxValues = 8

// Text is the explanation as Write prints it.
func Text(x *Explanation) string {
	var b bytes.Buffer
	_ = Write(&b, x)
	return b.String()
}

// Write prints the explanation as an indented text tree: a summary line, the
// earlier events of a stateful rule with their key fields, then the detection
// (and the child node) with ✓ or ✗ per condition, each comparison with its
// expected and actual values, and the note.
func Write(w io.Writer, x *Explanation) error { return WriteIndent(w, x, "") }

// WriteIndent is Write with every line starting with indent.
func WriteIndent(w io.Writer, x *Explanation, indent string) error {
	p := &printer{w: w, indent: indent}
	if x == nil {
		p.line(0, "no explanation")
		return p.err
	}
	verdict := "did not match"
	if x.Matched {
		verdict = "matched"
	}
	head := fmt.Sprintf("rule %s %s %s event", x.Rule, verdict, orNone(x.EventType))
	if len(x.Events) > 0 {
		head += " (detection events: " + strings.Join(x.Events, ", ") + ")"
	}
	p.line(0, head)
	on := ""
	switch {
	case x.With != "":
		within := ""
		if x.Within != "" {
			within = " within " + x.Within
		}
		p.line(0, fmt.Sprintf("with %s%s (child events: %s)", x.With, within, strings.Join(x.ChildEvents, ", ")))
		if len(x.Earlier) > 0 {
			who := "parent process"
			if x.With == "descendant" {
				who = "ancestor process"
			}
			p.line(1, who+":")
			p.events(2, x.Earlier, false)
			on = " (on the " + who + ")"
		}
	case x.Count > 0:
		p.line(0, fmt.Sprintf("count %d within %s by %s", x.Count, x.Within, strings.Join(x.GroupBy, ", ")))
		if len(x.Earlier) > 0 {
			p.line(1, "counted events:")
			p.events(2, x.Earlier, true)
		}
	}
	if x.Detection != nil {
		p.line(0, "detection"+on+":")
		p.cond(1, x.Detection)
	}
	if x.Child != nil {
		p.line(0, "child (this event):")
		p.cond(1, x.Child)
	}
	if x.Note != "" {
		p.line(0, "note: "+x.Note)
	}
	return p.err
}

type printer struct {
	w      io.Writer
	indent string
	err    error
}

func (p *printer) line(depth int, s string) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, "%s%s%s\n", p.indent, strings.Repeat("  ", depth), s)
	}
}

// Because is the comparisons that decided how the rule's conditions came out on
// the event (Condition.Decisive of the detection and of the child node), each on
// one line (Line), joined by "; ": what a one-line report says of a fixture.
func Because(x *Explanation) string {
	if x == nil {
		return ""
	}
	var out []string
	for _, c := range append(x.Detection.Decisive(), x.Child.Decisive()...) {
		out = append(out, Line(c))
	}
	if len(out) == 0 && x.Note != "" {
		return x.Note
	}
	return strings.Join(out, "; ")
}

func (p *printer) cond(depth int, c *Condition) {
	p.line(depth, Line(c))
	for _, r := range c.Rules {
		p.cond(depth+1, r)
	}
}

func (p *printer) events(depth int, refs []EventRef, numbered bool) {
	for i, r := range refs {
		head := fmt.Sprintf("%s %s %s", orNone(r.ID), r.Time.UTC().Format("2006-01-02T15:04:05.000Z"), orNone(r.Type))
		if numbered {
			head = fmt.Sprintf("%d. %s", i+1, head)
		}
		p.line(depth, head)
		keys := make([]string, 0, len(r.Fields))
		for k := range r.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p.line(depth+2, k+": "+Format(r.Fields[k]))
		}
	}
}

// Line is one condition on one line: its mark, then for and, or and not the
// operator, for a comparison the path, the operator, the expected value and the
// event's actual value.
func Line(c *Condition) string {
	mark := No
	if c.Matched {
		mark = Yes
	}
	var b strings.Builder
	b.WriteString(mark + " ")
	switch c.Op {
	case "and", "or", "not":
		b.WriteString(c.Op)
		return b.String()
	case "is tagged":
		fmt.Fprintf(&b, "is tagged %s", strconv.Quote(c.Value))
	case "exists":
		fmt.Fprintf(&b, "%s exists", c.Path)
	case "length of":
		fmt.Fprintf(&b, "length of %s %s %s", c.Path, orDefault(c.Compare, "is"), c.Value)
	case "matches":
		fmt.Fprintf(&b, "%s matches /%s/", c.Path, c.Value)
	case "in list", "cidr":
		fmt.Fprintf(&b, "%s %s ", c.Path, c.Op)
		if c.List != "" {
			fmt.Fprintf(&b, "%s ", c.List)
		}
		b.WriteString(values(c.Values, c.ValuesLeftOut))
	case "is greater than", "is lower than":
		fmt.Fprintf(&b, "%s %s %s", c.Path, c.Op, c.Value)
	default:
		v := strconv.Quote(c.Value)
		if isNumber(c.Actual) {
			v = c.Value
		}
		fmt.Fprintf(&b, "%s %s %s", c.Path, c.Op, v)
	}
	if c.IgnoreCase {
		b.WriteString(" (ignoring case)")
	}
	what := "actual"
	if c.Op == "length of" {
		what = "actual length"
	}
	fmt.Fprintf(&b, ": %s %s", what, Format(c.Actual))
	return b.String()
}

// values prints expected values as a list, the first maxValues of them, and how
// many more there are (leftOut were left out already).
func values(vs []string, leftOut int) string {
	shown := vs
	if len(shown) > maxValues {
		shown = shown[:maxValues]
	}
	q := make([]string, len(shown))
	for i, v := range shown {
		q[i] = strconv.Quote(v)
	}
	s := "[" + strings.Join(q, ", ")
	if n := len(vs) - len(shown) + leftOut; n > 0 {
		s += fmt.Sprintf(", … %d more", n)
	}
	return s + "]"
}

// Format prints a field value: a string quoted, a number as it is, a list of
// strings as ["a", "b"], nil as none.
func Format(v any) string {
	switch x := v.(type) {
	case nil:
		return "none"
	case string:
		return strconv.Quote(x)
	case []string:
		q := make([]string, len(x))
		for i, s := range x {
			q[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	case []any:
		q := make([]string, len(x))
		for i, s := range x {
			q[i] = Format(s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	}
	return fmt.Sprint(v)
}

func isNumber(v any) bool {
	switch v.(type) {
	case int64, int, float64, json.Number:
		return true
	}
	return false
}

func orNone(s string) string { return orDefault(s, "(none)") }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
