package collector_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/sensor/collector"
	"github.com/vigil-sec/vigil/sensor/container"
	"github.com/vigil-sec/vigil/sensor/enrich"
)

// startCollector starts a collector with the real enricher and returns a channel
// of copies of every event it emits. It skips the test when the host cannot run it.
func startCollector(t testing.TB) (*collector.Collector, <-chan event.Event) {
	t.Helper()
	return startCollectorWith(t, collector.Options{})
}

// startCollectorWith is startCollector with options (the sensor id and host
// name are set by it, and the enricher unless opts has one).
func startCollectorWith(t testing.TB, opts collector.Options) (*collector.Collector, <-chan event.Event) {
	t.Helper()
	if err := collector.Supported(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	enr, err := enrich.New(enrich.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if opts.Enricher == nil {
		opts.Enricher = enr
	}
	opts.SensorID, opts.Hostname = "s-test", "h-test"
	if fallbacks {
		opts = collector.FallbackHooks(opts)
	}
	c, err := collector.New(opts)
	if err != nil {
		t.Fatalf("collector.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan event.Event, 1<<16)
	done := make(chan error, 1)
	go func() {
		done <- c.Run(ctx, func(ev *event.Event) {
			select {
			case events <- *ev:
			default:
				t.Errorf("test event buffer full")
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c, events
}

// fallbacks makes startCollectorWith load the hooks meant for kernels without
// per-syscall tracepoints or group_dead (see TestFallbackHooks).
var fallbacks bool

func marker(t testing.TB) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "vigil-test-" + hex.EncodeToString(b)
}

// cgroupV2ID returns the cgroup v2 id (the inode of its directory) of this
// process, or 0 if the unified hierarchy is not mounted.
func cgroupV2ID(t *testing.T) uint64 {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0
	}
	var rel string
	for _, line := range strings.Split(string(data), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			rel = p
		}
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		for i, x := range fields {
			if x == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" {
				var st syscall.Stat_t
				if syscall.Stat(filepath.Join(fields[4], rel), &st) == nil {
					return st.Ino
				}
			}
		}
	}
	return 0
}

// next returns the first event for pid of the given type, or fails after timeout.
func next(t *testing.T, events <-chan event.Event, pid uint32, typ string) event.Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.PID == pid && ev.Type == typ {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event for pid %d within 10s", typ, pid)
		}
	}
}

func TestCaptureExecAndExit(t *testing.T) {
	c, events := startCollector(t)

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	wantCgroup := cgroupV2ID(t)

	tests := []struct {
		name     string
		script   string
		wantExit int32
	}{
		{"exit status", "exit 7", 7},
		{"killed by signal", "kill -9 $$", -9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mark := marker(t)
			before := time.Now()
			cmd := exec.Command("/bin/sh", "-c", tt.script, mark)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pid := uint32(cmd.Process.Pid)
			err := cmd.Wait()
			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) {
				t.Fatalf("command: %v", err)
			}
			after := time.Now()

			ev := next(t, events, pid, event.NewProcess)
			t.Logf("exec: %+v", ev)
			want := event.Event{
				SensorID:          "s-test",
				Hostname:          "h-test",
				Type:              event.NewProcess,
				PID:               pid,
				PPID:              uint32(os.Getpid()),
				UID:               uint32(os.Getuid()),
				GID:               uint32(os.Getgid()),
				User:              "root",
				FilePath:          "/bin/sh",
				CommandLine:       "/bin/sh -c " + tt.script + " " + mark,
				ParentFilePath:    self,
				ParentCommandLine: strings.Join(os.Args, " "),
			}
			if os.Getuid() != 0 {
				want.User = ev.User // only root's name is known in advance
			}
			checkProcess(t, ev, want, before, after, wantCgroup)

			exitEv := next(t, events, pid, event.TerminateProcess)
			t.Logf("exit: %+v", exitEv)
			want.Type = event.TerminateProcess
			want.ExitCode = tt.wantExit
			checkProcess(t, exitEv, want, before, after, wantCgroup)
			if exitEv.ExitCode != tt.wantExit {
				t.Errorf("EXIT_CODE = %d, want %d", exitEv.ExitCode, tt.wantExit)
			}
			if exitEv.TimeNanos < ev.TimeNanos {
				t.Errorf("exit at %d before exec at %d", exitEv.TimeNanos, ev.TimeNanos)
			}
		})
	}

	st := c.Stats()
	if st.Received < 4 || st.Dropped != 0 || st.Invalid != 0 {
		t.Errorf("Stats = %+v, want ≥4 received, none dropped or invalid", st)
	}
}

