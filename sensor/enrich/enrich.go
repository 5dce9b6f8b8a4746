package enrich

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/sensor/container"
)

// maxProcRead bounds how much of /proc/<pid>/cmdline is read.
const maxProcRead = 4096

// userHZ is the unit of /proc/<pid>/stat start times (USER_HZ, 100 on Linux).
const userHZ = 100

// Options configures an Enricher. The zero value reads the host's /proc and
// /etc/passwd.
type Options struct {
	// ProcRoot is the procfs mount to seed from and fall back to; default "/proc".
	ProcRoot string
	// PasswdPath is the passwd(5) file for user names; default "/etc/passwd".
	PasswdPath string
	// Containers resolves cgroup ids to container ids; nil means one for this
	// host (container.NewResolver with the proc root).
	Containers *container.Resolver
}

// Process is what the table knows about one process.
type Process struct {
	Path        string // executable path
	CommandLine string // argv joined by spaces
	StartNanos  int64  // Unix nanoseconds of its exec (or its start, if seeded)
	PPID        uint32 // parent process id (0 if unknown)
	ContainerID string // from /proc/<pid>/cgroup, any hierarchy ("" on the host)
}

// Enricher fills user and parent-process fields of events from a process table.
// Create it with New.
type Enricher struct {
	proc       string
	users      *Users
	containers *container.Resolver

	mu    sync.Mutex
	table map[uint32]Process
	btime int64 // boot time, Unix seconds, from <proc>/stat; 0 if unknown
}

// New returns an Enricher with its table seeded from the processes running now.
// It fails only if the proc root cannot be listed.
func New(opts Options) (*Enricher, error) {
	if opts.ProcRoot == "" {
		opts.ProcRoot = "/proc"
	}
	if opts.PasswdPath == "" {
		opts.PasswdPath = "/etc/passwd"
	}
	e := &Enricher{
		proc:       opts.ProcRoot,
		users:      NewUsers(opts.PasswdPath),
		containers: opts.Containers,
		table:      make(map[uint32]Process),
		btime:      bootTime(opts.ProcRoot),
	}
	if e.containers == nil {
		// Without a cgroup2 mount the resolver still reads /proc/<pid>/cgroup.
		e.containers, _ = container.NewResolver(container.Options{ProcRoot: opts.ProcRoot})
	}
	if err := e.seed(); err != nil {
		return nil, err
	}
	return e, nil
}

// Users returns the uid → name cache the Enricher uses.
func (e *Enricher) Users() *Users { return e.users }

// Enrich sets ev.User from ev.UID, the parent's and grandparent's path and
// command line from ev.PPID, the container id, and by type:
//   - NEW_PROCESS: records the process in the table; a relative FILE_PATH (execve
//     of "./x") is replaced by /proc/<pid>/exe when that can be read.
//   - TERMINATE_PROCESS: fills FILE_PATH and COMMAND_LINE from the table if empty.
//   - every other event (file, network, DNS, privilege, ptrace): fills FILE_PATH
//     and COMMAND_LINE, the acting process's, from the table.
//
// The container id comes from the event's cgroup v2 id; on a hybrid host where
// the runtime uses only cgroup v1 it comes from /proc/<pid>/cgroup, read once
// per process, and only for a NEW_PROCESS that may have changed cgroups:
// sharesParentCgroups (the kernel saw the process in its parent's set of
// cgroups at exec, every hierarchy included) lets it take its parent's
// container instead. Pass false when unknown, and for other event types.
func (e *Enricher) Enrich(ev *event.Event, sharesParentCgroups bool) {
	ev.User = e.users.Name(ev.UID)

	e.mu.Lock()
	defer e.mu.Unlock()
	switch ev.Type {
	case event.NewProcess:
		if ev.FilePath != "" && !filepath.IsAbs(ev.FilePath) {
			if exe, err := os.Readlink(e.pidPath(ev.PID, "exe")); err == nil {
				ev.FilePath = exe
			}
		}
	case event.TerminateProcess:
		if ev.FilePath == "" {
			if p, ok := e.table[ev.PID]; ok {
				ev.FilePath, ev.CommandLine = p.Path, p.CommandLine
			}
		}
	default:
		if ev.FilePath == "" && ev.PID != 0 {
			if p, ok := e.lookupLocked(ev.PID); ok {
				ev.FilePath, ev.CommandLine = p.Path, p.CommandLine
			}
		}
	}
	var parent Process
	var haveParent bool
	if ev.PPID != 0 {
		if p, ok := e.lookupLocked(ev.PPID); ok {
			parent, haveParent = p, true
			ev.ParentFilePath, ev.ParentCommandLine = p.Path, p.CommandLine
		}
	}
	if parent.PPID != 0 {
		if g, ok := e.lookupLocked(parent.PPID); ok {
			ev.GrandparentPath, ev.GrandparentCmd = g.Path, g.CommandLine
		}
	}
	if e.containers != nil {
		ev.ContainerID = e.containers.ContainerID(ev.CgroupID)
	}
	if ev.Type == event.NewProcess {
		p := Process{Path: ev.FilePath, CommandLine: ev.CommandLine, StartNanos: ev.TimeNanos, PPID: ev.PPID}
		switch {
		case ev.ContainerID != "" || e.containers == nil:
		case sharesParentCgroups && haveParent:
			p.ContainerID = parent.ContainerID
		default:
			var ok bool
			if p.ContainerID, ok = e.containers.FromPID(ev.PID); !ok {
				p.ContainerID = parent.ContainerID // exited already: it ran where its parent runs
			}
		}
		e.table[ev.PID] = p
	}
	if ev.ContainerID == "" {
		if p, ok := e.table[ev.PID]; ok {
			ev.ContainerID = p.ContainerID
		}
	}
}

