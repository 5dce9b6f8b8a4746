package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"go.yaml.in/yaml/v3"
)

// Rule is a compiled detection and response rule.
type Rule struct {
	// Name is the rule's identity: the file name without extension.
	Name string
	// File is where the rule was loaded from; Line is the line of its detection.
	File string
	Line int
	// Target is what the rule evaluates; only "events" exists today.
	Target string
	// Events are the event types the root node of the detection applies to.
	Events []event.Type
	// Response is the ordered list of actions to take on a match.
	Response []Action

	// With is "child" or "descendant" for a rule that fires on a process event
	// matching a second node (ChildEvents are its types) whose parent or ancestor
	// matched the root node within Within; empty otherwise.
	With        string
	ChildEvents []event.Type
	// Count > 0 makes the rule fire when the root node matched Count times within
	// Within for the same values of the GroupBy paths.
	Count   int
	GroupBy []string
	// Within is the window of a with child / with descendant or count rule.
	Within time.Duration
	// CloudOnly (edge: false in the file) keeps the rule out of the sensors'
	// edge evaluation: only the backend evaluates it (see Edge).
	CloudOnly bool

	root    matcher
	child   matcher
	groupBy []*event.Field
	// refFields are the fields kept of an event that matched the detection, for
	// explanations (Match.Earlier)
	refFields []*event.Field
	severity  int  // rank of the report's severity in Severities
	filtered  bool // some action has a condition or a suppression

	markPrefix  string // state key prefixes: markers and counters of this rule
	countPrefix string
	fingerprint string   // canonical form of the detection, for shadowing warnings
	lists       []string // shared lists and macros the rule uses
	macros      []string
	exceptions  []Exception // added by WithException
}

// Stateful reports whether the rule needs state (with child, with descendant,
// count): such a rule only fires through Engine.Process.
func (r *Rule) Stateful() bool { return r.With != "" || r.Count > 0 }

// Edge reports whether a sensor may evaluate the rule on its own host (package
// sensor/edge) and, when it may not, why. A sensor sees its own events only, so
// a rule whose state spans hosts stays in the cloud: a count rule whose group by
// leaves out routing/sensor_id (it counts across hosts), and a rule with an
// action whose suppression keys leave out .routing.sensor_id (it is suppressed
// across hosts). A rule file says edge: false to keep any other rule in the
// cloud (CloudOnly).
func (r *Rule) Edge() (bool, string) {
	if r.CloudOnly {
		return false, "its file says edge: false"
	}
	if r.Count > 0 && !slices.Contains(r.GroupBy, "routing/sensor_id") {
		return false, "it counts across hosts (group by leaves out routing/sensor_id)"
	}
	for _, a := range r.Response {
		if s := a.Suppression; s != nil && !slices.ContainsFunc(s.Keys, perSensorKey) {
			return false, "action " + a.Action + " is suppressed across hosts (its keys leave out .routing.sensor_id)"
		}
	}
	return true, ""
}

// perSensorKey reports whether a suppression key template reads the sensor id.
func perSensorKey(k string) bool { return strings.Contains(k, ".routing.sensor_id") }

// Matches reports whether the event is of one of the rule's types and satisfies the
// root node of its detection. For a stateful rule that is only the first half of
// the condition: see Engine.Process.
func (r *Rule) Matches(e *event.Event) bool {
	return contains(r.Events, e.Type) && r.root.match(e)
}

// Report returns the rule's report action, or nil when the rule only acts.
func (r *Rule) Report() *Action {
	for i := range r.Response {
		if r.Response[i].Action == ActReport {
			return &r.Response[i]
		}
	}
	return nil
}

// Error is a rule validation error with its position. Rule is empty for errors in a
// lists/macros file.
type Error struct {
	File string
	Line int
	Rule string
	Msg  string
}

func (e *Error) Error() string {
	if e.Rule == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: rule %s: %s", e.File, e.Line, e.Rule, e.Msg)
}

// Parse compiles one rule file that uses no shared lists or macros. file is used in
// error messages; the rule's name is the file's base name without extension.
func Parse(file string, data []byte) (*Rule, error) { return ParseWith(file, data, nil) }

