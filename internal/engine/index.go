package engine

import (
	"encoding/binary"
	"math/bits"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/vigil-sec/vigil/internal/event"
)

// The literal index. Most rules require some field to hold one of a few literal
// values: FILE_NAME in a list of shells, TARGET/FILE_PATH starting with /etc/,
// FILE_PATH ending with /nc, DESTINATION/PORT in a list of ports, COMMAND_LINE
// containing "stratum+tcp". A rule is a candidate for an event only when the event
// holds one of the literals the rule requires; a ruleSet finds the candidates of
// all its rules at once, with one lookup per field (a hash lookup for equality, a
// walk of a trie for prefixes and suffixes, one pass over the value for contained
// literals), and evaluates only those, in the order of the rules. A rule requiring
// no literal (only negations, numbers compared, addresses in ranges) is evaluated
// on every event.

// key kinds
const (
	kExact = iota
	kPrefix
	kSuffix
	kContains
	kNum
)

// litKey is one literal a rule may require of a field: the field's value equals,
// starts with, ends with or contains s (ASCII case ignored with fold), or the
// number equals n.
type litKey struct {
	path string
	str  func(*event.Event) string
	list func(*event.Event) []string // a list field: a key holds when it holds of an item
	num  func(*event.Event) int64
	kind int
	fold bool
	s    string
	n    int64
}

// need is a necessary condition of a detection node: the node may match an event
// only when one of keys holds. cost ranks needs, the most selective lowest.
type need struct {
	keys []litKey
	cost int
}

// noNeed is the cost beyond which a need is not worth indexing.
const noNeed = 20

// strCost ranks a string key by kind and literal length: short literals are found
// in many values.
func strCost(kind int, s string) int {
	c := [...]int{kExact: 1, kSuffix: 2, kPrefix: 3, kContains: 4}[kind]
	switch {
	case kind == kExact && s == "":
		c += 10 // fields that do not apply are empty
	case len(s) <= 2:
		c += 4
	case len(s) <= 4:
		c++
	}
	return c
}

// rank orders the needs of the children of an and node: their cost, plus one
// for a need on the fields of the process that acted when the events are not
// processes' own (actor): one process does many things, so its name or command
// line is on many of its events, where the file it opens or the address it
// connects to is on few.
func (nd need) rank(actor bool) int {
	if actor && slices.ContainsFunc(nd.keys, actorKey) {
		return nd.cost + 1
	}
	return nd.cost
}

// actorKey reports whether k is on a field of the acting process (one that
// process starts have).
func actorKey(k litKey) bool {
	f, err := event.Lookup(k.path)
	return err == nil && f.For != nil && f.AppliesTo(event.NewProcess)
}

// needOf derives a necessary condition of m from its literals; ok is false when
// m has none the index can use. actor says the events are not processes' own
// (see need.rank).
func needOf(m matcher, actor bool) (need, bool) {
	switch n := m.(type) {
	case *strNode:
		return strNeed(&n.strTest, litKey{path: n.d.Path, str: n.get})
	case *listNode:
		return strNeed(&n.strTest, litKey{path: n.d.Path, list: n.get})
	case *setNode:
		return setNeed(n, litKey{path: n.d.Path, str: n.get})
	case *setListNode:
		return setNeed(&n.setNode, litKey{path: n.d.Path, list: n.getList})
	case *numNode:
		if n.kind != nEq {
			return need{}, false
		}
		return need{keys: []litKey{{path: n.d.Path, num: n.get, kind: kNum, n: n.v}}, cost: numCost(n.v)}, true
	case *numSetNode:
		nd := need{cost: 2}
		for v := range n.set {
			nd.keys = append(nd.keys, litKey{path: n.d.Path, num: n.get, kind: kNum, n: v})
			nd.cost = max(nd.cost, numCost(v))
		}
		return nd, true
	case *reNode:
		return reNeed(&n.reTest, litKey{path: n.d.Path, str: n.get})
	case *reListNode:
		return reNeed(&n.reTest, litKey{path: n.d.Path, list: n.get})
	case andNode:
		var best need
		found := false
		for _, c := range n {
			if nd, ok := needOf(c, actor); ok && (!found || nd.rank(actor) < best.rank(actor)) {
				best, found = nd, true
			}
		}
		return best, found
	case orNode:
		var all need
		for _, c := range n {
			nd, ok := needOf(c, actor)
			if !ok {
				return need{}, false
			}
			all.keys = append(all.keys, nd.keys...)
			all.cost = max(all.cost, nd.cost)
		}
		all.cost += len(n) / 8
		return all, true
	}
	return need{}, false
}

