package engine

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/explain"
	"go.yaml.in/yaml/v3"
)

// nodeKeys are the keys of a detection node (the detection itself is a node too).
var nodeKeys = []string{"op", "path", "value", "rules", "case sensitive", "not",
	"re", "cidr", "list", "values", "tag", "compare", "macro"}

// opKeys lists, per op, the keys it takes besides op, not and case sensitive.
var opKeys = map[string][]string{
	"and":             {"rules"},
	"or":              {"rules"},
	"is":              {"path", "value"},
	"contains":        {"path", "value"},
	"starts with":     {"path", "value"},
	"ends with":       {"path", "value"},
	"matches":         {"path", "re"},
	"exists":          {"path"},
	"is greater than": {"path", "value"},
	"is lower than":   {"path", "value"},
	"length of":       {"path", "value", "compare"},
	"cidr":            {"path", "cidr"},
	"in list":         {"path", "list", "values"},
	"is tagged":       {"tag"},
}

// Ops lists the detection operators, in documentation order.
var Ops = []string{"and", "or", "is", "contains", "starts with", "ends with", "matches", "exists",
	"is greater than", "is lower than", "length of", "cidr", "in list", "is tagged"}

// scope is what a node is compiled against.
type scope struct {
	events []event.Type // the event types the node sees; nil: not checked (macro validation)
	fold   bool         // inherited case sensitive: false
	macros []string     // macros being expanded, outermost first
}

// matcher is a compiled detection node. explain evaluates it again on an event,
// building the tree of conditions (explain.go): only for rules that matched, or
// on request, never on the evaluation path.
type matcher interface {
	match(e *event.Event) bool
	explain(e *event.Event) *explain.Condition
}

// described is what a comparison node says of itself in explanations: its op,
// path and expected values (explain.Condition without Matched and Actual).
type described struct{ d *explain.Condition }

type andNode []matcher

func (n andNode) match(e *event.Event) bool {
	for _, m := range n {
		if !m.match(e) {
			return false
		}
	}
	return true
}

type orNode []matcher

func (n orNode) match(e *event.Event) bool {
	for _, m := range n {
		if m.match(e) {
			return true
		}
	}
	return false
}

type notNode struct{ m matcher }

func (n notNode) match(e *event.Event) bool { return !n.m.match(e) }

// string comparisons
const (
	sIs = iota
	sContains
	sPrefix
	sSuffix
)

var strKinds = map[string]int{"is": sIs, "contains": sContains, "starts with": sPrefix, "ends with": sSuffix}

// strTest compares one string with a value.
type strTest struct {
	kind int
	fold bool
	v    string
}

func (t *strTest) test(s string) bool {
	v := t.v
	switch t.kind {
	case sIs:
		if t.fold {
			return strings.EqualFold(s, v)
		}
		return s == v
	case sContains:
		if t.fold {
			return indexFold(s, v) >= 0
		}
		return strings.Contains(s, v)
	case sPrefix:
		if len(s) < len(v) {
			return false
		}
		if t.fold {
			return strings.EqualFold(s[:len(v)], v)
		}
		return s[:len(v)] == v
	default:
		if len(s) < len(v) {
			return false
		}
		if t.fold {
			return strings.EqualFold(s[len(s)-len(v):], v)
		}
		return s[len(s)-len(v):] == v
	}
}

type strNode struct {
	described
	get func(*event.Event) string
	strTest
}

func (n *strNode) match(e *event.Event) bool { return n.test(n.get(e)) }

type listNode struct {
	described
	get func(*event.Event) []string
	strTest
}

func (n *listNode) match(e *event.Event) bool {
	for _, s := range n.get(e) {
		if n.test(s) {
			return true
		}
	}
	return false
}

// number comparisons
const (
	nEq = iota
	nGt
	nLt
)

var cmpKinds = map[string]int{"is": nEq, "is greater than": nGt, "is lower than": nLt}

func cmp(kind int, a, b int64) bool {
	switch kind {
	case nEq:
		return a == b
	case nGt:
		return a > b
	default:
		return a < b
	}
}

type numNode struct {
	described
	get  func(*event.Event) int64
	kind int
	v    int64
}

func (n *numNode) match(e *event.Event) bool { return cmp(n.kind, n.get(e), n.v) }

