// Package kill ends a process (and optionally its descendants) for the sensor's
// kill task, only if it is still the process the task means: a pid can be reused,
// so the task carries the process's start time (/proc/PID/stat field 22, clock
// ticks after boot) and nothing is signalled unless it matches.
//
// Each process is opened as a pidfd first and checked after, so the signal
// cannot reach a process that took the pid over in between. A tree is stopped
// (SIGSTOP) before it is killed, so it cannot fork past the kill, and the
// descendants are collected again after the stop.
package kill

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// ErrNotSameProcess is returned (wrapped) when the pid belongs to another
// process than the one expected, and ErrGone when no process has the pid.
var (
	ErrNotSameProcess = errors.New("not the same process")
	ErrGone           = errors.New("no such process")
)

// Request says what to kill.
type Request struct {
	PID int
	// StartTime is the process's expected start time (field 22 of
	// /proc/PID/stat). Zero skips the check (only for callers that just read it).
	StartTime uint64
	// Tree kills the descendants too.
	Tree bool
	// Wait is how long to wait for the processes to exit (default 5 s).
	Wait time.Duration
}

// Proc is one process's outcome.
type Proc struct {
	PID       int    `json:"pid"`
	StartTime uint64 `json:"start_time"`
	Comm      string `json:"comm"`
	// Exit is how it ended: "killed by SIGKILL", "exit status N" (it exited
	// before the signal), or "not yet exited" when Wait ran out.
	Exit string `json:"exit"`
	// ExitCode is the raw wait status when it could be read (the process was
	// still a zombie), else -1.
	ExitCode int `json:"exit_code"`
}

// Result lists the processes killed, the requested one first.
type Result struct {
	Procs []Proc `json:"procs"`
}

// Stat is the part of /proc/PID/stat the sensor uses.
type Stat struct {
	PID       int
	Comm      string
	State     byte
	PPID      int
	StartTime uint64
	ExitCode  int // field 52, the wait status of a zombie
}

// ReadStat parses /proc/PID/stat (the comm may hold spaces and parentheses).
func ReadStat(pid int) (Stat, error) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ESRCH) {
		return Stat{}, fmt.Errorf("pid %d: %w", pid, ErrGone)
	}
	if err != nil {
		return Stat{}, err
	}
	s := string(raw)
	open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || close < open {
		return Stat{}, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	f := strings.Fields(s[close+1:]) // f[0] is field 3 (state)
	if len(f) < 20 {
		return Stat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	st := Stat{PID: pid, Comm: s[open+1 : close], State: f[0][0], ExitCode: -1}
	st.PPID, _ = strconv.Atoi(f[1])
	if st.StartTime, err = strconv.ParseUint(f[19], 10, 64); err != nil {
		return Stat{}, fmt.Errorf("/proc/%d/stat: start time: %w", pid, err)
	}
	if len(f) >= 50 {
		st.ExitCode, _ = strconv.Atoi(f[49])
	}
	return st, nil
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

// Kill carries out r.
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
		_ = unix.PidfdSendSignal(root.pidfd, unix.SIGSTOP, nil, 0)
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
					_ = unix.PidfdSendSignal(t.pidfd, unix.SIGSTOP, nil, 0)
					targets = append(targets, t)
					added = true
				}
			}
			if !added {
				break
			}
		}
	}
	res := Result{}
	for _, t := range targets {
		if err := unix.PidfdSendSignal(t.pidfd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
			return res, fmt.Errorf("kill: pid %d: %w", t.stat.PID, err)
		}
	}
	wait := r.Wait
	if wait <= 0 {
		wait = 5 * time.Second
	}
	deadline := time.Now().Add(wait)
	for _, t := range targets {
		p := Proc{PID: t.stat.PID, StartTime: t.stat.StartTime, Comm: t.stat.Comm, ExitCode: -1, Exit: "not yet exited"}
		if exited(ctx, t.pidfd, time.Until(deadline)) {
			p.Exit = "killed by SIGKILL"
			if st, err := ReadStat(t.stat.PID); err == nil && st.StartTime == t.stat.StartTime && st.ExitCode >= 0 && st.State == 'Z' {
				p.ExitCode = st.ExitCode
				p.Exit = describe(unix.WaitStatus(st.ExitCode))
			}
		}
		res.Procs = append(res.Procs, p)
	}
	return res, nil
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
