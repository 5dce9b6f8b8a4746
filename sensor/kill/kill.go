package kill

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
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
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
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