func checkProcess(t *testing.T, got, want event.Event, before, after time.Time, wantCgroup uint64) {
	t.Helper()
	type field struct {
		name      string
		got, want any
	}
	for _, f := range []field{
		{"routing/sensor_id", got.SensorID, want.SensorID},
		{"routing/hostname", got.Hostname, want.Hostname},
		{"routing/event_type", got.Type, want.Type},
		{"PROCESS_ID", got.PID, want.PID},
		{"PARENT_PROCESS_ID", got.PPID, want.PPID},
		{"USER_ID", got.UID, want.UID},
		{"GROUP_ID", got.GID, want.GID},
		{"USER", got.User, want.User},
		{"FILE_PATH", got.FilePath, want.FilePath},
		{"COMMAND_LINE", got.CommandLine, want.CommandLine},
		{"PARENT/FILE_PATH", got.ParentFilePath, want.ParentFilePath},
		{"PARENT/COMMAND_LINE", got.ParentCommandLine, want.ParentCommandLine},
		{"EXIT_CODE", got.ExitCode, want.ExitCode},
	} {
		if f.got != f.want {
			t.Errorf("%s %s = %#v, want %#v", got.Type, f.name, f.got, f.want)
		}
	}
	if len(got.ID) != 26 || got.ID[:10] != event.NewID(time.Unix(0, got.TimeNanos))[:10] {
		t.Errorf("%s event id %q is not a ULID of the event time", got.Type, got.ID)
	}
	if got.CgroupID == 0 {
		t.Errorf("%s CGROUP_ID = 0", got.Type)
	} else if wantCgroup != 0 && got.CgroupID != wantCgroup {
		t.Errorf("%s CGROUP_ID = %d, want %d (this test's cgroup v2 id)", got.Type, got.CgroupID, wantCgroup)
	}
	// Wall-clock conversion: allow for clock granularity around the window.
	lo, hi := before.Add(-time.Second).UnixNano(), after.Add(time.Second).UnixNano()
	if got.TimeNanos < lo || got.TimeNanos > hi {
		t.Errorf("%s time %s outside [%s, %s]", got.Type, time.Unix(0, got.TimeNanos), before, after)
	}
}

// TestSupportedMessage checks the reason Supported and New give where the
// collector cannot run: here, or (as root on a kernel that runs it) in a copy
// of the test binary run as nobody.
func TestSupportedMessage(t *testing.T) {
	var reason, newErr string
	is := true
	if err := collector.Supported(); err != nil {
		reason, is = err.Error(), errors.Is(err, collector.ErrUnsupported)
		if _, nerr := collector.New(collector.Options{}); nerr != nil {
			newErr = nerr.Error()
		}
	} else {
		if os.Geteuid() != 0 {
			t.Skip("skipping: supported, and running as nobody needs root")
		}
		out := runAsNobody(t, helperEnv+"=unsupported")
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 3 {
			t.Fatalf("unprivileged helper printed %q, want 3 lines", out)
		}
		reason, newErr, is = lines[0], lines[1], lines[2] == "true"
		if !strings.Contains(reason, "needs root or CAP_BPF and CAP_PERFMON") || !strings.Contains(reason, "uid 65534") {
			t.Errorf("Supported() as nobody = %q, want it to name the missing privileges and the uid", reason)
		}
	}
	if !is || reason == "" || reason == "<nil>" {
		t.Errorf("Supported() = %q: want an error wrapping ErrUnsupported", reason)
	}
	if newErr != reason {
		t.Errorf("New error %q, want the Supported reason %q", newErr, reason)
	}
}

// runAsNobody runs a copy of the test binary, which nobody can execute, as
// uid and gid 65534 with env added, and returns what it printed.
func runAsNobody(t *testing.T, env string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "vigil-nobody-") // t.TempDir's parent is closed to others
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "collector.test")
	if err := os.WriteFile(exe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s as nobody: %v", exe, err)
	}
	return string(out)
}

