package engine

import (
	"regexp"
	"testing"
)

// TestShape checks the shapes derived from expressions and that they keep
// every string a match may be in.
func TestShape(t *testing.T) {
	tests := []struct {
		expr   string
		minLen int
		b      string
		need   int
		nil    bool
		reject []string // strings the shape refuses
		keep   []string // strings the expression matches
	}{
		{expr: `^([^.]+\.){9,}[^.]+\.?$`, minLen: 19, b: ".", need: 9,
			reject: []string{"a.b.c.d.e.f.g.h.i", "www.example.com"},
			keep:   []string{"a.b.c.d.e.f.g.h.i.j", "aa.bb.cc.dd.ee.ff.gg.hh.ii.jj.", "é.b.c.d.e.f.g.h.i.j"}},
		{expr: `(?i)/TMP/.+\.SH$`, minLen: 9, b: "/", need: 2, keep: []string{"/tmp/x.sh", "/TmP/abc.Sh"}},
		{expr: `(ab|a/b/c)x`, minLen: 3, keep: []string{"abx", "a/b/cx"}},
		{expr: `a*`, nil: true},
		{expr: `x{3}`, minLen: 3, b: "x", need: 3, reject: []string{"xx"}, keep: []string{"xxx"}},
		{expr: `(?i)k{2}`, minLen: 2, keep: []string{"kK", "\u212a\u212a"}},
		{expr: `é{2}`, minLen: 4, keep: []string{"éé"}, reject: []string{"ééé"[:3]}},
	}
	for _, tc := range tests {
		sh := newShape(tc.expr)
		if tc.nil {
			if sh != nil {
				t.Errorf("%s: shape %+v, want none", tc.expr, *sh)
			}
			continue
		}
		if sh == nil || sh.minLen != tc.minLen || sh.b != tc.b || sh.need != tc.need {
			t.Errorf("%s: shape %+v, want min %d, %q × %d", tc.expr, sh, tc.minLen, tc.b, tc.need)
			continue
		}
		re := regexp.MustCompile(tc.expr)
		for _, s := range tc.keep {
			if !re.MatchString(s) {
				t.Fatalf("%s does not match %q: a bad case", tc.expr, s)
			}
			if !sh.may(s) {
				t.Errorf("%s: the shape refuses %q, which it matches", tc.expr, s)
			}
		}
		for _, s := range tc.reject {
			if sh.may(s) {
				t.Errorf("%s: the shape keeps %q", tc.expr, s)
			}
		}
	}
}

// FuzzShape checks that a shape never refuses a string its expression
// matches.
func FuzzShape(f *testing.F) {
	f.Add(`^([^.]+\.){9,}[^.]+\.?$`, "a.b.c.d.e.f.g.h.i.j")
	f.Add(`(?i)(ab|c\.d){2,3}`, "AbC.D")
	f.Add(`x{2}|y+z{3}`, "yzzz")
	f.Fuzz(func(t *testing.T, expr, s string) {
		re, err := regexp.Compile(expr)
		if err != nil || !re.MatchString(s) {
			return
		}
		if sh := newShape(expr); sh != nil && !sh.may(s) {
			t.Fatalf("%s matches %q, but its shape %+v refuses it", expr, s, *sh)
		}
	})
}