// Forget drops the process of a TERMINATE_PROCESS event from the table; other
// events are ignored. Call it after the event has been emitted.
func (e *Enricher) Forget(ev *event.Event) {
	if ev.Type != event.TerminateProcess {
		return
	}
	e.mu.Lock()
	delete(e.table, ev.PID)
	e.mu.Unlock()
}

// Lookup returns what the table knows about pid, reading /proc if it is absent.
func (e *Enricher) Lookup(pid uint32) (Process, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lookupLocked(pid)
}

// Len returns the number of processes in the table.
func (e *Enricher) Len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.table)
}

// Sweep removes processes that no longer exist under the proc root (their exit
// event was lost) and returns how many it removed. Run it now and then, e.g. every
// few minutes.
func (e *Enricher) Sweep() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for pid := range e.table {
		if _, err := os.Stat(e.pidPath(pid, "")); errors.Is(err, os.ErrNotExist) {
			delete(e.table, pid)
			n++
		}
	}
	return n
}

func (e *Enricher) lookupLocked(pid uint32) (Process, bool) {
	if p, ok := e.table[pid]; ok {
		return p, true
	}
	p, err := e.readProc(pid)
	if err != nil {
		return Process{}, false
	}
	e.table[pid] = p
	return p, true
}

// seed adds every user-space process under the proc root to the table.
func (e *Enricher) seed() error {
	entries, err := os.ReadDir(e.proc)
	if err != nil {
		return fmt.Errorf("enrich: seed process table: %w", err)
	}
	for _, d := range entries {
		pid, err := strconv.ParseUint(d.Name(), 10, 32)
		if err != nil || !d.IsDir() {
			continue
		}
		if p, err := e.readProc(uint32(pid)); err == nil {
			e.table[uint32(pid)] = p
		}
	}
	return nil
}

// readProc reads a process's executable, command line and start time from the
// proc root. Kernel threads (no executable) give an error.
func (e *Enricher) readProc(pid uint32) (Process, error) {
	exe, err := os.Readlink(e.pidPath(pid, "exe"))
	if err != nil {
		return Process{}, fmt.Errorf("enrich: process %d: %w", pid, err)
	}
	// A running binary that was replaced on disk reads "/path (deleted)".
	exe = strings.TrimSuffix(exe, " (deleted)")
	cmd, err := readBounded(e.pidPath(pid, "cmdline"), maxProcRead)
	if err != nil {
		return Process{}, fmt.Errorf("enrich: process %d: %w", pid, err)
	}
	p := Process{Path: exe, CommandLine: string(joinArgv(cmd)), PPID: e.ppid(pid)}
	p.StartNanos = e.startNanos(pid)
	if e.containers != nil {
		p.ContainerID, _ = e.containers.FromPID(pid)
	}
	return p, nil
}

// ppid reads a process's parent id from <proc>/<pid>/stat (field 4), or 0.
func (e *Enricher) ppid(pid uint32) uint32 {
	data, err := readBounded(e.pidPath(pid, "stat"), 1024)
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0
	}
	f := bytes.Fields(data[i+1:])
	if len(f) < 2 {
		return 0
	}
	v, err := strconv.ParseUint(string(f[1]), 10, 32)
	if err != nil {
		return 0
	}
	return uint32(v)
}

func (e *Enricher) pidPath(pid uint32, name string) string {
	return filepath.Join(e.proc, strconv.FormatUint(uint64(pid), 10), name)
}

// startNanos returns the process start time from <proc>/<pid>/stat (field 22,
// clock ticks after boot) as Unix nanoseconds, or 0 if unknown.
func (e *Enricher) startNanos(pid uint32) int64 {
	if e.btime == 0 {
		return 0
	}
	data, err := readBounded(e.pidPath(pid, "stat"), 1024)
	if err != nil {
		return 0
	}
	ticks, ok := statStartTicks(data)
	if !ok {
		return 0
	}
	return e.btime*int64(time.Second) + ticks*(int64(time.Second)/userHZ)
}

// statStartTicks extracts field 22 (starttime) from a /proc/<pid>/stat line. The
// command name (field 2) is parenthesised and may hold spaces and parentheses, so
// fields are counted from the last ')'.
func statStartTicks(stat []byte) (int64, bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	fields := bytes.Fields(stat[i+1:])
	// fields[0] is field 3 (state); starttime is field 22.
	if len(fields) < 20 {
		return 0, false
	}
	v, err := strconv.ParseInt(string(fields[19]), 10, 64)
	if err != nil || v < 0 {
		return 0, false
	}
	return v, true
}

// bootTime reads btime (Unix seconds) from <proc>/stat, or returns 0.
func bootTime(proc string) int64 {
	data, err := readBounded(filepath.Join(proc, "stat"), 1<<20)
	if err != nil {
		return 0
	}
	for line := range bytes.SplitSeq(data, []byte{'\n'}) {
		if v, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
			n, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return 0
}

// joinArgv turns NUL-separated argv into a space-separated command line, in place.
func joinArgv(b []byte) []byte {
	b = bytes.TrimRight(b, "\x00")
	for i, c := range b {
		if c == 0 {
			b[i] = ' '
		}
	}
	return b
}

func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}
