package collector_test

import (
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

// rawSys makes syscall nr with string arguments given as strings and the
// others as integers, and fails the test if it fails: the wrappers of
// golang.org/x/sys/unix call the *at form of most of these.
func rawSys(t *testing.T, nr uintptr, args ...any) {
	t.Helper()
	var a [6]uintptr
	var keep []*byte
	for i, x := range args {
		switch v := x.(type) {
		case string:
			p, err := unix.BytePtrFromString(v)
			if err != nil {
				t.Fatal(err)
			}
			keep = append(keep, p)
			a[i] = uintptr(unsafe.Pointer(p))
		case int:
			a[i] = uintptr(v)
		default:
			t.Fatalf("argument %d: %T", i, x)
		}
	}
	_, _, errno := unix.Syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5])
	runtime.KeepAlive(keep)
	if errno != 0 {
		t.Fatalf("syscall %d%v: %v", nr, args, errno)
	}
}

// fileOpWant is the part of an event a file operation test checks.
type fileOpWant struct {
	typ, target, linkTarget, linkType, fileType, op string
	mode                                            uint32
	uid, gid                                        int64
	size                                            uint64
}

func checkFileOp(t *testing.T, events <-chan event.Event, what string, want fileOpWant) {
	t.Helper()
	me := uint32(os.Getpid())
	ev := waitFor(t, events, what, func(ev *event.Event) bool {
		return ev.PID == me && ev.Type == want.typ && ev.TargetPath == want.target
	})
	checkSelf(t, ev)
	got := fileOpWant{typ: ev.Type, target: ev.TargetPath, linkTarget: ev.LinkTarget, linkType: ev.LinkType,
		fileType: ev.FileType, op: ev.Operation, mode: ev.FileMode, uid: ev.OwnerUID, gid: ev.OwnerGID, size: ev.FileSize}
	if got != want {
		t.Errorf("%s: got %+v, want %+v", what, got, want)
	}
}

