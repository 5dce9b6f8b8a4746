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

// TestChildrenShareAncestry checks that the children of a process share one
// ancestry, built once, and that it follows the parent when the parent runs
// another program or gets another parent.
func TestChildrenShareAncestry(t *testing.T) {
	proc := newFakeProc(t)
	proc.addProc(1, 0, 0, "/usr/lib/systemd/systemd", "/", "/sbin/init")
	proc.addProc(10, 1, 0, "/usr/bin/bash", "/", "bash")
	e, err := New(Options{ProcRoot: proc.root, PasswdPath: "testdata/passwd"})
	if err != nil {
		t.Fatal(err)
	}
	child := func(pid, ppid uint32) event.Event {
		ev := event.Event{Type: event.NewProcess, PID: pid, PPID: ppid, FilePath: "/bin/true", CommandLine: "true"}
		e.Enrich(&ev, true)
		return ev
	}
	first, second := child(100, 10), child(101, 10)
	want := anc([]uint32{10, 1}, []string{"/usr/bin/bash", "/usr/lib/systemd/systemd"}, []string{"bash", "/sbin/init"}, []string{"root", "root"})
	for _, ev := range []event.Event{first, second} {
		if got := ancestryOf(&ev); !reflect.DeepEqual(got, want) {
			t.Fatalf("ancestry %+v, want %+v", got, want)
		}
	}
	if &first.AncestorPaths[0] != &second.AncestorPaths[0] {
		t.Error("two children of one parent have ancestries of their own")
	}

	// The parent runs another program: its next children see it.
	exec := event.Event{Type: event.NewProcess, PID: 10, PPID: 1, FilePath: "/usr/bin/make", CommandLine: "make all"}
	e.Enrich(&exec, true)
	third := child(102, 10)
	want = anc([]uint32{10, 1}, []string{"/usr/bin/make", "/usr/lib/systemd/systemd"}, []string{"make all", "/sbin/init"}, []string{"root", "root"})
	if got := ancestryOf(&third); !reflect.DeepEqual(got, want) {
		t.Fatalf("after the parent's exec: ancestry %+v, want %+v", got, want)
	}

	// An event names another parent for the parent (re-parented): that
	// event's ancestry follows it, the children's still follow the table.
	moved := event.Event{Type: event.FileOpen, PID: 10, PPID: 100, TargetPath: "/tmp/x"}
	e.Enrich(&moved, false)
	want = anc([]uint32{100, 10, 1}, []string{"/bin/true", "/usr/bin/bash", "/usr/lib/systemd/systemd"},
		[]string{"true", "bash", "/sbin/init"}, []string{"root", "root", "root"}) // 100's as of its exec
	if got := ancestryOf(&moved); !reflect.DeepEqual(got, want) {
		t.Fatalf("re-parented parent: ancestry %+v, want %+v", got, want)
	}
	fourth := child(103, 10)
	want = anc([]uint32{10, 1}, []string{"/usr/bin/make", "/usr/lib/systemd/systemd"}, []string{"make all", "/sbin/init"}, []string{"root", "root"})
	if got := ancestryOf(&fourth); !reflect.DeepEqual(got, want) {
		t.Fatalf("child of the re-parented parent: ancestry %+v, want %+v", got, want)
	}
}

// BenchmarkEnrichExecStorm enriches an exec storm: a shell's children, each
// a NEW_PROCESS then a TERMINATE_PROCESS, with the default ancestry depth.
func BenchmarkEnrichExecStorm(b *testing.B) {
	proc := newFakeProc(b)
	proc.addProc(1, 0, 0, "/usr/lib/systemd/systemd", "/", "/sbin/init")
	proc.addProc(10, 1, 0, "/usr/sbin/sshd", "/", "sshd: /usr/sbin/sshd -D")
	proc.addProc(11, 10, 1000, "/usr/bin/bash", "/home/ci", "-bash")
	e, err := New(Options{ProcRoot: proc.root, PasswdPath: "testdata/passwd"})
	if err != nil {
		b.Fatal(err)
	}
	args := []string{"true"}
	pid := uint32(1000)
	b.ReportAllocs()
	for b.Loop() {
		pid++
		ev := event.Event{Type: event.NewProcess, PID: pid, PPID: 11, UID: 1000, FilePath: "/bin/true", CommandLine: "true",
			Args: args, CWD: "/home/ci"}
		e.Enrich(&ev, true)
		ev = event.Event{Type: event.TerminateProcess, PID: pid, PPID: 11, UID: 1000}
		e.Enrich(&ev, false)
		e.Forget(&ev)
	}
}