// anchoredNeed is the need of an anchored expression: the literals its matches
// start with (^/usr/bin/), end with (\.sh$) or are (^(a|b)$).
func anchoredNeed(t *reTest, field litKey) (need, bool) {
	re, err := syntax.Parse(t.re.String(), syntax.Perl)
	if err != nil {
		return need{}, false
	}
	lits, ok := anchored(re.Simplify())
	if !ok {
		if lits, ok = simpleAnchored(t.re.String()); !ok {
			return need{}, false
		}
	}
	var nd need
	for _, l := range lits {
		if l.s == "" || !indexable(l.kind, l.fold, l.s) {
			return need{}, false
		}
		k := field
		k.kind, k.fold, k.s = l.kind, l.fold, l.s
		nd.keys = append(nd.keys, k)
		nd.cost = max(nd.cost, strCost(l.kind, l.s))
	}
	return nd, true
}

type anchoredLit struct {
	kind int
	reLit
}

// anchored returns the literals every match of re starts with, ends with or is,
// when re is anchored at the start or the end of the text by literals.
func anchored(re *syntax.Regexp) ([]anchoredLit, bool) {
	switch re.Op {
	case syntax.OpCapture:
		return anchored(re.Sub[0])
	case syntax.OpAlternate:
		var out []anchoredLit
		for _, sub := range re.Sub {
			l, ok := anchored(sub)
			if !ok {
				return nil, false
			}
			out = append(out, l...)
		}
		return out, true
	case syntax.OpConcat:
	default:
		return nil, false
	}
	subs := re.Sub
	last := len(subs) - 1
	var best []anchoredLit
	consider := func(kind int, run []reLit) {
		if minLen(run) <= 0 {
			return
		}
		lits := make([]anchoredLit, 0, len(run))
		for _, l := range run {
			lits = append(lits, anchoredLit{kind, l})
		}
		if best == nil || litsCost(lits) < litsCost(best) {
			best = lits
		}
	}
	if subs[0].Op == syntax.OpBeginText {
		run := []reLit{{}}
		i := 1
		for ; i <= last; i++ {
			e := exact(subs[i])
			if e == nil || len(run)*len(e) > maxExact {
				break
			}
			run = cross(run, e)
		}
		if i == last && subs[last].Op == syntax.OpEndText {
			consider(kExact, run)
		} else {
			consider(kPrefix, run)
		}
	}
	if subs[last].Op == syntax.OpEndText && (best == nil || best[0].kind != kExact) {
		run := []reLit{{}}
		for i := last - 1; i >= 0; i-- {
			e := exact(subs[i])
			if e == nil || len(run)*len(e) > maxExact {
				break
			}
			run = cross(e, run)
		}
		consider(kSuffix, run)
	}
	return best, best != nil
}

func litsCost(lits []anchoredLit) int {
	c := 0
	for _, l := range lits {
		c = max(c, strCost(l.kind, l.s))
	}
	return c
}

// strNeed is the need of a string comparison; field is the key's field.
func strNeed(t *strTest, field litKey) (need, bool) {
	kind := [...]int{sIs: kExact, sContains: kContains, sPrefix: kPrefix, sSuffix: kSuffix}[t.kind]
	if !indexable(kind, t.fold, t.v) {
		return need{}, false
	}
	k := field
	k.kind, k.fold, k.s = kind, t.fold, t.v
	return need{keys: []litKey{k}, cost: strCost(kind, t.v)}, true
}