// reTest runs a regular expression behind its prefilter.
type reTest struct {
	re    *regexp.Regexp
	pre   *prefilter
	shape *shape
	// simple matches ASCII strings without the expression when it is of a
	// simple form (minire.go)
	simple *simpleRe
	// item is set for an expression (^|,)item(,|$): one item of a comma-separated
	// list (file flags), tested without the expression
	item string
}

func newReTest(re *regexp.Regexp, src string) reTest {
	t := reTest{re: re, pre: newPrefilter(src), shape: newShape(src), simple: newSimpleRe(src)}
	const head, tail = "(^|,)", "(,|$)"
	if lit, ok := strings.CutPrefix(src, head); ok {
		if lit, ok = strings.CutSuffix(lit, tail); ok && lit != "" && regexp.QuoteMeta(lit) == lit && !strings.ContainsAny(lit, ",\n") {
			t.item = lit
		}
	}
	return t
}

func (t *reTest) test(s string) bool {
	if t.item != "" {
		return hasItem(s, t.item)
	}
	if t.pre != nil && !t.pre.may(s) {
		return false
	}
	if t.shape != nil && !t.shape.may(s) {
		return false
	}
	if t.simple != nil && asciiOnly(s) {
		return t.simple.match(s)
	}
	return t.re.MatchString(s)
}

// hasItem reports whether item is one of the comma-separated items of s.
func hasItem(s, item string) bool {
	for s != "" {
		i := strings.IndexByte(s, ',')
		if i < 0 {
			return s == item
		}
		if s[:i] == item {
			return true
		}
		s = s[i+1:]
	}
	return false
}

type reNode struct {
	described
	get func(*event.Event) string
	reTest
}

func (n *reNode) match(e *event.Event) bool { return n.test(n.get(e)) }

type reListNode struct {
	described
	get func(*event.Event) []string
	reTest
}

func (n *reListNode) match(e *event.Event) bool {
	for _, s := range n.get(e) {
		if n.test(s) {
			return true
		}
	}
	return false
}

type strExists struct {
	get func(*event.Event) string
	described
}

func (n strExists) match(e *event.Event) bool { return n.get(e) != "" }

type numExists struct {
	get func(*event.Event) int64
	described
}

func (n numExists) match(e *event.Event) bool { return n.get(e) != 0 }

type listExists struct {
	get func(*event.Event) []string
	described
}

func (n listExists) match(e *event.Event) bool { return len(n.get(e)) > 0 }

type strLen struct {
	described
	get  func(*event.Event) string
	kind int
	v    int64
}

func (n *strLen) match(e *event.Event) bool { return cmp(n.kind, int64(len(n.get(e))), n.v) }

type listLen struct {
	described
	get  func(*event.Event) []string
	kind int
	v    int64
}

func (n *listLen) match(e *event.Event) bool { return cmp(n.kind, int64(len(n.get(e))), n.v) }

type cidrNode struct {
	described
	get      func(*event.Event) string
	prefixes []netip.Prefix
}

func (n *cidrNode) match(e *event.Event) bool {
	s := n.get(e)
	if s == "" || !maybeIP(s) {
		return false
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range n.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// maybeIP is a cheap filter so that ParseAddr, whose errors allocate, only sees
// strings made of address characters.
func maybeIP(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F', c == '.', c == ':':
		case c == '%': // a zone (fe80::1%eth0)
			return true
		default:
			return false
		}
	}
	return true
}

// setNode is in list over strings: exact match, case-insensitive with fold (the
// set then holds lower-case ASCII keys).
type setNode struct {
	described
	get   func(*event.Event) string
	set   map[string]struct{}
	fold  bool
	items []string // for case-insensitive non-ASCII and long inputs
}

func (n *setNode) test(s string) bool {
	if !n.fold {
		_, ok := n.set[s]
		return ok
	}
	var buf [128]byte
	if len(s) <= len(buf) {
		ascii := true
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c >= utf8.RuneSelf {
				ascii = false
				break
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[i] = c
		}
		if ascii {
			_, ok := n.set[string(buf[:len(s)])]
			return ok
		}
	}
	for _, it := range n.items {
		if strings.EqualFold(s, it) {
			return true
		}
	}
	return false
}

func (n *setNode) match(e *event.Event) bool { return n.test(n.get(e)) }

type setListNode struct {
	getList func(*event.Event) []string
	setNode
}

func (n *setListNode) match(e *event.Event) bool {
	for _, s := range n.getList(e) {
		if n.test(s) {
			return true
		}
	}
	return false
}

