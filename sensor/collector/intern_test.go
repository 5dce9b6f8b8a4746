package collector

import (
	"reflect"
	"strconv"
	"testing"
	"unsafe"
)

func TestInterned(t *testing.T) {
	var in interned
	argv := []byte("sh\x00-c\x00\x00echo hi\x00")
	first := in.list(argv, argList)
	if want := []string{"sh", "-c", "", "echo hi"}; !reflect.DeepEqual(first, want) {
		t.Fatalf("list %q, want %q", first, want)
	}
	if again := in.list([]byte(string(argv)), argList); unsafe.SliceData(again) != unsafe.SliceData(first) {
		t.Error("the same arguments twice give two lists")
	}
	if got := in.list(nil, argList); got != nil {
		t.Errorf("no arguments give %q, want nil", got)
	}
	if s := in.str([]byte("sh")); unsafe.StringData(s) != unsafe.StringData(first[0]) {
		t.Error("a list's strings are not the strings interned")
	}
	if in.str(nil) != "" || in.str([]byte{}) != "" {
		t.Error("no bytes give a string that is not empty")
	}
	if got := in.tty(136<<20 | 3); got != "pts/3" || unsafe.StringData(in.tty(136<<20|3)) != unsafe.StringData(got) {
		t.Errorf("tty %q, or two strings for one terminal", got)
	}

	// The tables are bounded: a host that never repeats itself keeps only
	// the last strings.
	for i := range 3 * maxInterned {
		b := []byte("/usr/bin/prog-" + strconv.Itoa(i))
		if s := in.str(b); s != string(b) {
			t.Fatalf("str(%q) = %q", b, s)
		}
		in.list(b, argList)
	}
	if len(in.strs) > maxInterned || len(in.lists) > maxInterned {
		t.Fatalf("%d strings and %d lists kept, the bound is %d", len(in.strs), len(in.lists), maxInterned)
	}
}
