package collector_test

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/sensor/collector"
)

// Exit codes of overlayHelper.
const (
	overlayHelperNoMount = 3 // the overlay could not be mounted (its message on stderr)
	overlayHelperFailed  = 4 // anything else
)

// overlayHelper runs in a private mount namespace (the test starts it so): it
// mounts a tmpfs on $VIGIL_OVERLAY_DIR, an overlay of two directories of it,
// and runs from the merged directory, each with the argument
// $VIGIL_OVERLAY_MARKER, a copy of /bin/true that is only in the lower layer
// (lower-true), one written into the merged directory (upper-true) and one of
// the lower layer whose mode was changed through the merged directory, which
// copies it up (copied-up-true).
func overlayHelper() int {
	dir, m := os.Getenv("VIGIL_OVERLAY_DIR"), os.Getenv("VIGIL_OVERLAY_MARKER")
	fail := func(code int, err error) int {
		fmt.Fprintln(os.Stderr, err)
		return code
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "mode=0755"); err != nil {
		return fail(overlayHelperFailed, fmt.Errorf("mount tmpfs: %w", err))
	}
	lower, upper, work, merged := filepath.Join(dir, "lower"), filepath.Join(dir, "upper"), filepath.Join(dir, "work"), filepath.Join(dir, "merged")
	for _, d := range []string{lower, upper, work, merged} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return fail(overlayHelperFailed, err)
		}
	}
	for _, name := range []string{"lower-true", "copied-up-true"} {
		if err := copyFile("/bin/true", filepath.Join(lower, name)); err != nil {
			return fail(overlayHelperFailed, err)
		}
	}
	opts := "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		return fail(overlayHelperNoMount, fmt.Errorf("mount overlay %s: %w", opts, err))
	}
	if err := copyFile("/bin/true", filepath.Join(merged, "upper-true")); err != nil {
		return fail(overlayHelperFailed, err)
	}
	if err := os.Chmod(filepath.Join(merged, "copied-up-true"), 0o750); err != nil {
		return fail(overlayHelperFailed, err)
	}
	for _, name := range []string{"lower-true", "upper-true", "copied-up-true"} {
		if err := exec.Command(filepath.Join(merged, name), m).Run(); err != nil {
			return fail(overlayHelperFailed, fmt.Errorf("run %s: %w", name, err))
		}
	}
	return 0
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return fmt.Errorf("copy %s to %s: %w", from, to, err)
	}
	return dst.Close()
}

// overlayExecs runs overlayHelper in a private mount namespace and returns
// EXE_UPPER_LAYER of the NEW_PROCESS of each program it runs, by name.
func overlayExecs(t *testing.T, events <-chan event.Event) map[string]uint32 {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	m := marker(t)
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=overlay", "VIGIL_OVERLAY_DIR="+t.TempDir(), "VIGIL_OVERLAY_MARKER="+m)
	// A mount namespace of its own, / made private (Go does so for
	// CLONE_NEWNS): none of its mounts reach the host's.
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if cmd.ProcessState != nil && cmd.ProcessState.ExitCode() == overlayHelperNoMount {
			t.Skipf("skipping: the kernel mounts no overlay here: %s", stderr.String())
		}
		t.Fatalf("overlay helper: %v: %s", err, stderr.String())
	}
	got := map[string]uint32{}
	for len(got) < 3 {
		ev := nextWith(t, events, event.NewProcess, m)
		name := filepath.Base(ev.FilePath)
		if _, dup := got[name]; dup || !strings.HasSuffix(name, "-true") {
			t.Fatalf("unexpected NEW_PROCESS %s %q", ev.FilePath, ev.CommandLine)
		}
		got[name] = ev.ExeUpperLayer
	}
	return got
}

// TestExeUpperLayer runs programs from an overlay: the one only in the lower
// layer is reported with EXE_UPPER_LAYER 0, the one written through the
// merged directory and the one copied up by a change of its mode with 1.
// With the check disabled all are 0 and the capability is missing.
func TestExeUpperLayer(t *testing.T) {
	if err := collector.Supported(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	if os.Getuid() != 0 {
		t.Skip("skipping: mounting an overlay needs root")
	}
	fss, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(strings.Fields(string(fss)), "overlay") {
		t.Skip("skipping: the kernel has no overlayfs (not built in, module not loaded)")
	}
	t.Run("checked", func(t *testing.T) {
		c, events := startCollector(t)
		if slices.Contains(c.Missing(), "exe_upper_layer") {
			t.Fatalf("exe_upper_layer missing on a kernel with overlayfs: %v", c.Unavailable())
		}
		want := map[string]uint32{"lower-true": 0, "upper-true": 1, "copied-up-true": 1}
		if got := overlayExecs(t, events); !maps.Equal(got, want) {
			t.Errorf("EXE_UPPER_LAYER by program %v, want %v", got, want)
		}
	})
	t.Run("disabled", func(t *testing.T) {
		c, events := startCollectorWith(t, collector.Options{Disable: []string{"exe_upper_layer"}})
		if !slices.Contains(c.Missing(), "exe_upper_layer") {
			t.Errorf("Missing() = %v, want exe_upper_layer in it", c.Missing())
		}
		want := map[string]uint32{"lower-true": 0, "upper-true": 0, "copied-up-true": 0}
		if got := overlayExecs(t, events); !maps.Equal(got, want) {
			t.Errorf("EXE_UPPER_LAYER by program %v, want %v", got, want)
		}
	})
}
