//go:build linux

package kill

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// sendSignal signals the process of a pidfd (a variable so tests can make it fail).
var sendSignal = func(pidfd int, sig unix.Signal) error {
	return unix.PidfdSendSignal(pidfd, sig, nil, 0)
}

type target struct {
	stat  Stat
	pidfd int
}

// open opens pid as a pidfd and checks it is the process with start time want
// (any when want is 0).
func open(pid int, want uint64) (target, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return target{}, fmt.Errorf("pid %d: %w", pid, ErrGone)
	}
	if err != nil {
		return target{}, fmt.Errorf("pid %d: pidfd_open: %w", pid, err)
	}
	st, err := ReadStat(pid)
	if err == nil && want != 0 && st.StartTime != want {
		err = fmt.Errorf("pid %d started at %d, want %d: %w", pid, st.StartTime, want, ErrNotSameProcess)
	}
	if err == nil && st.State == 'Z' {
		err = fmt.Errorf("pid %d has already exited: %w", pid, ErrGone)
	}
	if err != nil {
		unix.Close(fd)
		return target{}, err
	}
	return target{stat: st, pidfd: fd}, nil
}

// children maps each pid to its children's pids.
func children() map[int][]int {
	out := map[int][]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := ReadStat(pid); err == nil {
			out[st.PPID] = append(out[st.PPID], pid)
		}
	}
	return out
}

// Kill carries out r. A process SIGKILL cannot be sent to does not stop the
// others from being killed: every target is signalled, the errors are joined,
// and the Result lists every process with its outcome.
func Kill(ctx context.Context, r Request) (Result, error) {
	if r.PID <= 1 {
		return Result{}, fmt.Errorf("kill: refusing pid %d", r.PID)
	}
	if r.PID == os.Getpid() {
		return Result{}, fmt.Errorf("kill: pid %d is the sensor itself", r.PID)
	}
	root, err := open(r.PID, r.StartTime)
	if err != nil {
		return Result{}, fmt.Errorf("kill: %w", err)
	}
	targets := []target{root}
	defer func() {
		for _, t := range targets {
			unix.Close(t.pidfd)
		}
	}()
	if r.Tree {
		// stop the tree, then collect it again until nothing new appears
		seen := map[int]bool{r.PID: true}
		_ = sendSignal(root.pidfd, unix.SIGSTOP)
		for range 10 {
			added := false
			kids := children()
			for i := 0; i < len(targets); i++ {
				for _, c := range kids[targets[i].stat.PID] {
					if seen[c] || c == os.Getpid() {
						continue
					}
					seen[c] = true
					t, err := open(c, 0)
					if err != nil {
						continue // exited meanwhile
					}
					// the pidfd is taken after the pid was read as a child: check
					// it still is one (the pid was not reused in between)
					if t.stat.PPID != targets[i].stat.PID {
						unix.Close(t.pidfd)
						continue
					}
					_ = sendSignal(t.pidfd, unix.SIGSTOP)
					targets = append(targets, t)
					added = true
				}
			}
			if !added {
				break
			}
		}
	}
	// every target is signalled, whatever happens to the others: a stopped
	// process left out would stay stopped for good
	res := Result{}
	var errs []error
	failed := make([]error, len(targets))
	for i, t := range targets {
		if err := sendSignal(t.pidfd, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
			failed[i] = err
			errs = append(errs, fmt.Errorf("kill: pid %d: %w", t.stat.PID, err))
		}
	}
	wait := r.Wait
	if wait <= 0 {
		wait = 5 * time.Second
	}
	deadline := time.Now().Add(wait)
	for i, t := range targets {
		p := Proc{PID: t.stat.PID, StartTime: t.stat.StartTime, Comm: t.stat.Comm, ExitCode: -1, Exit: "not yet exited"}
		if failed[i] != nil {
			p.Exit = "not signalled: " + failed[i].Error()
			res.Procs = append(res.Procs, p)
			continue
		}
		if exited(ctx, t.pidfd, time.Until(deadline)) {
			p.Exit = "killed by SIGKILL"
			if st, err := ReadStat(t.stat.PID); err == nil && st.StartTime == t.stat.StartTime && st.ExitCode >= 0 && st.State == 'Z' {
				p.ExitCode = st.ExitCode
				p.Exit = describe(unix.WaitStatus(st.ExitCode))
			}
		}
		res.Procs = append(res.Procs, p)
	}
	return res, errors.Join(errs...)
}

// exited waits up to d for the pidfd to become readable (the process exited).
func exited(ctx context.Context, pidfd int, d time.Duration) bool {
	for {
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		step := min(max(d, 0), 100*time.Millisecond)
		n, err := unix.Poll(fds, int(step/time.Millisecond))
		if n > 0 {
			return true
		}
		if err != nil && !errors.Is(err, unix.EINTR) {
			return false
		}
		d -= step
		if d <= 0 || ctx.Err() != nil {
			return false
		}
	}
}

func describe(ws unix.WaitStatus) string {
	switch {
	case ws.Signaled():
		return "killed by " + unix.SignalName(ws.Signal())
	case ws.Exited():
		return "exit status " + strconv.Itoa(ws.ExitStatus())
	}
	return fmt.Sprintf("wait status %#x", int(ws))
}