// setNeed is the need of in list over strings.
func setNeed(n *setNode, field litKey) (need, bool) {
	nd := need{cost: 1}
	for s := range n.set {
		if !indexable(kExact, n.fold, s) {
			return need{}, false
		}
		k := field
		k.kind, k.fold, k.s = kExact, n.fold, s
		nd.keys = append(nd.keys, k)
		nd.cost = max(nd.cost, strCost(kExact, s))
	}
	for _, s := range n.items { // the original spellings of a case-insensitive set
		if !indexable(kExact, true, s) {
			return need{}, false
		}
	}
	return nd, true
}

// reNeed is the need of a regular expression: its anchored literals, or else the
// literals of its prefilter (contained).
func reNeed(t *reTest, field litKey) (need, bool) {
	if nd, ok := anchoredNeed(t, field); ok {
		return nd, true
	}
	if t.pre == nil {
		return need{}, false
	}
	nd := need{cost: 5}
	for _, l := range t.pre.lits {
		k := field
		k.kind, k.s = kContains, l
		nd.keys = append(nd.keys, k)
		nd.cost = max(nd.cost, strCost(kContains, l)+1)
	}
	for _, l := range t.pre.fold {
		if !indexable(kContains, true, l) {
			return need{}, false
		}
		k := field
		k.kind, k.fold, k.s = kContains, true, l
		nd.keys = append(nd.keys, k)
		nd.cost = max(nd.cost, strCost(kContains, l)+1)
	}
	return nd, true
}

func numCost(v int64) int {
	if v <= 0 {
		return noNeed // error codes and ids of 0 hold on most events
	}
	return 2
}

