package collector_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/sensor/collector"
)

// systemHelperEnv names what a re-executed test binary does before any test
// runs (see init): changes a test must not make in its own process.
const systemHelperEnv = "VIGIL_COLLECTOR_SYSTEM_HELPER"

func init() {
	what := os.Getenv(systemHelperEnv)
	if what == "" {
		return
	}
	runtime.LockOSThread() // namespaces and ids are changed for this thread
	if err := systemHelper(what); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(0)
}

func systemHelper(what string) error {
	switch what {
	case "mount":
		// A mount namespace of this thread's own, private from the host's:
		// a tmpfs mounted and unmounted with mount(2), then one through the
		// new mount API, unmounted by a relative path.
		dir, dir2 := os.Getenv("VIGIL_MOUNT_DIR"), os.Getenv("VIGIL_MOUNT_DIR2")
		if err := unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_NEWUTS); err != nil {
			return fmt.Errorf("unshare: %w", err)
		}
		if err := unix.Mount("none", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			return fmt.Errorf("make / private: %w", err)
		}
		if err := unix.Mount("vigil-tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=1m"); err != nil {
			return fmt.Errorf("mount: %w", err)
		}
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			return fmt.Errorf("umount: %w", err)
		}
		fs, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
		if err != nil {
			return fmt.Errorf("fsopen: %w", err)
		}
		if err := unix.FsconfigSetString(fs, "source", "vigil-newapi"); err != nil {
			return fmt.Errorf("fsconfig: %w", err)
		}
		if err := unix.FsconfigCreate(fs); err != nil {
			return fmt.Errorf("fsconfig create: %w", err)
		}
		m, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("fsmount: %w", err)
		}
		if err := unix.MoveMount(m, "", unix.AT_FDCWD, dir2, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fmt.Errorf("move_mount: %w", err)
		}
		unix.Close(m) // it holds the mount busy
		unix.Close(fs)
		// The thread's working directory is its own since unshare.
		if err := unix.Chdir(filepath.Dir(dir2)); err != nil {
			return err
		}
		if err := unix.Unmount(filepath.Base(dir2), 0); err != nil {
			return fmt.Errorf("umount relative: %w", err)
		}
		return nil
	case "setns":
		// Join the UTS namespace of a process: through its namespace file
		// (nstype 0: any), then through a pidfd.
		pid, _ := strconv.Atoi(os.Getenv("VIGIL_TARGET_PID"))
		fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/uts", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		if err := unix.Setns(fd, 0); err != nil {
			return fmt.Errorf("setns namespace file: %w", err)
		}
		pfd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			return fmt.Errorf("pidfd_open: %w", err)
		}
		if err := unix.Setns(pfd, unix.CLONE_NEWUTS); err != nil {
			return fmt.Errorf("setns pidfd: %w", err)
		}
		return nil
	case "bpf":
		id, err := loadSocketFilter("vigil_helper")
		fmt.Println(id)
		return err
	case "userfaultfd":
		// This thread becomes nobody (its capabilities go with uid 0),
		// then asks for a user-mode-only userfaultfd, which the kernel
		// gives anyone, and for a full one, which it gives the
		// unprivileged only with vm.unprivileged_userfaultfd=1.
		if _, _, e := syscall.RawSyscall(syscall.SYS_SETRESUID, 65534, 65534, 65534); e != 0 {
			return fmt.Errorf("setresuid: %w", e)
		}
		if _, _, e := syscall.RawSyscall(unix.SYS_USERFAULTFD, unix.O_CLOEXEC|uffdUserModeOnly, 0, 0); e != 0 {
			return fmt.Errorf("userfaultfd(UFFD_USER_MODE_ONLY): %w", e)
		}
		_, _, e := syscall.RawSyscall(unix.SYS_USERFAULTFD, unix.O_CLOEXEC, 0, 0)
		fmt.Println(e == 0)
		return nil
	case "syslog":
		return syslogHelper()
	}
	return socketHelper(what)
}

const uffdUserModeOnly = 1

// syslog(2)'s actions (linux/syslog.h).
const (
	syslogReadClear    = 4
	syslogClear        = 5
	syslogConsoleLevel = 8
	syslogSizeBuffer   = 10
)

