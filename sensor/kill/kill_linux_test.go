package kill

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func start(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

func TestKillChecksTheProcess(t *testing.T) {
	cmd := start(t, "sleep", "60")
	st, err := ReadStat(cmd.Process.Pid)
	if err != nil || st.Comm != "sleep" || st.StartTime == 0 {
		t.Fatalf("stat = %+v, %v", st, err)
	}

	// a task that means another process with this pid is refused and harms nothing
	_, err = Kill(context.Background(), Request{PID: cmd.Process.Pid, StartTime: st.StartTime + 1})
	if !errors.Is(err, ErrNotSameProcess) {
		t.Fatalf("wrong start time: err = %v, want ErrNotSameProcess", err)
	}
	if again, err := ReadStat(cmd.Process.Pid); err != nil || again.State == 'Z' {
		t.Fatalf("the process did not survive a refused kill: %+v %v", again, err)
	}

	res, err := Kill(context.Background(), Request{PID: cmd.Process.Pid, StartTime: st.StartTime})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Procs) != 1 || res.Procs[0].Exit != "killed by SIGKILL" || res.Procs[0].ExitCode != int(syscall.SIGKILL) || res.Procs[0].Comm != "sleep" {
		t.Fatalf("result %+v", res)
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the process ended with %v", err)
	}

	// it is gone now
	if _, err := Kill(context.Background(), Request{PID: cmd.Process.Pid, StartTime: st.StartTime}); !errors.Is(err, ErrGone) && !errors.Is(err, ErrNotSameProcess) {
		t.Fatalf("killing an ended process: %v", err)
	}
}

func TestKillTree(t *testing.T) {
	cmd := start(t, "sh", "-c", "sleep 60 & (sleep 60 & wait) & wait")
	var kids int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		kids = countDescendants(cmd.Process.Pid)
		if kids >= 3 {
			break
		}
	}
	if kids < 3 {
		t.Fatalf("%d descendants started", kids)
	}
	st, _ := ReadStat(cmd.Process.Pid)
	res, err := Kill(context.Background(), Request{PID: cmd.Process.Pid, StartTime: st.StartTime, Tree: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Procs) != 4 || res.Procs[0].PID != cmd.Process.Pid {
		t.Fatalf("killed %+v, want sh and its 3 descendants", res.Procs)
	}
	for _, p := range res.Procs {
		if !strings.HasPrefix(p.Exit, "killed by SIGKILL") {
			t.Errorf("%+v", p)
		}
	}
	cmd.Wait()
}

func countDescendants(pid int) int {
	kids := children()
	n := 0
	var walk func(int)
	walk = func(p int) {
		for _, c := range kids[p] {
			n++
			walk(c)
		}
	}
	walk(pid)
	return n
}

func TestKillRefuses(t *testing.T) {
	for _, pid := range []int{0, 1} {
		if _, err := Kill(context.Background(), Request{PID: pid}); err == nil {
			t.Errorf("pid %d accepted", pid)
		}
	}
	if _, err := ReadStat(1 << 30); !errors.Is(err, ErrGone) {
		t.Errorf("ReadStat of a missing pid: %v", err)
	}
}

// TestKillTreeSignalsEveryProcess: SIGKILL refused for one process of a tree
// (here the root) does not leave the rest of the stopped tree stopped: every
// other process is killed, and the refusal is returned.
func TestKillTreeSignalsEveryProcess(t *testing.T) {
	cmd := start(t, "sh", "-c", "sleep 60 & sleep 60 & wait")
	for deadline := time.Now().Add(5 * time.Second); countDescendants(cmd.Process.Pid) < 2 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	st, err := ReadStat(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	rootFD := -1
	orig := sendSignal
	t.Cleanup(func() { sendSignal = orig })
	sendSignal = func(pidfd int, sig unix.Signal) error {
		if rootFD < 0 {
			rootFD = pidfd // the root is signalled first (SIGSTOP)
		}
		if sig == unix.SIGKILL && pidfd == rootFD {
			return unix.EPERM
		}
		return orig(pidfd, sig)
	}
	res, err := Kill(context.Background(), Request{PID: cmd.Process.Pid, StartTime: st.StartTime, Tree: true, Wait: 2 * time.Second})
	if !errors.Is(err, unix.EPERM) {
		t.Fatalf("err = %v, want the refused SIGKILL", err)
	}
	if len(res.Procs) != 3 || res.Procs[0].PID != cmd.Process.Pid || !strings.HasPrefix(res.Procs[0].Exit, "not signalled") {
		t.Fatalf("procs %+v, want sh (not signalled) and its 2 children", res.Procs)
	}
	for _, p := range res.Procs[1:] {
		if p.Exit != "killed by SIGKILL" {
			t.Errorf("child %+v was not killed", p)
		}
	}
}
