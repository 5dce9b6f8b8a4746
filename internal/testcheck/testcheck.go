package testcheck

import (
	"strings"
	"testing"
)

// Err checks err against want, a substring of the error a case expects ("" for no
// error), failing t at once when they disagree. It reports whether an error was
// expected, in which case the case is done:
//
//	if testcheck.Err(t, err, tt.wantErr) {
//		return
//	}
func Err(t testing.TB, err error, want string) bool {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatal(err)
		}
		return false
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want one containing %q", err, want)
	}
	return true
}

// Announced returns the messages of the leading "# error: <message>" lines of a
// fixture file: the errors loading it must report, in order.
func Announced(data []byte) []string {
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		msg, ok := strings.CutPrefix(line, "# error: ")
		if !ok {
			break
		}
		out = append(out, msg)
	}
	return out
}

// ErrorLines checks that err has exactly one line per want, line i starting with
// want[i].
func ErrorLines(t testing.TB, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %d:\n%s", len(want), strings.Join(want, "\n"))
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d errors, want %d:\n%v", len(got), len(want), err)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("error %d\n got %q\nwant prefix %q", i, got[i], want[i])
		}
	}
}

// InOrder checks that text holds each of want, in order, without overlap; what
// names the text in the failure.
func InOrder(t testing.TB, what, text string, want []string) {
	t.Helper()
	rest := text
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("%s lack %q (in order):\n%s", what, w, text)
			return
		}
		rest = rest[i+len(w):]
	}
}
