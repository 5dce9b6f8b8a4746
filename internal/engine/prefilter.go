package engine

import (
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// prefilter is a cheap necessary condition of a regular expression: literals of which
// every match contains at least one. Most strings an event carries contain none of
// them, and then the expression need not run.
type prefilter struct {
	lits []string // case-sensitive literals
	fold []string // case-insensitive literals
	// with many literals, one pass over the string instead of one search each
	litSet, foldSet *litSet
}

// litSetMin is how many literals make a single pass cheaper than searching each.
const litSetMin = 4

// litSet finds any of several literals (each at least 2 bytes) in one pass: the
// byte pair at each position selects the few literals that may start there.
type litSet struct {
	fold   bool
	minLen int
	slot   [256]uint8 // pair hash → 1 + index in groups, 0 for none
	groups [][]string
}

func pairHash(a, b byte) uint8 { return a*31 + b }

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func newLitSet(lits []string, fold bool) *litSet {
	ls := &litSet{fold: fold, minLen: minLenStr(lits)}
	for _, l := range lits {
		a, b := l[0], l[1]
		if fold {
			l = asciiLower(l)
			a, b = lowerASCII(a), lowerASCII(b)
		}
		h := pairHash(a, b)
		if ls.slot[h] == 0 {
			ls.groups = append(ls.groups, nil)
			ls.slot[h] = uint8(len(ls.groups))
		}
		ls.groups[ls.slot[h]-1] = append(ls.groups[ls.slot[h]-1], l)
	}
	return ls
}

func (ls *litSet) contains(s string) bool {
	for i := 0; i+ls.minLen <= len(s); i++ {
		a, b := s[i], s[i+1]
		if ls.fold {
			a, b = lowerASCII(a), lowerASCII(b)
		}
		g := ls.slot[pairHash(a, b)]
		if g == 0 {
			continue
		}
		rest := s[i:]
		for _, l := range ls.groups[g-1] {
			if len(rest) < len(l) {
				continue
			}
			if ls.fold {
				if strings.EqualFold(rest[:len(l)], l) {
					return true
				}
			} else if rest[:len(l)] == l {
				return true
			}
		}
	}
	return false
}

func minLenStr(ls []string) int {
	m := -1
	for _, l := range ls {
		if m < 0 || len(l) < m {
			m = len(l)
		}
	}
	return m
}

// maxPrefilterLits bounds the literals a prefilter checks.
const maxPrefilterLits = 32

type reLit struct {
	s    string
	fold bool
}

// newPrefilter derives the prefilter of an expression, nil when it has none worth
// checking (an expression that may match without any literal, or only with very
// short ones).
func newPrefilter(expr string) *prefilter {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	lits := required(re.Simplify())
	if len(lits) == 0 || len(lits) > maxPrefilterLits || minLen(lits) < 2 {
		return nil
	}
	p := &prefilter{}
	seen := map[reLit]bool{}
	for _, l := range lits {
		if seen[l] {
			continue
		}
		seen[l] = true
		if l.fold {
			p.fold = append(p.fold, l.s)
		} else {
			p.lits = append(p.lits, l.s)
		}
	}
	if len(p.lits) >= litSetMin {
		p.litSet = newLitSet(p.lits, false)
	}
	if len(p.fold) >= litSetMin {
		p.foldSet = newLitSet(p.fold, true)
	}
	return p
}

// maxExact bounds the strings of an exact set (the cross product of a concatenation
// grows fast).
const maxExact = maxPrefilterLits

// exact returns the finite set of strings re matches, nil when it is not small and
// finite. Case-insensitive parts make the whole set case-insensitive (a weaker
// condition, so still a necessary one).
func exact(re *syntax.Regexp) []reLit {
	switch re.Op {
	case syntax.OpLiteral:
		return []reLit{{string(re.Rune), re.Flags&syntax.FoldCase != 0}}
	case syntax.OpEmptyMatch:
		return []reLit{{}}
	case syntax.OpCharClass:
		// small classes only: [ec], [ =]
		var out []reLit
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if len(out) == 3 {
					return nil
				}
				out = append(out, reLit{s: string(r)})
			}
		}
		return out
	case syntax.OpCapture:
		return exact(re.Sub[0])
	case syntax.OpQuest:
		if sub := exact(re.Sub[0]); sub != nil {
			return append(sub, reLit{})
		}
		return nil
	case syntax.OpAlternate:
		var out []reLit
		for _, sub := range re.Sub {
			e := exact(sub)
			if e == nil || len(out)+len(e) > maxExact {
				return nil
			}
			out = append(out, e...)
		}
		return out
	case syntax.OpConcat:
		out := []reLit{{}}
		for _, sub := range re.Sub {
			e := exact(sub)
			if e == nil || len(out)*len(e) > maxExact {
				return nil
			}
			out = cross(out, e)
		}
		return out
	}
	return nil
}

func cross(a, b []reLit) []reLit {
	out := make([]reLit, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, reLit{x.s + y.s, x.fold || y.fold})
		}
	}
	return out
}

