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
	// Pods, if set, fills the pod and container context of events of
	// processes in Kubernetes pods (sensor/kube's Cache).
	Pods Pods
	// AncestryDepth is how many ancestors every process event lists
	// (event/ANCESTORS): 0 means DefaultAncestryDepth, a negative value none;
	// at most 64.
	AncestryDepth int
}

// Pods gives an event of a process in a Kubernetes pod its pod's and its
// container's context, from memory: it must not wait.
type Pods interface {
	Fill(ev *event.Event, podUID, containerID string)
}

// Process is what the table knows about one process.
type Process struct {
	Path        string // executable path
	CommandLine string // argv joined by spaces
	StartNanos  int64  // Unix nanoseconds of its exec (or its start, if seeded)
	PPID        uint32 // parent process id (0 if unknown)
	ContainerID string // from /proc/<pid>/cgroup, any hierarchy ("" on the host)
	PodUID      string // likewise, the Kubernetes pod's ("" outside a pod)
	UID         uint32 // real user id (at exec, or when read from /proc)
	Context     *Context

	anc  *ancestry // built on the first event that needed it
	kids *ancestry // its children's, built from anc by the first that needed it
}

// Enricher fills user and parent-process fields of events from a process table.
// Create it with New.
type Enricher struct {
	proc       string
	users      *Users
	containers *container.Resolver
	pods       Pods

	mu    sync.Mutex
	table map[uint32]Process
	btime int64 // boot time, Unix seconds, from <proc>/stat; 0 if unknown
	depth int   // ancestors listed
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
		pods:       opts.Pods,
		table:      make(map[uint32]Process),
		btime:      bootTime(opts.ProcRoot),
		depth:      min(opts.AncestryDepth, maxAncestryDepth),
	}
	if opts.AncestryDepth == 0 {
		e.depth = DefaultAncestryDepth
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
// The container id and the pod UID come from the event's cgroup v2 id; on a hybrid host where
// the runtime uses only cgroup v1 it comes from /proc/<pid>/cgroup, read once
// per process, and only for a NEW_PROCESS that may have changed cgroups:
// sharesParentCgroups (the kernel saw the process in its parent's set of
// cgroups at exec, every hierarchy included) lets it take its parent's
// container instead. Pass false when unknown, and for other event types.
// Events of processes in a Kubernetes pod then get the pod's context from
// Options.Pods.
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
		if p, ok := e.table[ev.PID]; ok {
			if ev.FilePath == "" {
				ev.FilePath, ev.CommandLine = p.Path, p.CommandLine
			}
			if p.Context != nil {
				p.Context.apply(ev)
			}
		}
	default:
		if ev.PID != 0 {
			if p, ok := e.actingLocked(ev.PID, ev.PPID, ev.UID); ok {
				if ev.FilePath == "" {
					ev.FilePath, ev.CommandLine = p.Path, p.CommandLine
				}
				if p.Context != nil {
					p.Context.apply(ev)
				}
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
	var cg container.Info
	if e.containers != nil {
		cg = e.containers.Info(ev.CgroupID)
		ev.ContainerID = cg.ContainerID
	}
	if ev.Type == event.NewProcess {
		p := Process{Path: ev.FilePath, CommandLine: ev.CommandLine, StartNanos: ev.TimeNanos, PPID: ev.PPID,
			UID: ev.UID, Context: contextOf(ev)}
		switch {
		case ev.ContainerID != "" || e.containers == nil:
		case sharesParentCgroups && haveParent:
			p.ContainerID, p.PodUID = parent.ContainerID, parent.PodUID
		default:
			info, ok := e.containers.InfoFromPID(ev.PID)
			if !ok {
				info = container.Info{ContainerID: parent.ContainerID, PodUID: parent.PodUID} // exited already: it ran where its parent runs
			}
			p.ContainerID, p.PodUID = info.ContainerID, info.PodUID
		}
		e.table[ev.PID] = p
	}
	if ev.ContainerID == "" {
		if p, ok := e.table[ev.PID]; ok {
			ev.ContainerID, cg.PodUID = p.ContainerID, p.PodUID
		}
	}
	if e.pods != nil && cg.PodUID != "" {
		e.pods.Fill(ev, cg.PodUID, ev.ContainerID)
	}
	if ev.PID != 0 && ev.Type != event.SensorHeartbeat && ev.Type != event.HostStats {
		e.ancestryLocked(ev.PID, ev.PPID).apply(ev)
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

// actingLocked returns the process pid, child of ppid, that an event other
// than its NEW_PROCESS names. A process the table does not know was forked
// after the sensor started (the table was seeded from /proc then) and has not
// executed a program since (its NEW_PROCESS, which comes before its other
// events, would have put it in the table): it runs its parent's program, with
// its parent's context at exec. It is recorded as such, rather than read from
// /proc, whose answer depends on when the event is read (the program it went
// on to execute, or nothing once it exited). Its own pid-namespace pid and
// start time are not known (0). (A process forked between the seeding and the
// attachment of the kernel hooks, that executed a program in that moment, is
// taken for its parent's image too.)
func (e *Enricher) actingLocked(pid, ppid, uid uint32) (Process, bool) {
	if p, ok := e.table[pid]; ok {
		return p, true
	}
	parent, ok := e.table[ppid]
	if ppid == 0 || !ok {
		return e.lookupLocked(pid)
	}
	p := Process{Path: parent.Path, CommandLine: parent.CommandLine, PPID: ppid, UID: uid,
		ContainerID: parent.ContainerID, PodUID: parent.PodUID}
	if parent.Context != nil {
		c := *parent.Context
		c.VPID, c.ProcessStartTime = 0, 0
		p.Context = &c
	}
	e.table[pid] = p
	return p, true
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
	p := Process{Path: exe, Context: &Context{Args: procArgs(cmd)}}
	p.CommandLine = string(joinArgv(cmd))
	if cwd, err := os.Readlink(e.pidPath(pid, "cwd")); err == nil {
		p.Context.CWD = cwd
	}
	if status, err := readBounded(e.pidPath(pid, "status"), maxProcRead); err == nil {
		p.UID, _ = parseStatusUID(status)
	}
	// parent and start time stay 0 when the stat cannot be read
	if data, err := readBounded(e.pidPath(pid, "stat"), maxStatRead); err == nil {
		if st, err := parseStat(data); err == nil {
			p.PPID = st.ppid
			p.StartNanos = e.startNanos(st.startTicks)
		}
	}
	if e.containers != nil {
		info, _ := e.containers.InfoFromPID(pid)
		p.ContainerID, p.PodUID = info.ContainerID, info.PodUID
	}
	return p, nil
}

func (e *Enricher) pidPath(pid uint32, name string) string {
	return filepath.Join(e.proc, strconv.FormatUint(uint64(pid), 10), name)
}

// maxStatRead bounds how much of /proc/<pid>/stat is read: the kernel writes
// some 300 bytes, the comm at most 64.
const maxStatRead = 1024

// startNanos converts a start time (field 22 of /proc/<pid>/stat, clock ticks
// after boot) to Unix nanoseconds, or 0 if the boot time is unknown.
func (e *Enricher) startNanos(ticks int64) int64 {
	if e.btime == 0 {
		return 0
	}
	return e.btime*int64(time.Second) + ticks*(int64(time.Second)/userHZ)
}

// procStat is the part of /proc/<pid>/stat the table keeps.
type procStat struct {
	ppid       uint32 // field 4
	startTicks int64  // field 22, clock ticks after boot
}

// parseStat reads the parent pid and start time from a /proc/<pid>/stat line.
// The command name (field 2) is the process's to choose: parenthesised, it may
// hold spaces, parentheses and newlines, so fields are counted from the last
// ')'. Errors name the field that is missing or malformed.
func parseStat(stat []byte) (procStat, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return procStat{}, errors.New("stat: no parenthesised command name (field 2)")
	}
	fields := bytes.Fields(stat[i+1:])
	// fields[0] is field 3 (state); starttime is field 22.
	if len(fields) < 20 {
		return procStat{}, fmt.Errorf("stat: %d fields after the command name, want at least 20", len(fields))
	}
	ppid, err := strconv.ParseUint(string(fields[1]), 10, 32)
	if err != nil {
		return procStat{}, fmt.Errorf("stat: ppid (field 4) %q: %w", fields[1], err)
	}
	start, err := strconv.ParseInt(string(fields[19]), 10, 64)
	if err != nil || start < 0 {
		return procStat{}, fmt.Errorf("stat: start time (field 22) %q is not a tick count", fields[19])
	}
	return procStat{ppid: uint32(ppid), startTicks: start}, nil
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