// syslogHelper calls syslog(2) in ways that leave the kernel's log as it
// was: the size of the buffer (a reading action, not reported); a read and
// clear without a buffer, which the kernel refuses (EINVAL) before it reads
// or clears; the console level set to the level it has (printed when done);
// then, as nobody, a clear, which the kernel refuses (EPERM: no CAP_SYSLOG).
func syslogHelper() error {
	if _, _, e := syscall.RawSyscall(syscall.SYS_SYSLOG, syslogSizeBuffer, 0, 0); e != 0 {
		return fmt.Errorf("syslog(SIZE_BUFFER): %w", e)
	}
	minusOne := -1
	if _, _, e := syscall.RawSyscall(syscall.SYS_SYSLOG, syslogReadClear, 0, uintptr(minusOne)); e != unix.EINVAL {
		return fmt.Errorf("syslog(READ_CLEAR, NULL, -1): %v, want EINVAL", e)
	}
	if level, ok := consoleLevel(); ok {
		if _, _, e := syscall.RawSyscall(syscall.SYS_SYSLOG, syslogConsoleLevel, 0, uintptr(level)); e != 0 {
			return fmt.Errorf("syslog(CONSOLE_LEVEL, %d): %w", level, e)
		}
		fmt.Println("console_level")
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_SETRESUID, 65534, 65534, 65534); e != 0 {
		return fmt.Errorf("setresuid: %w", e)
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_SYSLOG, syslogClear, 0, 0); e != unix.EPERM {
		return fmt.Errorf("syslog(CLEAR) as nobody: %v, want EPERM", e)
	}
	return nil
}

// consoleLevel returns the console's log level (the first field of
// /proc/sys/kernel/printk) when syslog(2) can set it to that (1 to 8).
func consoleLevel() (int, bool) {
	raw, err := os.ReadFile("/proc/sys/kernel/printk")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(raw))
	if len(f) == 0 {
		return 0, false
	}
	level, err := strconv.Atoi(f[0])
	return level, err == nil && level >= 1 && level <= 8
}

// runSystemHelper runs the test binary as the helper what, with env added,
// and returns its pid and standard output.
func runSystemHelper(t *testing.T, what string, env ...string) (uint32, string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(append(os.Environ(), systemHelperEnv+"="+what), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("helper %s: %v: %s", what, err, errb.String())
	}
	return uint32(cmd.Process.Pid), strings.TrimSpace(out.String())
}

// loadSocketFilter loads a socket filter that accepts nothing, named name,
// and returns its id. The program is released when the process exits.
func loadSocketFilter(name string) (ebpf.ProgramID, error) {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: name, Type: ebpf.SocketFilter, License: "MIT",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}})
	if err != nil {
		return 0, fmt.Errorf("load socket filter: %w", err)
	}
	info, err := prog.Info()
	if err != nil {
		return 0, err
	}
	id, _ := info.ID()
	keep = append(keep, prog)
	return id, nil
}

var keep []*ebpf.Program

// untilExit collects the events of pid up to its TERMINATE_PROCESS: every
// record it caused is read by then (the ring buffer keeps their order).
func untilExit(t *testing.T, events <-chan event.Event, pid uint32) []event.Event {
	t.Helper()
	all := eventsUntil(t, events, fmt.Sprintf("the exit of pid %d", pid), func(ev *event.Event) bool {
		return ev.PID == pid && ev.Type == event.TerminateProcess
	})
	return slices.DeleteFunc(all, func(ev event.Event) bool { return ev.PID != pid })
}

