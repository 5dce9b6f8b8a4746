package testcheck

import (
	"errors"
	"slices"
	"testing"
)

// recorder is a testing.TB that records failures instead of stopping.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true; panic(r) }
func (r *recorder) Fatal(...any)          { r.failed = true; panic(r) }

// fails runs f with a recorder and reports whether it failed.
func fails(f func(t testing.TB)) (failed bool) {
	r := &recorder{}
	defer func() {
		if p := recover(); p != nil && p != any(r) {
			panic(p)
		}
		failed = r.failed
	}()
	f(r)
	return r.failed
}

func TestChecks(t *testing.T) {
	two := errors.New("a.yaml:1: first\na.yaml:2: second")
	tests := []struct {
		name string
		f    func(t testing.TB)
		fail bool
	}{
		{"no error wanted, none", func(t testing.TB) { Err(t, nil, "") }, false},
		{"no error wanted, one", func(t testing.TB) { Err(t, two, "") }, true},
		{"error wanted, found", func(t testing.TB) { Err(t, two, "second") }, false},
		{"error wanted, another", func(t testing.TB) { Err(t, two, "third") }, true},
		{"error wanted, none", func(t testing.TB) { Err(t, nil, "x") }, true},
		{"lines match", func(t testing.TB) { ErrorLines(t, two, []string{"a.yaml:1:", "a.yaml:2: sec"}) }, false},
		{"a line differs", func(t testing.TB) { ErrorLines(t, two, []string{"a.yaml:1:", "a.yaml:3:"}) }, true},
		{"a line too many", func(t testing.TB) { ErrorLines(t, two, []string{"a.yaml:1:"}) }, true},
		{"in order", func(t testing.TB) { InOrder(t, "out", "a b c", []string{"a", "c"}) }, false},
		{"out of order", func(t testing.TB) { InOrder(t, "out", "a b c", []string{"c", "a"}) }, true},
		{"no overlap", func(t testing.TB) { InOrder(t, "out", "ab", []string{"ab", "b"}) }, true},
	}
	for _, tt := range tests {
		if got := fails(tt.f); got != tt.fail {
			t.Errorf("%s: failed = %v, want %v", tt.name, got, tt.fail)
		}
	}
	if got := Announced([]byte("# error: x.yaml:1: a\n# error: x.yaml:2: b\ndetection: {}\n# error: not leading\n")); !slices.Equal(got, []string{"x.yaml:1: a", "x.yaml:2: b"}) {
		t.Errorf("Announced = %q", got)
	}
}
