package sigma

import (
	"errors"
	"fmt"
	"strings"

	"github.com/vigil-sec/vigil/internal/importer"
	"go.yaml.in/yaml/v3"
)

// context is one kind of event a rule's condition is translated for: a Vigil event
// type and what each Sigma field means on it. A context with a refusal stands for
// log records Vigil has no events for: if the condition can hold on them, the rule
// is refused with the reason.
type context struct {
	event string
	// base holds for every event of the context (a file_event is an open that
	// created or truncated the file); nil when there is nothing to add.
	base *importer.Node
	// field says what a field means; keyword what keyword searches search.
	field   func(name string) target
	keyword target
	refusal string
	// syscall is the syscall an auditd SYSCALL record stands for ("*" for any, ""
	// on other contexts).
	syscall string
}

// result is a translated operand, or why it could not be translated.
type result struct {
	n   *importer.Node
	err error
}

// combine ands (and is true) or ors the operands. An operand that decides the
// result on its own (false in an and, true in an or) makes it, whatever the
// others are, errors included: a field Vigil lacks does not matter in a search
// that cannot hold on the record anyway. Otherwise the first error is returned.
func combine(and bool, rs []result) (*importer.Node, error) {
	var kids []*importer.Node
	var first error
	for _, r := range rs {
		switch {
		case r.err != nil:
			if first == nil {
				first = r.err
			}
		case and && r.n.IsFalse():
			return importer.False(), nil
		case !and && r.n.IsTrue():
			return importer.True(), nil
		default:
			kids = append(kids, r.n)
		}
	}
	if first != nil {
		return nil, first
	}
	if and {
		return importer.Simplify(importer.And(kids...)), nil
	}
	return importer.Simplify(importer.Or(kids...)), nil
}

// expr translates a condition for the events of ctx.
func (c *ruleConv) expr(e cexpr, searches map[string]*yaml.Node, ctx *context) (*importer.Node, error) {
	switch x := e.(type) {
	case cAnd, cOr:
		xs, and := []cexpr(nil), false
		if a, ok := x.(cAnd); ok {
			xs, and = a, true
		} else {
			xs = x.(cOr)
		}
		rs := make([]result, len(xs))
		for i, sub := range xs {
			rs[i].n, rs[i].err = c.expr(sub, searches, ctx)
		}
		return combine(and, rs)
	case cNot:
		n, err := c.expr(x.x, searches, ctx)
		if err != nil {
			return nil, err
		}
		return importer.Simplify(importer.Negate(n)), nil
	case cIdent:
		return c.search(string(x), searches[string(x)], ctx)
	}
	return nil, fmt.Errorf("unknown condition %T", e)
}

// search translates one search identifier: a mapping is the and of its fields, a
// list of mappings the or of them, a list of plain values keywords.
func (c *ruleConv) search(name string, n *yaml.Node, ctx *context) (*importer.Node, error) {
	switch n.Kind {
	case yaml.MappingNode:
		var rs []result
		for i := 0; i+1 < len(n.Content); i += 2 {
			var r result
			r.n, r.err = c.field(name, n.Content[i], n.Content[i+1], ctx)
			rs = append(rs, r)
		}
		if len(rs) == 0 {
			return nil, c.errf(n.Line, "search %s is empty", name)
		}
		return combine(true, rs)
	case yaml.SequenceNode:
		var rs []result
		var words []*yaml.Node
		for _, item := range n.Content {
			switch item.Kind {
			case yaml.MappingNode:
				var r result
				r.n, r.err = c.search(name, item, ctx)
				rs = append(rs, r)
			case yaml.ScalarNode:
				words = append(words, item)
			default:
				return nil, c.errf(item.Line, "search %s: want field mappings or keywords", name)
			}
		}
		if len(words) > 0 {
			var r result
			r.n, r.err = c.values(name, "", mods{}, words, n.Line, ctx)
			rs = append(rs, r)
		}
		if len(rs) == 0 {
			return nil, c.errf(n.Line, "search %s is empty", name)
		}
		return combine(false, rs)
	case yaml.ScalarNode:
		if n.Tag != "!!null" {
			return c.values(name, "", mods{}, []*yaml.Node{n}, n.Line, ctx)
		}
	}
	return nil, c.errf(n.Line, "search %s: want field mappings or keywords", name)
}

// modifiers Vigil reads.
var knownModifiers = map[string]bool{
	"contains": true, "startswith": true, "endswith": true, "all": true, "re": true,
	"cidr": true, "cased": true, "exists": true, "i": true, "m": true, "s": true,
	"gt": true, "gte": true, "lt": true, "lte": true,
}