func ofType(evs []event.Event, typ string) []event.Event {
	var out []event.Event
	for _, ev := range evs {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

func TestNamespaceChange(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("skipping: making namespaces needs root")
	}
	_, events := startCollector(t)
	me := uint32(os.Getpid())

	t.Run("clone", func(t *testing.T) {
		cmd := exec.Command("/bin/true")
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWPID | unix.CLONE_NEWUTS}
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		ev := waitFor(t, events, "NAMESPACE_CHANGE of clone", func(ev *event.Event) bool {
			return ev.Type == event.NamespaceChange && ev.PID == me && ev.TargetPID == uint32(cmd.Process.Pid)
		})
		checkSelf(t, ev)
		if ev.Operation != "clone" || ev.Namespaces != "uts,pid" || ev.NamespaceInode != 0 {
			t.Errorf("clone: OPERATION %q NAMESPACES %q NAMESPACE_INODE %d; want clone, uts,pid, 0", ev.Operation, ev.Namespaces, ev.NamespaceInode)
		}
	})
	t.Run("clone3", func(t *testing.T) {
		if _, err := os.Stat("/proc/self/ns/time"); err != nil {
			t.Skip("skipping: no time namespaces on this kernel (Go asks for them with clone3)")
		}
		cmd := exec.Command("/bin/true")
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWPID | unix.CLONE_NEWTIME}
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		ev := waitFor(t, events, "NAMESPACE_CHANGE of clone3", func(ev *event.Event) bool {
			return ev.Type == event.NamespaceChange && ev.PID == me && ev.TargetPID == uint32(cmd.Process.Pid)
		})
		if ev.Operation != "clone3" || ev.Namespaces != "time,pid" {
			t.Errorf("clone3: OPERATION %q NAMESPACES %q; want clone3, time,pid", ev.Operation, ev.Namespaces)
		}
	})
	t.Run("unshare", func(t *testing.T) {
		dir := t.TempDir()
		pid, _ := runSystemHelper(t, "mount", "VIGIL_MOUNT_DIR="+dir, "VIGIL_MOUNT_DIR2="+dir)
		ns := ofType(untilExit(t, events, pid), event.NamespaceChange)
		if len(ns) != 1 || ns[0].Operation != "unshare" || ns[0].Namespaces != "mnt,uts" || ns[0].TargetPID != 0 {
			t.Fatalf("NAMESPACE_CHANGE of the helper: %+v; want one unshare of mnt,uts", ns)
		}
		self, _ := os.Executable()
		if ns[0].FilePath != self || ns[0].PPID != me {
			t.Errorf("unshare by %q (parent %d), want %q (parent %d)", ns[0].FilePath, ns[0].PPID, self, me)
		}
	})
	t.Run("setns", func(t *testing.T) {
		target := exec.Command("/bin/sleep", "30")
		target.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUTS}
		if err := target.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { target.Process.Kill(); target.Wait() }()
		var st unix.Stat_t
		if err := unix.Stat(fmt.Sprintf("/proc/%d/ns/uts", target.Process.Pid), &st); err != nil {
			t.Fatal(err)
		}
		pid, _ := runSystemHelper(t, "setns", "VIGIL_TARGET_PID="+strconv.Itoa(target.Process.Pid))
		ns := ofType(untilExit(t, events, pid), event.NamespaceChange)
		type got struct {
			op, namespaces string
			target         uint32
			ino            uint64
		}
		var gots []got
		for _, ev := range ns {
			gots = append(gots, got{ev.Operation, ev.Namespaces, ev.TargetPID, ev.NamespaceInode})
		}
		want := []got{
			{"setns", "uts", 0, st.Ino},                     // the namespace file: its inode and type
			{"setns", "uts", uint32(target.Process.Pid), 0}, // the pidfd: its process
		}
		if !slices.Equal(gots, want) {
			t.Errorf("setns events %+v, want %+v", gots, want)
		}
	})
}

func TestMounts(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("skipping: mounting needs root")
	}
	_, events := startCollector(t)
	dir, dir2 := t.TempDir(), t.TempDir()
	pid, _ := runSystemHelper(t, "mount", "VIGIL_MOUNT_DIR="+dir, "VIGIL_MOUNT_DIR2="+dir2)
	type mnt struct{ typ, op, path, source, fstype, flags string }
	var got []mnt
	for _, ev := range untilExit(t, events, pid) {
		if ev.Type == event.Mount || ev.Type == event.Unmount {
			got = append(got, mnt{ev.Type, ev.Operation, ev.MountPath, ev.MountSource, ev.FSType, ev.Flags})
		}
	}
	want := []mnt{
		{event.Mount, "mount", "/", "none", "", "rec,private"},
		{event.Mount, "mount", dir, "vigil-tmpfs", "tmpfs", "nosuid,nodev"},
		{event.Unmount, "umount2", dir, "", "", "detach"},
		{event.Mount, "move_mount", dir2, "vigil-newapi", "tmpfs", "f_empty_path"},
		{event.Unmount, "umount2", dir2, "", "", ""}, // unmounted by a relative path
	}
	if !slices.Equal(got, want) {
		t.Errorf("mount events:\n got %+v\nwant %+v", got, want)
	}
}

