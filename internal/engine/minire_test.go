package engine

import (
	"regexp"
	"slices"
	"testing"
)

// TestSimpleRe checks which expressions are of simpleRe's form and that it
// agrees with the regexp package on ASCII strings.
func TestSimpleRe(t *testing.T) {
	tests := []struct {
		expr    string
		simple  bool
		strings []string
	}{
		{`^/(root/|[^/]+$)`, true, []string{"/", "/x", "/root/", "/root/.bashrc", "/rootx", "/var/log/x", "/etc", "etc", "", "/root", "//"}},
		{`(?s)^(?:)/[^/]+$`, true, []string{"/", "/a", "/a/", "/a\nb", "a/b", ""}},
		{`^/(usr/)?s?bin/[^/]+$`, false, nil}, // two repetitions
		{`^/usr/s?bin/`, true, []string{"/usr/bin/ls", "/usr/sbin/ip", "/usr/ssbin/x", "/usr/bin", "x/usr/bin/"}},
		{`\.(sh|py)$`, true, []string{"a.sh", "a.py", "a.pl", ".sh", "sh", "a.sh.x"}},
		{`(?i)^/TMP/`, true, []string{"/tmp/x", "/TmP/", "/tmq/", "x/tmp/"}},
		{`^(nc|ncat)$`, true, []string{"nc", "ncat", "ncatx", "xnc", "NC"}},
		{`(^|,)write(,|$)`, true, []string{"write", "read,write", "writer", "rewrite", ",write,", "write\n"}},
		{`^[a-f0-9]{2,4}$`, false, nil}, // nested optional bytes
		{`^[a-f0-9]+$`, true, []string{"ab", "abcd", "", "abz"}},
		{`^x{3}`, true, []string{"xxx", "xx", "xxxx"}},
		{`^a.b$`, true, []string{"axb", "a\nb", "ab"}},
		{`^$`, true, []string{"", "a"}},
		{`x*`, false, nil},       // a repetition not anchored at the start
		{`(?m)^a`, false, nil},   // start of a line
		{`\bword\b`, false, nil}, // word boundaries
		{`^(ab)+$`, false, nil},  // a repeated sequence
		{`^a(b|$)c`, false, nil}, // $ before a byte
		{`(?i)k`, true, []string{"k", "K", "x"}},
		{`^[^a-z]+$`, true, []string{"ABC", "AbC", "", "123"}},
	}
	for _, tc := range tests {
		sr := newSimpleRe(tc.expr)
		if (sr != nil) != tc.simple {
			t.Errorf("%s: simple = %v, want %v", tc.expr, sr != nil, tc.simple)
			continue
		}
		re := regexp.MustCompile(tc.expr)
		for _, s := range tc.strings {
			if got, want := sr.match(s), re.MatchString(s); got != want {
				t.Errorf("%s on %q: %v, the expression says %v", tc.expr, s, got, want)
			}
		}
	}
}

// FuzzSimpleRe compares simpleRe with the regexp package on ASCII strings.
func FuzzSimpleRe(f *testing.F) {
	f.Add(`^/(root/|[^/]+$)`, "/root/x")
	f.Add(`(?s)^(?:)/[^/]+$`, "/etc")
	f.Add(`(?i)^/(tmp|var/tmp|dev/shm)/[a-z]?`, "/TMP/x")
	f.Add(`(^|,)write(,|$)`, "read,write")
	f.Add(`^a{2,3}b*$`, "aab")
	f.Fuzz(func(t *testing.T, expr, s string) {
		re, err := regexp.Compile(expr)
		if err != nil || !asciiOnly(s) {
			return
		}
		sr := newSimpleRe(expr)
		if sr == nil {
			return
		}
		if got, want := sr.match(s), re.MatchString(s); got != want {
			t.Fatalf("%s on %q: %v, the expression says %v", expr, s, got, want)
		}
	})
}

// TestASCIIOnly checks the word-at-a-time scan against a byte loop.
func TestASCIIOnly(t *testing.T) {
	for _, s := range []string{"", "a", "abcdefgh", "abcdefghi", "abcdefg\x80", "\x80bcdefghij", "abcdefghijklmno\xff", "é"} {
		want := true
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				want = false
			}
		}
		if got := asciiOnly(s); got != want {
			t.Errorf("asciiOnly(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestSimpleAnchored checks the literals derived from the alternatives of
// expressions of simpleRe's form, and that the index finds their matches.
func TestSimpleAnchored(t *testing.T) {
	tests := []struct {
		expr string
		want []anchoredLit // nil: none
	}{
		{`^(/etc/crontab$|/etc/cron\.(d|daily)/|/var/spool/cron/)`, []anchoredLit{
			{kExact, reLit{"/etc/crontab", false}}, {kPrefix, reLit{"/etc/cron.d/", false}},
			{kPrefix, reLit{"/etc/cron.daily/", false}}, {kPrefix, reLit{"/var/spool/cron/", false}}}},
		{`^/(root/|[^/]+$)`, []anchoredLit{{kPrefix, reLit{"/root/", false}}, {kPrefix, reLit{"/", false}}}},
		{`(?i)^/TMP/x|\.SH$`, []anchoredLit{{kPrefix, reLit{"/tmp/x", true}}, {kSuffix, reLit{".sh", true}}}},
		{`^[a-z]+\.conf$`, []anchoredLit{{kSuffix, reLit{".conf", false}}}},
		{`^/(1|2)/`, []anchoredLit{{kPrefix, reLit{"/", false}}}},   // the parser makes a class of 1|2
		{`^[/]etc`, []anchoredLit{{kPrefix, reLit{"/etc", false}}}}, // and a literal of [/]
		{`^[/a]etc`, nil},     // a class is not a literal
		{`^é/`, nil},          // nor a rune beyond ASCII
		{`/etc/|^/var/`, nil}, // an alternative anchored nowhere
		{`^x*$`, nil},
	}
	for _, tc := range tests {
		got, ok := simpleAnchored(tc.expr)
		if !ok {
			got = nil
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.expr, got, tc.want)
		}
	}
}