type numSetNode struct {
	described
	get func(*event.Event) int64
	set map[int64]struct{}
}

func (n *numSetNode) match(e *event.Event) bool {
	_, ok := n.set[n.get(e)]
	return ok
}

// node compiles one detection node given its keys.
func (p *parser) node(n *yaml.Node, keys map[string]*yaml.Node, sc scope) (matcher, error) {
	negate := false
	if nn, ok := keys["not"]; ok {
		var err error
		if negate, err = p.boolean(nn, "not"); err != nil {
			return nil, err
		}
	}
	if cs, ok := keys["case sensitive"]; ok {
		sensitive, err := p.boolean(cs, "case sensitive")
		if err != nil {
			return nil, err
		}
		sc.fold = !sensitive
	}
	var m matcher
	var err error
	if mn, ok := keys["macro"]; ok {
		for k, v := range keys {
			if k != "macro" && k != "not" {
				return nil, p.errf(v.Line, "a macro: node takes only not:, not %s:", k)
			}
		}
		m, err = p.macroRef(mn, sc)
	} else {
		m, err = p.opNode(n, keys, sc)
	}
	if err != nil {
		return nil, err
	}
	if negate {
		if nm, ok := m.(notNode); ok {
			return nm.m, nil
		}
		m = notNode{m}
	}
	return m, nil
}

