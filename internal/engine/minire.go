package engine

import (
	"regexp/syntax"
	"unicode/utf8"
)

// simpleRe matches ASCII strings against an expression of a simple form without
// the regexp package: alternatives of sequences of single bytes (literal bytes,
// classes, any byte), at most one of them repeated, optionally anchored at
// the start and the end of the text (an alternative with a repeated byte must be
// anchored at the start). Falco's globs (^/[^/]+$) and many anchored
// paths are of that form; the regexp package sets up a machine per match, which
// costs more than the whole test on a short path. A string with a non-ASCII byte
// is left to the regexp package (classes and case folding of runes).
type simpleRe struct {
	seqs []simpleSeq
}

// simpleSeq is one alternative: items[rep] (when rep ≥ 0) is repeated from min to
// max times (max < 0: without bound), every other item matches one byte.
type simpleSeq struct {
	items    []byteClass
	rep      int
	min, max int
	begin    bool // anchored at the start of the text
	end      bool // anchored at the end of the text
}

// byteClass is a set of ASCII bytes.
type byteClass [2]uint64

func (c *byteClass) has(b byte) bool { return b < utf8.RuneSelf && c[b>>6]&(1<<(b&63)) != 0 }

func (c *byteClass) addRange(lo, hi rune) {
	for r := max(lo, 0); r <= hi && r < utf8.RuneSelf; r++ {
		c[r>>6] |= 1 << (r & 63)
	}
}

// maxSimpleSeqs bounds the alternatives of a simpleRe.
const maxSimpleSeqs = 16

// newSimpleRe returns the simpleRe of expr, nil when expr is not of its form.
func newSimpleRe(expr string) *simpleRe {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	alts, ok := simpleAlts(re.Simplify())
	if !ok || len(alts) == 0 {
		return nil
	}
	sr := &simpleRe{}
	for _, a := range alts {
		seq := simpleSeq{rep: -1}
		for i, p := range a {
			switch p.kind {
			case pBegin:
				if i != 0 {
					return nil // ^ after a byte never matches; leave it to regexp
				}
				seq.begin = true
			case pEnd:
				if i != len(a)-1 {
					return nil
				}
				seq.end = true
			case pByte:
				seq.items = append(seq.items, p.c)
			case pRep:
				if seq.rep >= 0 || !seq.begin {
					return nil // unanchored, a repetition may be tried from every byte
				}
				seq.rep, seq.min, seq.max = len(seq.items), p.min, p.max
				seq.items = append(seq.items, p.c)
			}
		}
		sr.seqs = append(sr.seqs, seq)
	}
	return sr
}

// piece kinds
const (
	pByte = iota
	pRep
	pBegin
	pEnd
)

type piece struct {
	kind     int
	c        byteClass
	min, max int
	// lit is set for a byte of a literal (an ASCII rune, either case of it
	// with fold), which the index may look for
	lit  byte
	fold bool
}

// simpleAlts expands re into its alternatives, each a list of pieces; ok is false
// when re is not of simpleRe's form or has too many alternatives.
func simpleAlts(re *syntax.Regexp) (alts [][]piece, ok bool) {
	one := func(p piece) ([][]piece, bool) { return [][]piece{{p}}, true }
	switch re.Op {
	case syntax.OpEmptyMatch:
		return [][]piece{{}}, true
	case syntax.OpBeginText:
		return one(piece{kind: pBegin})
	case syntax.OpEndText:
		return one(piece{kind: pEnd})
	case syntax.OpCapture:
		return simpleAlts(re.Sub[0])
	case syntax.OpLiteral, syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		if re.Op != syntax.OpLiteral {
			c, ok := classOf(re)
			if !ok {
				return nil, false
			}
			return one(piece{kind: pByte, c: c})
		}
		seq := make([]piece, 0, len(re.Rune))
		for _, r := range re.Rune {
			fold := re.Flags&syntax.FoldCase != 0
			p := piece{kind: pByte, c: runeClass(r, fold)}
			if r < utf8.RuneSelf {
				p.lit, p.fold = byte(r), fold && lowerASCII(byte(r)) != upperASCII(byte(r))
			}
			seq = append(seq, p)
		}
		return [][]piece{seq}, true
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		c, ok := classOf(re.Sub[0])
		if !ok {
			return nil, false
		}
		p := piece{kind: pRep, c: c, max: -1}
		switch re.Op {
		case syntax.OpPlus:
			p.min = 1
		case syntax.OpQuest:
			p.max = 1
		case syntax.OpRepeat:
			p.min, p.max = re.Min, re.Max
		}
		return one(p)
	case syntax.OpConcat:
		alts = [][]piece{{}}
		for _, sub := range re.Sub {
			subAlts, ok := simpleAlts(sub)
			if !ok || len(alts)*len(subAlts) > maxSimpleSeqs {
				return nil, false
			}
			var next [][]piece
			for _, a := range alts {
				for _, b := range subAlts {
					next = append(next, append(append([]piece(nil), a...), b...))
				}
			}
			alts = next
		}
		return alts, true
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			subAlts, ok := simpleAlts(sub)
			if !ok || len(alts)+len(subAlts) > maxSimpleSeqs {
				return nil, false
			}
			alts = append(alts, subAlts...)
		}
		return alts, true
	}
	return nil, false
}

