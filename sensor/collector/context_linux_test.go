package collector_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/sensor/collector"
)

// nextWith returns the first event of type typ whose command line contains s.
func nextWith(t *testing.T, events <-chan event.Event, typ, s string) event.Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Type == typ && strings.Contains(ev.CommandLine, s) {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event with %q within 10s", typ, s)
		}
	}
}

// TestExecAncestry runs a chain of ten nested shells, deeper than the default
// depth, and checks the ancestry of the program the innermost one runs: its
// eight nearest ancestors, parent first, with their pids, paths, command
// lines and users.
func TestExecAncestry(t *testing.T) {
	_, events := startCollector(t)
	m := marker(t)
	script := filepath.Join(t.TempDir(), "chain.sh")
	// Each level runs the next as a child (not exec): one process per level.
	body := "n=$1\nif [ \"$n\" -gt 0 ]; then /bin/sh " + script + " $((n-1)) \"$2\"; else /bin/true \"$2\"; fi\nexit 0\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	const levels = 10
	cmd := exec.Command("/bin/sh", script, strconv.Itoa(levels-1), m)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chain: %v: %s", err, out)
	}
	// Level i is "/bin/sh <script> i <marker>"; the leaf is "/bin/true <marker>".
	pids := map[int]uint32{}
	var leaf event.Event
	for len(pids) < levels || leaf.PID == 0 {
		ev := nextWith(t, events, event.NewProcess, m)
		if ev.FilePath == "/bin/true" {
			leaf = ev
			continue
		}
		f := strings.Fields(ev.CommandLine)
		if len(f) != 4 {
			t.Fatalf("unexpected process %q", ev.CommandLine)
		}
		n, _ := strconv.Atoi(f[2])
		pids[n] = ev.PID
	}
	depth := 8
	var want event.Event
	for i := range depth {
		want.AncestorPIDs = append(want.AncestorPIDs, pids[i])
		want.AncestorPaths = append(want.AncestorPaths, "/bin/sh")
		want.AncestorCommandLines = append(want.AncestorCommandLines, fmt.Sprintf("/bin/sh %s %d %s", script, i, m))
		want.AncestorUsers = append(want.AncestorUsers, "root")
	}
	got := event.Event{AncestorPIDs: leaf.AncestorPIDs, AncestorPaths: leaf.AncestorPaths,
		AncestorCommandLines: leaf.AncestorCommandLines, AncestorUsers: leaf.AncestorUsers}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ancestry of %q:\n got %v\n     %q\n     %q\n     %q\nwant %v\n     %q\n     %q\n     %q", leaf.CommandLine,
			got.AncestorPIDs, got.AncestorPaths, got.AncestorCommandLines, got.AncestorUsers,
			want.AncestorPIDs, want.AncestorPaths, want.AncestorCommandLines, want.AncestorUsers)
	}
	if leaf.PPID != pids[0] || leaf.ParentCommandLine != want.AncestorCommandLines[0] || leaf.GrandparentCmd != want.AncestorCommandLines[1] {
		t.Errorf("parent %d %q, grandparent %q disagree with the ancestry", leaf.PPID, leaf.ParentCommandLine, leaf.GrandparentCmd)
	}
	// The leaf's exit carries the same ancestry.
	exit := next(t, events, leaf.PID, event.TerminateProcess)
	if !reflect.DeepEqual(exit.AncestorPIDs, want.AncestorPIDs) {
		t.Errorf("exit ancestry %v, want %v", exit.AncestorPIDs, want.AncestorPIDs)
	}
}

// openPTY opens a pseudo-terminal pair and returns the terminal side (the
// one a shell would get) and its number.
func openPTY(t *testing.T) (*os.File, int) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("skipping: no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	pts, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pts.Close() })
	return pts, int(n)
}

func readProcUint(t *testing.T, name string) uint32 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/" + name)
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	return uint32(n)
}

// capEff reads the effective capabilities of this process.
func capEff(t *testing.T) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no CapEff in /proc/self/status")
	return 0
}

