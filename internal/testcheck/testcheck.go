package testcheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
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

// Fixtures runs f as a subtest for every file matching pattern, failing when none
// does, with the file's content and the errors its first lines announce.
func Fixtures(t *testing.T, pattern string, f func(t *testing.T, name string, data []byte, want []string)) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures match %s: %v", pattern, err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			f(t, filepath.Base(file), data, Announced(data))
		})
	}
}

// Cases reads the list under cases: of a YAML file of test cases, failing when
// the file does not decode into T or holds no case.
func Cases[T any](t testing.TB, file string) []T {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []T `yaml:"cases"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if len(doc.Cases) == 0 {
		t.Fatalf("%s: no cases", file)
	}
	return doc.Cases
}