// refusedModifiers are the modifiers of the Sigma specification Vigil does not
// take, and why.
var refusedModifiers = map[string]string{
	"windash": "it turns - into / and Unicode dashes, the ways Windows programs take their options; " +
		"on Linux a / begins a path, so the rule would match other command lines: write the option with -",
	"base64":       "encoded values are not supported",
	"base64offset": "encoded values are not supported",
	"utf16le":      "encoded values are not supported",
	"utf16be":      "encoded values are not supported",
	"utf16":        "encoded values are not supported",
	"wide":         "encoded values are not supported",
	"expand":       "its placeholders are filled by a processing pipeline, which Vigil does not have",
	"fieldref":     "it compares two fields of one event, which a D&R rule cannot",
}

// field translates "Field|mod|mod: value(s)"; an empty field name is a keyword
// search ('|all': [...]).
func (c *ruleConv) field(search string, k, v *yaml.Node, ctx *context) (*importer.Node, error) {
	parts := strings.Split(k.Value, "|")
	fname, list := parts[0], parts[1:]
	m := mods{}
	for _, x := range list {
		if why, ok := refusedModifiers[x]; ok {
			return nil, c.errf(k.Line, "search %s: modifier %s of %s is not supported: %s", search, x, fieldName(fname), why)
		}
		if !knownModifiers[x] {
			return nil, c.errf(k.Line, "search %s: modifier %s of %s is not supported", search, x, fieldName(fname))
		}
		m[x] = true
	}
	var values []*yaml.Node
	switch v.Kind {
	case yaml.ScalarNode:
		values = []*yaml.Node{v}
	case yaml.SequenceNode:
		for _, it := range v.Content {
			if it.Kind != yaml.ScalarNode {
				return nil, c.errf(it.Line, "search %s: %s: want values", search, fieldName(fname))
			}
			values = append(values, it)
		}
	default:
		return nil, c.errf(v.Line, "search %s: %s: want a value or a list of values", search, fieldName(fname))
	}
	return c.values(search, fname, m, values, k.Line, ctx)
}

func fieldName(f string) string {
	if f == "" {
		return "keywords"
	}
	return f
}

// values translates the values of one field (or keywords, fname ""): their or, or
// with the all modifier their and.
func (c *ruleConv) values(search, fname string, m mods, values []*yaml.Node, line int, ctx *context) (*importer.Node, error) {
	fail := func(line int, err error) error {
		var r *refusal
		if errors.As(err, &r) {
			return c.errf(line, "search %s: %v", search, err)
		}
		return c.errf(line, "search %s: %s: %v", search, fieldName(fname), err)
	}
	var t target
	if fname == "" {
		t = ctx.keyword
		if m["startswith"] || m["endswith"] || m["exists"] {
			return nil, c.errf(line, "search %s: keywords take no startswith, endswith or exists", search)
		}
		if !m["re"] {
			m["contains"] = true // a keyword is found anywhere in the text
		}
	} else {
		t = ctx.field(fname)
	}
	if m["exists"] {
		if len(values) != 1 {
			return nil, c.errf(line, "search %s: %s|exists takes true or false", search, fname)
		}
		n, err := t.exists()
		if err != nil {
			return nil, fail(line, err)
		}
		switch strings.ToLower(values[0].Value) {
		case "true":
			return n, nil
		case "false":
			return importer.Simplify(importer.Negate(n)), nil
		}
		return nil, c.errf(values[0].Line, "search %s: %s|exists takes true or false", search, fname)
	}
	rs := make([]result, len(values))
	for i, val := range values {
		if val.Tag == "!!null" {
			n, err := t.exists()
			if err == nil {
				n = importer.Negate(n)
			}
			rs[i] = result{n, err}
		} else {
			rs[i].n, rs[i].err = t.value(m, val)
		}
		if rs[i].err != nil {
			rs[i].err = fail(val.Line, rs[i].err)
		}
	}
	if len(rs) == 0 {
		return importer.False(), nil
	}
	if m["all"] {
		return combine(true, rs)
	}
	if n := merge(rs); n != nil {
		return n, nil
	}
	return combine(false, rs)
}

// merge turns an or of prefixes of one path into one cidr node, and an or of
// exact values of one path into an in list; nil when the values are not such.
func merge(rs []result) *importer.Node {
	if len(rs) < 2 {
		return nil
	}
	first := rs[0].n
	if first == nil || first.Not || (first.Op != importer.OpIs && first.Op != importer.OpCIDR) {
		return nil
	}
	var vals []any
	var prefixes []string
	for _, r := range rs {
		n := r.n
		if n == nil || n.Not || n.Op != first.Op || n.Path != first.Path || n.Fold != first.Fold {
			return nil
		}
		vals = append(vals, n.Value)
		prefixes = append(prefixes, n.CIDR...)
	}
	if first.Op == importer.OpCIDR {
		return &importer.Node{Op: importer.OpCIDR, Path: first.Path, CIDR: prefixes}
	}
	return &importer.Node{Op: importer.OpInList, Path: first.Path, Values: vals, Fold: first.Fold}
}
