package collector

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/sensor/bpf"
)

const btfPath = "/sys/kernel/btf/vmlinux"

// Capability bits (linux/capability.h).
const (
	capSysAdmin = 21
	capPerfmon  = 38
	capBPF      = 39
)

// Supported returns nil if this host can run the collector, or an error (wrapping
// ErrUnsupported) that says in one line why not: not privileged, no kernel BTF,
// RLIMIT_MEMLOCK cannot be lifted, or the kernel refuses BPF ring buffers.
func Supported() error {
	if euid := os.Geteuid(); euid != 0 && !hasBPFCaps() {
		return fmt.Errorf("%w: needs root or CAP_BPF and CAP_PERFMON (running as uid %d without them)", ErrUnsupported, euid)
	}
	if _, err := os.Stat(btfPath); err != nil {
		return fmt.Errorf("%w: kernel has no BTF (%s: %w); needs CONFIG_DEBUG_INFO_BTF=y", ErrUnsupported, btfPath, err)
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return fmt.Errorf("%w: cannot lift RLIMIT_MEMLOCK for BPF maps: %w", ErrUnsupported, err)
	}
	if err := features.HaveMapType(ebpf.RingBuf); err != nil {
		return fmt.Errorf("%w: BPF ring buffers unavailable (kernel older than 5.8, or BPF not permitted here): %w", ErrUnsupported, err)
	}
	return nil
}

// hasBPFCaps reports whether the effective capability set allows loading tracing
// programs without root: CAP_SYS_ADMIN, or CAP_BPF with CAP_PERFMON.
func hasBPFCaps() bool {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		v, ok := strings.CutPrefix(s.Text(), "CapEff:")
		if !ok {
			continue
		}
		caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		if err != nil {
			return false
		}
		has := func(c uint) bool { return caps&(1<<c) != 0 }
		return has(capSysAdmin) || (has(capBPF) && has(capPerfmon))
	}
	return false
}

// Collector captures host activity from the kernel: processes, file changes,
// network connections, DNS queries, module loads, privilege changes and ptrace.
// Create it with New, consume it with Run and release it with Close.
type Collector struct {
	opts        Options
	prefixes    []prefixEntry
	coll        *ebpf.Collection
	links       []link.Link
	reader      *ringbuf.Reader
	wakeup      int       // bytes waiting at which the kernel wakes the reader
	drainBytes  int       // bytes of records copied out of the ring buffer at a time (see drained)
	env         envFilter // the environment variables NEW_PROCESS events report
	unavailable []string
	missing     []string // capabilities not captured (see Missing)
	// syscallHook is what SyscallHook reports; syscallHookNote why the
	// per-syscall tracepoints are not used, if they are not.
	syscallHook, syscallHookNote string
	exitProg                     string // the exit program loaded (see exitProgram)
	openHook                     string // what OpenHook reports

	runMu     sync.Mutex
	runDone   chan struct{} // set while Run runs, closed when it returns
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error

	received atomic.Uint64
	invalid  atomic.Uint64
	// Last values read from the kernel's per-CPU counters.
	dropped  atomic.Uint64
	filtered atomic.Uint64
	matched  atomic.Uint64
	cached   atomic.Uint64
	kernelNs atomic.Int64
	// File events the kernel passed (counted as matched) that user space
	// then filtered out, once their paths were cleaned.
	userFiltered atomic.Uint64
	waiter       atomic.Pointer[ringWaiter] // set while Run waits for records
}

// requiredProgs must load and attach for the collector to run at all (one of
// the two exit programs is loaded, see exitProgram); every other program is
// attached if the kernel has its hook (see Unavailable).
var requiredProgs = map[string]bool{bpf.SensorProgHandleExec: true, bpf.SensorProgHandleExit: true,
	bpf.SensorProgHandleExitGroup: true}

// hookParams returns the parameters of the kernel's tp_btf hook typedef name
// (btf_trace_<tracepoint>): the hook's context, then the tracepoint's
// arguments; false if the kernel has no such hook.
func hookParams(kernel *btf.Spec, name string) ([]btf.FuncParam, bool) {
	var hook *btf.Typedef
	if kernel.TypeByName(name, &hook) != nil {
		return nil, false
	}
	ptr, ok := hook.Type.(*btf.Pointer)
	if !ok {
		return nil, false
	}
	proto, ok := ptr.Target.(*btf.FuncProto)
	if !ok {
		return nil, false
	}
	return proto.Params, true
}

