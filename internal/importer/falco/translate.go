package falco

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/importer"
)

// src is the text a position refers to: the rule's condition or a macro's.
type src struct {
	what string // "condition" or "macro <name> (<file>:<line>)"
	text string
}

// noteKind says what a note on a translation tells.
type noteKind int

const (
	// narrowNote: part of the condition is dropped (it holds only on events the
	// sensor does not report, or reads metadata Vigil events do not carry); the rule
	// is converted as narrowed.
	narrowNote noteKind = iota
	// approxNote: a field is read through an approximation the docs describe.
	approxNote
	// infoNote: why a part is constant on Vigil's events; told only when the rule
	// can never match.
	infoNote
	// falcoNote: why a part is constant, in Falco as on Vigil's events (an empty
	// list, a field the event type has no value for).
	falcoNote
)

// informs reports whether a note only explains (info or falco).
func (n note) informs() bool { return n.kind >= infoNote }

type note struct {
	kind noteKind
	text string
	// group: notes of one group are told together, their texts joined after it.
	group string
	// meta are the metadata fields (container.image.repository, …) a narrowing
	// note reads as empty.
	meta []string
}

// metaGroup is the group of the notes on metadata fields Vigil events lack.
func metaGroup(fields []string) string {
	fields = dedupe(fields)
	sort.Strings(fields)
	verb := "reads"
	if len(fields) > 1 {
		verb = "read"
	}
	return fmt.Sprintf("Vigil events do not carry %s, which %s as empty, as in Falco when the container runtime gives no metadata", strings.Join(fields, ", "), verb)
}

// liftMeta replaces the notes on metadata of a sub-expression that is constant by
// one note quoting it: the note names the largest part of the condition that the
// missing metadata decides (an exclusion macro rather than each comparison in it).
func (c *conv) liftMeta(mark int, e expr, s *src, n *importer.Node) {
	if len(c.notes) <= mark || !(n.IsTrue() || n.IsFalse()) {
		return
	}
	var fields []string
	for _, x := range c.notes[mark:] {
		if len(x.meta) == 0 && !x.informs() {
			return
		}
		fields = append(fields, x.meta...)
	}
	if len(fields) == 0 {
		return
	}
	c.notes = append(c.notes[:mark], note{kind: narrowNote, group: metaGroup(fields), meta: dedupe(fields),
		text: fmt.Sprintf("%s is %v", s.quote(e), n.IsTrue())})
}

// conv converts one rule's condition.
type conv struct {
	set   *set
	rule  *rule
	stack []string // macros being expanded, innermost last
	steps int      // translation steps taken, bounded by maxSteps
	notes []note
}

// maxSteps bounds the work of one rule's translation (macros used many times over
// at many levels expand exponentially).
const maxSteps = 1 << 18

const maxMacroDepth = 50

// errf is an error naming the rule, the construct and where it is.
func (c *conv) errf(s *src, pos int, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return fmt.Errorf("%s:%d: rule %q: %s%s", c.rule.file, c.rule.line, c.rule.name, msg, s.at(pos))
}

func (s *src) at(pos int) string {
	if pos < 0 {
		return " (in the rule's exceptions)"
	}
	if pos > len(s.text) {
		pos = len(s.text)
	}
	snip := strings.Join(strings.Fields(s.text[pos:]), " ")
	if r := []rune(snip); len(r) > 40 {
		snip = string(r[:40]) + "…"
	}
	return fmt.Sprintf(" (in the %s at %q)", s.what, snip)
}

// quote is the text of e, as written, for a note: `…` and where it is.
func (s *src) quote(e expr) string {
	pos, end := e.span()
	var text string
	if pos < 0 || end > len(s.text) || pos > end {
		text = render(e)
	} else {
		text = strings.Join(strings.Fields(s.text[pos:end]), " ")
	}
	if r := []rune(text); len(r) > 120 {
		text = string(r[:120]) + "…"
	}
	where := "the condition"
	if s.what != "condition" {
		where = "the " + s.what
	}
	if pos < 0 {
		where = "the rule's exceptions"
	}
	return fmt.Sprintf("`%s` (%s)", text, where)
}

