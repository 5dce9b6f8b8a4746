package collector

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
)

func TestCleanFileOp(t *testing.T) {
	pe, err := prefixEntries(Options{FilePrefixes: []string{"/etc/"}, FileChangePrefixes: []string{"/usr/bin/"}})
	if err != nil {
		t.Fatal(err)
	}
	c := &Collector{prefixes: pe}
	for _, tt := range []struct {
		name              string
		ev                event.Event
		want              bool
		target, linkValue string
	}{
		{"clean paths: the kernel's word", event.Event{Type: event.DirCreate, TargetPath: "/tmp/x"}, true, "/tmp/x", ""},
		{"dir into a watched one", event.Event{Type: event.DirCreate, TargetPath: "/tmp/../etc/x"}, true, "/etc/x", ""},
		{"dir out of the watched ones", event.Event{Type: event.DirDelete, TargetPath: "/etc/../tmp/x"}, false, "/tmp/x", ""},
		{"changes-only prefix", event.Event{Type: event.FileChown, TargetPath: "/usr/bin/./sudo"}, true, "/usr/bin/sudo", ""},
		{"hard link of a watched file", event.Event{Type: event.FileLink, LinkType: "hard", TargetPath: "/tmp/./h", LinkTarget: "/etc//shadow"},
			true, "/tmp/h", "/etc/shadow"},
		{"hard link out of the watched ones", event.Event{Type: event.FileLink, LinkType: "hard", TargetPath: "/tmp/h", LinkTarget: "/etc/../tmp/x"},
			false, "/tmp/h", "/tmp/x"},
		{"symbolic link to a watched file, kept as given", event.Event{Type: event.FileLink, LinkType: "symbolic", TargetPath: "/tmp/l", LinkTarget: "/etc/./shadow"},
			true, "/tmp/l", "/etc/./shadow"},
		{"symbolic link, relative target: not judged", event.Event{Type: event.FileLink, LinkType: "symbolic", TargetPath: "/tmp/./l", LinkTarget: "../etc/shadow"},
			false, "/tmp/l", "../etc/shadow"},
	} {
		ev := tt.ev
		if got := c.cleanFileOp(&ev); got != tt.want || ev.TargetPath != tt.target || ev.LinkTarget != tt.linkValue {
			t.Errorf("%s: got %v %q %q, want %v %q %q", tt.name, got, ev.TargetPath, ev.LinkTarget, tt.want, tt.target, tt.linkValue)
		}
	}
}

func TestDefaultFilePrefixes(t *testing.T) {
	tmp, err := os.MkdirTemp("/var/tmp", "vigil-home-") // outside the default prefixes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	svc := filepath.Join(tmp, "svc")
	if err := os.Mkdir(svc, 0o700); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/passwd")
	if err != nil {
		t.Fatal(err)
	}
	passwd := filepath.Join(tmp, "passwd")
	if err := os.WriteFile(passwd, []byte(strings.ReplaceAll(string(raw), "HOME_SVC", svc)), 0o600); err != nil {
		t.Fatal(err)
	}
	got := defaultFilePrefixes(passwd, 100)
	// /root and /home/alice are covered; daemon's /usr/sbin (no login),
	// /nonexistent and relative or root homes are not watched; svc (twice in
	// passwd) once.
	var want []string
	want = append(want, DefaultFilePrefixes...)
	for _, n := range HomeFilePrefixes {
		want = append(want, svc+"/"+n)
	}
	if !slices.Equal(got, want) {
		t.Errorf("defaultFilePrefixes = %q\nwant %q", got, want)
	}
	if got := defaultFilePrefixes(passwd, len(HomeFilePrefixes)-1); !slices.Equal(got, DefaultFilePrefixes) {
		t.Errorf("without room: %q", got)
	}
	if got := defaultFilePrefixes(filepath.Join(tmp, "missing"), 100); !slices.Equal(got, DefaultFilePrefixes) {
		t.Errorf("without passwd: %q", got)
	}
	// The defaults fit the kernel's trie with the excludes and the
	// changes-only prefixes.
	pe, err := prefixEntries(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pe) > MaxFilePrefixes {
		t.Errorf("%d default prefixes", len(pe))
	}
	vals := map[string]uint8{}
	for _, e := range pe {
		vals[e.prefix] = e.val
	}
	if vals["/usr/bin/"] != prefixChanges || vals["/etc/"] != 1 || vals["/etc/ld.so.cache"] != 0 {
		t.Errorf("default prefix values %v", vals)
	}
}