// required returns literals of which every match of re contains one, nil when there
// are none.
func required(re *syntax.Regexp) []reLit {
	if e := exact(re); e != nil && minLen(e) > 0 {
		return e // at most maxPrefilterLits
	}
	switch re.Op {
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
		return nil
	case syntax.OpConcat:
		// every match contains a match of each part, and of each run of parts with
		// exact sets: take the most selective
		var best []reLit
		consider := func(r []reLit) {
			if r != nil && minLen(r) > 0 && better(r, best) {
				best = r
			}
		}
		var run []reLit
		for _, sub := range re.Sub {
			if e := exact(sub); e != nil {
				if run == nil {
					run = e
				} else if len(run)*len(e) <= maxExact {
					run = cross(run, e)
				} else {
					consider(run)
					run = e
				}
				continue
			}
			consider(run)
			run = nil
			consider(required(sub))
		}
		consider(run)
		return best
	case syntax.OpAlternate:
		var out []reLit
		for _, sub := range re.Sub {
			r := required(sub)
			if r == nil {
				return nil
			}
			out = append(out, r...)
		}
		return out
	}
	return nil
}

func minLen(ls []reLit) int {
	m := -1
	for _, l := range ls {
		if m < 0 || len(l.s) < m {
			m = len(l.s)
		}
	}
	return m
}

// better prefers longer shortest literals, then fewer literals.
func better(a, b []reLit) bool {
	if b == nil {
		return true
	}
	la, lb := min(minLen(a), 4), min(minLen(b), 4)
	if la != lb {
		return la > lb
	}
	return len(a) < len(b)
}

// may reports whether s may match: false only when it contains none of the literals.
func (p *prefilter) may(s string) bool {
	if p.litSet != nil {
		if p.litSet.contains(s) {
			return true
		}
	} else {
		for _, l := range p.lits {
			if strings.Contains(s, l) {
				return true
			}
		}
	}
	if len(p.fold) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return true // Unicode case folding may change lengths: let the expression decide
		}
	}
	if p.foldSet != nil {
		return p.foldSet.contains(s)
	}
	for _, l := range p.fold {
		if indexFold(s, l) >= 0 {
			return true
		}
	}
	return false
}

// shape is a second cheap necessary condition of an expression: the fewest
// bytes a match takes, and an ASCII byte every match holds at least need
// times (need ≥ 2), which strings.Count finds fast. A string shorter than a
// match, or with fewer of the byte, cannot hold one: a domain of ten labels
// has nine dots.
type shape struct {
	minLen int
	b      string // the byte
	need   int
}

// newShape derives the shape of an expression, nil when it says nothing
// (no byte needed twice and a minimum length of at most 1).
func newShape(expr string) *shape {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	re = re.Simplify()
	sh := &shape{minLen: minBytes(re)}
	counts := byteCounts(re)
	for b, n := range counts {
		if n > sh.need {
			sh.b, sh.need = string(rune(b)), n
		}
	}
	if sh.need < 2 {
		sh.b, sh.need = "", 0
	}
	if sh.need == 0 && sh.minLen <= 1 {
		return nil
	}
	return sh
}

// maxShapeCount bounds the counts of minBytes and byteCounts.
const maxShapeCount = 1 << 20

// minBytes is the fewest bytes a match of re takes (a lower bound).
func minBytes(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 {
				n++ // a case variant may be shorter
			} else {
				n += utf8.RuneLen(r)
			}
		}
		return n
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return minBytes(re.Sub[0])
	case syntax.OpRepeat:
		return min(re.Min*minBytes(re.Sub[0]), maxShapeCount)
	case syntax.OpConcat:
		n := 0
		for _, s := range re.Sub {
			n = min(n+minBytes(s), maxShapeCount)
		}
		return n
	case syntax.OpAlternate:
		n := -1
		for _, s := range re.Sub {
			if m := minBytes(s); n < 0 || m < n {
				n = m
			}
		}
		return max(n, 0)
	}
	return 0
}

// byteCounts returns, for each ASCII byte, how many of it every match of re
// holds at least.
func byteCounts(re *syntax.Regexp) (c [utf8.RuneSelf]int) {
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if r >= utf8.RuneSelf {
				continue
			}
			if re.Flags&syntax.FoldCase != 0 && ('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
				continue // either case
			}
			c[r]++
		}
	case syntax.OpCapture, syntax.OpPlus:
		c = byteCounts(re.Sub[0])
	case syntax.OpRepeat:
		sub := byteCounts(re.Sub[0])
		for b, n := range sub {
			c[b] = min(n*re.Min, maxShapeCount)
		}
	case syntax.OpConcat:
		for _, s := range re.Sub {
			sub := byteCounts(s)
			for b, n := range sub {
				c[b] = min(c[b]+n, maxShapeCount)
			}
		}
	case syntax.OpAlternate:
		for i, s := range re.Sub {
			sub := byteCounts(s)
			for b, n := range sub {
				if i == 0 || n < c[b] {
					c[b] = n
				}
			}
		}
	}
	return c
}

// may reports whether s may hold a match.
func (sh *shape) may(s string) bool {
	if len(s) < sh.minLen {
		return false
	}
	return sh.need == 0 || strings.Count(s, sh.b) >= sh.need
}
