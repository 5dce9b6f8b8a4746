package main

import (
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
)

func TestFileOpDetail(t *testing.T) {
	for _, tc := range []struct {
		e    event.Event
		want string
	}{
		{event.Event{Type: event.FileLink, TargetPath: "/tmp/s", LinkTarget: "/etc/shadow", LinkType: "symbolic"}, "target=/tmp/s symbolic -> /etc/shadow"},
		{event.Event{Type: event.DirCreate, TargetPath: "/usr/bin/.x", FileMode: 0o755}, "target=/usr/bin/.x mode=0755"},
		{event.Event{Type: event.DirDelete, TargetPath: "/var/log/x"}, "target=/var/log/x"},
		{event.Event{Type: event.FileMknod, TargetPath: "/dev/f", FileType: "fifo", FileMode: 0o600}, "target=/dev/f type=fifo mode=0600"},
		{event.Event{Type: event.FileChown, TargetPath: "/etc/sudoers", OwnerUID: 0, OwnerGID: -1}, "target=/etc/sudoers uid=0 gid=-1"},
		{event.Event{Type: event.FileTruncate, TargetPath: "/var/log/auth.log"}, "target=/var/log/auth.log size=0"},
	} {
		if got := detail(&tc.e); !strings.Contains(got, tc.want) {
			t.Errorf("%s: detail %q, want %q", tc.e.Type, got, tc.want)
		}
	}
}