// indexable reports whether a literal can be indexed: a contained literal needs two
// bytes (the index looks up pairs), and one compared ignoring case must be ASCII
// (Unicode folding may match other bytes).
func indexable(kind int, fold bool, s string) bool {
	if kind == kContains && len(s) < 2 {
		return false
	}
	return !fold || isASCII(s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// ruleSet is rules of one event type, each evaluated with one of its nodes (the
// root, or the second node of a with child or with descendant rule), with the
// literal index of those nodes.
type ruleSet struct {
	rules  []*Rule
	nodes  []matcher
	words  int
	always []uint64 // rules evaluated on every event
	fields []*fieldIndex
}

// maskWords is how many words of candidates are kept on the stack: rule sets of
// more rules than 64 times that allocate their candidates.
const maskWords = 64

// newRuleSet indexes rules evaluated with the node node returns for each;
// unindexed leaves the index out (every rule is a candidate for every event) and
// keeps the nodes in the order of their files.
func newRuleSet(t event.Type, rules []*Rule, node func(int, *Rule) matcher, unindexed bool) *ruleSet {
	actor := t != event.NewProcess && t != event.TerminateProcess
	s := &ruleSet{rules: rules, words: (len(rules) + 63) / 64}
	s.always = make([]uint64, s.words)
	byPath := map[string]*fieldIndex{}
	for i, r := range rules {
		m := node(i, r)
		if !unindexed {
			m = evalOrder(m)
		}
		s.nodes = append(s.nodes, m)
		nd, ok := needOf(m, actor)
		if !ok || nd.cost >= noNeed || unindexed {
			s.always[i>>6] |= 1 << (i & 63)
			continue
		}
		for _, k := range nd.keys {
			f := byPath[k.path]
			if f == nil {
				f = &fieldIndex{str: k.str, list: k.list, num: k.num}
				byPath[k.path] = f
				s.fields = append(s.fields, f)
			}
			f.add(k, int32(i))
		}
	}
	for _, f := range s.fields {
		f.build()
	}
	return s
}

// candidates returns the rules that may match ev as a bit mask over s.rules, in
// scratch when it is large enough.
func (s *ruleSet) candidates(ev *event.Event, scratch []uint64) []uint64 {
	var mask []uint64
	if s.words <= len(scratch) {
		mask = scratch[:s.words]
	} else {
		mask = make([]uint64, s.words)
	}
	copy(mask, s.always)
	for _, f := range s.fields {
		f.mark(ev, mask)
	}
	return mask
}

// nextBit returns the first candidate of mask at or after i and before end, -1
// when there is none.
func nextBit(mask []uint64, i, end int) int {
	for i < end {
		w := i >> 6
		if x := mask[w] >> (i & 63); x != 0 {
			if j := i + bits.TrailingZeros64(x); j < end {
				return j
			}
			return -1
		}
		i = (w + 1) << 6
	}
	return -1
}

func setAll(mask []uint64, post []int32) {
	for _, i := range post {
		mask[i>>6] |= 1 << (i & 63)
	}
}

// fieldIndex finds the rules whose literals one field's value holds. When some of
// them ignore case, all are kept lower-cased (ASCII) and looked up with the value
// lower-cased: a value that holds a case-sensitive literal holds it lower-cased
// too, so the lookup finds every rule that may match (and a few that differ from
// the value only in case, which their evaluation then rejects), with one structure
// per kind for the literals of both cases. Otherwise the value is looked up as it
// is.
type fieldIndex struct {
	str  func(*event.Event) string
	list func(*event.Event) []string
	num  func(*event.Event) int64

	keys     []litKey // until build
	posts    []int32
	fold     bool // the literals are lower-cased
	nums     map[int64][]int32
	exact    *exactTable
	prefix   *trie
	suffix   *trie
	contains *multiLit
	empty    []int32 // rules of the empty literal: the only ones an empty value may hold
	foldAll  []int32 // rules with a key ignoring case: candidates for values with non-ASCII bytes
	all      []int32 // every rule with a key on the field: candidates for very long values
}

func (f *fieldIndex) add(k litKey, rule int32) {
	f.keys = append(f.keys, k)
	f.posts = append(f.posts, rule)
	f.all = appendOnce(f.all, rule)
	if k.fold {
		f.foldAll = appendOnce(f.foldAll, rule)
	}
}

func (f *fieldIndex) build() {
	f.fold = len(f.foldAll) > 0
	for i, k := range f.keys {
		f.insert(k, f.posts[i])
	}
	f.keys, f.posts = nil, nil
	if f.exact != nil {
		f.exact.finish()
		f.empty = f.exact.get("")
	}
	if f.prefix != nil {
		f.prefix.finish()
	}
	if f.suffix != nil {
		f.suffix.finish()
	}
	if f.contains != nil {
		f.contains.build()
	}
}

func (f *fieldIndex) insert(k litKey, rule int32) {
	if k.kind == kNum {
		if f.nums == nil {
			f.nums = map[int64][]int32{}
		}
		f.nums[k.n] = appendOnce(f.nums[k.n], rule)
		return
	}
	lit := k.s
	if f.fold {
		lit = asciiLower(lit)
	}
	switch k.kind {
	case kExact:
		if f.exact == nil {
			f.exact = &exactTable{}
		}
		f.exact.add(lit, rule)
	case kPrefix, kSuffix:
		t := &f.prefix
		if k.kind == kSuffix {
			t = &f.suffix
		}
		if *t == nil {
			*t = &trie{}
		}
		(*t).add(lit, k.kind == kSuffix, rule)
	case kContains:
		if f.contains == nil {
			f.contains = &multiLit{}
		}
		f.contains.add(lit, rule)
	}
}

func appendOnce(post []int32, rule int32) []int32 {
	if n := len(post); n > 0 && post[n-1] == rule {
		return post
	}
	return append(post, rule)
}

// lowerBuf bounds the values with upper-case letters lower-cased on the stack; a
// longer one makes every rule of the field a candidate.
const lowerBuf = 256

// mark sets the rules whose keys the event's value of the field holds.
func (f *fieldIndex) mark(ev *event.Event, mask []uint64) {
	switch {
	case f.num != nil:
		setAll(mask, f.nums[f.num(ev)])
	case f.list != nil:
		for _, s := range f.list(ev) {
			f.markStr(s, mask)
		}
	default:
		f.markStr(f.str(ev), mask)
	}
}

// markStr sets the rules whose keys the value s holds.
func (f *fieldIndex) markStr(s string, mask []uint64) {
	if s == "" { // absent: no prefix, suffix or contained literal (none is empty)
		setAll(mask, f.empty)
		return
	}
	if !f.fold {
		f.markLower(s, mask)
		return
	}
	upper, ascii := scanCase(s)
	if !ascii {
		setAll(mask, f.foldAll) // Unicode folding: let the rules decide
	}
	if upper {
		if len(s) > lowerBuf {
			setAll(mask, f.all)
			return
		}
		var buf [lowerBuf]byte
		low := lowerInto(buf[:len(s)], s)
		f.markLower(unsafe.String(unsafe.SliceData(low), len(low)), mask) // low is not kept
		return
	}
	f.markLower(s, mask)
}

// Eight bytes at a time: a word of ASCII bytes (no high bit) has an
// upper-case letter at each byte where adding 0x80-'A' sets the high bit and
// adding 0x80-('Z'+1) does not; neither sum carries into the next byte.
const (
	lsb       = 0x0101010101010101
	msb       = 0x8080808080808080
	fromUpper = (0x80 - 'A') * lsb
	pastUpper = (0x80 - 'Z' - 1) * lsb
)

// word is the 8 bytes of s at i, little-endian.
func word(s string, i int) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))
}

