package engine

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
	"unicode"
)

// gen writes a random string re matches (anchors and word boundaries are left to
// chance: the test only uses strings the expression really matches).
func gen(r *rand.Rand, re *syntax.Regexp, b *strings.Builder) {
	randRune := func(ranges []rune) rune {
		if len(ranges) == 0 {
			return 'x'
		}
		i := r.IntN(len(ranges)/2) * 2
		lo, hi := ranges[i], ranges[i+1]
		if hi > lo+200 {
			hi = lo + 200
		}
		return lo + rune(r.IntN(int(hi-lo)+1))
	}
	rep := func(min, max int) int {
		if max < 0 {
			max = min + 3
		}
		return min + r.IntN(max-min+1)
	}
	switch re.Op {
	case syntax.OpLiteral:
		for _, c := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 && r.IntN(2) == 0 {
				c = unicode.SimpleFold(c)
			}
			b.WriteRune(c)
		}
	case syntax.OpCharClass:
		b.WriteRune(randRune(re.Rune))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteRune(rune('a' + r.IntN(26)))
	case syntax.OpCapture:
		gen(r, re.Sub[0], b)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		min, max := 0, 3
		switch re.Op {
		case syntax.OpPlus:
			min = 1
		case syntax.OpQuest:
			max = 1
		case syntax.OpRepeat:
			min, max = re.Min, re.Max
		}
		for i := rep(min, max); i > 0; i-- {
			gen(r, re.Sub[0], b)
		}
	case syntax.OpConcat:
		for _, s := range re.Sub {
			gen(r, s, b)
		}
	case syntax.OpAlternate:
		gen(r, re.Sub[r.IntN(len(re.Sub))], b)
	}
}

// prefilterExprs are the expressions of the shipped pack and of the test data, and a
// few written to exercise the derivation.
func prefilterExprs(t *testing.T) []string {
	exprs := []string{
		`abc`, `(?i)abc`, `a(b|cd)e`, `x(?:yz)+w`, `(foo|bar)?baz`, `\bbase64\s+(-d|--decode)\b.*\|\s*(ba)?sh`,
		`^/proc/[0-9]+/mem$`, `(?i)\.(xyz|top|tk)\.?$`, `--coin[ =](monero|xmr)\b`, `[ec]at[ =]x`, `(?i)k[s]s`,
		`(a|b)(c|d)(e|f)(g|h)(i|j)(k|l)`, `q{2,4}zz`, `(^|\.)evil\.com$`, `\s(-v|--volume)(\s+|=)/`,
	}
	re := regexp.MustCompile(`(?m)^\s*re: '(.*)'\s*$`)
	for _, dir := range []string{"../../rules", "testdata/pack"} {
		files, _ := filepath.Glob(dir + "/*.yaml")
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range re.FindAllStringSubmatch(string(data), -1) {
				exprs = append(exprs, strings.ReplaceAll(m[1], "''", "'"))
			}
		}
	}
	return exprs
}

// TestPrefilterNeverMissesAMatch checks, on random strings each expression matches
// (with random text around them and random case where the expression ignores it),
// that the prefilter lets every one through.
func TestPrefilterNeverMissesAMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	withPre := 0
	for _, expr := range prefilterExprs(t) {
		re, err := regexp.Compile(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		pre := newPrefilter(expr)
		if pre == nil {
			continue
		}
		withPre++
		parsed, _ := syntax.Parse(expr, syntax.Perl)
		parsed = parsed.Simplify()
		matched := 0
		for i := 0; i < 3000; i++ {
			var b strings.Builder
			if r.IntN(2) == 0 {
				b.WriteString([]string{"", "x ", "/usr/bin/", "A.b-c ", "\t"}[r.IntN(5)])
			}
			gen(r, parsed, &b)
			if r.IntN(2) == 0 {
				b.WriteString([]string{"", " y", ".", "/tail", "\n"}[r.IntN(5)])
			}
			s := b.String()
			if !re.MatchString(s) {
				continue
			}
			matched++
			if !pre.may(s) {
				t.Fatalf("%s matches %q but its prefilter %+v says no", expr, s, pre)
			}
		}
		if matched == 0 {
			t.Errorf("%s: no generated string matched", expr)
		}
	}
	if withPre < 10 {
		t.Errorf("only %d expressions have a prefilter", withPre)
	}
}

func TestPrefilterRejects(t *testing.T) {
	for _, tc := range []struct {
		expr, s string
		may     bool
	}{
		{`foo(bar|baz)`, "hello world", false},
		{`foo(bar|baz)`, "xfoobazx", true},
		{`(?i)foo(bar|baz)`, "XFOOBAZX", true},
		{`(?i)(alpha|beta|gamma|delta|epsilon)`, "the DELTA", true},
		{`(?i)(alpha|beta|gamma|delta|epsilon)`, "the omega", false},
		{`(alpha|beta|gamma|delta|epsilon)`, "the DELTA", false},
		{`(alpha|beta|gamma|delta|epsilon)`, "epsilo", false},
		{`(alpha|beta|gamma|delta|epsilon)`, "zepsilon", true},
		{`(?i)straße`, "STRASSE é", true}, // non-ASCII input: the expression decides
	} {
		p := newPrefilter(tc.expr)
		if p == nil {
			t.Fatalf("%s: no prefilter", tc.expr)
		}
		if got := p.may(tc.s); got != tc.may {
			t.Errorf("%s on %q = %v, want %v", tc.expr, tc.s, got, tc.may)
		}
	}
	for _, expr := range []string{`.*`, `a*`, `x|.`, `[a-z]+`, `^$`} {
		if p := newPrefilter(expr); p != nil {
			t.Errorf("%s has prefilter %+v, want none", expr, p)
		}
	}
}