// exitProgram returns the exit program to load: handle_exit_group where the
// kernel's sched_process_exit passes group_dead (the exiting thread is the last
// of its group: exactly one per process), else handle_exit, which finds the
// last thread itself and needs a map of the processes it reported.
func exitProgram(kernel *btf.Spec, fallback bool) string {
	// The hook's arguments follow its context: task, then group_dead.
	if params, ok := hookParams(kernel, "btf_trace_sched_process_exit"); !fallback && ok && len(params) >= 3 {
		return bpf.SensorProgHandleExitGroup
	}
	return bpf.SensorProgHandleExit
}

// completionPassesCQE reports whether the kernel's io_uring_complete
// tracepoint passes the completion as a struct io_uring_cqe (its third
// argument), as io_uring_complete reads it; older kernels pass its fields one
// by one.
func completionPassesCQE(kernel *btf.Spec) bool {
	params, ok := hookParams(kernel, "btf_trace_io_uring_complete")
	if !ok || len(params) != 4 { // the hook's context, then ctx, req, cqe
		return false
	}
	cqe, ok := params[3].Type.(*btf.Pointer)
	if !ok {
		return false
	}
	s, ok := btf.UnderlyingType(cqe.Target).(*btf.Struct)
	return ok && s.Name == "io_uring_cqe"
}

