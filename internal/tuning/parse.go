package tuning

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
)

// File is a parsed tuning file: its entries in order.
type File struct {
	Name    string
	Entries []*Entry
}

// Entry is one item of a tuning file: which rules it selects and what it changes.
type Entry struct {
	File string
	Line int

	// Selectors; an empty one selects any rule.
	Rules    []string // rule name globs
	Tags     []string // tag globs, lower-cased
	Sources  []string // builtin, vigil, falco, sigma, or path segments
	Maturity []string

	// Changes; nil / "" / empty leave the rules as they are.
	Enabled    *bool
	Severity   string
	Exceptions []engine.Exception
}

// Keys of a tuning file.
var (
	entryKeys     = []string{"rules", "tags", "sources", "maturity", "enabled", "severity", "exceptions"}
	exceptionKeys = []string{"name", "fields", "comps", "values", "case sensitive", "detection"}
	// Comps are the comparisons an exception's fields take.
	Comps = []string{"is", "contains", "starts with", "ends with", "matches", "in", "cidr"}
)

// Is reports whether data is a tuning file: a YAML mapping with a top-level
// tuning: key. Invalid YAML is not.
func Is(data []byte) bool {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil || len(doc.Content) == 0 {
		return false
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == "tuning" {
			return true
		}
	}
	return false
}

// parser reads one file and collects its errors.
type parser struct {
	file string
	errs []error
}

func (p *parser) errf(line int, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s:%d: %s", p.file, line, fmt.Sprintf(format, args...)))
}

// Parse reads a tuning file. name is used in errors and recorded in the entries.
// Every error of the file is reported, each with its line and field.
func Parse(name string, data []byte) (*File, error) {
	p := &parser{file: name}
	f := &File{Name: name}
	top, err := engine.Document(name, data)
	if err != nil {
		return nil, err
	}
	if alias := findAlias(top); alias != nil {
		return nil, fmt.Errorf("%s:%d: aliases (*%s) are not supported in tuning files", name, alias.Line, alias.Value)
	}
	keys := p.mapping(top, "tuning file", "tuning")
	list, ok := keys["tuning"]
	switch {
	case keys == nil:
	case !ok:
		p.errf(top.Line, "tuning: missing (a tuning file is a mapping with a list of entries under tuning:)")
	case list.Kind != yaml.SequenceNode:
		p.errf(list.Line, "tuning: want a list of entries, got %s", engine.KindName(list))
	default:
		for _, item := range list.Content {
			if e := p.entry(item); e != nil {
				f.Entries = append(f.Entries, e)
			}
		}
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return f, nil
}

// mapping returns the values of a mapping by key; unknown and repeated keys are
// errors (the unknown ones with the nearest allowed key). It returns nil when n is
// not a mapping.
func (p *parser) mapping(n *yaml.Node, what string, allowed ...string) map[string]*yaml.Node {
	if n.Kind != yaml.MappingNode {
		p.errf(n.Line, "%s: want a mapping, got %s", what, engine.KindName(n))
		return nil
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case k.Kind != yaml.ScalarNode:
			p.errf(k.Line, "%s: a key must be a plain value, got %s", what, engine.KindName(k))
		case !contains(allowed, k.Value):
			hint := ""
			if near := nearest(k.Value, allowed); near != "" {
				hint = fmt.Sprintf(": did you mean %s?", near)
			}
			p.errf(k.Line, "%s: unknown key %q%s (allowed: %s)", what, k.Value, hint, strings.Join(allowed, ", "))
		case out[k.Value] != nil:
			p.errf(k.Line, "%s: key %q given twice", what, k.Value)
		default:
			out[k.Value] = v
		}
	}
	return out
}