// TestExecContext runs a program on a terminal, in a directory, with
// arguments holding spaces and an empty one and an environment of which only
// the configured variables may be reported, and checks the context its
// NEW_PROCESS carries.
func TestExecContext(t *testing.T) {
	_, events := startCollectorWith(t, collector.Options{Environment: []string{"LD_PRELOAD", "VIGIL_TEST_*"}})
	m := marker(t)
	dir := filepath.Join(t.TempDir(), "work dir")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pts, n := openPTY(t)
	before := time.Now()
	cmd := exec.Command("/bin/true", m, "a b", "", "c")
	cmd.Dir = dir
	cmd.Env = []string{"HOME=/root", "LD_PRELOAD=/nonexistent/" + m + ".so", "SECRET_TOKEN=hunter2", "VIGIL_TEST_A=1", "PATH=/bin"}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	ev := next(t, events, uint32(cmd.Process.Pid), event.NewProcess)
	t.Logf("args %q cwd %q tty %q login uid %d session %d start %d caps %#x environment %q",
		ev.Args, ev.CWD, ev.TTY, ev.LoginUID, ev.SessionID, ev.ProcessStartTime, ev.CapEffective, ev.Environment)
	if want := []string{"/bin/true", m, "a b", "", "c"}; !reflect.DeepEqual(ev.Args, want) {
		t.Errorf("ARGS %q, want %q", ev.Args, want)
	}
	if ev.CWD != dir {
		t.Errorf("CWD %q, want %q", ev.CWD, dir)
	}
	if want := "pts/" + strconv.Itoa(n); ev.TTY != want {
		t.Errorf("TTY %q, want %q", ev.TTY, want)
	}
	if want := readProcUint(t, "loginuid"); ev.LoginUID != want {
		t.Errorf("LOGIN_USER_ID %d, want %d (this process's)", ev.LoginUID, want)
	}
	if want := readProcUint(t, "sessionid"); ev.SessionID != want {
		t.Errorf("SESSION_ID %d, want %d (this process's)", ev.SessionID, want)
	}
	if start := time.Unix(0, ev.ProcessStartTime); start.Before(before.Add(-time.Second)) || start.After(after.Add(time.Second)) {
		t.Errorf("PROCESS_START_TIME %v outside the run [%v, %v]", start, before, after)
	}
	if ev.VPID != 0 {
		t.Errorf("VPID %d stored for a process of the initial pid namespace", ev.VPID)
	}
	if want := capEff(t); ev.CapEffective != want {
		t.Errorf("CAPABILITY_MASK %#x, want %#x (a root process's)", ev.CapEffective, want)
	}
	if want := []string{"LD_PRELOAD=/nonexistent/" + m + ".so", "VIGIL_TEST_A=1"}; !reflect.DeepEqual(ev.Environment, want) {
		t.Errorf("ENVIRONMENT %q, want %q", ev.Environment, want)
	}
	// Without a terminal the session has none.
	plain := exec.Command("/bin/true", m)
	plain.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := plain.Run(); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, events, uint32(plain.Process.Pid), event.NewProcess); ev.TTY != "" {
		t.Errorf("TTY %q for a session without a terminal", ev.TTY)
	}
}

// TestExecCapabilitiesAndNamespace checks the capabilities of a process run
// as another user (none) and the pid of the first process of a new pid
// namespace (1).
func TestExecCapabilitiesAndNamespace(t *testing.T) {
	_, events := startCollectorWith(t, collector.Options{Environment: []string{}})
	m := marker(t)
	user := exec.Command("/bin/true", m)
	user.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	user.Env = []string{"LD_PRELOAD=/nonexistent.so"}
	if err := user.Run(); err != nil {
		t.Fatal(err)
	}
	ev := next(t, events, uint32(user.Process.Pid), event.NewProcess)
	if ev.CapEffective != 0 || ev.UID != 65534 {
		t.Errorf("process of uid %d has capabilities %#x, want uid 65534 and none", ev.UID, ev.CapEffective)
	}
	if ev.Environment != nil {
		t.Errorf("ENVIRONMENT %q reported with no variables configured", ev.Environment)
	}
	ns := exec.Command("/bin/true", m)
	ns.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	if err := ns.Run(); err != nil {
		t.Skipf("skipping: cannot create a pid namespace: %v", err)
	}
	ev = next(t, events, uint32(ns.Process.Pid), event.NewProcess)
	if ev.VPID != 1 {
		t.Errorf("VPID %d for the first process of a new pid namespace, want 1", ev.VPID)
	}
	if f, _ := event.Lookup("event/VPID"); f.Num(&ev) != 1 {
		t.Errorf("event/VPID reads %d, want 1", f.Num(&ev))
	}
}
