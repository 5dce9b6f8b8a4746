package collector_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/sensor/collector"
)

// io_uring opcodes of the file operations (uapi linux/io_uring.h).
const (
	ioringOpMkdirat   = 37
	ioringOpSymlinkat = 38
	ioringOpLinkat    = 39
	ioringOpFtruncate = 55 // from 6.9
)

// fileOp submits one file operation request: opcode on fd, with the paths
// as addr and addr2 (off) and the integers as len, op_flags and off.
func (r *uring) fileOp(what string, opcode uint8, async bool, fd int32, addr, addr2 string, off uint64, length, opFlags uint32) error {
	var keep []*byte
	ptr := func(s string) uint64 {
		if s == "" {
			return 0
		}
		p, _ := unix.BytePtrFromString(s)
		keep = append(keep, p)
		return uint64(uintptr(unsafe.Pointer(p)))
	}
	a, a2 := ptr(addr), ptr(addr2)
	if a2 != 0 {
		off = a2
	}
	res, err := r.submit(func(sqe []byte) { sqeSet(sqe, opcode, async, fd, off, a, length, opFlags) })
	runtime.KeepAlive(keep)
	if err == nil && res < 0 {
		err = fmt.Errorf("%s: %w", what, unix.Errno(-res))
	}
	return err
}

// TestIoUringFileOps makes directories, links and truncations through
// io_uring, in the submitting thread, an io-wq worker and the SQ polling
// thread, and checks their events are those of the syscalls; a failed request
// and one in a directory not watched report nothing. FTRUNCATE is skipped on
// kernels without it (before 6.9).
func TestIoUringFileOps(t *testing.T) {
	dir := watchedDir(t)
	other := watchedDir(t) // not watched
	c, events := startCollectorWith(t, collector.Options{FilePrefixes: []string{dir + "/"}})
	r := newTestRing(t, c, 0)
	dfd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dfd)
	f := filepath.Join(dir, "f")
	if err := os.WriteFile(f, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(f, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	for i, m := range ringModes(r, newTestRing(t, c, ioringSetupSQPoll)) {
		t.Run(m.name, func(t *testing.T) {
			p := func(name string) string { return filepath.Join(dir, fmt.Sprintf("%s%d", name, i)) }
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			// Failed and unwatched requests first: the events checked after
			// them would come later.
			if err := m.ring.fileOp("mkdirat", ioringOpMkdirat, m.async, int32(dfd), "f", "", 0, 0o700, 0); !errors.Is(err, unix.EEXIST) {
				t.Fatalf("mkdirat over a file: %v", err)
			}
			must(m.ring.fileOp("mkdirat", ioringOpMkdirat, m.async, unix.AT_FDCWD, filepath.Join(other, fmt.Sprint("d", i)), "", 0, 0o700, 0))

			must(m.ring.fileOp("mkdirat", ioringOpMkdirat, m.async, int32(dfd), filepath.Base(p("d")), "", 0, 0o750, 0))
			waitFor(t, events, "DIR_CREATE by io_uring", func(ev *event.Event) bool {
				if ev.Type == event.DirCreate && (ev.TargetPath == f || strings.HasPrefix(ev.TargetPath, other)) {
					t.Errorf("failed or unwatched mkdirat reported: %s", ev.TargetPath)
				}
				return ev.Type == event.DirCreate && ev.TargetPath == p("d") && ev.FileMode == 0o750
			})
			must(m.ring.fileOp("symlinkat", ioringOpSymlinkat, m.async, int32(dfd), "../x/./y", filepath.Base(p("s")), 0, 0, 0))
			checkFileOp(t, events, "FILE_LINK (symbolic) by io_uring", fileOpWant{typ: event.FileLink, target: p("s"), linkTarget: "../x/./y", linkType: "symbolic"})
			// linkat: old dfd in fd, new dfd in len, flags in op_flags.
			must(m.ring.fileOp("linkat", ioringOpLinkat, m.async, unix.AT_FDCWD, f, filepath.Base(p("h")), 0, uint32(dfd), 0))
			checkFileOp(t, events, "FILE_LINK (hard) by io_uring", fileOpWant{typ: event.FileLink, target: p("h"), linkTarget: f, linkType: "hard"})
			must(m.ring.fileOp("unlinkat", ioringOpUnlinkat, m.async, unix.AT_FDCWD, p("d"), "", 0, 0, unix.AT_REMOVEDIR))
			checkFileOp(t, events, "DIR_DELETE by io_uring", fileOpWant{typ: event.DirDelete, target: p("d")})

			size := uint64(1<<32 + i)
			err := m.ring.fileOp("ftruncate", ioringOpFtruncate, m.async, int32(fd), "", "", size, 0, 0)
			if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) {
				t.Logf("IORING_OP_FTRUNCATE not on this kernel: %v", err)
				return
			}
			must(err)
			checkFileOp(t, events, "FILE_TRUNCATE by io_uring", fileOpWant{typ: event.FileTruncate, target: f, size: size})
		})
	}
	for _, u := range c.Unavailable() {
		if strings.Contains(u, "IORING_OP") {
			t.Errorf("io_uring file operation unavailable on this kernel: %s", u)
		}
	}
}

// TestMissingUringFileOps: a kernel without the request type of an io_uring
// file operation has it listed as unavailable.
func TestMissingUringFileOps(t *testing.T) {
	none := hookSpec(t, "btf_trace_other")
	got := collector.MissingUringFileOps(none, true)
	if len(got) != 3 || !strings.Contains(got[2], "IORING_OP_FTRUNCATE") || !strings.Contains(got[2], "io_ftrunc") {
		t.Errorf("missing on a kernel without them: %q", got)
	}
	if got := collector.MissingUringFileOps(none, false); got != nil {
		t.Errorf("without the io_uring hooks: %q", got)
	}
}