// scanCase reports whether s has an upper-case ASCII letter and whether all
// of its bytes are ASCII.
func scanCase(s string) (upper, ascii bool) {
	var up, hi uint64
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := word(s, i)
		if w&msb != 0 {
			hi = msb
			for _, c := range []byte(s[i : i+8]) {
				if 'A' <= c && c <= 'Z' {
					up = msb
				}
			}
			continue
		}
		up |= (w + fromUpper) &^ (w + pastUpper) & msb
	}
	for ; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			up = msb
		}
		if c >= utf8.RuneSelf {
			hi = msb
		}
	}
	return up != 0, hi == 0
}

// lowerInto writes s with its upper-case ASCII letters lower-cased to dst, of
// s's length, and returns it.
func lowerInto(dst []byte, s string) []byte {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := word(s, i)
		if w&msb == 0 {
			w |= ((w + fromUpper) &^ (w + pastUpper) & msb) >> 2 // 0x80 >> 2 is 'a' - 'A'
			binary.LittleEndian.PutUint64(dst[i:], w)
			continue
		}
		for j := i; j < i+8; j++ {
			dst[j] = lowerASCII(s[j])
		}
	}
	for ; i < len(s); i++ {
		dst[i] = lowerASCII(s[i])
	}
	return dst
}

// markLower is markStr of a value as the literals are kept: without upper-case
// ASCII letters when they are lower-cased.
func (f *fieldIndex) markLower(s string, mask []uint64) {
	if f.exact != nil {
		setAll(mask, f.exact.get(s))
	}
	if f.prefix != nil {
		f.prefix.mark(s, mask)
	}
	if f.suffix != nil {
		f.suffix.mark(s, mask)
	}
	if f.contains != nil {
		f.contains.mark(s, mask)
	}
}

// exactTable finds the rules of the literal a value equals: an open-addressed
// table of the literals' indexes, hashed by strHash. A lookup reads a few words
// of the value, where a map hashes all of it.
type exactTable struct {
	keys  []string
	posts [][]int32
	table []int32 // 1 + the index in keys, 0 for an empty slot
	mask  uint64
}

func (x *exactTable) add(s string, rule int32) {
	for i, k := range x.keys {
		if k == s {
			x.posts[i] = appendOnce(x.posts[i], rule)
			return
		}
	}
	x.keys = append(x.keys, s)
	x.posts = append(x.posts, []int32{rule})
}

// finish builds the table once every literal is added: at most half full.
func (x *exactTable) finish() {
	size := 4
	for size < 2*len(x.keys) {
		size *= 2
	}
	x.table = make([]int32, size)
	x.mask = uint64(size - 1)
	for i, k := range x.keys {
		j := strHash(k) & x.mask
		for x.table[j] != 0 {
			j = (j + 1) & x.mask
		}
		x.table[j] = int32(i + 1)
	}
}

// get returns the rules of the literal s equals, nil for none.
func (x *exactTable) get(s string) []int32 {
	for j := strHash(s) & x.mask; ; j = (j + 1) & x.mask {
		i := x.table[j]
		if i == 0 {
			return nil
		}
		if x.keys[i-1] == s {
			return x.posts[i-1]
		}
	}
}