// entry reads one entry; nil when it has errors (they are recorded).
func (p *parser) entry(n *yaml.Node) *Entry {
	before := len(p.errs)
	keys := p.mapping(n, "tuning entry", entryKeys...)
	if keys == nil {
		return nil
	}
	e := &Entry{File: p.file, Line: n.Line}
	e.Rules = p.patterns(keys["rules"], "rules", false)
	e.Tags = p.patterns(keys["tags"], "tags", true)
	e.Sources = p.strings(keys["sources"], "sources")
	for i, s := range e.Sources {
		if s = strings.Trim(path.Clean("/"+strings.ReplaceAll(s, "\\", "/")), "/"); s == "" {
			p.errf(keys["sources"].Line, "sources: %q names no path", e.Sources[i])
		}
		e.Sources[i] = s
	}
	e.Maturity = p.strings(keys["maturity"], "maturity")
	for _, m := range e.Maturity {
		if !contains(engine.Maturities, m) {
			p.errf(keys["maturity"].Line, "maturity: %q is not one of %s", m, strings.Join(engine.Maturities, ", "))
		}
	}
	if len(e.Rules)+len(e.Tags)+len(e.Sources)+len(e.Maturity) == 0 && len(p.errs) == before {
		p.errf(n.Line, "tuning entry: select rules with rules:, tags:, sources: or maturity: (rules: [\"*\"] for every rule)")
	}
	if v, ok := keys["enabled"]; ok {
		b, err := boolean(v)
		if err != nil {
			p.errf(v.Line, "enabled: %v", err)
		}
		e.Enabled = &b
	}
	if v, ok := keys["severity"]; ok {
		if v.Kind != yaml.ScalarNode || !contains(engine.Severities, v.Value) {
			p.errf(v.Line, "severity: want one of %s, got %s", strings.Join(engine.Severities, ", "), engine.KindName(v))
		}
		e.Severity = v.Value
	}
	if v, ok := keys["exceptions"]; ok {
		if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
			p.errf(v.Line, "exceptions: want a non-empty list of exceptions, got %s", engine.KindName(v))
		} else {
			for _, x := range v.Content {
				if ex, ok := p.exception(x); ok {
					e.Exceptions = append(e.Exceptions, ex)
				}
			}
		}
	}
	if e.Enabled == nil && e.Severity == "" && keys["exceptions"] == nil && len(p.errs) == before {
		p.errf(n.Line, "tuning entry: say what to change with enabled:, severity: or exceptions:")
	}
	if len(p.errs) > before {
		return nil
	}
	return e
}

// exception reads one exception into a detection node.
func (p *parser) exception(n *yaml.Node) (engine.Exception, bool) {
	before := len(p.errs)
	keys := p.mapping(n, "exception", exceptionKeys...)
	if keys == nil {
		return engine.Exception{}, false
	}
	ex := engine.Exception{File: p.file, Line: n.Line}
	nameNode, ok := keys["name"]
	if !ok || nameNode.Kind != yaml.ScalarNode || strings.TrimSpace(nameNode.Value) == "" {
		p.errf(n.Line, "exception: name: is required (a word saying what is excepted)")
		return ex, false
	}
	ex.Name = nameNode.Value
	what := "exception " + ex.Name
	det, hasDet := keys["detection"]
	_, hasFields := keys["fields"]
	switch {
	case hasDet && hasFields:
		p.errf(det.Line, "%s: give either detection: or fields: and values:, not both", what)
	case hasDet:
		for _, k := range []string{"comps", "values", "case sensitive"} {
			if v, ok := keys[k]; ok {
				p.errf(v.Line, "%s: %s: goes with fields:; a detection node says it itself", what, k)
			}
		}
		if det.Kind != yaml.MappingNode {
			p.errf(det.Line, "%s: detection: want a detection node (a mapping with op:), got %s", what, engine.KindName(det))
		}
		ex.Node = det
		ex.Text = describe(det)
	case hasFields:
		ex.Node = p.fieldsNode(what, n, keys)
		if ex.Node != nil {
			ex.Text = describe(ex.Node)
		}
	default:
		p.errf(n.Line, "%s: want fields: and values: (or a detection: node)", what)
	}
	return ex, len(p.errs) == before
}