func TestNewRejectsBadRingSize(t *testing.T) {
	if err := collector.Supported(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	if _, err := collector.New(collector.Options{RingBufferSize: 12345}); err == nil || !strings.Contains(err.Error(), "power of two") {
		t.Errorf("New with ring size 12345: %v, want power-of-two error", err)
	}
}

func TestRunAfterClose(t *testing.T) {
	if err := collector.Supported(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	c, err := collector.New(collector.Options{RingBufferSize: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := c.Run(context.Background(), func(*event.Event) {}); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Run after Close = %v, want os.ErrClosed", err)
	}
}

// TestDeliveryWithoutWakeup checks that a lone record, queued below the wakeup
// threshold, reaches user space within MaxDelay (plus scheduling slack), and
// that every record wakes the reader when MaxDelay is negative.
func TestDeliveryWithoutWakeup(t *testing.T) {
	for _, tc := range []struct {
		name  string
		delay time.Duration
		bound time.Duration
	}{
		{"default", 0, collector.DefaultMaxDelay + 2*time.Second},
		{"short", 20 * time.Millisecond, 2 * time.Second},
		{"wake every record", -1, 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, events := startCollectorWith(t, collector.Options{MaxDelay: tc.delay})
			cmd := exec.Command("/bin/true")
			start := time.Now()
			if err := cmd.Run(); err != nil {
				t.Fatal(err)
			}
			next(t, events, uint32(cmd.Process.Pid), event.TerminateProcess)
			if took := time.Since(start); took > tc.bound {
				t.Errorf("exit event arrived after %v, want within %v", took, tc.bound)
			}
		})
	}
}

// TestKernelTime checks that, with BPF statistics on, Stats reports the time
// the programs ran, and that it grows with the activity they observe.
func TestKernelTime(t *testing.T) {
	if err := collector.Supported(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	stats, err := collector.EnableKernelTime()
	if err != nil {
		t.Fatal(err)
	}
	defer stats.Close()
	c, events := startCollector(t)
	before := c.Stats().KernelTime
	for range 5 {
		cmd := exec.Command("/bin/true")
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		next(t, events, uint32(cmd.Process.Pid), event.TerminateProcess)
	}
	if after := c.Stats().KernelTime; after <= before {
		t.Errorf("KernelTime %v after 5 execs, %v before: want it to grow", after, before)
	}
}

// hintRecorder is an Enricher that records the cgroup hint of every exec.
type hintRecorder struct {
	mu     sync.Mutex
	shares map[uint32]bool
}

func (h *hintRecorder) Enrich(ev *event.Event, sharesParentCgroups bool) {
	if ev.Type == event.NewProcess {
		h.mu.Lock()
		h.shares[ev.PID] = sharesParentCgroups
		h.mu.Unlock()
	}
}

func (h *hintRecorder) Forget(*event.Event) {}

// TestExecCgroupHint checks the kernel's cgroup hint: a process started into a
// cgroup of its own (as a container runtime does) does not share its parent's
// cgroups; a plain fork and exec does.
func TestExecCgroupHint(t *testing.T) {
	if err := collector.Supported(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	root := container.Cgroup2Mount(mi)
	if root == "" {
		t.Skip("skipping: no cgroup2 mount")
	}
	dir := filepath.Join(root, "vigil-test-"+strconv.Itoa(os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("skipping: cannot create a cgroup: %v", err)
	}
	t.Cleanup(func() { _ = os.Remove(dir) })
	cg, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer cg.Close()

	rec := &hintRecorder{shares: map[uint32]bool{}}
	_, events := startCollectorWith(t, collector.Options{Enricher: rec})
	moved := exec.Command("/bin/true")
	moved.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(cg.Fd())}
	plain := exec.Command("/bin/true")
	for _, cmd := range []*exec.Cmd{moved, plain} {
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		next(t, events, uint32(cmd.Process.Pid), event.TerminateProcess)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, c := range []struct {
		name string
		pid  int
		want bool
	}{{"started into its own cgroup", moved.Process.Pid, false}, {"plain exec", plain.Process.Pid, true}} {
		got, ok := rec.shares[uint32(c.pid)]
		if !ok || got != c.want {
			t.Errorf("%s: sharesParentCgroups = %v (seen %v), want %v", c.name, got, ok, c.want)
		}
	}
}

// TestStopEndsWait checks that cancelling Run's context, or closing the
// collector, ends a wait for records at once rather than at its timeout.
func TestStopEndsWait(t *testing.T) {
	if err := collector.Supported(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	for _, stop := range []string{"cancel", "close"} {
		t.Run(stop, func(t *testing.T) {
			c, err := collector.New(collector.Options{MaxDelay: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- c.Run(ctx, func(*event.Event) {}) }()
			time.Sleep(200 * time.Millisecond) // Run is waiting now
			start := time.Now()
			if stop == "cancel" {
				cancel()
			} else if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Run still waiting 5s after the stop")
			}
			t.Logf("Run returned %v after the %s", time.Since(start).Round(time.Millisecond), stop)
		})
	}
}

// TestExecLongPathAndArgs checks the bounds of an exec record, which carries
// only the bytes used: a long executable path arrives whole, one beyond the
// limit cut to its first 511 bytes, and argv cut to its first 1,024 bytes.
func TestExecLongPathAndArgs(t *testing.T) {
	base := t.TempDir()
	deep := func(total int) string {
		// directories of 50 bytes until the link's path is about total bytes
		dir := base
		for len(dir)+60 < total {
			dir = filepath.Join(dir, strings.Repeat("d", 49))
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(dir, strings.Repeat("t", total-len(dir)-1))
		if err := os.Symlink("/bin/true", link); err != nil {
			t.Fatal(err)
		}
		return link
	}
	var argv []string
	for i := range 30 {
		argv = append(argv, fmt.Sprintf("arg%02d-%s", i, strings.Repeat("x", 54)))
	}
	whole := strings.Join(argv, "\x00") + "\x00"
	wantCmd := strings.ReplaceAll(strings.TrimRight(whole[:1024], "\x00"), "\x00", " ")
	tests := []struct {
		name     string
		pathLen  int
		wantPath func(string) string
	}{
		{"path within the limit", 400, func(p string) string { return p }},
		{"path at the limit", 511, func(p string) string { return p }},
		{"path beyond the limit", 700, func(p string) string { return p[:511] }},
	}
	_, events := startCollector(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			link := deep(tc.pathLen)
			if len(link) != tc.pathLen {
				t.Fatalf("built a path of %d bytes, want %d", len(link), tc.pathLen)
			}
			cmd := exec.Command(link, argv[1:]...)
			cmd.Args[0] = argv[0]
			if err := cmd.Run(); err != nil {
				t.Fatal(err)
			}
			ev := next(t, events, uint32(cmd.Process.Pid), event.NewProcess)
			if want := tc.wantPath(link); ev.FilePath != want {
				t.Errorf("FILE_PATH is %d bytes, want the first %d bytes of the %d-byte path", len(ev.FilePath), len(want), len(link))
			}
			if ev.CommandLine != wantCmd {
				t.Errorf("COMMAND_LINE is %d bytes %q…, want the first 1024 bytes of argv (%d bytes)",
					len(ev.CommandLine), ev.CommandLine[:min(40, len(ev.CommandLine))], len(wantCmd))
			}
		})
	}
}

// TestExecThroughDescriptor runs programs through a descriptor, as fileless
// malware does: an anonymous in-memory file (memfd_create) and a file unlinked
// after it was opened. NEW_PROCESS names the file as /proc/<pid>/exe does, not
// the descriptor's name exec was given.
func TestExecThroughDescriptor(t *testing.T) {
	bin, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	// readOnly reopens f read-only and closes it: a file open for writing
	// cannot be run (ETXTBSY).
	readOnly := func(f *os.File) *os.File {
		t.Helper()
		defer f.Close()
		ro, err := os.Open(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
		if err != nil {
			t.Fatal(err)
		}
		return ro
	}
	memfd := func() (*os.File, string) {
		fd, err := unix.MemfdCreate("vigil-test", 0)
		if err != nil {
			t.Skipf("skipping: memfd_create: %v", err)
		}
		f := os.NewFile(uintptr(fd), "memfd")
		if _, err := f.Write(bin); err != nil {
			t.Fatal(err)
		}
		return readOnly(f), "/memfd:vigil-test (deleted)"
	}
	unlinked := func() (*os.File, string) {
		path := filepath.Join(t.TempDir(), "gone")
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o755)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(bin); err != nil {
			t.Fatal(err)
		}
		ro := readOnly(f)
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		return ro, path + " (deleted)"
	}
	_, events := startCollector(t)
	for _, tc := range []struct {
		name string
		file func() (*os.File, string)
		exe  string // how exec is given the file, its descriptor being 3
	}{
		{"memfd through /proc/self/fd", memfd, "/proc/self/fd/3"},
		{"memfd through /dev/fd", memfd, "/dev/fd/3"},
		{"unlinked file through /proc/self/fd", unlinked, "/proc/self/fd/3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, want := tc.file()
			defer f.Close()
			cmd := exec.Command(tc.exe, "vigil-fd-exec")
			cmd.ExtraFiles = []*os.File{f}
			if err := cmd.Run(); err != nil {
				t.Fatalf("%s: %v", tc.exe, err)
			}
			pid := uint32(cmd.Process.Pid)
			ev := waitFor(t, events, "NEW_PROCESS run through a descriptor", func(ev *event.Event) bool {
				return ev.Type == event.NewProcess && ev.PID == pid
			})
			if ev.FilePath != want {
				t.Errorf("FILE_PATH = %q, want %q", ev.FilePath, want)
			}
		})
	}
}