// New loads the eBPF programs into the kernel and attaches them; events queue
// in the ring buffer from then on until Run reads them. The error says why when
// the host cannot run the collector (see Supported) or the kernel rejects a
// program (the verifier's log is included). Hooks this kernel lacks (kernel
// module loading on a kernel built without modules, say) are left out and listed
// by Unavailable.
func New(opts Options) (*Collector, error) {
	if err := Supported(); err != nil {
		return nil, err
	}
	size := opts.RingBufferSize
	if size == 0 {
		size = DefaultRingBufferSize
	}
	if size < os.Getpagesize() || size&(size-1) != 0 {
		return nil, fmt.Errorf("collector: ring buffer size %d must be a power of two and at least the page size (%d)", size, os.Getpagesize())
	}
	prefixes, err := prefixEntries(opts)
	if err != nil {
		return nil, err
	}

	spec, err := bpf.LoadSensor()
	if err != nil {
		return nil, fmt.Errorf("collector: read embedded eBPF object: %w", err)
	}
	spec.Maps[bpf.SensorMapEvents].MaxEntries = uint32(size)
	if opts.MaxDelay == 0 {
		opts.MaxDelay = DefaultMaxDelay
	}
	// The kernel wakes the reader once wakeup bytes are waiting, or for every
	// record when MaxDelay is negative.
	wakeup := 1
	if opts.MaxDelay > 0 {
		wakeup = size / WakeupFraction
		if err := spec.Variables[bpf.SensorVarWakeupBytes].Set(uint64(wakeup)); err != nil {
			return nil, fmt.Errorf("collector: set wakeup threshold: %w", err)
		}
	}

	if err := spec.Variables[bpf.SensorVarBpfSelfTgid].Set(uint32(os.Getpid())); err != nil {
		return nil, fmt.Errorf("collector: set the sensor's own pid: %w", err)
	}
	env := newEnvFilter(opts.Environment)
	if env.enabled() {
		if err := spec.Variables[bpf.SensorVarCaptureEnv].Set(uint32(1)); err != nil {
			return nil, fmt.Errorf("collector: enable environment capture: %w", err)
		}
	}

	c := &Collector{opts: opts, prefixes: prefixes, wakeup: wakeup, drainBytes: max(size/WakeupFraction, minDrainBytes), env: env}
	kernel, err := btf.LoadKernelSpec()
	if err != nil {
		return nil, fmt.Errorf("%w: read kernel BTF: %w", ErrUnsupported, err)
	}
	c.exitProg = exitProgram(kernel, opts.fallbackHooks)
	for _, name := range []string{bpf.SensorProgHandleExit, bpf.SensorProgHandleExitGroup} {
		if name != c.exitProg {
			delete(spec.Programs, name)
		}
	}
	var catchAllMissing string // why sys_exit cannot be loaded here, if it cannot
	for name, p := range spec.Programs {
		if target := hookType(p); target != "" && !requiredProgs[name] {
			if _, err := kernel.AnyTypeByName(target); err != nil {
				missing := fmt.Sprintf("%s: kernel has no %s", name, target)
				delete(spec.Programs, name)
				if name == bpf.SensorProgSysExit {
					// Only the fallback of sys_exit_one: attachSyscallExits
					// reports it if it is needed.
					catchAllMissing = missing
					continue
				}
				c.unavailable = append(c.unavailable, missing)
			}
		}
	}

	c.disablePrograms(spec)
	if _, ok := spec.Programs[bpf.SensorProgIoUringComplete]; ok && !completionPassesCQE(kernel) {
		delete(spec.Programs, bpf.SensorProgIoUringComplete)
		c.unavailable = append(c.unavailable, bpf.SensorProgIoUringComplete+": the kernel's tracepoint passes no struct io_uring_cqe")
	}
	if _, ok := spec.Programs[bpf.SensorProgIoUringComplete]; !ok {
		// What it submits waits for io_uring_complete.
		delete(spec.Programs, bpf.SensorProgIoUringSubmitReq)
	}
	_, uring := spec.Programs[bpf.SensorProgIoUringSubmitReq]
	c.unavailable = append(c.unavailable, missingUringFileOps(kernel, uring)...)
	switch m := missingExeLayer(kernel); {
	case c.disabled(exeUpperLayer):
		c.unavailable = append(c.unavailable, exeUpperLayer+": disabled (collector.Options.Disable)")
	case m != "":
		c.unavailable = append(c.unavailable, m)
	default:
		if err := spec.Variables[bpf.SensorVarCheckExeLayer].Set(uint32(1)); err != nil {
			return nil, fmt.Errorf("collector: enable the executables' layer check: %w", err)
		}
	}

	hooked := c.hookedSyscalls()
	if c.opts.fallbackHooks {
		hooked = syscallHooks // raw_syscalls:sys_exit sees them all
	}
	if err := c.enableDirCache(spec, hooked); err != nil {
		return nil, err
	}
	c.openHook = c.openHookNote(hooked)

	c.coll, err = ebpf.NewCollection(spec)
	if err != nil {
		var verr *ebpf.VerifierError
		if errors.As(err, &verr) {
			return nil, fmt.Errorf("collector: kernel verifier rejected a program: %+v", verr)
		}
		return nil, fmt.Errorf("collector: load eBPF programs: %w", err)
	}
	prefixMap := c.coll.Maps[bpf.SensorMapFilePrefixes]
	for _, e := range trieEntries(prefixes) {
		if err := prefixMap.Put(e.key(), e.value()); err != nil {
			c.Close()
			return nil, fmt.Errorf("collector: set file prefix %q: %w", e.prefix, err)
		}
	}

	names := make([]string, 0, len(c.coll.Programs))
	for name := range c.coll.Programs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if name == bpf.SensorProgSysExit || name == bpf.SensorProgSysExitOne || name == bpf.SensorProgSysEnterCreds {
			continue // attachSyscallExits
		}
		l, err := attach(spec.Programs[name], c.coll.Programs[name])
		if err != nil {
			if requiredProgs[name] {
				c.Close()
				return nil, fmt.Errorf("collector: attach %s: %w", name, err)
			}
			c.unavailable = append(c.unavailable, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		c.links = append(c.links, l)
	}
	if err := c.attachSyscallExits(spec, kernel, catchAllMissing); err != nil {
		c.unavailable = append(c.unavailable, err.Error())
	}
	sort.Strings(c.unavailable)
	c.missing = c.missingCapabilities()
	c.reader, err = ringbuf.NewReader(c.coll.Maps[bpf.SensorMapEvents])
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("collector: open ring buffer: %w", err)
	}
	return c, nil
}

// syscallHooks are the syscalls whose exits sensor.bpf.c's syscall_exited
// handles (a test compares the two lists).
var syscallHooks = []string{
	"open", "openat", "openat2", "creat", "open_by_handle_at",
	"accept", "accept4", "sendto", "sendmsg", "sendmmsg", "connect",
	"unlink", "unlinkat", "rename", "renameat", "renameat2",
	"chmod", "fchmod", "fchmodat", "fchmodat2", "ptrace",
	"setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid",
	"setfsuid", "setfsgid", "capset",
	"listen",
	"setns", "unshare", "clone", "clone3", "mount", "umount", "move_mount", "pivot_root", "bpf", "memfd_create", "userfaultfd",
	"link", "linkat", "symlink", "symlinkat", "mkdir", "mkdirat", "rmdir",
	"mknod", "mknodat", "chown", "fchown", "lchown", "fchownat", "truncate", "ftruncate",
	"socket", "dup", "dup2", "dup3", "fcntl",
	"syslog",
}