// fieldsNode builds the detection node of a fields/comps/values exception: the or
// of its rows, each the and of one comparison per field.
func (p *parser) fieldsNode(what string, n *yaml.Node, keys map[string]*yaml.Node) *yaml.Node {
	fields := p.strings(keys["fields"], what+": fields")
	if len(fields) == 0 {
		p.errf(keys["fields"].Line, "%s: fields: want at least one path", what)
		return nil
	}
	comps := make([]string, len(fields))
	for i := range comps {
		comps[i] = "is"
	}
	if cn, ok := keys["comps"]; ok {
		given := p.strings(cn, what+": comps")
		if len(given) != len(fields) {
			p.errf(cn.Line, "%s: comps: want one per field (%d), got %d", what, len(fields), len(given))
			return nil
		}
		for i, c := range given {
			if !contains(Comps, c) {
				p.errf(cn.Line, "%s: comps: unknown comparison %q (known: %s)", what, c, strings.Join(Comps, ", "))
				return nil
			}
			comps[i] = c
		}
	}
	vn, ok := keys["values"]
	if !ok || vn.Kind != yaml.SequenceNode || len(vn.Content) == 0 {
		line := n.Line
		if ok {
			line = vn.Line
		}
		p.errf(line, "%s: values: want a non-empty list of rows, one value per field", what)
		return nil
	}
	var rows []*yaml.Node
	for _, row := range vn.Content {
		cells := []*yaml.Node{row}
		if row.Kind == yaml.SequenceNode && (len(fields) > 1 || comps[0] != "in" && comps[0] != "cidr") {
			cells = row.Content
		}
		if len(cells) != len(fields) {
			p.errf(row.Line, "%s: values: want a row of %d values (%s), got %s", what, len(fields), strings.Join(fields, ", "), engine.KindName(row))
			continue
		}
		var cmps []*yaml.Node
		for i, cell := range cells {
			if c := p.comparison(what, fields[i], comps[i], cell); c != nil {
				cmps = append(cmps, c)
			}
		}
		if len(cmps) == len(cells) {
			rows = append(rows, combine("and", row.Line, cmps))
		}
	}
	if len(rows) != len(vn.Content) {
		return nil
	}
	node := combine("or", vn.Line, rows)
	if cs, ok := keys["case sensitive"]; ok {
		if _, err := boolean(cs); err != nil {
			p.errf(cs.Line, "%s: case sensitive: %v", what, err)
			return nil
		}
		node.Content = append(node.Content, scalar("case sensitive", cs.Line), cs)
	}
	return node
}

// comparison is the node `<field> <comp> <value>`.
func (p *parser) comparison(what, field, comp string, v *yaml.Node) *yaml.Node {
	op, key := comp, "value"
	switch comp {
	case "matches":
		key = "re"
	case "in":
		op, key = "in list", "values"
		if v.Kind != yaml.SequenceNode {
			p.errf(v.Line, "%s: values: comparison in takes a list of values for %s, got %s", what, field, engine.KindName(v))
			return nil
		}
	case "cidr":
		key = "cidr"
	}
	if key != "values" && key != "cidr" && v.Kind != yaml.ScalarNode {
		p.errf(v.Line, "%s: values: want a single value for %s, got %s", what, field, engine.KindName(v))
		return nil
	}
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: v.Line, Column: v.Column, Content: []*yaml.Node{
		scalar("op", v.Line), scalar(op, v.Line),
		scalar("path", v.Line), scalar(field, v.Line),
		scalar(key, v.Line), v,
	}}
}

// combine is the and/or of nodes, or the node itself when there is one.
func combine(op string, line int, nodes []*yaml.Node) *yaml.Node {
	if len(nodes) == 1 {
		return nodes[0]
	}
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line, Content: []*yaml.Node{
		scalar("op", line), scalar(op, line),
		scalar("rules", line), {Kind: yaml.SequenceNode, Tag: "!!seq", Line: line, Content: nodes},
	}}
}

func scalar(s string, line int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Line: line}
}