func (p *parser) opNode(n *yaml.Node, keys map[string]*yaml.Node, sc scope) (matcher, error) {
	opNode, ok := keys["op"]
	if !ok {
		return nil, p.errf(n.Line, "node without op: (or macro:)")
	}
	op, err := p.scalar(opNode, "op")
	if err != nil {
		return nil, err
	}
	allowed, ok := opKeys[op]
	if !ok {
		return nil, p.errf(opNode.Line, "unknown op %q (known: %s)", op, strings.Join(Ops, ", "))
	}
	for k, v := range keys {
		if k != "op" && k != "not" && k != "case sensitive" && !contains(allowed, k) {
			return nil, p.errf(v.Line, "op %s does not take %s: (it takes %s)", op, k, strings.Join(allowed, ", "))
		}
	}
	switch op {
	case "and", "or":
		return p.boolNode(op, n, keys, sc)
	case "is tagged":
		tn, ok := keys["tag"]
		if !ok {
			return nil, p.errf(n.Line, "op is tagged needs tag:")
		}
		tag, err := p.scalar(tn, "tag")
		if err != nil {
			return nil, err
		}
		if tag == "" {
			return nil, p.errf(tn.Line, "tag: want a tag such as env:prod")
		}
		f, _ := event.Lookup("routing/tags")
		d := &explain.Condition{Op: op, Path: f.Path, Value: tag, IgnoreCase: sc.fold}
		return &listNode{get: f.List, strTest: strTest{kind: sIs, fold: sc.fold, v: tag}, described: described{d}}, nil
	}
	pn, ok := keys["path"]
	if !ok {
		return nil, p.errf(n.Line, "op %s needs path:", op)
	}
	path, err := p.scalar(pn, "path")
	if err != nil {
		return nil, err
	}
	f, err := p.field(pn, path, sc.events)
	if err != nil {
		return nil, err
	}
	d := &explain.Condition{Op: op, Path: path}
	ds := described{d}
	get := func(k string) (*yaml.Node, error) {
		v, ok := keys[k]
		if !ok {
			return nil, p.errf(n.Line, "op %s needs %s:", op, k)
		}
		return v, nil
	}
	switch op {
	case "is", "contains", "starts with", "ends with":
		vn, err := get("value")
		if err != nil {
			return nil, err
		}
		if vn.Kind == yaml.SequenceNode {
			return nil, p.errf(vn.Line, "value: want a single value, got a list (use op: in list with values:)")
		}
		value, err := p.scalar(vn, "value")
		if err != nil {
			return nil, err
		}
		if value == "" && op != "is" {
			return nil, p.errf(vn.Line, "op %s needs a non-empty value", op)
		}
		st := strTest{kind: strKinds[op], fold: sc.fold, v: value}
		d.Value = value
		switch f.Kind {
		case event.String:
			d.IgnoreCase = sc.fold
			return &strNode{get: f.Str, strTest: st, described: ds}, nil
		case event.StringList:
			d.IgnoreCase = sc.fold
			return &listNode{get: f.List, strTest: st, described: ds}, nil
		}
		if op != "is" {
			return nil, p.errf(keys["op"].Line, "op %s does not apply to the number at %s (use is, is greater than, is lower than or in list)", op, path)
		}
		v, err := strconv.ParseInt(value, 0, 64)
		if err != nil {
			return nil, p.errf(vn.Line, "value %q: %s is a number", value, path)
		}
		return &numNode{get: f.Num, kind: nEq, v: v, described: ds}, nil
	case "is greater than", "is lower than":
		if f.Kind != event.Number {
			return nil, p.errf(pn.Line, "op %s needs a number; %s is a %s (use length of for its length)", op, path, f.Kind)
		}
		vn, err := get("value")
		if err != nil {
			return nil, err
		}
		v, err := p.integer(vn, "value")
		if err != nil {
			return nil, err
		}
		d.Value = strconv.FormatInt(v, 10)
		return &numNode{get: f.Num, kind: cmpKinds[op], v: v, described: ds}, nil
	case "exists":
		switch f.Kind {
		case event.String:
			return &strExists{f.Str, ds}, nil
		case event.Number:
			return &numExists{f.Num, ds}, nil
		}
		return &listExists{f.List, ds}, nil
	case "matches":
		rn, err := get("re")
		if err != nil {
			return nil, err
		}
		src, err := p.scalar(rn, "re")
		if err != nil {
			return nil, err
		}
		d.Value, d.IgnoreCase = src, sc.fold
		if sc.fold {
			src = "(?i)" + src
		}
		re, err := regexp.Compile(src)
		if err != nil {
			return nil, p.errf(rn.Line, "re: invalid RE2 expression: %v", err)
		}
		rt := newReTest(re, src)
		switch f.Kind {
		case event.String:
			return &reNode{get: f.Str, reTest: rt, described: ds}, nil
		case event.StringList:
			return &reListNode{get: f.List, reTest: rt, described: ds}, nil
		}
		return nil, p.errf(pn.Line, "op matches needs a string; %s is a number", path)
	case "length of":
		vn, err := get("value")
		if err != nil {
			return nil, err
		}
		v, err := p.integer(vn, "value")
		if err != nil {
			return nil, err
		}
		kind := nEq
		if cn, ok := keys["compare"]; ok {
			c, err := p.scalar(cn, "compare")
			if err != nil {
				return nil, err
			}
			k, ok := cmpKinds[c]
			if !ok {
				return nil, p.errf(cn.Line, "compare: want is, is greater than or is lower than, got %q", c)
			}
			kind = k
			d.Compare = c
		}
		d.Value = strconv.FormatInt(v, 10)
		switch f.Kind {
		case event.String:
			return &strLen{get: f.Str, kind: kind, v: v, described: ds}, nil
		case event.StringList:
			return &listLen{get: f.List, kind: kind, v: v, described: ds}, nil
		}
		return nil, p.errf(pn.Line, "op length of needs a string or a list; %s is a number", path)
	case "cidr":
		if f.Kind != event.String {
			return nil, p.errf(pn.Line, "op cidr needs an IP address string; %s is a %s", path, f.Kind)
		}
		cn, err := get("cidr")
		if err != nil {
			return nil, err
		}
		items, err := p.strings(cn, "cidr")
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return nil, p.errf(cn.Line, "cidr: want at least one prefix")
		}
		d.Values, d.ValuesLeftOut = keptValues(items)
		node := &cidrNode{get: f.Str, described: ds}
		for _, s := range items {
			pf, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, p.errf(cn.Line, "cidr: %q is not a prefix like 10.0.0.0/8 or fd00::/8", s)
			}
			node.prefixes = append(node.prefixes, pf.Masked())
		}
		return node, nil
	default: // in list
		return p.inList(n, keys, f, sc, d)
	}
}