// credSyscalls are the syscalls of syscallHooks that change a thread's
// credentials: sys_enter_creds keeps the caller's ids at their entry.
var credSyscalls = []string{
	"setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid",
	"setfsuid", "setfsgid", "capset",
}

// attachSyscallExits attaches sys_exit_one to the exit tracepoint of each of
// syscallHooks, so that the program runs for those syscalls only (a process
// makes about a hundred syscalls per exec, almost none of them of interest),
// and sys_enter_creds to the entry tracepoint of each of credSyscalls. Where
// that is not possible (no tracefs, or a kernel without syscall tracepoints)
// it attaches sys_exit to the raw tracepoint every syscall's exit passes
// instead: the same events at a higher cost, except that a PRIVILEGE_CHANGE
// then carries the caller's ids after the call, not before. The error says
// why neither is attached; catchAllMissing is why sys_exit was not loaded, if
// it was not.
func (c *Collector) attachSyscallExits(spec *ebpf.CollectionSpec, kernel *btf.Spec, catchAllMissing string) error {
	if !c.opts.fallbackHooks {
		links, err := attachEachSyscall(c.coll.Programs[bpf.SensorProgSysExitOne], kernel, "sys_exit_", c.hookedSyscalls())
		if err == nil {
			c.links = append(c.links, links...)
			c.syscallHook = "syscalls:sys_exit_<name>"
			entries, err := attachEachSyscall(c.coll.Programs[bpf.SensorProgSysEnterCreds], kernel, "sys_enter_", credSyscalls)
			if err != nil {
				return fmt.Errorf("%s: %w (PRIVILEGE_CHANGE carries the ids after the call)", bpf.SensorProgSysEnterCreds, err)
			}
			c.links = append(c.links, entries...)
			return nil
		}
		c.syscallHookNote = err.Error()
	}
	const lost = "(file, network, DNS, socket, descriptor, privilege and ptrace events are not captured)"
	if catchAllMissing != "" {
		return fmt.Errorf("%s %s", catchAllMissing, lost)
	}
	l, err := attach(spec.Programs[bpf.SensorProgSysExit], c.coll.Programs[bpf.SensorProgSysExit])
	if err != nil {
		return fmt.Errorf("%s: %w %s", bpf.SensorProgSysExit, err, lost)
	}
	c.links = append(c.links, l)
	c.syscallHook = "raw_syscalls:sys_exit"
	return nil
}

// attachEachSyscall attaches prog to the syscalls:<point><name> tracepoint
// (point "sys_exit_" or "sys_enter_") of each of names this kernel has. A
// syscall the kernel lacks (no __x64_sys_<name> function in its BTF) is
// skipped: nothing can call it. It attaches all or none, and at least one.
func attachEachSyscall(prog *ebpf.Program, kernel *btf.Spec, point string, names []string) ([]link.Link, error) {
	links := make([]link.Link, 0, len(names))
	for _, name := range names {
		l, err := link.Tracepoint("syscalls", point+name, prog, nil)
		if err != nil {
			if _, ferr := kernel.AnyTypeByName("__x64_sys_" + name); ferr != nil && errors.Is(err, os.ErrNotExist) {
				continue
			}
			for _, l := range links {
				l.Close()
			}
			return nil, fmt.Errorf("tracepoint syscalls:%s%s: %w", point, name, err)
		}
		links = append(links, l)
	}
	if len(links) == 0 {
		return nil, errors.New("no syscall of the x86-64 ABI found in the kernel's BTF")
	}
	return links, nil
}

// SyscallHook names where the syscall exits the collector reports (file,
// network, DNS, privilege and ptrace events) are hooked: one tracepoint per
// syscall ("syscalls:sys_exit_<name>") or, where those cannot be attached, the
// one every syscall's exit passes ("raw_syscalls:sys_exit", with the reason).
func (c *Collector) SyscallHook() string {
	if c.syscallHookNote != "" {
		return c.syscallHook + " (" + c.syscallHookNote + ")"
	}
	return c.syscallHook
}