// render prints a comparison built from an exception, which has no text.
func render(e expr) string {
	switch x := e.(type) {
	case *cmpExpr:
		var vs []string
		for _, v := range x.values {
			vs = append(vs, strings.ReplaceAll(v.s, "\x00", ", "))
		}
		if x.list {
			return fmt.Sprintf("%s %s (%s)", x.field, x.op, strings.Join(vs, ", "))
		}
		return strings.TrimSpace(fmt.Sprintf("%s %s %s", x.field, x.op, strings.Join(vs, " ")))
	case *andExpr:
		var parts []string
		for _, y := range x.xs {
			parts = append(parts, render(y))
		}
		return strings.Join(parts, " and ")
	case *orExpr:
		var parts []string
		for _, y := range x.xs {
			parts = append(parts, "("+render(y)+")")
		}
		return strings.Join(parts, " or ")
	case *notExpr:
		return "not (" + render(x.x) + ")"
	case *macroRef:
		return x.name
	}
	return "?"
}

func (c *conv) note(kind noteKind, format string, args ...any) {
	c.notes = append(c.notes, note{kind: kind, text: fmt.Sprintf(format, args...)})
}

func (c *conv) wrap(err error, s *src) error {
	var ce *condError
	if errors.As(err, &ce) {
		return c.errf(s, ce.pos, "syntax error: %s", ce.msg)
	}
	return err
}

// macro returns the parsed macro of the set, or nil for a standard macro (known
// to Vigil), or an error for an unknown name or a recursive macro.
func (c *conv) macro(ref *macroRef, s *src) (*macro, error) {
	m, ok := c.set.macros[ref.name]
	if !ok {
		if _, std := standardMacros[ref.name]; std {
			return nil, nil
		}
		if _, isList := c.set.lists[ref.name]; isList {
			return nil, c.errf(s, ref.pos, "%s is a list, used where a macro or a comparison is expected", ref.name)
		}
		return nil, c.errf(s, ref.pos, "unknown macro %s (not defined in the set, and not one of the standard Falco macros Vigil knows: %s)", ref.name, strings.Join(standardMacroNames(), ", "))
	}
	for _, n := range c.stack {
		if n == ref.name {
			return nil, c.errf(s, ref.pos, "macro %s refers to itself (%s → %s)", ref.name, strings.Join(c.stack, " → "), ref.name)
		}
	}
	if len(c.stack) >= maxMacroDepth {
		return nil, c.errf(s, ref.pos, "macros nest deeper than %d levels", maxMacroDepth)
	}
	if m.ast == nil && m.err == nil {
		m.ast, m.err = parseCond(m.cond)
	}
	if m.err != nil {
		return nil, c.wrap(m.err, m.src())
	}
	return m, nil
}

func (m *macro) src() *src {
	return &src{what: fmt.Sprintf("macro %s (%s:%d)", m.name, m.file, m.line), text: m.cond}
}

// typeSet is a set of event types; nil means unrestricted (any type).
type typeSet map[event.Type]bool

func intersect(a, b typeSet) typeSet {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	out := typeSet{}
	for t := range a {
		if b[t] {
			out[t] = true
		}
	}
	return out
}