// classOf returns the ASCII bytes a single-character node matches.
func classOf(re *syntax.Regexp) (byteClass, bool) {
	var c byteClass
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) != 1 {
			return c, false
		}
		return runeClass(re.Rune[0], re.Flags&syntax.FoldCase != 0), true
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			c.addRange(re.Rune[i], re.Rune[i+1])
		}
		return c, true
	case syntax.OpAnyChar:
		c.addRange(0, utf8.RuneSelf-1)
		return c, true
	case syntax.OpAnyCharNotNL:
		c.addRange(0, '\n'-1)
		c.addRange('\n'+1, utf8.RuneSelf-1)
		return c, true
	}
	return c, false
}

// runeClass is the class of a literal rune: none for a rune beyond ASCII (an
// ASCII string cannot hold it), both cases of a letter with fold.
func runeClass(r rune, fold bool) byteClass {
	var c byteClass
	c.addRange(r, r)
	if fold {
		switch {
		case 'a' <= r && r <= 'z':
			c.addRange(r-'a'+'A', r-'a'+'A')
		case 'A' <= r && r <= 'Z':
			c.addRange(r-'A'+'a', r-'A'+'a')
		}
	}
	return c
}

// match reports whether the ASCII string s holds a match.
func (sr *simpleRe) match(s string) bool {
	for i := range sr.seqs {
		q := &sr.seqs[i]
		if q.begin {
			if q.matchAt(s, 0) {
				return true
			}
			continue
		}
		for start := 0; start <= len(s); start++ {
			if q.matchAt(s, start) {
				return true
			}
		}
	}
	return false
}

// matchAt reports whether the sequence matches s from i.
func (q *simpleSeq) matchAt(s string, i int) bool {
	if q.rep < 0 {
		return q.fixed(s, i, q.items)
	}
	head, c, tail := q.items[:q.rep], &q.items[q.rep], q.items[q.rep+1:]
	if len(s)-i < len(head)+q.min+len(tail) {
		return false
	}
	for k, hc := range head {
		if !hc.has(s[i+k]) {
			return false
		}
	}
	i += len(head)
	if q.end {
		// the repetition takes what the tail leaves
		n := len(s) - len(tail) - i
		if n < q.min || q.max >= 0 && n > q.max {
			return false
		}
		for k := i; k < i+n; k++ {
			if !c.has(s[k]) {
				return false
			}
		}
		return q.fixed(s, i+n, tail)
	}
	for n := 0; q.max < 0 || n <= q.max; n++ {
		if n >= q.min && q.fixed(s, i+n, tail) {
			return true
		}
		if i+n >= len(s) || !c.has(s[i+n]) {
			return false
		}
	}
	return false
}

// fixed reports whether items match s from i, one byte each (and s ends there
// when the sequence is anchored at the end).
func (q *simpleSeq) fixed(s string, i int, items []byteClass) bool {
	if len(s)-i < len(items) || q.end && len(s)-i != len(items) {
		return false
	}
	for k := range items {
		if !items[k].has(s[i+k]) {
			return false
		}
	}
	return true
}

// asciiOnly reports whether s has only ASCII bytes, eight at a time.
func asciiOnly(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if word(s, i)&msb != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func upperASCII(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// simpleAnchored returns the literals every match of expr starts with, ends
// with or is, one per alternative, when expr is of simpleRe's form and each
// alternative is anchored by literal bytes: the need of expressions whose
// alternatives the parser factored into a tree (^/etc/(crontab$|cron\.d/)),
// which anchored does not take apart.
func simpleAnchored(expr string) ([]anchoredLit, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, false
	}
	alts, ok := simpleAlts(re.Simplify())
	if !ok || len(alts) == 0 {
		return nil, false
	}
	var out []anchoredLit
	for _, a := range alts {
		begin := len(a) > 0 && a[0].kind == pBegin
		end := len(a) > 0 && a[len(a)-1].kind == pEnd
		body := a
		if begin {
			body = body[1:]
		}
		if end && len(body) > 0 {
			body = body[:len(body)-1]
		}
		for _, p := range body {
			if p.kind == pBegin || p.kind == pEnd {
				return nil, false
			}
		}
		var best []anchoredLit
		consider := func(kind int, run []piece) {
			if len(run) == 0 {
				return
			}
			l := anchoredLit{kind: kind}
			b := make([]byte, len(run))
			for i, p := range run {
				b[i] = p.lit
				if p.fold {
					l.fold = true
				}
			}
			l.s = string(b)
			if l.fold {
				l.s = asciiLower(l.s)
			}
			if best == nil || strCost(kind, l.s) < litsCost(best) {
				best = []anchoredLit{l}
			}
		}
		n := 0
		for n < len(body) && body[n].kind == pByte && body[n].lit != 0 {
			n++
		}
		if begin {
			if n == len(body) && end {
				consider(kExact, body)
			} else {
				consider(kPrefix, body[:n])
			}
		}
		if end && (best == nil || best[0].kind != kExact) {
			m := len(body)
			for m > 0 && body[m-1].kind == pByte && body[m-1].lit != 0 {
				m--
			}
			consider(kSuffix, body[m:])
		}
		if best == nil {
			return nil, false
		}
		out = append(out, best...)
	}
	return out, true
}