// Unavailable lists the hooks that are not attached on this kernel, each with
// the reason (e.g. "module_load: kernel has no btf_trace_module_load"); the
// events they would produce are not captured.
func (c *Collector) Unavailable() []string { return slices.Clone(c.unavailable) }

// hookType names the kernel BTF type a program attaches to.
func hookType(p *ebpf.ProgramSpec) string {
	switch {
	case p.Type == ebpf.LSM:
		return "bpf_lsm_" + p.AttachTo
	case p.Type == ebpf.Tracing && p.AttachType == ebpf.AttachTraceRawTp:
		return "btf_trace_" + p.AttachTo
	case p.Type == ebpf.Tracing:
		return p.AttachTo
	}
	return ""
}

func attach(spec *ebpf.ProgramSpec, prog *ebpf.Program) (link.Link, error) {
	switch spec.Type {
	case ebpf.LSM:
		return link.AttachLSM(link.LSMOptions{Program: prog})
	case ebpf.Tracing:
		return link.AttachTracing(link.TracingOptions{Program: prog, AttachType: spec.AttachType})
	}
	return nil, fmt.Errorf("program type %s is not attached by the collector", spec.Type)
}

// cleanPaths resolves "." and ".." and doubled slashes in a file event's paths
// (the kernel passes such paths on without judging them) and applies the prefix
// filter to the result. It reports whether the event is wanted.
func (c *Collector) cleanPaths(ev *event.Event) bool {
	if !needsClean(ev.TargetPath) && !needsClean(ev.OldTargetPath) {
		return true
	}
	ev.TargetPath = cleanAbs(ev.TargetPath)
	ev.OldTargetPath = cleanAbs(ev.OldTargetPath)
	return c.wantPath(ev.TargetPath) || (ev.OldTargetPath != "" && c.wantPath(ev.OldTargetPath))
}

func needsClean(p string) bool { return strings.Contains(p, "/.") || strings.Contains(p, "//") }

func cleanAbs(p string) string {
	if p == "" {
		return p
	}
	if rest, cut := strings.CutPrefix(p, cutMark); cut {
		// The mark took the place of the start of the first component kept,
		// and ".." may climb out of what was kept: the path stays cut.
		clean := path.Clean("/" + rest)
		first, _, _ := strings.Cut(rest, "/")
		if first != "" && (clean == "/"+first || strings.HasPrefix(clean, "/"+first+"/")) {
			clean = clean[1:] // the first component, partial, is still there
		}
		return cutMark + clean
	}
	return path.Clean(p)
}

// wantPath applies the prefix filter as the kernel's LPM trie does: the longest
// matching prefix decides.
func (c *Collector) wantPath(p string) bool {
	if strings.HasPrefix(p, cutMark) || strings.HasSuffix(p, cutMark) {
		return true // cut: what it would be matched by is unknown
	}
	best, want := -1, false
	for _, e := range c.prefixes {
		if len(e.prefix) > best && strings.HasPrefix(p, e.prefix) {
			best, want = len(e.prefix), e.val != 0
		}
	}
	return want
}