// ParseWith compiles one rule file whose `list:` and `macro:` references resolve in
// lib (nil: no shared lists or macros).
func ParseWith(file string, data []byte, lib *Library) (*Rule, error) {
	name := strings.TrimSuffix(path.Base(file), path.Ext(file))
	p := newParser(file, name, lib)

	top, err := p.document(data)
	if err != nil {
		return nil, err
	}
	if top.Kind != yaml.MappingNode {
		return nil, p.errf(top.Line, "want a mapping with detection: and response:, got %s", kindName(top))
	}
	if isLibrary(top) {
		return nil, p.errf(top.Line, "this is a lists/macros file, not a rule: load it with its rules directory")
	}
	keys, err := p.mapping(top, "detection", "response", "edge")
	if err != nil {
		return nil, err
	}
	det, ok := keys["detection"]
	if !ok {
		return nil, p.errf(top.Line, "missing detection:")
	}
	r := &Rule{Name: name, File: file, Line: det.Line}
	// the detection and the response are both checked, so that a rule's errors are
	// reported together
	var errs []error
	if en, ok := keys["edge"]; ok {
		edge, err := p.boolean(en, "edge")
		if err != nil {
			errs = append(errs, err)
		}
		r.CloudOnly = !edge
	}
	if err := p.detection(det, r); err != nil {
		errs = append(errs, err)
	}
	if resp, ok := keys["response"]; ok {
		if r.Response, err = p.response(resp, r); err != nil {
			errs = append(errs, err)
		} else if len(r.Response) == 0 {
			errs = append(errs, p.errf(resp.Line, "response: needs at least one action (e.g. report)"))
		}
	} else {
		errs = append(errs, p.errf(top.Line, "response: needs at least one action (e.g. report)"))
	}
	if len(errs) == 0 {
		if ok, why := r.Edge(); !ok {
			for _, a := range r.Response {
				if a.Edge {
					errs = append(errs, p.errf(a.Line, "action %s: edge: true, but the rule is evaluated in the cloud only: %s", a.Action, why))
				}
			}
		}
	}
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	r.severity = 0
	if rep := r.Report(); rep != nil {
		r.severity = severityRank(rep.Severity())
	}
	for i := range r.Response {
		if r.Response[i].Condition != nil || r.Response[i].Suppression != nil {
			r.filtered = true
		}
	}
	r.markPrefix = "m\x00" + r.Name + "\x00"
	r.countPrefix = "c\x00" + r.Name + "\x00"
	r.refFields = refFields(r)
	r.lists = sortedKeys(p.usedLists)
	r.macros = sortedKeys(p.usedMacros)
	return r, nil
}

// parser compiles one file; errors name its file and rule.
type parser struct {
	file, rule string
	prefix     string // prepended to messages (inside a macro: "macro x: ")
	lib        *Library
	usedLists  map[string]bool
	usedMacros map[string]bool
}

func newParser(file, rule string, lib *Library) *parser {
	return &parser{file: file, rule: rule, lib: lib, usedLists: map[string]bool{}, usedMacros: map[string]bool{}}
}

func (p *parser) errf(line int, format string, args ...any) error {
	return &Error{File: p.file, Line: line, Rule: p.rule, Msg: p.prefix + fmt.Sprintf(format, args...)}
}

// Document decodes the one YAML document of a rules file (a rule, a lists file, a
// tuning file) and returns its top node. Errors name the file and the line: invalid
// YAML, an empty file, a second document.
func Document(file string, data []byte) (*yaml.Node, error) {
	return newParser(file, "", nil).document(data)
}

// document decodes one YAML document and returns its top node.
func (p *parser) document(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, p.errf(0, "file is empty")
		}
		return nil, p.errf(yamlLine(err), "invalid YAML: %v", err)
	}
	if len(doc.Content) == 0 {
		return nil, p.errf(0, "file is empty")
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, p.errf(extra.Line, "one YAML document per file (found a second one)")
	}
	return doc.Content[0], nil
}

// isLibrary reports whether a top-level mapping is a lists/macros file.
func isLibrary(top *yaml.Node) bool {
	if top.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		if k := top.Content[i].Value; k == "lists" || k == "macros" {
			return true
		}
	}
	return false
}

// mapping returns the values of a mapping node by key, refusing keys not in allowed.
func (p *parser) mapping(n *yaml.Node, allowed ...string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n.Line, "want a mapping, got %s", kindName(n))
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, p.errf(k.Line, "a key must be a plain value, got %s", kindName(k))
		}
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

func (p *parser) boolean(n *yaml.Node, what string) (bool, error) {
	if v, ok := Boolean(n); ok {
		return v, nil
	}
	return false, p.errf(n.Line, "%s: want true or false, got %s", what, kindName(n))
}

// Boolean reads a YAML true or false as rule files write them (true, True, TRUE,
// yes; false, False, FALSE, no); ok is false for anything else.
func Boolean(n *yaml.Node) (v, ok bool) {
	if n.Kind == yaml.ScalarNode {
		switch n.Value {
		case "true", "True", "TRUE", "yes":
			return true, true
		case "false", "False", "FALSE", "no":
			return false, true
		}
	}
	return false, false
}