func (p *parser) inList(n *yaml.Node, keys map[string]*yaml.Node, f *event.Field, sc scope, d *explain.Condition) (matcher, error) {
	ln, hasList := keys["list"]
	vn, hasValues := keys["values"]
	var items []string
	var lines []int
	what := "values"
	switch {
	case hasList && hasValues:
		return nil, p.errf(vn.Line, "op in list takes list: or values:, not both")
	case hasList:
		name, err := p.scalar(ln, "list")
		if err != nil {
			return nil, err
		}
		l := p.lib.list(name)
		if l == nil {
			return nil, p.errf(ln.Line, "unknown list %q%s", name, p.lib.knownLists())
		}
		p.usedLists[name] = true
		items, lines, what = l.Items, l.lines, "list "+name
		d.List = name
	case hasValues:
		if vn.Kind != yaml.SequenceNode {
			return nil, p.errf(vn.Line, "values: want a list, got %s", kindName(vn))
		}
		for _, it := range vn.Content {
			s, err := p.scalar(it, "values item")
			if err != nil {
				return nil, err
			}
			items = append(items, s)
			lines = append(lines, it.Line)
		}
	default:
		return nil, p.errf(n.Line, "op in list needs list: (a shared list) or values:")
	}
	if len(items) == 0 {
		return nil, p.errf(n.Line, "op in list: %s is empty", what)
	}
	d.Values, d.ValuesLeftOut = keptValues(items)
	if f.Kind == event.Number {
		set := make(map[int64]struct{}, len(items))
		for i, s := range items {
			v, err := strconv.ParseInt(s, 0, 64)
			if err != nil {
				return nil, p.errf(lines[i], "%s: item %q is not an integer, and %s is a number", what, s, f.Path)
			}
			set[v] = struct{}{}
		}
		return &numSetNode{get: f.Num, set: set, described: described{d}}, nil
	}
	d.IgnoreCase = sc.fold
	sn := setNode{set: make(map[string]struct{}, len(items)), fold: sc.fold, described: described{d}}
	for _, s := range items {
		if sc.fold {
			sn.set[asciiLower(s)] = struct{}{}
			sn.items = append(sn.items, s)
		} else {
			sn.set[s] = struct{}{}
		}
	}
	if f.Kind == event.StringList {
		return &setListNode{getList: f.List, setNode: sn}, nil
	}
	sn.get = f.Str
	return &sn, nil
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func (p *parser) boolNode(op string, n *yaml.Node, keys map[string]*yaml.Node, sc scope) (matcher, error) {
	rs, ok := keys["rules"]
	if !ok || rs.Kind != yaml.SequenceNode || len(rs.Content) == 0 {
		return nil, p.errf(n.Line, "op %s needs a non-empty list under rules:", op)
	}
	children := make([]matcher, 0, len(rs.Content))
	var errs []error // every nested node is compiled, so that all their errors are reported
	for _, c := range rs.Content {
		ck, err := p.mapping(c, nodeKeys...)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		m, err := p.node(c, ck, sc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// flatten nested nodes of the same kind
		switch x := m.(type) {
		case andNode:
			if op == "and" {
				children = append(children, x...)
				continue
			}
		case orNode:
			if op == "or" {
				children = append(children, x...)
				continue
			}
		}
		children = append(children, m)
	}
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	if len(children) == 1 {
		return children[0], nil
	}
	if op == "and" {
		return andNode(children), nil
	}
	return orNode(children), nil
}

// macroRef compiles a macro: node by compiling the macro's body in place.
func (p *parser) macroRef(mn *yaml.Node, sc scope) (matcher, error) {
	name, err := p.scalar(mn, "macro")
	if err != nil {
		return nil, err
	}
	m := p.lib.macro(name)
	if m == nil {
		return nil, p.errf(mn.Line, "unknown macro %q%s", name, p.lib.knownMacros())
	}
	if contains(sc.macros, name) {
		return nil, p.errf(mn.Line, "macro %s refers to itself (%s → %s)", name, strings.Join(sc.macros, " → "), name)
	}
	p.usedMacros[name] = true
	sub := *p
	sub.file = m.File
	sub.prefix = p.prefix + "macro " + name + ": "
	sc.macros = append(append([]string{}, sc.macros...), name)
	keys, err := sub.mapping(m.node, nodeKeys...)
	if err != nil {
		return nil, err
	}
	return sub.node(m.node, keys, sc)
}

// indexFold is strings.Index ignoring case, without allocating.
func indexFold(s, sub string) int {
	if sub == "" {
		return 0
	}
	c := sub[0]
	if c >= utf8.RuneSelf {
		for i := 0; i+len(sub) <= len(s); i++ {
			if strings.EqualFold(s[i:i+len(sub)], sub) {
				return i
			}
		}
		return -1
	}
	lo, up := c, c
	if 'a' <= c && c <= 'z' {
		up = c - ('a' - 'A')
	} else if 'A' <= c && c <= 'Z' {
		lo = c + ('a' - 'A')
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		b := s[i]
		if b != lo && b != up && b < utf8.RuneSelf {
			continue
		}
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}