// strHash hashes s by its length and at most three of its words: the first,
// the last and, for more than 16 bytes, the middle one. Values that differ
// only elsewhere collide, and a lookup then compares them with the literals of
// one run of the table.
func strHash(s string) uint64 {
	n := len(s)
	var a, b, c uint64
	switch {
	case n >= 8:
		a, b = word(s, 0), word(s, n-8)
		if n > 16 {
			c = word(s, n/2-4)
		}
	case n >= 4:
		a = uint64(binary.LittleEndian.Uint32(unsafe.Slice(unsafe.StringData(s), 4)))
		b = uint64(binary.LittleEndian.Uint32(unsafe.Slice(unsafe.StringData(s[n-4:]), 4)))
	case n > 0:
		a = uint64(s[0])<<16 | uint64(s[n>>1])<<8 | uint64(s[n-1])
	}
	h := (a^0x9e3779b97f4a7c15)*0xbf58476d1ce4e5b9 ^ bits.RotateLeft64((b^uint64(n))*0x94d049bb133111eb, 29) ^ c*0xff51afd7ed558ccd
	return h ^ h>>31
}

// trie finds the literals a value starts with (or, reversed, ends with). It is
// built with add and then laid out flat by finish: a node holds up to
// inlineEdges edges itself, so that a step of the walk reads one node (a chain
// of one load, not three), and a node of more children looks them up in a table.
type trie struct {
	rev   bool
	nodes []trieNode
	outs  [][]int32    // rules whose literal ends at a node
	dense [][256]int32 // 1 + the child by byte, for nodes of many children

	build []trieBuild // until finish
}

// inlineEdges is how many edges a node holds itself.
const inlineEdges = 4

type trieNode struct {
	label [inlineEdges]byte  // the bytes of the edges
	n     int32              // how many; -1: the children are in dense[to[0]]
	out   int32              // 1 + the node's index in outs, 0 for none
	to    [inlineEdges]int32 // the children
}

type trieBuild struct {
	edges []byte
	to    []int32
	out   []int32
}

// denseEdges is how many children make a node look them up in a table.
const denseEdges = 6

func (t *trie) add(s string, rev bool, rule int32) {
	t.rev = rev
	if len(t.build) == 0 {
		t.build = append(t.build, trieBuild{})
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if rev {
			c = s[len(s)-1-i]
		}
		j := strings.IndexByte(string(t.build[n].edges), c)
		if j < 0 {
			t.build = append(t.build, trieBuild{})
			nd := &t.build[n]
			nd.edges = append(nd.edges, c)
			nd.to = append(nd.to, int32(len(t.build)-1))
			j = len(nd.edges) - 1
		}
		n = int(t.build[n].to[j])
	}
	t.build[n].out = appendOnce(t.build[n].out, rule)
}

// finish lays out the trie built by add.
func (t *trie) finish() {
	t.nodes = make([]trieNode, len(t.build))
	for i, b := range t.build {
		nd := &t.nodes[i]
		if len(b.out) > 0 {
			t.outs = append(t.outs, b.out)
			nd.out = int32(len(t.outs))
		}
		if len(b.edges) > inlineEdges {
			var d [256]int32
			for k, e := range b.edges {
				d[e] = b.to[k] + 1
			}
			t.dense = append(t.dense, d)
			nd.n, nd.to[0] = -1, int32(len(t.dense)-1)
			continue
		}
		nd.n = int32(len(b.edges))
		copy(nd.label[:], b.edges)
		copy(nd.to[:], b.to)
	}
	t.build = nil
}

// step returns the child of nd by c, -1 for none.
func (t *trie) step(nd *trieNode, c byte) int32 {
	if nd.n < 0 {
		return t.dense[nd.to[0]][c] - 1
	}
	for k := range inlineEdges {
		if int32(k) == nd.n {
			break
		}
		if nd.label[k] == c {
			return nd.to[k]
		}
	}
	return -1
}

// mark sets the rules of every literal s starts with (ends with for a reversed
// trie).
func (t *trie) mark(s string, mask []uint64) {
	nd := &t.nodes[0]
	if t.rev {
		for i := len(s) - 1; i >= 0; i-- {
			n := t.step(nd, s[i])
			if n < 0 {
				return
			}
			nd = &t.nodes[n]
			if nd.out != 0 {
				setAll(mask, t.outs[nd.out-1])
			}
		}
		return
	}
	for i := 0; i < len(s); i++ {
		n := t.step(nd, s[i])
		if n < 0 {
			return
		}
		nd = &t.nodes[n]
		if nd.out != 0 {
			setAll(mask, t.outs[nd.out-1])
		}
	}
}