// prefixEntries checks the configured prefixes and returns them with their
// verdicts (see trieEntries for the kernel's entries).
func prefixEntries(opts Options) ([]prefixEntry, error) {
	incl, excl, changes := opts.FilePrefixes, opts.FileExcludes, opts.FileChangePrefixes
	if excl == nil {
		excl = DefaultFileExcludes
	}
	if incl == nil {
		if changes == nil {
			changes = DefaultFileChangePrefixes
		}
		incl = defaultFilePrefixes(passwdFile, MaxFilePrefixes-len(DefaultFilePrefixes)-len(excl)-len(changes))
	}
	if len(incl)+len(excl)+len(changes) > MaxFilePrefixes {
		return nil, fmt.Errorf("collector: %d file prefixes, at most %d", len(incl)+len(excl)+len(changes), MaxFilePrefixes)
	}
	var out []prefixEntry
	add := func(p string, val uint8) error {
		if p == "" || len(p) > MaxFilePrefix || strings.IndexByte(p, 0) >= 0 {
			return fmt.Errorf("collector: file prefix %q: want 1 to %d bytes without NUL", p, MaxFilePrefix)
		}
		out = append(out, prefixEntry{prefix: p, val: val})
		return nil
	}
	for _, p := range incl {
		if err := add(p, 1); err != nil {
			return nil, err
		}
	}
	for _, p := range excl {
		if err := add(p, 0); err != nil {
			return nil, err
		}
	}
	for _, p := range changes {
		if err := add(p, prefixChanges); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Run reads records until ctx is done or Close is called, decodes each into an
// event, enriches it and passes it to emit. The *event.Event is reused after emit
// returns. When ctx is done Run drains the records already queued, then returns
// nil; it returns an error only if reading the ring buffer fails. Run may be called
// once at a time.
func (c *Collector) Run(ctx context.Context, emit func(*event.Event)) error {
	c.runMu.Lock()
	switch {
	case c.closed.Load():
		c.runMu.Unlock()
		return fmt.Errorf("collector: Run after Close: %w", os.ErrClosed)
	case c.runDone != nil:
		c.runMu.Unlock()
		return errors.New("collector: Run is already running")
	}
	done := make(chan struct{})
	c.runDone = done
	c.runMu.Unlock()
	defer func() {
		c.runMu.Lock()
		c.runDone = nil
		c.runMu.Unlock()
		close(done)
	}()

	w, err := newRingWaiter(c.coll.Maps[bpf.SensorMapEvents].FD())
	if err != nil {
		return fmt.Errorf("collector: %w", err)
	}
	defer w.Close()
	c.waiter.Store(w)
	defer c.waiter.Store(nil)
	stop := context.AfterFunc(ctx, w.interrupt)
	defer stop()

	// Records below the wakeup threshold are picked up every MaxDelay; when
	// every record wakes the reader, the timeout only bounds how long a
	// cancellation can go unnoticed.
	timeout := c.opts.MaxDelay
	if timeout < 0 {
		timeout = time.Second
	}
	ready := func() bool { return c.reader.AvailableBytes() >= c.wakeup || ctx.Err() != nil || c.closed.Load() }
	// The reader never blocks: waiting is the waiter's.
	c.reader.SetDeadline(time.Unix(1, 0))

	var (
		rec      ringbuf.Record
		queued   drained
		r        record
		ev       event.Event
		scratch  = make([]byte, 0, argsMax)
		clock    bootClock
		stopping bool // ctx is done: the last read of the queue
	)
	for {
		// Read everything queued, then wait for the next batch. The records
		// are copied out of the ring buffer a batch at a time before they are
		// handled (see drained).
		for empty := false; !empty; {
			var err error
			if empty, err = queued.fill(c.reader, &rec, c.drainBytes); err != nil {
				return fmt.Errorf("collector: read ring buffer: %w", err)
			}
			for raw := range queued.records() {
				scratch = c.handle(raw, &r, &ev, scratch, &clock, emit)
				if c.closed.Load() {
					return nil // Close waits for Run to return before it frees the ring
				}
			}
		}
		if stopping {
			return nil
		}
		if ctx.Err() != nil || c.closed.Load() {
			// Records queued after the read above (the reader may have
			// been descheduled since) are read once more before Run returns.
			stopping = true
			continue
		}
		if err := w.wait(timeout, ready); err != nil {
			return fmt.Errorf("collector: wait for the ring buffer: %w", err)
		}
	}
}

// handle decodes one record into ev, enriches and emits it; scratch is reused
// for building command lines and returned.
func (c *Collector) handle(raw []byte, r *record, ev *event.Event, scratch []byte, clock *bootClock, emit func(*event.Event)) []byte {
	c.received.Add(1)
	if err := decodeRecord(raw, r); err != nil {
		c.invalid.Add(1)
		return scratch
	}
	*ev = event.Event{SensorID: c.opts.SensorID, Hostname: c.opts.Hostname, Tags: c.opts.Tags}
	off := clock.offset(r.bootNs)
	scratch = r.fill(ev, off, scratch)
	if r.kind == kindExec {
		r.fillContext(ev, off, c.env)
	}
	if (r.kind >= kindFileOpen && r.kind <= kindFileChmod && !c.cleanPaths(ev)) || (isFileOp(r.kind) && !c.cleanFileOp(ev)) {
		c.userFiltered.Add(1)
		return scratch
	}
	ev.ID = event.NewID(time.Unix(0, ev.TimeNanos))
	if c.opts.Enricher != nil {
		c.opts.Enricher.Enrich(ev, r.kind == kindExec && r.execFlags&execOwnCgroups == 0)
	}
	emit(ev)
	if c.opts.Enricher != nil {
		c.opts.Enricher.Forget(ev)
	}
	return scratch
}

// Stats returns the counters since New.
func (c *Collector) Stats() Stats {
	if !c.closed.Load() {
		c.readCounters()
	}
	user := c.userFiltered.Load()
	matched := c.matched.Load()
	return Stats{Received: c.received.Load(), Dropped: c.dropped.Load(), Invalid: c.invalid.Load(),
		FileFiltered: c.filtered.Load() + c.cached.Load() + user, FileMatched: matched - min(user, matched), FileCached: c.cached.Load(),
		KernelTime: time.Duration(c.kernelNs.Load())}
}

// EnableKernelTime makes the kernel keep run time statistics of BPF programs,
// which Stats reports as KernelTime, until the returned Closer is closed (or
// the process exits). Keeping them costs two clock reads per program run;
// kernel.bpf_stats_enabled=1 does the same host-wide.
func EnableKernelTime() (io.Closer, error) {
	c, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		return nil, fmt.Errorf("collector: enable BPF run time statistics: %w", err)
	}
	return c, nil
}

// readCounters sums the kernel's per-CPU counters.
func (c *Collector) readCounters() {
	if c.coll == nil {
		return
	}
	m := c.coll.Maps[bpf.SensorMapCounters]
	for _, x := range []struct {
		idx bpf.SensorCounter
		dst *atomic.Uint64
	}{
		{bpf.SensorCounterCOUNTER_DROPS, &c.dropped},
		{bpf.SensorCounterCOUNTER_FILE_FILTERED, &c.filtered},
		{bpf.SensorCounterCOUNTER_FILE_MATCHED, &c.matched},
		{bpf.SensorCounterCOUNTER_FILE_CACHED, &c.cached},
	} {
		var perCPU []uint64
		if err := m.Lookup(uint32(x.idx), &perCPU); err != nil {
			continue
		}
		var sum uint64
		for _, n := range perCPU {
			sum += n
		}
		x.dst.Store(sum)
	}
	var run time.Duration
	for _, p := range c.coll.Programs {
		st, err := p.Stats()
		if err != nil {
			return // closed meanwhile: keep the last sum
		}
		run += st.Runtime
	}
	c.kernelNs.Store(int64(run))
}

// Close detaches the programs and frees the kernel objects. A running Run returns
// nil, and Close waits for it to (so Close must not be called from emit); Stats
// keeps reporting the final counts. Close is safe to call more than once.
func (c *Collector) Close() error {
	c.closeOnce.Do(func() {
		// Stop a running Run, and wait for it: it reads the ring buffer until it
		// returns.
		c.runMu.Lock()
		c.closed.Store(true)
		done := c.runDone
		c.runMu.Unlock()
		if w := c.waiter.Load(); w != nil {
			w.interrupt()
		}
		if done != nil {
			<-done
		}
		c.readCounters()
		var errs []error
		if c.reader != nil {
			errs = append(errs, c.reader.Close())
		}
		for _, l := range c.links {
			errs = append(errs, l.Close())
		}
		if c.coll != nil {
			c.coll.Close()
		}
		if err := errors.Join(errs...); err != nil {
			c.closeErr = fmt.Errorf("collector: close: %w", err)
		}
	})
	return c.closeErr
}

// bootClock converts CLOCK_BOOTTIME nanoseconds (bpf_ktime_get_boot_ns) to Unix
// nanoseconds, re-measuring the offset when a second of boot time has passed.
type bootClock struct {
	last int64 // boot time of the last measurement; 0 = never
	off  int64
}

func (b *bootClock) offset(bootNs uint64) int64 {
	if b.last != 0 && int64(bootNs)-b.last < 1e9 && int64(bootNs) >= b.last {
		return b.off
	}
	var boot, wall unix.Timespec
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot) != nil || unix.ClockGettime(unix.CLOCK_REALTIME, &wall) != nil {
		return b.off
	}
	b.off = wall.Nano() - boot.Nano()
	b.last = int64(bootNs)
	return b.off
}