// types infers the event types a condition can match: evt.type comparisons and
// the standard macros restrict them; and intersects, or unites (when every branch
// is restricted), not leaves them unrestricted. A syscall that no Vigil event
// reports is a type of its own (unreportedType), intersected and united like the
// others: an or branch left with such types only is dropped, with a note, and so
// is an unreported syscall of an evt.type list that names reported ones too.
func (c *conv) types(e expr, s *src) (typeSet, error) {
	c.steps++
	if c.steps > maxSteps {
		return nil, c.errf(s, e.at(), "condition expands to more than %d terms", maxSteps)
	}
	switch x := e.(type) {
	case *andExpr:
		var out typeSet
		for _, sub := range x.xs {
			ts, err := c.types(sub, s)
			if err != nil {
				return nil, err
			}
			out = intersect(out, ts)
		}
		return out, nil
	case *orExpr:
		out := typeSet{}
		restricted := true
		for _, sub := range x.xs {
			ts, err := c.types(sub, s)
			if err != nil {
				return nil, err
			}
			if ts == nil {
				restricted = false
			}
			if calls := ts.unreported(); len(calls) > 0 && len(calls) == len(ts) {
				c.note(narrowNote, "dropped %s: it holds only on %s, which the sensor does not report", s.quote(sub), strings.Join(calls, ", "))
			}
			for t := range ts {
				out[t] = true
			}
		}
		if !restricted {
			return nil, nil
		}
		return out, nil
	case *notExpr:
		// still check what is inside, for errors
		if _, err := c.types(x.x, s); err != nil {
			return nil, err
		}
		return nil, nil
	case *macroRef:
		m, err := c.macro(x, s)
		if err != nil {
			return nil, err
		}
		if m == nil {
			return standardMacros[x.name].types, nil
		}
		c.stack = append(c.stack, x.name)
		defer func() { c.stack = c.stack[:len(c.stack)-1] }()
		return c.types(m.ast, m.src())
	case *cmpExpr:
		if !isTypeField(x.field) {
			return nil, nil
		}
		switch x.op {
		case "=", "==", "in", "!=":
		default:
			return nil, c.errf(s, x.pos, "%s %s is not supported (use =, != or in)", x.field, x.op)
		}
		vals, err := c.expand(x, s)
		if err != nil {
			return nil, err
		}
		out := typeSet{}
		var unknown, unrep []string
		for _, v := range vals {
			ts, ok := syscallTypes[v]
			switch {
			case ok:
				for _, t := range ts {
					out[t] = true
				}
			case unreported[v]:
				out[unreportedType(v)] = true
				unrep = append(unrep, v)
			default:
				unknown = append(unknown, v)
			}
		}
		if len(unknown) > 0 {
			return nil, c.errf(s, x.pos, "%s %s: not an event type Falco knows", x.field, strings.Join(unknown, ", "))
		}
		if x.op == "!=" {
			return nil, nil
		}
		if len(unrep) > 0 && len(unrep) < len(out) {
			c.note(narrowNote, "dropped %s from %s: the sensor does not report it", strings.Join(dedupe(unrep), ", "), s.quote(x))
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown expression %T", e)
}

// unreportedType is the type of the events of a syscall no Vigil event reports.
func unreportedType(call string) event.Type { return "\x00" + call }

// unreported lists, sorted, the syscalls of the unreported types of a set.
func (ts typeSet) unreported() []string {
	var out []string
	for t := range ts {
		if call, ok := strings.CutPrefix(t, "\x00"); ok {
			out = append(out, call)
		}
	}
	sort.Strings(out)
	return out
}

func isTypeField(f string) bool { return f == "evt.type" || f == "syscall.type" }

// expand returns the values of a comparison. In the (…) of in, pmatch and
// intersects, an unquoted value naming a list of the set stands for the list's
// items. An undefined value that looks like a list's name (looksLikeList) is an
// error, not text: it is almost always a list from a file that is not part of the
// set. Other undefined words with underscores are text, as in Falco, with a
// warning; so are the values of exceptions (data), event types Falco knows, and
// values compared with a process name that are 15 characters long (Linux keeps that
// much of a process's name, so truncated names look like anything).
func (c *conv) expand(x *cmpExpr, s *src) ([]string, error) {
	var out []string
	for _, v := range x.values {
		if v.inline {
			out = append(out, strings.Split(v.s, "\x00")...)
			continue
		}
		if !x.list || v.quoted {
			out = append(out, v.s)
			continue
		}
		if l, ok := c.set.lists[v.s]; ok {
			out = append(out, l.resolved...)
			continue
		}
		text := x.pos < 0 || isTypeField(x.field) && knownCall(v.s) || commField(x.field) && len(v.s) == commLen
		if !text && snakeCase.MatchString(v.s) {
			if _, ok := c.set.macros[v.s]; ok {
				return nil, c.errf(s, x.pos, "%s is a macro, used as a list in %s %s (…)", v.s, x.field, x.op)
			}
			if looksLikeList(v.s) {
				return nil, c.errf(s, x.pos, "list %s is not defined in the set (Falco would compare with the text %q: quote it to mean the text, or load the file that defines the list first)", v.s, v.s)
			}
			c.set.warn(fmt.Sprintf("%s:%d: rule %q: %s in %s %s (…) is the text %q: no list of that name is defined in the set",
				c.rule.file, c.rule.line, c.rule.name, v.s, x.field, x.op, v.s))
		}
		out = append(out, v.s)
	}
	if x.list && len(out) == 0 && len(x.values) > 0 {
		c.note(falcoNote, "%s is false for any value: the list is empty", s.quote(x))
	}
	return out, nil
}

// tr translates the condition for events of type t. neg says whether the node sits
// under an odd number of negations: a comparison Vigil can only approximate by
// matching more (evt.type = execve also matches execveat: both are NEW_PROCESS) is
// accepted where it is not negated and refused where it is.
func (c *conv) tr(e expr, t event.Type, neg bool, s *src) (*importer.Node, error) {
	c.steps++
	if c.steps > maxSteps {
		return nil, c.errf(s, e.at(), "condition expands to more than %d terms", maxSteps)
	}
	mark := len(c.notes)
	n, err := c.tr1(e, t, neg, s)
	if err == nil {
		c.liftMeta(mark, e, s, n)
	}
	return n, err
}

func (c *conv) tr1(e expr, t event.Type, neg bool, s *src) (*importer.Node, error) {
	switch x := e.(type) {
	case *andExpr:
		return c.junction(x.xs, true, t, neg, s)
	case *orExpr:
		return c.junction(x.xs, false, t, neg, s)
	case *notExpr:
		n, err := c.tr(x.x, t, !neg, s)
		if err != nil {
			return nil, err
		}
		return importer.Simplify(importer.Negate(n)), nil
	case *macroRef:
		m, err := c.macro(x, s)
		if err != nil {
			return nil, err
		}
		if m == nil {
			return standardMacros[x.name].node(t), nil
		}
		c.stack = append(c.stack, x.name)
		defer func() { c.stack = c.stack[:len(c.stack)-1] }()
		return c.tr(m.ast, t, neg, m.src())
	case *cmpExpr:
		return c.cmp(x, t, neg, s)
	}
	return nil, fmt.Errorf("unknown expression %T", e)
}

// junction translates an and (isAnd) or an or. An operand that decides the whole
// (false in an and, true in an or) makes the others irrelevant for this type,
// including their errors and notes: a branch about files is dead on NEW_PROCESS
// events.
func (c *conv) junction(xs []expr, isAnd bool, t event.Type, neg bool, s *src) (*importer.Node, error) {
	mark := len(c.notes)
	kids := make([]*importer.Node, 0, len(xs))
	var firstErr error
	for _, sub := range xs {
		before := len(c.notes)
		n, err := c.tr(sub, t, neg, s)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			c.notes = c.notes[:before]
			continue
		}
		if isAnd && n.IsFalse() || !isAnd && n.IsTrue() {
			decisive := append([]note(nil), c.notes[before:]...)
			c.notes = append(c.notes[:mark], decisive...)
			return n, nil
		}
		kids = append(kids, n)
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if isAnd {
		return importer.Simplify(importer.And(kids...)), nil
	}
	return mergeFamilies(importer.Simplify(importer.Or(kids...))), nil
}

// cmpCtx is one comparison being translated for events of type t.
type cmpCtx struct {
	*conv
	x   *cmpExpr
	t   event.Type
	neg bool
	s   *src
	// arg is the field's argument: N of proc.aname[N], NAME of proc.env[NAME], the
	// name of evt.arg.<name>.
	arg string
}

func (k *cmpCtx) fail(format string, args ...any) error {
	return k.errf(k.s, k.x.pos, format, args...)
}

// vals returns the comparison's values, lists expanded.
func (k *cmpCtx) vals() ([]string, error) { return k.expand(k.x, k.s) }

// noteConst records that the comparison reads metadata Vigil events do not carry
// and is the constant v: a narrowing, unless no value of the field could change it
// (an empty list, which expand notes).
func (k *cmpCtx) noteConst(v bool, anyValue bool) {
	if anyValue {
		return
	}
	k.notes = append(k.notes, note{kind: narrowNote, group: metaGroup([]string{k.x.field}), meta: []string{k.x.field},
		text: fmt.Sprintf("%s is %v", k.s.quote(k.x), v)})
}

func (c *conv) cmp(x *cmpExpr, t event.Type, neg bool, s *src) (*importer.Node, error) {
	k := &cmpCtx{conv: c, x: x, t: t, neg: neg, s: s}
	if isTypeField(x.field) {
		if t == event.K8sAudit {
			return nil, k.fail("%s is the syscall of a syscall event: rules of source k8s_audit match K8S_AUDIT events (compare ka.verb, ka.target.resource, …)", x.field)
		}
		return k.evtType()
	}
	switch x.op {
	case "bcontains", "bstartswith":
		return nil, k.fail("operator %s compares raw bytes, which Vigil events do not carry", x.op)
	}
	h, arg, err := lookupField(x.field)
	if err != nil {
		return nil, k.fail("%v", err)
	}
	k.arg = arg
	return h(k)
}

// evtType folds an evt.type comparison for events of type t: true when the values
// cover every syscall of the type, false when none, and where the type tells some
// of its syscalls apart (the operation of a PRIVILEGE_CHANGE, the kind of link of a
// FILE_LINK), the condition on that field.
func (k *cmpCtx) evtType() (*importer.Node, error) {
	x := k.x
	negated := x.op == "!="
	vals, err := k.vals()
	if err != nil {
		return nil, err
	}
	in := map[string]bool{}
	for _, v := range vals {
		in[v] = true
	}
	var alts []*importer.Node
	var ops []any
	var partial []string
	groups := reported[k.t]
	covered := 0
	for _, g := range groups {
		n := 0
		for _, call := range g.calls {
			if in[call] {
				n++
			}
		}
		switch {
		case n == 0:
			continue
		case n < len(g.calls):
			partial = append(partial, g.calls...)
		}
		covered++
		if g.op != "" {
			ops = append(ops, g.op)
			continue
		}
		alts = append(alts, groupNode(g))
	}
	if len(partial) > 0 && k.neg != negated {
		var named []string
		for _, v := range vals {
			for _, p := range partial {
				if v == p {
					named = append(named, v)
				}
			}
		}
		return nil, k.fail("%s %s %s cannot be expressed: Vigil's %s events do not tell %s apart", x.field, x.op, strings.Join(dedupe(named), ", "), k.t, strings.Join(dedupe(partial), ", "))
	}
	var n *importer.Node
	switch {
	case covered == 0:
		n = importer.False()
	case covered == len(groups):
		n = importer.True()
	default:
		if len(ops) > 0 {
			alts = append(alts, inList("event/OPERATION", ops, false))
		}
		n = importer.Simplify(importer.Or(alts...))
	}
	if negated {
		n = importer.Simplify(importer.Negate(n))
	}
	return n, nil
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func inList(p string, vals []any, fold bool) *importer.Node {
	if len(vals) == 0 {
		return importer.False()
	}
	return &importer.Node{Op: importer.OpInList, Path: p, Values: vals, Fold: fold}
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// stdMacro is a standard Falco macro with its documented meaning in Vigil terms,
// used when the set does not define a macro of that name.
type stdMacro struct {
	types typeSet // nil: any
	node  func(t event.Type) *importer.Node
}

// loopback are the destinations an outbound connection excludes (Falco:
// fd.ip != "0.0.0.0" and fd.net != "127.0.0.0/8", and IPv6 loopback).
var loopback = []string{"127.0.0.0/8", "0.0.0.0/32", "::1/128", "::/128", "::ffff:127.0.0.0/104"}

// einprogress is the errno of a non-blocking connect in progress, which Falco's
// outbound macro counts as a successful connect (evt.res = EINPROGRESS).
const einprogress = 115

func only(want event.Type, n func() *importer.Node) func(event.Type) *importer.Node {
	return func(t event.Type) *importer.Node {
		if t != want {
			return importer.False()
		}
		return n()
	}
}

func flag(name string) *importer.Node {
	return &importer.Node{Op: importer.OpMatches, Path: "event/FILE_FLAGS", Re: `(^|,)` + name + `(,|$)`}
}

var standardMacros = map[string]stdMacro{
	"spawned_process": {typeSet{event.NewProcess: true}, only(event.NewProcess, importer.True)},
	"outbound": {typeSet{event.NetworkConnect: true}, only(event.NetworkConnect, func() *importer.Node {
		return importer.And(
			inList("event/ERROR_CODE", []any{int64(0), int64(einprogress)}, false),
			importer.Negate(&importer.Node{Op: importer.OpCIDR, Path: "event/DESTINATION/IP_ADDRESS", CIDR: loopback}))
	})},
	"inbound": {typeSet{event.NetworkAccept: true}, only(event.NetworkAccept, func() *importer.Node {
		return importer.And(
			importer.Leaf(importer.OpIs, "event/ERROR_CODE", int64(0)),
			importer.Negate(&importer.Node{Op: importer.OpCIDR, Path: "event/SOURCE/IP_ADDRESS", CIDR: loopback}))
	})},
	"open_read":  {typeSet{event.FileOpen: true}, only(event.FileOpen, func() *importer.Node { return flag("read") })},
	"open_write": {typeSet{event.FileOpen: true}, only(event.FileOpen, func() *importer.Node { return flag("write") })},
	"container": {nil, func(event.Type) *importer.Node {
		return importer.Leaf(importer.OpExists, "event/CONTAINER_ID", nil)
	}},
	"never_true":  {typeSet{}, func(event.Type) *importer.Node { return importer.False() }},
	"always_true": {nil, func(event.Type) *importer.Node { return importer.True() }},
}

func standardMacroNames() []string {
	out := make([]string, 0, len(standardMacros))
	for n := range standardMacros {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