// multiLit finds the literals (each at least 2 bytes) a value contains, in one
// pass: the byte pair at each position selects the few literals that may start
// there.
type multiLit struct {
	slot   [4096]uint16 // pair hash → 1 + index in groups, 0 for none
	groups [][]postLit
	lits   map[string]int
	all    []postLit
	minLen int
}

type postLit struct {
	s    string
	post []int32
}

func multiHash(a, b byte) uint16 { return (uint16(a)*131 + uint16(b)) & 4095 }

func (m *multiLit) add(s string, rule int32) {
	if m.lits == nil {
		m.lits = map[string]int{}
	}
	i, ok := m.lits[s]
	if !ok {
		i = len(m.all)
		m.lits[s] = i
		m.all = append(m.all, postLit{s: s})
	}
	m.all[i].post = appendOnce(m.all[i].post, rule)
}

func (m *multiLit) build() {
	m.minLen = -1
	for _, l := range m.all {
		if m.minLen < 0 || len(l.s) < m.minLen {
			m.minLen = len(l.s)
		}
		h := multiHash(l.s[0], l.s[1])
		if m.slot[h] == 0 {
			m.groups = append(m.groups, nil)
			m.slot[h] = uint16(len(m.groups))
		}
		m.groups[m.slot[h]-1] = append(m.groups[m.slot[h]-1], l)
	}
	m.lits, m.all = nil, nil
}

func (m *multiLit) mark(s string, mask []uint64) {
	for i := 0; i+m.minLen <= len(s); i++ {
		g := m.slot[multiHash(s[i], s[i+1])]
		if g == 0 {
			continue
		}
		rest := s[i:]
		for _, l := range m.groups[g-1] {
			if len(l.s) <= len(rest) && rest[:len(l.s)] == l.s {
				setAll(mask, l.post)
			}
		}
	}
}

// evalOrder returns m with the children of its and/or nodes in the order in which
// they decide soonest: for and, the positive conditions cheapest first, then the
// negated ones (exceptions, which hold on most events) cheapest first; for or,
// cheapest first. A rule that does not match is then left at its cheapest failing
// test (a name compared) rather than at its first (often a regular expression,
// or a long list of exceptions). The nodes are pure, so the order does not change
// the result; the rule's own tree, which explanations walk, keeps the order of its
// file.
func evalOrder(m matcher) matcher {
	switch n := m.(type) {
	case andNode:
		return andNode(ordered(n, true))
	case orNode:
		return orNode(ordered(n, false))
	case notNode:
		return notNode{evalOrder(n.m)}
	}
	return m
}

// negatedLast is added to the cost of a negated child of and.
const negatedLast = 1 << 20

func ordered(ms []matcher, and bool) []matcher {
	out := make([]matcher, len(ms))
	for i, c := range ms {
		out[i] = evalOrder(c)
	}
	key := func(m matcher) int {
		c := evalCost(m)
		if _, neg := m.(notNode); neg && and {
			c += negatedLast
		}
		return c
	}
	slices.SortStableFunc(out, func(a, b matcher) int { return key(a) - key(b) })
	return out
}

// evalCost estimates what evaluating m costs, in units of a string comparison.
func evalCost(m matcher) int {
	switch n := m.(type) {
	case andNode:
		c := 0
		for _, x := range n {
			c += evalCost(x)
		}
		return c
	case orNode:
		c := 0
		for _, x := range n {
			c += evalCost(x)
		}
		return c
	case notNode:
		return evalCost(n.m)
	case *strNode:
		if n.kind == sContains {
			return 3
		}
		return 1
	case *reNode:
		if n.item != "" {
			return 1 // a comparison of the items of a short list
		}
		return 10
	case *reListNode:
		return 10
	case *cidrNode:
		return 4
	case *listNode, *setListNode:
		return 3
	}
	return 1
}
