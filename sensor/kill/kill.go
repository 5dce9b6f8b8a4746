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
	// before the signal), "not yet exited" when Wait ran out, or "not signalled:
	// <reason>" when SIGKILL could not be sent to it (Kill then returns an error
	// too).
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

// ReadStat reads and parses /proc/PID/stat.
func ReadStat(pid int) (Stat, error) {
	name := "/proc/" + strconv.Itoa(pid) + "/stat"
	raw, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ESRCH) {
		return Stat{}, fmt.Errorf("pid %d: %w", pid, ErrGone)
	}
	if err != nil {
		return Stat{}, err
	}
	st, err := ParseStat(raw)
	if err != nil {
		return Stat{}, fmt.Errorf("%s: %w", name, err)
	}
	return st, nil
}

// ParseStat parses the text of a /proc/PID/stat file. The comm (field 2) is the
// process's to choose: it may hold spaces, parentheses and newlines, so it runs
// from the first '(' to the last ')', and the fields after it are counted from
// there. Errors name the field that is missing or malformed.
func ParseStat(raw []byte) (Stat, error) {
	s := string(raw)
	open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || close < open {
		return Stat{}, errors.New("malformed: no parenthesised comm (field 2)")
	}
	pid, err := strconv.Atoi(strings.TrimSpace(s[:open]))
	if err != nil || pid < 0 {
		return Stat{}, fmt.Errorf("pid (field 1) %q is not a process id", strings.TrimSpace(s[:open]))
	}
	f := strings.Fields(s[close+1:]) // f[0] is field 3 (state)
	if len(f) < 20 {
		return Stat{}, fmt.Errorf("%d fields, want at least 22", len(f)+2)
	}
	if len(f[0]) != 1 {
		return Stat{}, fmt.Errorf("state (field 3) %q is not one letter", f[0])
	}
	st := Stat{PID: pid, Comm: s[open+1 : close], State: f[0][0], ExitCode: -1}
	if st.PPID, err = strconv.Atoi(f[1]); err != nil || st.PPID < 0 {
		return Stat{}, fmt.Errorf("ppid (field 4) %q is not a process id", f[1])
	}
	if st.StartTime, err = strconv.ParseUint(f[19], 10, 64); err != nil {
		return Stat{}, fmt.Errorf("start time (field 22) %q: %w", f[19], err)
	}
	if len(f) >= 50 {
		if st.ExitCode, err = strconv.Atoi(f[49]); err != nil {
			return Stat{}, fmt.Errorf("exit code (field 52) %q: %w", f[49], err)
		}
	}
	return st, nil
}

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
