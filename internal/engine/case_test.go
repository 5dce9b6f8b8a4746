package engine

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// caseRef is scanCase and lowerInto byte by byte.
func caseRef(s string) (upper, ascii bool, low string) {
	ascii = true
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		upper = upper || 'A' <= c && c <= 'Z'
		ascii = ascii && c < utf8.RuneSelf
		b.WriteByte(lowerASCII(c))
	}
	return upper, ascii, b.String()
}

func checkCase(t *testing.T, s string) {
	t.Helper()
	upper, ascii := scanCase(s)
	wantUpper, wantASCII, wantLow := caseRef(s)
	if upper != wantUpper || ascii != wantASCII {
		t.Fatalf("scanCase(%q) = %v, %v; want %v, %v", s, upper, ascii, wantUpper, wantASCII)
	}
	if low := string(lowerInto(make([]byte, len(s)), s)); low != wantLow {
		t.Fatalf("lowerInto(%q) = %q, want %q", s, low, wantLow)
	}
}

// TestScanCase checks the word-at-a-time case scan and lower-casing against
// the byte-at-a-time ones, on the bytes next to the letters' range, in every
// position of a word, and after and among bytes with the high bit set.
func TestScanCase(t *testing.T) {
	for _, s := range []string{"", "a", "Z", "/usr/bin/python3", "/USR/BIN/PYTHON3", "C:\\Windows\\System32",
		"@[`{", "abcdefgH", "Habcdefg", "abcdefghijklmnoP", "\xffabcdefgHijk", "ÄBCDEFGHIJ", "é/etc/Passwd/é", "\x80\x80\x80\x80\x80\x80\x80A"} {
		checkCase(t, s)
	}
	for _, c := range []byte{'@', 'A', 'M', 'Z', '[', '`', 'a', 'z', '{', 0x7f, 0x80, 0xc1, 0xda, 0xff} {
		for pos := range 17 {
			b := []byte(strings.Repeat("x", 17))
			b[pos] = c
			checkCase(t, string(b))
		}
	}
}

func FuzzScanCase(f *testing.F) {
	f.Add("/usr/bin/Python3 -c 'import os'")
	f.Add("\xffABCDEFGH\x00")
	f.Fuzz(checkCase)
}