func TestBPFLoad(t *testing.T) {
	_, events := startCollector(t)
	// The sensor's own loads are not reported: this process's comes first,
	// so it would precede the helper's.
	if _, err := loadSocketFilter("vigil_self"); err != nil {
		t.Fatal(err)
	}
	pid, out := runSystemHelper(t, "bpf")
	var loads []event.Event
	waitFor(t, events, "the helper's exit", func(ev *event.Event) bool {
		if ev.Type == event.BPFLoad {
			loads = append(loads, *ev)
		}
		return ev.PID == pid && ev.Type == event.TerminateProcess
	})
	var found bool
	for _, ev := range loads {
		switch {
		case ev.BPFProgName == "vigil_self" || ev.PID == uint32(os.Getpid()):
			t.Errorf("the sensor's own load was reported: %+v", ev)
		case ev.PID == pid && ev.BPFProgName == "vigil_helper":
			found = true
			if ev.BPFProgType != "socket_filter" || strconv.FormatUint(uint64(ev.BPFProgID), 10) != out {
				t.Errorf("BPF_LOAD: type %q id %d; want socket_filter, id %s", ev.BPFProgType, ev.BPFProgID, out)
			}
		}
	}
	if !found {
		t.Errorf("no BPF_LOAD of vigil_helper by pid %d among %d loads", pid, len(loads))
	}
}

func TestMemfdCreate(t *testing.T) {
	_, events := startCollector(t)
	me := uint32(os.Getpid())
	for _, tc := range []struct {
		flags int
		want  string
	}{
		{unix.MFD_CLOEXEC | unix.MFD_ALLOW_SEALING, "cloexec,allow_sealing"},
		{0, ""},
		{unix.MFD_CLOEXEC | unix.MFD_NOEXEC_SEAL, "cloexec,noexec_seal"},
		{unix.MFD_EXEC, "exec"},
	} {
		name := marker(t)
		fd, err := unix.MemfdCreate(name, tc.flags)
		if err == unix.EINVAL && tc.flags&(unix.MFD_NOEXEC_SEAL|unix.MFD_EXEC) != 0 {
			t.Logf("skipping flags %#x: the kernel predates MFD_EXEC and MFD_NOEXEC_SEAL (6.3)", tc.flags)
			continue
		}
		if err != nil {
			t.Fatalf("memfd_create(%#x): %v", tc.flags, err)
		}
		unix.Close(fd)
		ev := waitFor(t, events, "MEMFD_CREATE "+name, func(ev *event.Event) bool {
			return ev.Type == event.MemfdCreate && ev.PID == me && ev.MemfdName == name
		})
		checkSelf(t, ev)
		if ev.Flags != tc.want {
			t.Errorf("memfd_create(%#x): FLAGS %q, want %q", tc.flags, ev.Flags, tc.want)
		}
	}
}

func TestUserfaultfd(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("skipping: changing uids needs root")
	}
	_, events := startCollector(t)
	me := uint32(os.Getpid())
	fd, _, e := syscall.Syscall(unix.SYS_USERFAULTFD, unix.O_CLOEXEC|unix.O_NONBLOCK, 0, 0)
	if e == unix.ENOSYS {
		t.Skip("skipping: kernel built without userfaultfd")
	}
	if e != 0 {
		t.Fatalf("userfaultfd as root: %v", e)
	}
	unix.Close(int(fd))
	ev := waitFor(t, events, "USERFAULTFD as root", func(ev *event.Event) bool {
		return ev.Type == event.Userfaultfd && ev.PID == me
	})
	checkSelf(t, ev)
	if ev.Flags != "nonblock,cloexec" || ev.Unprivileged != 0 {
		t.Errorf("root: FLAGS %q UNPRIVILEGED %d; want nonblock,cloexec, 0", ev.Flags, ev.Unprivileged)
	}

	// As nobody: the user-mode-only one is reported, the full one only if
	// the kernel allowed it (vm.unprivileged_userfaultfd).
	pid, out := runSystemHelper(t, "userfaultfd")
	type uffd struct {
		flags        string
		unprivileged uint32
		uid          uint32
	}
	var got []uffd
	for _, ev := range ofType(untilExit(t, events, pid), event.Userfaultfd) {
		got = append(got, uffd{ev.Flags, ev.Unprivileged, ev.UID})
	}
	want := []uffd{{"user_mode_only,cloexec", 1, 65534}}
	if out == "true" {
		want = append(want, uffd{"cloexec", 1, 65534})
	}
	if !slices.Equal(got, want) {
		t.Errorf("unprivileged userfaultfd events %+v, want %+v (the full one allowed: %s)", got, want, out)
	}
}

