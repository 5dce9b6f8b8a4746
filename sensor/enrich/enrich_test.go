package enrich

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
)

// fakeProc is a directory laid out like procfs, enough for the Enricher.
type fakeProc struct {
	t    testing.TB
	root string
}

func newFakeProc(t testing.TB) *fakeProc {
	p := &fakeProc{t: t, root: t.TempDir()}
	// btime 1000 s after the epoch.
	p.write("stat", "cpu  1 2 3 4\nbtime 1000\nprocesses 5\n")
	return p
}

func (p *fakeProc) write(name, content string) {
	p.t.Helper()
	path := filepath.Join(p.root, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// add creates <pid>/exe (a symlink, as in procfs), cmdline and stat (start time
// in clock ticks after boot). An empty exe makes a kernel thread.
func (p *fakeProc) add(pid int, exe string, argv []string, startTicks int) {
	p.t.Helper()
	dir := filepath.Join(p.root, strconv.Itoa(pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	if exe != "" {
		if err := os.Symlink(exe, filepath.Join(dir, "exe")); err != nil {
			p.t.Fatal(err)
		}
	}
	cmd := ""
	if len(argv) > 0 {
		cmd = strings.Join(argv, "\x00") + "\x00"
	}
	p.write(filepath.Join(strconv.Itoa(pid), "cmdline"), cmd)
	fields := make([]string, 20)
	for i := range fields {
		fields[i] = "0"
	}
	fields[19] = strconv.Itoa(startTicks)
	p.write(filepath.Join(strconv.Itoa(pid), "stat"), strconv.Itoa(pid)+" (a (b) c) "+strings.Join(fields, " ")+"\n")
}

func (p *fakeProc) remove(pid int) {
	if err := os.RemoveAll(filepath.Join(p.root, strconv.Itoa(pid))); err != nil {
		p.t.Fatal(err)
	}
}

func TestEnricher(t *testing.T) {
	proc := newFakeProc(t)
	proc.add(1, "/usr/lib/systemd/systemd", []string{"/sbin/init", "splash"}, 5)
	proc.add(2, "", nil, 0) // kthreadd
	proc.add(100, "/usr/bin/bash", []string{"-bash"}, 250)
	proc.add(150, "/usr/bin/old (deleted)", []string{"old"}, 300)
	e, err := New(Options{ProcRoot: proc.root, PasswdPath: "testdata/passwd"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.Len(), 3; got != want {
		t.Fatalf("seeded %d processes, want %d (kernel threads skipped)", got, want)
	}
	const wantStart = 1000*int64(1e9) + 250*int64(1e7) // btime + 250 ticks of 10 ms
	if p, _ := e.Lookup(100); p.StartNanos != wantStart {
		t.Errorf("seeded start of pid 100 = %d, want %d", p.StartNanos, wantStart)
	}
	// Started after seeding: found by the /proc fallback.
	proc.add(500, "/usr/sbin/sshd", []string{"sshd: alice [priv]"}, 900)
	// The process for the relative-path exec below.
	proc.add(700, "/opt/app/bin/tool", []string{"./tool"}, 950)
	// A child of make that has executed curl by the time its earlier event is read.
	proc.add(211, "/usr/bin/curl", []string{"curl", "x"}, 960)

	steps := []struct {
		name    string
		in      event.Event
		want    event.Event
		wantLen int // table size after Forget
	}{
		{
			name: "exec under a seeded shell",
			in:   event.Event{Type: event.NewProcess, PID: 200, PPID: 100, UID: 1000, FilePath: "/usr/bin/make", CommandLine: "make -j4", TimeNanos: 42},
			want: event.Event{Type: event.NewProcess, PID: 200, PPID: 100, UID: 1000, User: "alice", FilePath: "/usr/bin/make",
				CommandLine: "make -j4", ParentFilePath: "/usr/bin/bash", ParentCommandLine: "-bash", TimeNanos: 42},
			wantLen: 4,
		},
		{
			name: "exec under a process known from its own exec event",
			in:   event.Event{Type: event.NewProcess, PID: 300, PPID: 200, UID: 0, FilePath: "/usr/bin/cc", CommandLine: "cc -c x.c"},
			want: event.Event{Type: event.NewProcess, PID: 300, PPID: 200, UID: 0, User: "root", FilePath: "/usr/bin/cc",
				CommandLine: "cc -c x.c", ParentFilePath: "/usr/bin/make", ParentCommandLine: "make -j4"},
			wantLen: 5,
		},
		{
			name: "re-exec replaces the table entry",
			in:   event.Event{Type: event.NewProcess, PID: 300, PPID: 200, UID: 0, FilePath: "/usr/bin/as", CommandLine: "as x.s"},
			want: event.Event{Type: event.NewProcess, PID: 300, PPID: 200, UID: 0, User: "root", FilePath: "/usr/bin/as",
				CommandLine: "as x.s", ParentFilePath: "/usr/bin/make", ParentCommandLine: "make -j4"},
			wantLen: 5,
		},
		{
			name: "exit gets its own path and command line, then leaves the table",
			in:   event.Event{Type: event.TerminateProcess, PID: 300, PPID: 200, ExitCode: 1},
			want: event.Event{Type: event.TerminateProcess, PID: 300, PPID: 200, User: "root", FilePath: "/usr/bin/as",
				CommandLine: "as x.s", ParentFilePath: "/usr/bin/make", ParentCommandLine: "make -j4", ExitCode: 1},
			wantLen: 4,
		},
		{
			name: "parent started after seeding is read from proc and kept",
			in:   event.Event{Type: event.NewProcess, PID: 501, PPID: 500, UID: 1000, FilePath: "/usr/bin/bash", CommandLine: "bash"},
			want: event.Event{Type: event.NewProcess, PID: 501, PPID: 500, UID: 1000, User: "alice", FilePath: "/usr/bin/bash",
				CommandLine: "bash", ParentFilePath: "/usr/sbin/sshd", ParentCommandLine: "sshd: alice [priv]"},
			wantLen: 6,
		},
		{
			name: "deleted parent binary",
			in:   event.Event{Type: event.NewProcess, PID: 151, PPID: 150, UID: 4242, FilePath: "/bin/true", CommandLine: "true"},
			want: event.Event{Type: event.NewProcess, PID: 151, PPID: 150, UID: 4242, User: "4242", FilePath: "/bin/true",
				CommandLine: "true", ParentFilePath: "/usr/bin/old", ParentCommandLine: "old"},
			wantLen: 7,
		},
		{
			name: "relative exec path resolved from proc",
			in:   event.Event{Type: event.NewProcess, PID: 700, PPID: 1, FilePath: "./tool", CommandLine: "./tool"},
			want: event.Event{Type: event.NewProcess, PID: 700, PPID: 1, User: "root", FilePath: "/opt/app/bin/tool",
				CommandLine: "./tool", ParentFilePath: "/usr/lib/systemd/systemd", ParentCommandLine: "/sbin/init splash"},
			wantLen: 8,
		},
		{
			name:    "unknown parent (gone) leaves parent fields empty",
			in:      event.Event{Type: event.NewProcess, PID: 801, PPID: 800, FilePath: "/bin/ls", CommandLine: "ls"},
			want:    event.Event{Type: event.NewProcess, PID: 801, PPID: 800, User: "root", FilePath: "/bin/ls", CommandLine: "ls"},
			wantLen: 9,
		},
		{
			name:    "exit of a process never seen",
			in:      event.Event{Type: event.TerminateProcess, PID: 900, PPID: 2, ExitCode: -9},
			want:    event.Event{Type: event.TerminateProcess, PID: 900, PPID: 2, User: "root", ExitCode: -9},
			wantLen: 9,
		},
		{
			name:    "exit of a seeded process",
			in:      event.Event{Type: event.TerminateProcess, PID: 100, PPID: 1},
			want:    event.Event{Type: event.TerminateProcess, PID: 100, PPID: 1, User: "root", FilePath: "/usr/bin/bash", CommandLine: "-bash", ParentFilePath: "/usr/lib/systemd/systemd", ParentCommandLine: "/sbin/init splash"},
			wantLen: 8,
		},
		{
			name: "other event types get user and parent only",
			in:   event.Event{Type: event.FileOpen, PID: 200, PPID: 100, UID: 33, FilePath: "/usr/bin/make", TargetPath: "/etc/hosts"},
			// pid 100 exited above; it is still in the fake proc, so it is re-read.
			want: event.Event{Type: event.FileOpen, PID: 200, PPID: 100, UID: 33, User: "www-data", FilePath: "/usr/bin/make",
				TargetPath: "/etc/hosts", ParentFilePath: "/usr/bin/bash", ParentCommandLine: "-bash"},
			wantLen: 9,
		},
		{
			// 211 was forked by make after the sensor started and has not executed
			// a program: it is make, whatever /proc shows by the time the event is
			// read (here: the program it went on to execute)
			name: "a forked child that has not executed runs its parent's program",
			in:   event.Event{Type: event.FileOpen, PID: 211, PPID: 200, UID: 33, TargetPath: "/etc/passwd"},
			want: event.Event{Type: event.FileOpen, PID: 211, PPID: 200, UID: 33, User: "www-data", FilePath: "/usr/bin/make",
				CommandLine: "make -j4", TargetPath: "/etc/passwd", ParentFilePath: "/usr/bin/make", ParentCommandLine: "make -j4"},
			wantLen: 10,
		},
	}
	for _, s := range steps {
		ev := s.in
		e.Enrich(&ev, false)
		if !sameEvent(ev, s.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", s.name, ev, s.want)
		}
		e.Forget(&ev)
		if got := e.Len(); got != s.wantLen {
			t.Errorf("%s: table has %d processes, want %d", s.name, got, s.wantLen)
		}
	}

	// Sweep drops what is no longer in proc: the exec'd 200, 300 (gone), 501, 151,
	// 801 and the seeded 150 after its removal (211 is still there).
	proc.remove(150)
	if n := e.Sweep(); n != 5 {
		t.Errorf("Sweep removed %d, want 5", n)
	}
	for _, pid := range []uint32{1, 100, 500, 700} {
		if _, ok := e.Lookup(pid); !ok {
			t.Errorf("pid %d missing after Sweep", pid)
		}
	}
}

func sameEvent(a, b event.Event) bool {
	return a.Type == b.Type && a.PID == b.PID && a.PPID == b.PPID && a.UID == b.UID && a.User == b.User &&
		a.FilePath == b.FilePath && a.CommandLine == b.CommandLine && a.ParentFilePath == b.ParentFilePath &&
		a.ParentCommandLine == b.ParentCommandLine && a.ExitCode == b.ExitCode && a.TimeNanos == b.TimeNanos &&
		a.TargetPath == b.TargetPath
}

func TestParseStat(t *testing.T) {
	tail := " S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 4242 19 20\n"
	tests := []struct {
		name    string
		stat    string
		want    procStat
		wantErr string // part of the error; "" for none
	}{
		{"plain", "12 (bash)" + tail, procStat{ppid: 1, startTicks: 4242}, ""},
		{"comm with spaces and parens", "12 (a) b (c)" + tail, procStat{ppid: 1, startTicks: 4242}, ""},
		{"comm with a newline", "12 (a\n) 7 8)" + tail, procStat{ppid: 1, startTicks: 4242}, ""},
		{"no comm", "12 bash" + tail, procStat{}, "field 2"},
		{"too few fields", "12 (bash) S 1 2 3", procStat{}, "fields"},
		{"not a number", "12 (bash) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 x", procStat{}, "field 22"},
		{"negative start", "12 (bash) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 -5", procStat{}, "field 22"},
		{"bad ppid", "12 (bash) S x 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 4242", procStat{}, "field 4"},
		{"empty", "", procStat{}, "field 2"},
	}
	for _, tt := range tests {
		got, err := parseStat([]byte(tt.stat))
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: error %v, want one about %s", tt.name, err, tt.wantErr)
		case got != tt.want:
			t.Errorf("%s: parseStat = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// FuzzParseStat: whatever the command name (chosen by the process), the parent
// pid and start time of a stat line as the kernel writes it are read back; no
// input makes parseStat panic, and what it reads from any input is a field of it.
func FuzzParseStat(f *testing.F) {
	f.Add("bash", uint32(1), int64(4242), []byte("12 (bash) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 4242 19 20\n"))
	f.Add("a) b (c", uint32(0), int64(0), []byte("1 ())) S"))
	f.Add("x\n) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 9", uint32(1<<31), int64(1)<<62, []byte(")"))
	f.Add("", ^uint32(0), int64(9223372036854775807), []byte("12 (bash) S +1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 0777\n"))
	f.Fuzz(func(t *testing.T, comm string, ppid uint32, start int64, raw []byte) {
		if got, err := parseStat(raw); err == nil {
			i := bytes.LastIndexByte(raw, ')')
			fields := strings.Fields(string(raw[i+1:]))
			if p, _ := strconv.ParseUint(fields[1], 10, 32); uint32(p) != got.ppid {
				t.Errorf("parseStat(%q) ppid %d, field 4 is %q", raw, got.ppid, fields[1])
			}
			if s, _ := strconv.ParseInt(fields[19], 10, 64); s != got.startTicks || s < 0 {
				t.Errorf("parseStat(%q) start %d, field 22 is %q", raw, got.startTicks, fields[19])
			}
		}
		if start < 0 {
			return
		}
		fields := []string{"4242", "(" + comm + ")", "S", strconv.FormatUint(uint64(ppid), 10)}
		for n := 5; n <= 52; n++ {
			if n == 22 {
				fields = append(fields, strconv.FormatInt(start, 10))
			} else {
				fields = append(fields, strconv.Itoa(n))
			}
		}
		line := strings.Join(fields, " ") + "\n"
		got, err := parseStat([]byte(line))
		if want := (procStat{ppid: ppid, startTicks: start}); err != nil || got != want {
			t.Errorf("parseStat(%q) = %+v, %v; want %+v", line, got, err, want)
		}
	})
}

func TestJoinArgv(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"\x00", ""},
		{"ls\x00-l\x00", "ls -l"},
		{"sh\x00\x00-c\x00", "sh  -c"},
		{"sshd: alice [priv]", "sshd: alice [priv]"}, // rewritten title, no NULs
	}
	for _, tt := range tests {
		if got := string(joinArgv([]byte(tt.in))); got != tt.want {
			t.Errorf("joinArgv(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNewBadProcRoot(t *testing.T) {
	if _, err := New(Options{ProcRoot: filepath.Join(t.TempDir(), "nope")}); err == nil {
		t.Error("New with a missing proc root succeeded")
	}
}

// TestSeedHostProc checks seeding against the real /proc: this test binary must be
// in the table with its executable and arguments.
func TestSeedHostProc(t *testing.T) {
	if _, err := os.Stat("/proc/self/exe"); err != nil {
		t.Skipf("skipping: no procfs: %v", err)
	}
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p, ok := e.Lookup(uint32(os.Getpid()))
	if !ok {
		t.Fatal("this process is not in the seeded table")
	}
	if p.Path != self || p.CommandLine != strings.Join(os.Args, " ") || p.StartNanos == 0 {
		t.Errorf("Lookup(self) = %+v, want path %q, command line %q, a start time", p, self, strings.Join(os.Args, " "))
	}
}

// TestEnricherAncestry checks the grandparent, the acting process of
// non-process events and the container id of a process in a container.
func TestEnricherAncestry(t *testing.T) {
	proc := newFakeProc(t)
	proc.add(1, "/usr/lib/systemd/systemd", []string{"/sbin/init"}, 5)
	proc.add(100, "/usr/sbin/sshd", []string{"sshd: alice"}, 250)
	proc.write("100/stat", "100 (sshd) S 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 250\n")
	proc.add(200, "/usr/bin/bash", []string{"-bash"}, 300)
	proc.write("200/stat", "200 (bash) S 100 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 300\n")
	const ctr = "3f5e2b9c8d7a6f1e0b4c2d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a"
	proc.write("200/cgroup", "0::/\n")
	e, err := New(Options{ProcRoot: proc.root, PasswdPath: "testdata/passwd"})
	if err != nil {
		t.Fatal(err)
	}

	// A process exec'd by the seeded bash: parent bash, grandparent sshd.
	proc.add(300, "/usr/bin/curl", []string{"curl", "x"}, 400)
	proc.write("300/cgroup", "1:name=systemd:/docker/"+ctr+"\n0::/\n")
	ev := event.Event{Type: event.NewProcess, PID: 300, PPID: 200, UID: 1000, FilePath: "/usr/bin/curl", CommandLine: "curl x"}
	e.Enrich(&ev, false)
	if ev.ParentFilePath != "/usr/bin/bash" || ev.GrandparentPath != "/usr/sbin/sshd" || ev.GrandparentCmd != "sshd: alice" {
		t.Errorf("ancestry: parent %q, grandparent %q %q", ev.ParentFilePath, ev.GrandparentPath, ev.GrandparentCmd)
	}
	if ev.ContainerID != ctr {
		t.Errorf("container id %q, want %q (from the v1 hierarchy)", ev.ContainerID, ctr)
	}

	// Its next exec's grandparent comes from the table (PPID recorded at exec).
	ev2 := event.Event{Type: event.NewProcess, PID: 400, PPID: 300, FilePath: "/bin/sh", CommandLine: "sh"}
	e.Enrich(&ev2, false)
	if ev2.GrandparentPath != "/usr/bin/bash" || ev2.ParentFilePath != "/usr/bin/curl" {
		t.Errorf("second generation: parent %q grandparent %q", ev2.ParentFilePath, ev2.GrandparentPath)
	}
	if ev2.ContainerID != ctr {
		t.Errorf("child of a container process (gone from /proc): container %q, want %q", ev2.ContainerID, ctr)
	}

	// A file event of pid 300 gets the acting process's own path and command line.
	fe := event.Event{Type: event.FileOpen, PID: 300, PPID: 200, TargetPath: "/etc/shadow"}
	e.Enrich(&fe, false)
	if fe.FilePath != "/usr/bin/curl" || fe.CommandLine != "curl x" || fe.GrandparentPath != "/usr/sbin/sshd" || fe.ContainerID != ctr {
		t.Errorf("file event: %+v", fe)
	}
	// A host process has no container id.
	he := event.Event{Type: event.NetworkConnect, PID: 200, PPID: 100}
	e.Enrich(&he, false)
	if he.ContainerID != "" || he.FilePath != "/usr/bin/bash" || he.ParentFilePath != "/usr/sbin/sshd" || he.GrandparentPath != "/usr/lib/systemd/systemd" {
		t.Errorf("host event: %+v", he)
	}
}

// TestEnricherCgroupHint checks where a new process's container id comes from
// on a host whose runtime uses only cgroup v1: its parent's when the kernel saw
// it share the parent's cgroups at exec (its /proc cgroup file is not read),
// its own /proc/<pid>/cgroup otherwise.
func TestEnricherCgroupHint(t *testing.T) {
	const ctr = "3f5e2b9c8d7a6f1e0b4c2d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a"
	const other = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
	tests := []struct {
		name      string
		parent    int // 100 runs on the host, 200 in container ctr
		ownCgroup string
		sharesCg  bool
		wantCtr   string
	}{
		{"shares a host parent's cgroups", 100, "1:name=systemd:/docker/" + other + "\n0::/\n", true, ""},
		{"shares a container parent's cgroups", 200, "0::/\n", true, ctr},
		{"moved by a runtime before exec", 100, "1:name=systemd:/docker/" + other + "\n0::/\n", false, other},
		{"moved out of its parent's container", 200, "1:name=systemd:/\n0::/\n", false, ""},
		{"unknown parent: reads its own", 999, "1:name=systemd:/docker/" + other + "\n0::/\n", true, other},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			proc := newFakeProc(t)
			proc.add(100, "/usr/bin/containerd-shim", []string{"shim"}, 250)
			proc.write("100/cgroup", "1:name=systemd:/system.slice/containerd.service\n0::/\n")
			proc.add(200, "/bin/sh", []string{"sh"}, 260)
			proc.write("200/cgroup", "1:name=systemd:/docker/"+ctr+"\n0::/\n")
			e, err := New(Options{ProcRoot: proc.root, PasswdPath: "testdata/passwd"})
			if err != nil {
				t.Fatal(err)
			}
			pid := 300 + i
			proc.add(pid, "/usr/bin/id", []string{"id"}, 400)
			proc.write(strconv.Itoa(pid)+"/cgroup", tc.ownCgroup)
			ev := event.Event{Type: event.NewProcess, PID: uint32(pid), PPID: uint32(tc.parent), FilePath: "/usr/bin/id"}
			e.Enrich(&ev, tc.sharesCg)
			if ev.ContainerID != tc.wantCtr {
				t.Errorf("container id %q, want %q", ev.ContainerID, tc.wantCtr)
			}
		})
	}
}