func (p *parser) integer(n *yaml.Node, what string) (int64, error) {
	s, err := p.scalar(n, what)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, 64)
	if err != nil {
		return 0, p.errf(n.Line, "%s: want an integer, got %q", what, s)
	}
	return v, nil
}

func (p *parser) duration(n *yaml.Node, what string) (time.Duration, error) {
	s, err := p.scalar(n, what)
	if err != nil {
		return 0, err
	}
	d, err := parseDuration(s)
	if err != nil || d <= 0 {
		return 0, p.errf(n.Line, "%s: want a positive duration like 90s, 10m, 1h or 7d, got %q", what, s)
	}
	return d, nil
}

// parseDuration is time.ParseDuration plus whole days ("7d").
func parseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n > 1<<20 {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

func (p *parser) strings(n *yaml.Node, what string) ([]string, error) {
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.errf(n.Line, "%s: want a list of values, got %s", what, kindName(n))
	}
	out := make([]string, 0, len(n.Content))
	for _, it := range n.Content {
		s, err := p.scalar(it, what+" item")
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// eventTypes reads event: and events: of a node; def applies when neither is given.
func (p *parser) eventTypes(n *yaml.Node, keys map[string]*yaml.Node, def []event.Type) ([]event.Type, error) {
	var out []event.Type
	if ev, ok := keys["event"]; ok {
		s, err := p.scalar(ev, "event")
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if evs, ok := keys["events"]; ok {
		if evs.Kind != yaml.SequenceNode {
			return nil, p.errf(evs.Line, "events: want a list of event types")
		}
		for _, ev := range evs.Content {
			s, err := p.scalar(ev, "events item")
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
	}
	delete(keys, "event")
	delete(keys, "events")
	if len(out) == 0 {
		if def == nil {
			return nil, p.errf(n.Line, "detection needs event: (one of %s)", strings.Join(event.Types, ", "))
		}
		return def, nil
	}
	seen := map[string]bool{}
	var uniq []event.Type
	for _, ev := range out {
		if !event.KnownType(ev) {
			return nil, p.errf(n.Line, "unknown event type %q (known: %s)", ev, strings.Join(event.Types, ", "))
		}
		if !seen[ev] {
			seen[ev] = true
			uniq = append(uniq, ev)
		}
	}
	return uniq, nil
}

// rootKeys are the keys only the detection itself has, besides the node keys.
var rootKeys = []string{"target", "event", "events", "with child", "with descendant", "count", "within", "group by"}

func (p *parser) detection(n *yaml.Node, r *Rule) error {
	keys, err := p.mapping(n, append(append([]string{}, rootKeys...), nodeKeys...)...)
	if err != nil {
		return err
	}
	r.fingerprint = fingerprint(n, "target", "event", "events")
	r.Target = "events"
	if t, ok := keys["target"]; ok {
		if r.Target, err = p.scalar(t, "target"); err != nil {
			return err
		}
		if r.Target != "events" {
			return p.errf(t.Line, "target %q is not supported (want events)", r.Target)
		}
		delete(keys, "target")
	}
	if r.Events, err = p.eventTypes(n, keys, nil); err != nil {
		return err
	}
	if err := p.stateful(n, keys, r); err != nil {
		return err
	}
	r.root, err = p.node(n, keys, scope{events: r.Events})
	return err
}

// stateful reads with child / with descendant, count, within and group by.
func (p *parser) stateful(n *yaml.Node, keys map[string]*yaml.Node, r *Rule) error {
	defer func() {
		for _, k := range []string{"with child", "with descendant", "count", "within", "group by"} {
			delete(keys, k)
		}
	}()
	wc, hasChild := keys["with child"]
	wd, hasDesc := keys["with descendant"]
	cn, hasCount := keys["count"]
	wn, hasWithin := keys["within"]
	gb, hasGroup := keys["group by"]
	switch {
	case hasChild && hasDesc:
		return p.errf(wd.Line, "with child and with descendant cannot be combined")
	case (hasChild || hasDesc) && hasCount:
		return p.errf(cn.Line, "count cannot be combined with with child/with descendant")
	case hasWithin && !hasChild && !hasDesc && !hasCount:
		return p.errf(wn.Line, "within: applies to with child, with descendant or count only")
	case hasGroup && !hasCount:
		return p.errf(gb.Line, "group by: applies to count only")
	}
	var err error
	if hasWithin {
		if r.Within, err = p.duration(wn, "within"); err != nil {
			return err
		}
	}
	if hasChild || hasDesc {
		cnode, with := wc, "child"
		if hasDesc {
			cnode, with = wd, "descendant"
		}
		r.With = with
		if r.Within == 0 {
			r.Within = time.Hour
		}
		ck, err := p.mapping(cnode, append([]string{"event", "events"}, nodeKeys...)...)
		if err != nil {
			return err
		}
		if r.ChildEvents, err = p.eventTypes(cnode, ck, []event.Type{event.NewProcess}); err != nil {
			return err
		}
		ppid, _ := event.Lookup("event/PARENT_PROCESS_ID")
		for _, t := range append(append([]event.Type{}, r.Events...), r.ChildEvents...) {
			if !ppid.AppliesTo(t) {
				return p.errf(cnode.Line, "with %s: %s events are not process events", with, t)
			}
		}
		r.child, err = p.node(cnode, ck, scope{events: r.ChildEvents})
		return err
	}
	if hasCount {
		c, err := p.integer(cn, "count")
		if err != nil {
			return err
		}
		if c < 1 || c > 1<<30 {
			return p.errf(cn.Line, "count: want a number of matches of at least 1, got %d", c)
		}
		r.Count = int(c)
		if !hasWithin {
			return p.errf(cn.Line, "count needs within: (the window, e.g. 60s)")
		}
		r.GroupBy = []string{"routing/sensor_id"}
		if hasGroup {
			if r.GroupBy, err = p.strings(gb, "group by"); err != nil {
				return err
			}
			if len(r.GroupBy) == 0 {
				return p.errf(gb.Line, "group by: want at least one path")
			}
		}
		for _, gp := range r.GroupBy {
			f, err := p.field(gb, gp, r.Events)
			if err != nil {
				return err
			}
			r.groupBy = append(r.groupBy, f)
		}
	}
	return nil
}

// field resolves a path and checks it applies to every event type.
func (p *parser) field(n *yaml.Node, path string, events []event.Type) (*event.Field, error) {
	line := 0
	if n != nil {
		line = n.Line
	}
	f, err := event.Lookup(path)
	if err != nil {
		return nil, p.errf(line, "%v", err)
	}
	for _, t := range events {
		if !f.AppliesTo(t) {
			return nil, p.errf(line, "path %s is not part of %s events", path, t)
		}
	}
	return f, nil
}

// fingerprint is a canonical form of a node: mapping keys sorted, the keys in skip
// left out of n itself (not of the mappings under it).
func fingerprint(n *yaml.Node, skip ...string) string {
	var b strings.Builder
	var walk func(n *yaml.Node, skip []string)
	walk = func(n *yaml.Node, skip []string) {
		switch n.Kind {
		case yaml.MappingNode:
			type kv struct {
				k string
				v *yaml.Node
			}
			var kvs []kv
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				if contains(skip, k) {
					continue
				}
				if k == "events" {
					k = "event" // event and events with the same types are the same
				}
				kvs = append(kvs, kv{k, n.Content[i+1]})
			}
			sort.Slice(kvs, func(i, j int) bool { return kvs[i].k < kvs[j].k })
			b.WriteByte('{')
			for _, x := range kvs {
				b.WriteString(strconv.Quote(x.k))
				b.WriteByte(':')
				if x.k == "event" {
					var ts []string
					if x.v.Kind == yaml.SequenceNode {
						for _, c := range x.v.Content {
							ts = append(ts, c.Value)
						}
					} else {
						ts = []string{x.v.Value}
					}
					sort.Strings(ts)
					b.WriteString(strconv.Quote(strings.Join(ts, ",")))
				} else {
					walk(x.v, nil)
				}
				b.WriteByte(',')
			}
			b.WriteByte('}')
		case yaml.SequenceNode:
			// the order of and/or children (and of list values) does not change a
			// detection
			items := make([]string, 0, len(n.Content))
			for _, c := range n.Content {
				items = append(items, fingerprint(c))
			}
			sort.Strings(items)
			b.WriteByte('[')
			for _, it := range items {
				b.WriteString(it)
				b.WriteByte(',')
			}
			b.WriteByte(']')
		default:
			b.WriteString(strconv.Quote(n.Value))
		}
	}
	walk(n, skip)
	return b.String()
}

// KindName says what a YAML node is, for messages: "a mapping", "a list", `the value
// "x"`, "an alias (…)".
func KindName(n *yaml.Node) string { return kindName(n) }

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	case yaml.AliasNode:
		return "an alias (*" + n.Value + "; aliases are not supported)"
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

// joinErrors joins errors, one per line, dropping repeated messages (a broken macro
// used twice is reported once). A single error is returned as it is.
func joinErrors(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	seen := map[string]bool{}
	var out []error
	for _, err := range errs {
		if msg := err.Error(); !seen[msg] {
			seen[msg] = true
			out = append(out, err)
		}
	}
	return errors.Join(out...)
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
