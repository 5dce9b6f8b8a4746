package enrich

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
)

// addProc is fakeProc.add with a parent, a real uid and a working directory.
func (p *fakeProc) addProc(pid, ppid int, uid uint32, exe, cwd string, argv ...string) {
	p.t.Helper()
	p.add(pid, exe, argv, 100)
	fields := make([]string, 20)
	for i := range fields {
		fields[i] = "0"
	}
	fields[1] = strconv.Itoa(ppid)
	d := strconv.Itoa(pid)
	p.write(filepath.Join(d, "stat"), d+" (x) "+strings.Join(fields, " ")+"\n")
	u := strconv.FormatUint(uint64(uid), 10)
	p.write(filepath.Join(d, "status"), "Name:\tx\nUid:\t"+u+"\t"+u+"\t"+u+"\t"+u+"\n")
	if err := os.Symlink(cwd, filepath.Join(p.root, d, "cwd")); err != nil {
		p.t.Fatal(err)
	}
}

func anc(pids []uint32, paths, cmds, users []string) event.Event {
	return event.Event{AncestorPIDs: pids, AncestorPaths: paths, AncestorCommandLines: cmds, AncestorUsers: users}
}

func ancestryOf(ev *event.Event) event.Event {
	return anc(ev.AncestorPIDs, ev.AncestorPaths, ev.AncestorCommandLines, ev.AncestorUsers)
}

func TestAncestry(t *testing.T) {
	proc := newFakeProc(t)
	proc.addProc(1, 0, 0, "/usr/lib/systemd/systemd", "/", "/sbin/init")
	proc.addProc(10, 1, 0, "/usr/sbin/sshd", "/", "sshd: /usr/sbin/sshd -D")
	proc.addProc(11, 10, 33, "/usr/bin/bash", "/var/www", "-bash")
	newProc := func(pid, ppid uint32, path string, args ...string) event.Event {
		return event.Event{Type: event.NewProcess, PID: pid, PPID: ppid, UID: 1, FilePath: path,
			CommandLine: strings.Join(args, " "), Args: args, CWD: "/w", TTY: "pts/1", LoginUID: 1000, SessionID: 4,
			ProcessStartTime: 77, VPID: 1, CapEffective: 5, ExeUpperLayer: 1}
	}
	tests := []struct {
		name  string
		depth int
		want  event.Event // ancestry of pid 23 (sh ← sh ← sh ← bash ← sshd ← init)
	}{
		{"default depth lists all six", 0, anc([]uint32{22, 21, 20, 11, 10, 1},
			[]string{"/bin/sh", "/bin/sh", "/bin/sh", "/usr/bin/bash", "/usr/sbin/sshd", "/usr/lib/systemd/systemd"},
			[]string{"sh -c 2", "sh -c 1", "sh -c 0", "-bash", "sshd: /usr/sbin/sshd -D", "/sbin/init"},
			[]string{"daemon", "daemon", "daemon", "www-data", "root", "root"})},
		{"cut at the depth", 4, anc([]uint32{22, 21, 20, 11},
			[]string{"/bin/sh", "/bin/sh", "/bin/sh", "/usr/bin/bash"},
			[]string{"sh -c 2", "sh -c 1", "sh -c 0", "-bash"},
			[]string{"daemon", "daemon", "daemon", "www-data"})},
		{"none", -1, anc(nil, nil, nil, nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(Options{ProcRoot: proc.root, PasswdPath: "testdata/passwd", AncestryDepth: tc.depth})
			if err != nil {
				t.Fatal(err)
			}
			parent := uint32(11)
			for i := range 4 {
				pid := uint32(20 + i)
				ev := newProc(pid, parent, "/bin/sh", "sh", "-c", strconv.Itoa(i))
				e.Enrich(&ev, true)
				parent = pid
			}
			// A later event of pid 23 carries its context and the same ancestry.
			ev := event.Event{Type: event.FileOpen, PID: 23, PPID: 22, TargetPath: "/etc/shadow"}
			e.Enrich(&ev, false)
			if got := ancestryOf(&ev); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ancestry\n got %+v\nwant %+v", got, tc.want)
			}
			want := newProc(23, 22, "/bin/sh", "sh", "-c", "3")
			if ev.FilePath != want.FilePath || !reflect.DeepEqual(ev.Args, want.Args) || ev.CWD != want.CWD || ev.TTY != want.TTY ||
				ev.LoginUID != 1000 || ev.SessionID != 4 || ev.ProcessStartTime != 77 || ev.VPID != 1 || ev.CapEffective != 5 ||
				ev.ExeUpperLayer != 1 {
				t.Fatalf("file event lacks its process's context: %+v", ev)
			}
			if tc.depth == 0 && (ev.AncestorPaths[0] != ev.ParentFilePath || ev.AncestorPaths[1] != ev.GrandparentPath) {
				t.Fatalf("ancestors 0 and 1 (%q, %q) differ from parent %q and grandparent %q",
					ev.AncestorPaths[0], ev.AncestorPaths[1], ev.ParentFilePath, ev.GrandparentPath)
			}
		})
	}
}

// TestContextFromProc checks that a process started before the sensor gets
// its arguments and working directory from /proc.
func TestContextFromProc(t *testing.T) {
	proc := newFakeProc(t)
	proc.addProc(1, 0, 0, "/usr/lib/systemd/systemd", "/", "/sbin/init")
	proc.addProc(50, 1, 0, "/usr/bin/python3", "/srv/app dir", "python3", "-c", "", "a b")
	e, err := New(Options{ProcRoot: proc.root, PasswdPath: "testdata/passwd"})
	if err != nil {
		t.Fatal(err)
	}
	ev := event.Event{Type: event.NetworkConnect, PID: 50, PPID: 1}
	e.Enrich(&ev, false)
	if want := []string{"python3", "-c", "", "a b"}; !reflect.DeepEqual(ev.Args, want) {
		t.Errorf("args %q, want %q", ev.Args, want)
	}
	if ev.CWD != "/srv/app dir" {
		t.Errorf("cwd %q", ev.CWD)
	}
	if want := anc([]uint32{1}, []string{"/usr/lib/systemd/systemd"}, []string{"/sbin/init"}, []string{"root"}); !reflect.DeepEqual(ancestryOf(&ev), want) {
		t.Errorf("ancestry %+v, want %+v", ancestryOf(&ev), want)
	}
}
