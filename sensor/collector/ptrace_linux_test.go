package collector_test

import (
	"os"
	"os/exec"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/internal/event"
)

// TestPtraceTraceme runs a child that asks to be traced by its parent twice
// (PTRACE_TRACEME, as anti-debugging code does): both requests are reported,
// the second with the EPERM it failed with, each naming the child as the
// process traced.
func TestPtraceTraceme(t *testing.T) {
	_, events := startCollector(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The child's tracer is the thread that starts it: keep this one, so that
	// it can let the child go on should a signal stop it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=traceme")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	for {
		var ws unix.WaitStatus
		if _, err := unix.Wait4(pid, &ws, unix.WALL, nil); err != nil {
			t.Fatalf("wait for the child: %v", err)
		}
		if ws.Stopped() {
			unix.PtraceCont(pid, 0)
			continue
		}
		if !ws.Exited() || ws.ExitStatus() != 0 {
			t.Fatalf("child: %v (10: PTRACE_TRACEME failed, 11: the second did not fail with EPERM)", ws)
		}
		break
	}
	var got []event.Event
	waitFor(t, events, "two PTRACE_TRACEME", func(ev *event.Event) bool {
		if ev.Type == event.Ptrace && ev.PID == uint32(pid) {
			got = append(got, *ev)
		}
		return len(got) == 2
	})
	for i, wantErr := range []int32{0, int32(unix.EPERM)} {
		ev := got[i]
		if ev.PtraceRequest != 0 || ev.PtraceRequestName != "PTRACE_TRACEME" || ev.TargetPID != uint32(pid) ||
			ev.ErrorCode != wantErr || ev.PPID != uint32(os.Getpid()) || ev.FilePath != self {
			t.Errorf("PTRACE %d: request %d %q target %d error %d ppid %d exe %q; want PTRACE_TRACEME (0) target %d error %d ppid %d exe %q",
				i, ev.PtraceRequest, ev.PtraceRequestName, ev.TargetPID, ev.ErrorCode, ev.PPID, ev.FilePath, pid, wantErr, os.Getpid(), self)
		}
	}
}