// TestMissingCapabilities disables hooks as a kernel without them would
// lack them: they are listed missing, and their events are not captured.
func TestMissingCapabilities(t *testing.T) {
	if err := collector.Supported(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	// What this kernel lacks: a collector only looked at, never read.
	base, err := collector.New(collector.Options{RingBufferSize: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	base.Close()
	disable := []string{"mount", "module_load", "io_uring", "socket_create", "fd_dup"}
	c, events := startCollectorWith(t, collector.Options{Disable: disable})
	want := slices.Concat(base.Missing(), disable)
	slices.Sort(want)
	want = slices.Compact(want)
	if got := c.Missing(); !slices.Equal(got, want) {
		t.Errorf("Missing() = %v, want %v (this kernel's %v and the disabled)", got, want, base.Missing())
	}
	for _, m := range c.Missing() {
		if !slices.Contains(collector.Capabilities(), m) {
			t.Errorf("missing capability %q is not one of Capabilities() %v", m, collector.Capabilities())
		}
	}
	if os.Getuid() != 0 {
		return
	}
	dir := t.TempDir()
	pid, _ := runSystemHelper(t, "mount", "VIGIL_MOUNT_DIR="+dir, "VIGIL_MOUNT_DIR2="+dir)
	evs := untilExit(t, events, pid)
	if len(ofType(evs, event.NamespaceChange)) != 1 {
		t.Errorf("the helper's unshare was not reported: %+v", evs)
	}
	if m := slices.Concat(ofType(evs, event.Mount), ofType(evs, event.Unmount)); len(m) != 0 {
		t.Errorf("mounts reported with the mount hooks disabled: %+v", m)
	}
	// A raw socket, not reported, then a memfd, reported.
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMP)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	name := marker(t)
	mfd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(mfd)
	me := uint32(os.Getpid())
	waitFor(t, events, "MEMFD_CREATE "+name, func(ev *event.Event) bool {
		if ev.PID == me && ev.Type == event.SocketCreate {
			t.Errorf("SOCKET_CREATE reported with its hook disabled: %+v", ev)
		}
		return ev.Type == event.MemfdCreate && ev.PID == me && ev.MemfdName == name
	})
}

// TestKernelLogControl runs syslog(2) in a helper (syslogHelper), none of
// whose calls changes the kernel's log, and checks what is reported: the
// refused read and clear, the console level set, the clear refused to
// nobody; not the read of the buffer's size.
func TestKernelLogControl(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("skipping: changing uids needs root")
	}
	before, _ := os.ReadFile("/proc/sys/kernel/printk")
	_, events := startCollector(t)
	pid, out := runSystemHelper(t, "syslog")
	type call struct {
		op   string
		err  int32
		uid  uint32
		user string
	}
	var got []call
	for _, ev := range ofType(untilExit(t, events, pid), event.KernelLogControl) {
		got = append(got, call{ev.Operation, ev.ErrorCode, ev.UID, ev.User})
	}
	want := []call{{"read_clear", int32(unix.EINVAL), 0, "root"}}
	if strings.Contains(out, "console_level") {
		want = append(want, call{"console_level", 0, 0, "root"})
	}
	want = append(want, call{"clear", int32(unix.EPERM), 65534, "nobody"})
	if !slices.Equal(got, want) {
		t.Errorf("KERNEL_LOG_CONTROL events %+v, want %+v", got, want)
	}
	if after, _ := os.ReadFile("/proc/sys/kernel/printk"); !bytes.Equal(before, after) {
		t.Errorf("the console's log levels changed: %q, then %q", before, after)
	}
}