// TestFileOps makes links, directories, nodes, owner changes and truncations
// with each syscall, through paths absolute and relative to a directory
// descriptor, and checks each event; the same operations in a directory not
// watched report nothing.
func TestFileOps(t *testing.T) {
	dir := watchedDir(t)
	other := watchedDir(t) // not watched
	_, events := startCollectorWith(t, collector.Options{FilePrefixes: []string{dir + "/"}})
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
	otherFile := filepath.Join(other, "x")
	if err := os.WriteFile(otherFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p := func(name string) string { return filepath.Join(dir, name) }
	const unchanged = 0xffffffff // chown's -1
	for _, c := range []struct {
		name string
		nr   uintptr
		args []any
		want fileOpWant
	}{
		{"symlink, relative target", unix.SYS_SYMLINK, []any{"../t/./x", p("s1")},
			fileOpWant{typ: event.FileLink, target: p("s1"), linkTarget: "../t/./x", linkType: "symbolic"}},
		{"symlinkat", unix.SYS_SYMLINKAT, []any{"/etc/shadow", dfd, "s2"},
			fileOpWant{typ: event.FileLink, target: p("s2"), linkTarget: "/etc/shadow", linkType: "symbolic"}},
		{"symlink in an unwatched directory to a watched file", unix.SYS_SYMLINK, []any{f, filepath.Join(other, "s3")},
			fileOpWant{typ: event.FileLink, target: filepath.Join(other, "s3"), linkTarget: f, linkType: "symbolic"}},
		{"link", unix.SYS_LINK, []any{f, p("h1")},
			fileOpWant{typ: event.FileLink, target: p("h1"), linkTarget: f, linkType: "hard"}},
		{"linkat", unix.SYS_LINKAT, []any{dfd, "f", dfd, "h2", 0},
			fileOpWant{typ: event.FileLink, target: p("h2"), linkTarget: f, linkType: "hard"}},
		{"linkat of a descriptor", unix.SYS_LINKAT, []any{fd, "", dfd, "h3", unix.AT_EMPTY_PATH},
			fileOpWant{typ: event.FileLink, target: p("h3"), linkTarget: f, linkType: "hard"}},
		{"link of an unwatched file into a watched directory", unix.SYS_LINK, []any{otherFile, p("h4")},
			fileOpWant{typ: event.FileLink, target: p("h4"), linkTarget: otherFile, linkType: "hard"}},
		{"mkdir", unix.SYS_MKDIR, []any{p("d1"), 0o750},
			fileOpWant{typ: event.DirCreate, target: p("d1"), mode: 0o750}},
		{"mkdirat", unix.SYS_MKDIRAT, []any{dfd, "d2", 0o1777},
			fileOpWant{typ: event.DirCreate, target: p("d2"), mode: 0o1777}},
		{"rmdir", unix.SYS_RMDIR, []any{p("d1")},
			fileOpWant{typ: event.DirDelete, target: p("d1")}},
		{"unlinkat of a directory", unix.SYS_UNLINKAT, []any{dfd, "d2", unix.AT_REMOVEDIR},
			fileOpWant{typ: event.DirDelete, target: p("d2")}},
		{"mknod of a FIFO", unix.SYS_MKNOD, []any{p("fifo"), unix.S_IFIFO | 0o640, 0},
			fileOpWant{typ: event.FileMknod, target: p("fifo"), fileType: "fifo", op: "mknod", mode: 0o640}},
		{"mknodat of a character device", unix.SYS_MKNODAT, []any{dfd, "null", unix.S_IFCHR | 0o666, int(unix.Mkdev(1, 3))},
			fileOpWant{typ: event.FileMknod, target: p("null"), fileType: "char", op: "mknodat", mode: 0o666}},
		{"chown", unix.SYS_CHOWN, []any{f, 1234, 5678},
			fileOpWant{typ: event.FileChown, target: f, uid: 1234, gid: 5678}},
		{"lchown, group unchanged", unix.SYS_LCHOWN, []any{p("s1"), 0, unchanged},
			fileOpWant{typ: event.FileChown, target: p("s1"), uid: 0, gid: -1}},
		{"fchown", unix.SYS_FCHOWN, []any{fd, unchanged, 7},
			fileOpWant{typ: event.FileChown, target: f, uid: -1, gid: 7}},
		{"fchownat", unix.SYS_FCHOWNAT, []any{dfd, "f", 42, 43, 0},
			fileOpWant{typ: event.FileChown, target: f, uid: 42, gid: 43}},
		{"fchownat of a descriptor", unix.SYS_FCHOWNAT, []any{fd, "", 44, 45, unix.AT_EMPTY_PATH},
			fileOpWant{typ: event.FileChown, target: f, uid: 44, gid: 45}},
		{"truncate", unix.SYS_TRUNCATE, []any{f, 3},
			fileOpWant{typ: event.FileTruncate, target: f, size: 3}},
		{"ftruncate beyond 4 GiB", unix.SYS_FTRUNCATE, []any{fd, 5 << 30},
			fileOpWant{typ: event.FileTruncate, target: f, size: 5 << 30}},
		{"ftruncate to nothing", unix.SYS_FTRUNCATE, []any{fd, 0},
			fileOpWant{typ: event.FileTruncate, target: f, size: 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rawSys(t, c.nr, c.args...)
			checkFileOp(t, events, c.name, c.want)
		})
	}

	// Not watched: each operation in the other directory, then one watched
	// that ends the wait. None of the first may be reported.
	o := func(name string) string { return filepath.Join(other, name) }
	for _, c := range []struct {
		nr   uintptr
		args []any
	}{
		{unix.SYS_SYMLINK, []any{"x", o("s")}}, {unix.SYS_LINK, []any{otherFile, o("h")}},
		{unix.SYS_MKDIR, []any{o("d"), 0o700}}, {unix.SYS_RMDIR, []any{o("d")}},
		{unix.SYS_MKNOD, []any{o("fifo"), unix.S_IFIFO | 0o600, 0}},
		{unix.SYS_CHOWN, []any{otherFile, 1, 1}}, {unix.SYS_TRUNCATE, []any{otherFile, 0}},
	} {
		rawSys(t, c.nr, c.args...)
	}
	rawSys(t, unix.SYS_MKDIR, p("end"), 0o700)
	waitFor(t, events, "DIR_CREATE of the last directory", func(ev *event.Event) bool {
		if strings.HasPrefix(ev.TargetPath, other) || strings.HasPrefix(ev.LinkTarget, other) {
			t.Errorf("unwatched %s reported: %s -> %q", ev.Type, ev.TargetPath, ev.LinkTarget)
		}
		return ev.Type == event.DirCreate && ev.TargetPath == p("end")
	})
}

// TestCreat checks that creat(2) is reported as an open that creates, writes
// and truncates (or writes and truncates, for a file that exists).
func TestCreat(t *testing.T) {
	dir := watchedDir(t)
	_, events := startCollectorWith(t, collector.Options{FilePrefixes: []string{dir + "/"}})
	me := uint32(os.Getpid())
	f := filepath.Join(dir, "new")
	for _, want := range []string{"write,create,truncate", "write,truncate"} {
		name, err := unix.BytePtrFromString(f)
		if err != nil {
			t.Fatal(err)
		}
		// unix.Creat calls openat: creat(2) itself is wanted here.
		fd, _, errno := unix.Syscall(unix.SYS_CREAT, uintptr(unsafe.Pointer(name)), 0o644, 0)
		runtime.KeepAlive(name)
		if errno != 0 {
			t.Fatalf("creat: %v", errno)
		}
		unix.Close(int(fd))
		ev := waitFor(t, events, "FILE_OPEN by creat", func(ev *event.Event) bool {
			return ev.PID == me && ev.Type == event.FileOpen && ev.TargetPath == f
		})
		if ev.FileFlags != want {
			t.Errorf("FILE_FLAGS = %q, want %q", ev.FileFlags, want)
		}
	}
}

// TestFileChangePrefixes checks a prefix watched for changes only: an open
// that reads is not reported, one that writes or creates is, and so are the
// changes.
func TestFileChangePrefixes(t *testing.T) {
	dir := watchedDir(t)
	c, events := startCollectorWith(t, collector.Options{FilePrefixes: []string{}, FileChangePrefixes: []string{dir + "/"}})
	me := uint32(os.Getpid())
	f := filepath.Join(dir, "lib.so")
	if err := os.WriteFile(f, []byte("x"), 0o600); err != nil { // creates: reported
		t.Fatal(err)
	}
	ev := waitFor(t, events, "FILE_OPEN that creates", func(ev *event.Event) bool {
		return ev.PID == me && ev.Type == event.FileOpen && ev.TargetPath == f
	})
	if ev.FileFlags != "write,create,truncate" {
		t.Errorf("FILE_FLAGS = %q", ev.FileFlags)
	}
	before := c.Stats()
	for range 3 {
		if _, err := os.ReadFile(f); err != nil { // reads: not reported
			t.Fatal(err)
		}
	}
	fd, err := os.OpenFile(f, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	fd.Close()
	rawSys(t, unix.SYS_CHOWN, f, 1, 2)
	waitFor(t, events, "FILE_OPEN for writing, then FILE_CHOWN", func(ev *event.Event) bool {
		if ev.PID != me || ev.TargetPath != f {
			return false
		}
		if ev.Type == event.FileOpen && ev.FileFlags != "write" {
			t.Errorf("open reported with FILE_FLAGS %q: only the open for writing may be", ev.FileFlags)
		}
		return ev.Type == event.FileChown
	})
	if after := c.Stats(); after.FileFiltered < before.FileFiltered+3 {
		t.Errorf("FILE_FILTERED grew by %d, want the 3 reads at least", after.FileFiltered-before.FileFiltered)
	}
}