// strings reads a value or a list of values; nil for a missing node.
func (p *parser) strings(n *yaml.Node, what string) []string {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Value == "" {
			p.errf(n.Line, "%s: want a value or a list of values, got an empty value", what)
			return nil
		}
		return []string{n.Value}
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			p.errf(n.Line, "%s: want at least one value", what)
			return nil
		}
		out := make([]string, 0, len(n.Content))
		for _, it := range n.Content {
			if it.Kind != yaml.ScalarNode || it.Value == "" {
				p.errf(it.Line, "%s: want a value, got %s", what, engine.KindName(it))
				continue
			}
			out = append(out, it.Value)
		}
		return out
	}
	p.errf(n.Line, "%s: want a value or a list of values, got %s", what, engine.KindName(n))
	return nil
}

// patterns reads globs (path.Match syntax), lower-cased when fold.
func (p *parser) patterns(n *yaml.Node, what string, fold bool) []string {
	out := p.strings(n, what)
	for i, s := range out {
		if fold {
			out[i] = strings.ToLower(s)
		}
		if _, err := path.Match(out[i], ""); err != nil {
			p.errf(n.Line, "%s: %q is not a valid pattern (* any run of characters, ? one, [...] a class)", what, s)
		}
	}
	return out
}

func boolean(n *yaml.Node) (bool, error) {
	if v, ok := engine.Boolean(n); ok {
		return v, nil
	}
	return false, fmt.Errorf("want true or false, got %s", engine.KindName(n))
}

// describe is a one-line summary of a detection node: `event/FILE_PATH starts with
// "/tmp/x" and (…)`.
func describe(n *yaml.Node) string {
	if n.Kind != yaml.MappingNode {
		return engine.KindName(n)
	}
	kv := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kv[n.Content[i].Value] = n.Content[i+1]
	}
	var s string
	op := ""
	if o := kv["op"]; o != nil {
		op = o.Value
	}
	switch {
	case kv["macro"] != nil:
		s = "macro " + kv["macro"].Value
	case op == "and" || op == "or":
		var parts []string
		if rs := kv["rules"]; rs != nil {
			for _, c := range rs.Content {
				d := describe(c)
				if strings.Contains(d, " and ") || strings.Contains(d, " or ") {
					d = "(" + d + ")"
				}
				parts = append(parts, d)
			}
		}
		s = strings.Join(parts, " "+op+" ")
	case op == "is tagged":
		s = "sensor is tagged " + flat(kv["tag"])
	default:
		s = plain(kv["path"]) + " " + op
		for _, k := range []string{"compare", "value", "re", "cidr", "values"} {
			if v := kv[k]; v != nil {
				s += " " + flat(v)
			}
		}
		if l := kv["list"]; l != nil {
			s += " " + plain(l)
		}
	}
	if cs := kv["case sensitive"]; cs != nil && cs.Value == "false" {
		s += " (case ignored)"
	}
	if nt := kv["not"]; nt != nil && nt.Value == "true" {
		s = "not (" + s + ")"
	}
	return s
}

// plain prints a scalar as it is.
func plain(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return "?"
	}
	return n.Value
}

// flat prints a scalar quoted and a list in brackets.
func flat(n *yaml.Node) string {
	if n == nil {
		return "?"
	}
	if n.Kind == yaml.SequenceNode {
		items := make([]string, 0, len(n.Content))
		for _, c := range n.Content {
			items = append(items, flat(c))
		}
		return "[" + strings.Join(items, ", ") + "]"
	}
	if n.Kind != yaml.ScalarNode {
		return engine.KindName(n)
	}
	return strconv.Quote(n.Value)
}

// findAlias returns the first alias node under n.
func findAlias(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode {
		return n
	}
	for _, c := range n.Content {
		if a := findAlias(c); a != nil {
			return a
		}
	}
	return nil
}

// nearest returns the candidate closest to s, "" when none is plausibly a
// misspelling of it.
func nearest(s string, candidates []string) string {
	c, _ := event.Closest(s, candidates)
	return c
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
