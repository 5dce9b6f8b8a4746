package falco

import (
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
)

// TestFileOpTypes translates conditions on the syscalls of links,
// directories, nodes, owner changes and truncations.
func TestFileOpTypes(t *testing.T) {
	link := func(typ, target, to string) event.Event {
		return event.Event{Type: event.FileLink, FilePath: "/bin/ln", TargetPath: target, LinkTarget: to, LinkType: typ}
	}
	for _, tc := range []struct {
		name, cond     string
		match, nomatch []event.Event
	}{
		{"symlink over a sensitive file", "evt.type in (symlink, symlinkat) and evt.arg.target startswith /etc/",
			[]event.Event{link("symbolic", "/tmp/s", "/etc/shadow")},
			[]event.Event{link("symbolic", "/tmp/s", "/tmp/x"), open("/bin/cat", "/etc/shadow", "read")}},
		{"mkdir below a binary directory", "evt.type in (mkdir, mkdirat) and fd.name startswith /usr/bin/",
			[]event.Event{{Type: event.DirCreate, TargetPath: "/usr/bin/.x"}},
			[]event.Event{{Type: event.DirCreate, TargetPath: "/tmp/x"}, {Type: event.DirDelete, TargetPath: "/usr/bin/.x"}}},
		{"creat below /dev", "evt.type = creat and fd.name startswith /dev/",
			[]event.Event{open("/bin/sh", "/dev/x", "write,create,truncate")},
			[]event.Event{open("/bin/sh", "/tmp/x", "write,create,truncate")}},
		{"chown and truncate", "evt.type in (fchownat, ftruncate) and fd.name = /var/log/auth.log",
			[]event.Event{{Type: event.FileChown, TargetPath: "/var/log/auth.log"}, {Type: event.FileTruncate, TargetPath: "/var/log/auth.log"}},
			[]event.Event{{Type: event.FileMknod, TargetPath: "/var/log/auth.log"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			compiled := compile(t, convertOne(t, ruleFile(tc.cond)))
			for i := range tc.match {
				if !matches(compiled, &tc.match[i]) {
					t.Errorf("does not match %+v", tc.match[i])
				}
			}
			for i := range tc.nomatch {
				if matches(compiled, &tc.nomatch[i]) {
					t.Errorf("matches %+v", tc.nomatch[i])
				}
			}
		})
	}
}
