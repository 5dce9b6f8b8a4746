package collector_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/sensor/bpf"
	"github.com/vigil-sec/vigil/sensor/collector"
)

// waitFor returns the first event match accepts, or fails after 10s.
func waitFor(t *testing.T, events <-chan event.Event, what string, match func(*event.Event) bool) event.Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if match(&ev) {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s within 10s", what)
			return event.Event{}
		}
	}
}

// checkSelf checks the process context of an event caused by this test process.
func checkSelf(t *testing.T, ev event.Event) {
	t.Helper()
	self, _ := os.Executable()
	if ev.PID != uint32(os.Getpid()) || ev.PPID != uint32(os.Getppid()) || ev.UID != uint32(os.Getuid()) ||
		ev.EUID != uint32(os.Geteuid()) || ev.FilePath != self || ev.CommandLine != strings.Join(os.Args, " ") {
		t.Errorf("%s process context: pid %d ppid %d uid %d euid %d exe %q cmd %q; want pid %d ppid %d uid %d euid %d exe %q",
			ev.Type, ev.PID, ev.PPID, ev.UID, ev.EUID, ev.FilePath, ev.CommandLine, os.Getpid(), os.Getppid(), os.Getuid(), os.Geteuid(), self)
	}
	if os.Getuid() == 0 && ev.User != "root" {
		t.Errorf("%s USER = %q, want root", ev.Type, ev.User)
	}
	if ev.SensorID != "s-test" || ev.Hostname != "h-test" || len(ev.ID) != 26 {
		t.Errorf("%s routing: %q %q %q", ev.Type, ev.SensorID, ev.Hostname, ev.ID)
	}
}

// watchedDir makes a directory outside the default prefixes, to be configured
// as the only watched prefix.
func watchedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/var/tmp", "vigil-watch-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// TestFileOpenLongPaths opens watched files deep down a tree and at the end of
// a long path: a path of more components than the kernel walks, or longer than
// a record carries, is reported by its end after "...", whatever its prefix
// (which the kernel does not see).
func TestFileOpenLongPaths(t *testing.T) {
	dir := watchedDir(t)
	_, events := startCollectorWith(t, collector.Options{FilePrefixes: []string{dir + "/"}})
	me := uint32(os.Getpid())
	deep := dir + strings.Repeat("/d", 100) + "/deep"
	long := dir + strings.Repeat("/"+strings.Repeat("l", 100), 12) + "/long"
	short := dir + "/short"
	for _, f := range []string{deep, long, short} {
		if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		what, path string
		min        int // bytes of the path's end kept at least
	}{{"100 directories down", deep, 2 * 60}, {"a path over 1 KiB", long, 900}} {
		base := "/" + filepath.Base(c.path)
		ev := waitFor(t, events, "FILE_OPEN "+c.what, func(ev *event.Event) bool {
			return ev.PID == me && ev.Type == event.FileOpen && strings.HasSuffix(ev.TargetPath, base)
		})
		tail, cut := strings.CutPrefix(ev.TargetPath, "...")
		if !cut || !strings.HasSuffix(c.path, tail) || len(ev.TargetPath) > 1023 || len(tail) < c.min {
			t.Errorf("%s: path %q (%d bytes), want \"...\" and the end of %q, at most 1,023 bytes", c.what, ev.TargetPath, len(ev.TargetPath), c.path)
		}
	}
	// A path that fits is whole.
	waitFor(t, events, "FILE_OPEN of a short path", func(ev *event.Event) bool {
		return ev.PID == me && ev.Type == event.FileOpen && ev.TargetPath == short
	})
}

// TestFileOpenRawPath opens watched files through paths that climb with "..",
// absolute and relative (to the working directory and to a directory
// descriptor), by open, openat, openat2 and creat: FILE_OPEN has the file's
// resolved path and RAW_PATH the path exactly as passed. An open by a plain
// path, absolute or relative, and one through io_uring have no RAW_PATH.
func TestFileOpenRawPath(t *testing.T) {
	dir := watchedDir(t)
	sub := filepath.Join(dir, "www", "html")
	if err := os.MkdirAll(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	names := []string{"open", "openat", "openat-dirfd", "openat2", "plain", "uring", "www/html/here"}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c, events := startCollectorWith(t, collector.Options{FilePrefixes: []string{dir + "/"}})
	t.Chdir(sub)
	me := uint32(os.Getpid())
	up := "../../" // from sub to dir
	base := filepath.Base(dir)
	d, err := unix.Open(filepath.Join(dir, "www"), unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(d)
	// open(2) and creat(2) themselves: Go opens by openat.
	sys := func(nr, arg uintptr) func(string) (int, error) {
		return func(p string) (int, error) {
			b, err := unix.BytePtrFromString(p)
			if err != nil {
				return -1, err
			}
			fd, _, errno := unix.Syscall(nr, uintptr(unsafe.Pointer(b)), arg, 0)
			if errno != 0 {
				return -1, errno
			}
			return int(fd), nil
		}
	}
	openat := func(dfd int) func(string) (int, error) {
		return func(p string) (int, error) { return unix.Openat(dfd, p, unix.O_RDONLY|unix.O_CLOEXEC, 0) }
	}
	openat2 := func(p string) (int, error) {
		return unix.Openat2(unix.AT_FDCWD, p, &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC})
	}
	for _, tc := range []struct {
		name, target, raw string
		open              func(string) (int, error)
		want              string // RAW_PATH
	}{
		{"open, absolute", "open", sub + "/" + up + "open", sys(unix.SYS_OPEN, unix.O_RDONLY), sub + "/" + up + "open"},
		{"openat, relative to the working directory", "openat", up + "openat", openat(unix.AT_FDCWD), up + "openat"},
		{"openat, relative to a directory", "openat-dirfd", "html/../../../" + base + "/openat-dirfd", openat(d),
			"html/../../../" + base + "/openat-dirfd"},
		{"openat2, absolute", "openat2", dir + "/www/../openat2", openat2, dir + "/www/../openat2"},
		{"creat, relative", "created", up + "created", sys(unix.SYS_CREAT, 0o600), up + "created"},
		{"open, plain", "plain", dir + "/plain", sys(unix.SYS_OPEN, unix.O_RDONLY), ""},
		{"openat, relative without dots", "www/html/here", "here", openat(unix.AT_FDCWD), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fd, err := tc.open(tc.raw)
			if err != nil {
				t.Fatalf("%q: %v", tc.raw, err)
			}
			unix.Close(fd)
			target := filepath.Join(dir, tc.target)
			ev := waitFor(t, events, "FILE_OPEN "+tc.name, func(ev *event.Event) bool {
				return ev.PID == me && ev.Type == event.FileOpen && ev.TargetPath == target
			})
			if ev.RawPath != tc.want {
				t.Errorf("RAW_PATH = %q, want %q (TARGET %q)", ev.RawPath, tc.want, ev.TargetPath)
			}
		})
	}
	if fallbacks {
		return // io_uring's hooks are the same with either syscall hook
	}
	// io_uring: the path as passed is not known at completion.
	r := newTestRing(t, c, 0)
	fd, err := r.openat(up+"uring", unix.O_RDONLY, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	ev := waitFor(t, events, "FILE_OPEN by io_uring", func(ev *event.Event) bool {
		return ev.PID == me && ev.Type == event.FileOpen && ev.TargetPath == filepath.Join(dir, "uring")
	})
	if ev.RawPath != "" {
		t.Errorf("io_uring open: RAW_PATH = %q, want empty", ev.RawPath)
	}
}

// TestFileChangeLongNames changes watched files through names longer than a
// record carries, padded with "./" as an attacker hides a path from a prefix
// filter: reported, the path cut at its end ("...").
func TestFileChangeLongNames(t *testing.T) {
	dir := watchedDir(t)
	other := watchedDir(t) // not watched
	_, events := startCollectorWith(t, collector.Options{FilePrefixes: []string{dir + "/"}})
	me := uint32(os.Getpid())
	pad := strings.Repeat("./", 600)
	src := filepath.Join(other, "payload")
	if err := os.WriteFile(src, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(src, dir+"/"+pad+"preload"); err != nil { // absolute: cut at 1,023 bytes
		t.Fatal(err)
	}
	ev := waitFor(t, events, "FILE_RENAME to a padded name", func(ev *event.Event) bool {
		return ev.PID == me && ev.Type == event.FileRename && ev.OldTargetPath == src
	})
	if !strings.HasPrefix(ev.TargetPath, dir+"/") || !strings.HasSuffix(ev.TargetPath, "...") {
		t.Errorf("TARGET = %q, want %s/ and the cut end \"...\"", ev.TargetPath, dir)
	}
	d, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(d)
	if err := unix.Unlinkat(d, pad+"preload", 0); err != nil { // relative to a watched directory
		t.Fatal(err)
	}
	ev = waitFor(t, events, "FILE_DELETE of a padded name", func(ev *event.Event) bool {
		return ev.PID == me && ev.Type == event.FileDelete && strings.HasPrefix(ev.TargetPath, dir+"/")
	})
	if !strings.HasSuffix(ev.TargetPath, "...") {
		t.Errorf("TARGET = %q, want the cut end \"...\"", ev.TargetPath)
	}
}

func TestFileEvents(t *testing.T) {
	dir := watchedDir(t)
	other := watchedDir(t) // not watched
	c, events := startCollectorWith(t, collector.Options{FilePrefixes: []string{dir + "/"}, FileExcludes: []string{dir + "/skip"}})
	me := uint32(os.Getpid())
	mine := func(typ, target string) func(*event.Event) bool {
		return func(ev *event.Event) bool { return ev.PID == me && ev.Type == typ && ev.TargetPath == target }
	}

	// Opens: create+write, write+truncate, read; an unwatched and an excluded one.
	f := filepath.Join(dir, "conf")
	if err := os.WriteFile(f, []byte("a"), 0o600); err != nil { // O_CREAT|O_TRUNC|O_WRONLY on a new file
		t.Fatal(err)
	}
	ev := waitFor(t, events, "FILE_OPEN (create)", mine(event.FileOpen, f))
	checkSelf(t, ev)
	if ev.FileFlags != "write,create,truncate" {
		t.Errorf("FILE_FLAGS of creating open = %q, want write,create,truncate", ev.FileFlags)
	}
	for _, o := range []struct {
		flags int
		want  string
	}{
		{os.O_WRONLY | os.O_TRUNC, "write,truncate"},
		{os.O_RDONLY, "read"},
		{os.O_RDWR | os.O_APPEND, "read,write"},
	} {
		fd, err := os.OpenFile(f, o.flags, 0)
		if err != nil {
			t.Fatal(err)
		}
		fd.Close()
		if ev := waitFor(t, events, "FILE_OPEN "+o.want, mine(event.FileOpen, f)); ev.FileFlags != o.want {
			t.Errorf("FILE_FLAGS = %q, want %q", ev.FileFlags, o.want)
		}
	}
	before := c.Stats()
	for _, p := range []string{filepath.Join(other, "x"), filepath.Join(dir, "skip-me")} {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	// Rename, chmod with the setuid bit, delete; the delete relative to a
	// directory descriptor.
	g := filepath.Join(dir, "conf.new")
	if err := os.Rename(f, g); err != nil {
		t.Fatal(err)
	}
	ev = waitFor(t, events, "FILE_RENAME", mine(event.FileRename, g))
	checkSelf(t, ev)
	if ev.OldTargetPath != f {
		t.Errorf("OLD_FILE_PATH = %q, want %q", ev.OldTargetPath, f)
	}
	if err := unix.Chmod(g, 0o4755); err != nil {
		t.Fatal(err)
	}
	if ev := waitFor(t, events, "FILE_CHMOD", mine(event.FileChmod, g)); ev.FileMode != 0o4755 {
		t.Errorf("FILE_MODE = %o, want 4755", ev.FileMode)
	}
	dfd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dfd)
	if err := unix.Unlinkat(dfd, "conf.new", 0); err != nil {
		t.Fatal(err)
	}
	checkSelf(t, waitFor(t, events, "FILE_DELETE", mine(event.FileDelete, g)))

	// A failed delete is not reported; a path with ".." is resolved.
	_ = os.Remove(filepath.Join(dir, "missing"))
	mid := c.Stats()
	// Watched only before cleaning: dir/../other/y is other/y.
	if err := os.WriteFile(filepath.Join(other, "y"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dir + "/../" + filepath.Base(other) + "/y"); err != nil {
		t.Fatal(err)
	}
	h := filepath.Join(dir, "h")
	if err := os.WriteFile(h, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(other + "/../" + filepath.Base(dir) + "//h"); err != nil { // not cleaned by Go
		t.Fatal(err)
	}
	waitFor(t, events, "FILE_DELETE via ..", func(ev *event.Event) bool {
		if ev.Type == event.FileDelete && strings.Contains(ev.TargetPath, "missing") {
			t.Errorf("failed unlink reported: %+v", ev)
		}
		if strings.HasPrefix(ev.TargetPath, other) || strings.Contains(ev.TargetPath, "skip-me") || strings.Contains(ev.TargetPath, "..") {
			t.Errorf("unwatched or excluded file reported: %s %s", ev.Type, ev.TargetPath)
		}
		return ev.Type == event.FileDelete && ev.TargetPath == h
	})
	after := c.Stats()
	if after.FileFiltered < before.FileFiltered+2 || after.FileMatched == 0 {
		t.Errorf("Stats before %+v after %+v: want ≥2 more filtered", before, after)
	}
	// Since mid, the kernel passed 3 events under dir (the two deletes with
	// "..", the open of h), and user space filtered out the first delete
	// (other/y once cleaned): 2 matched, and the filtered one counted.
	if got := after.FileMatched - mid.FileMatched; got != 2 {
		t.Errorf("FILE_MATCHED grew by %d since the deletes with \"..\", want 2 (stats %+v, then %+v)", got, mid, after)
	}
	if c.Stats().FileFiltered < after.FileFiltered {
		t.Errorf("FILE_FILTERED went down: %+v, then %+v", after, c.Stats())
	}
}

func TestTCPConnectAccept(t *testing.T) {
	_, events := startCollector(t)
	me := uint32(os.Getpid())
	for _, network := range []string{"tcp4", "tcp6"} {
		t.Run(network, func(t *testing.T) {
			addr := "127.0.0.1:0"
			if network == "tcp6" {
				addr = "[::1]:0"
			}
			l, err := net.Listen(network, addr)
			if err != nil {
				t.Skipf("skipping: %v", err)
			}
			defer l.Close()
			accepted := make(chan net.Conn, 1)
			go func() {
				c, err := l.Accept()
				if err == nil {
					accepted <- c
				}
			}()
			conn, err := net.Dial(network, l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			srv := <-accepted
			defer srv.Close()
			local := netip.MustParseAddrPort(conn.LocalAddr().String())
			remote := netip.MustParseAddrPort(l.Addr().String())

			ev := waitFor(t, events, "NETWORK_CONNECT", func(ev *event.Event) bool {
				return ev.Type == event.NetworkConnect && ev.PID == me && ev.SourcePort == local.Port()
			})
			checkSelf(t, ev)
			if ev.Protocol != "tcp" || ev.SourceIP != local.Addr().String() || ev.DestIP != remote.Addr().String() ||
				ev.DestPort != remote.Port() || ev.ErrorCode != 0 {
				t.Errorf("connect: %s %s:%d -> %s:%d err %d; want tcp %s -> %s", ev.Protocol, ev.SourceIP, ev.SourcePort,
					ev.DestIP, ev.DestPort, ev.ErrorCode, local, remote)
			}
			ev = waitFor(t, events, "NETWORK_ACCEPT", func(ev *event.Event) bool {
				return ev.Type == event.NetworkAccept && ev.PID == me && ev.SourcePort == local.Port()
			})
			checkSelf(t, ev)
			if ev.Protocol != "tcp" || ev.SourceIP != local.Addr().String() || ev.DestIP != remote.Addr().String() || ev.DestPort != remote.Port() {
				t.Errorf("accept: %s %s:%d -> %s:%d; want tcp %s -> %s", ev.Protocol, ev.SourceIP, ev.SourcePort, ev.DestIP, ev.DestPort, local, remote)
			}
		})
	}
	t.Run("refused", func(t *testing.T) {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := netip.MustParseAddrPort(l.Addr().String()).Port()
		l.Close()
		if _, err := net.Dial("tcp4", l.Addr().String()); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("dial closed port: %v", err)
		}
		ev := waitFor(t, events, "refused NETWORK_CONNECT", func(ev *event.Event) bool {
			return ev.Type == event.NetworkConnect && ev.PID == me && ev.DestPort == port
		})
		if ev.ErrorCode != int32(syscall.ECONNREFUSED) {
			t.Errorf("ERROR_CODE = %d, want %d (ECONNREFUSED)", ev.ErrorCode, syscall.ECONNREFUSED)
		}
	})
	// A connect that fails before sending its SYN (a multicast destination:
	// ENETUNREACH) is reported by the syscall's exit, also from a socket made
	// right after one whose non-blocking connect was refused by the
	// handshake: the kernel often hands the new socket the same memory.
	t.Run("unreachable after a refused non-blocking connect", func(t *testing.T) {
		runtime.LockOSThread() // the sensor tells connects apart by thread too
		defer runtime.UnlockOSThread()
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := netip.MustParseAddrPort(l.Addr().String()).Port()
		l.Close()
		for i := range 10 {
			fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := unix.Connect(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: int(closed)}); err != nil && err != unix.EINPROGRESS && err != unix.ECONNREFUSED {
				t.Fatal(err)
			}
			waitFor(t, events, "refused NETWORK_CONNECT", func(ev *event.Event) bool {
				return ev.Type == event.NetworkConnect && ev.PID == me && ev.DestPort == closed
			})
			unix.Close(fd)
			port := uint16(20000 + i)
			fd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			err = unix.Connect(fd, &unix.SockaddrInet4{Addr: [4]byte{224, 0, 0, 1}, Port: int(port)})
			unix.Close(fd)
			if err != unix.ENETUNREACH {
				t.Fatalf("connect to 224.0.0.1: %v, want ENETUNREACH", err)
			}
			ev := waitFor(t, events, fmt.Sprintf("unreachable NETWORK_CONNECT %d", i), func(ev *event.Event) bool {
				return ev.Type == event.NetworkConnect && ev.PID == me && ev.DestIP == "224.0.0.1" && ev.DestPort == port
			})
			if ev.ErrorCode != int32(unix.ENETUNREACH) {
				t.Errorf("ERROR_CODE = %d, want %d (ENETUNREACH)", ev.ErrorCode, unix.ENETUNREACH)
			}
		}
	})
}

func TestUDP(t *testing.T) {
	_, events := startCollector(t)
	me := uint32(os.Getpid())
	for _, network := range []string{"udp4", "udp6"} {
		t.Run(network, func(t *testing.T) {
			ip := "127.0.0.1"
			if network == "udp6" {
				ip = "::1"
			}
			srv, err := net.ListenUDP(network, &net.UDPAddr{IP: net.ParseIP(ip)})
			if err != nil {
				t.Skipf("skipping: %v", err)
			}
			defer srv.Close()
			dst := netip.MustParseAddrPort(srv.LocalAddr().String())

			// connect(): reported with its result.
			conn, err := net.DialUDP(network, nil, srv.LocalAddr().(*net.UDPAddr))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			local := netip.MustParseAddrPort(conn.LocalAddr().String())
			ev := waitFor(t, events, "UDP connect", func(ev *event.Event) bool {
				return ev.Type == event.NetworkConnect && ev.PID == me && ev.Protocol == "udp" && ev.SourcePort == local.Port()
			})
			checkSelf(t, ev)
			if ev.SourceIP != ip || ev.DestIP != ip || ev.DestPort != dst.Port() || ev.ErrorCode != 0 {
				t.Errorf("udp connect: %s:%d -> %s:%d err %d", ev.SourceIP, ev.SourcePort, ev.DestIP, ev.DestPort, ev.ErrorCode)
			}

			// sendto() on an unconnected socket: the first datagram to a
			// destination is reported, the next ones are not.
			un, err := net.ListenUDP(network, &net.UDPAddr{IP: net.ParseIP(ip)})
			if err != nil {
				t.Fatal(err)
			}
			defer un.Close()
			from := netip.MustParseAddrPort(un.LocalAddr().String())
			for range 3 {
				if _, err := un.WriteToUDP([]byte("x"), srv.LocalAddr().(*net.UDPAddr)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := un.WriteToUDP([]byte("x"), conn.LocalAddr().(*net.UDPAddr)); err != nil {
				t.Fatal(err)
			}
			n := 0
			waitFor(t, events, "UDP sendto", func(ev *event.Event) bool {
				if ev.Type != event.NetworkConnect || ev.PID != me || ev.SourcePort != from.Port() {
					return false
				}
				if ev.DestPort == dst.Port() {
					n++
					if ev.SourceIP != ip || ev.DestIP != ip || ev.Protocol != "udp" {
						t.Errorf("udp sendto: %s %s:%d -> %s:%d", ev.Protocol, ev.SourceIP, ev.SourcePort, ev.DestIP, ev.DestPort)
					}
				}
				return ev.DestPort == local.Port() // the last destination
			})
			if n != 1 {
				t.Errorf("%d events for 3 datagrams to one destination, want 1", n)
			}

			// A socket made after one closes (the kernel may give it the
			// same memory) sends its first datagram there: reported again.
			for i := range 20 {
				c, err := net.ListenUDP(network, &net.UDPAddr{IP: net.ParseIP(ip)})
				if err != nil {
					t.Fatal(err)
				}
				port := netip.MustParseAddrPort(c.LocalAddr().String()).Port()
				if _, err := c.WriteToUDP([]byte("x"), srv.LocalAddr().(*net.UDPAddr)); err != nil {
					t.Fatal(err)
				}
				c.Close()
				waitFor(t, events, fmt.Sprintf("UDP sendto from socket %d after a close", i), func(ev *event.Event) bool {
					return ev.Type == event.NetworkConnect && ev.PID == me && ev.SourcePort == port && ev.DestPort == dst.Port()
				})
				time.Sleep(20 * time.Millisecond) // past an RCU grace period: the freed socket's memory can be reused
			}
		})
	}
}

// dnsQuery builds a DNS query for name and type.
func dnsQuery(name string, qtype uint16) []byte {
	b := []byte{0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}
	for _, l := range strings.Split(name, ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0, byte(qtype>>8), byte(qtype), 0, 1)
}

func TestDNSRequest(t *testing.T) {
	_, events := startCollector(t)
	me := uint32(os.Getpid())
	// A resolver on 127.0.0.1:53 when the port is free (the query is captured as
	// it is sent, answered or not).
	if srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}); err == nil {
		defer srv.Close()
	}
	b := make([]byte, 4)
	rand.Read(b)
	name := "vigil-" + hex.EncodeToString(b) + ".example.com"
	for _, q := range []struct {
		network, ip string
		qtype       uint16
		want        string
		connected   bool
	}{
		{"udp4", "127.0.0.1", 1, "A", false},
		{"udp4", "127.0.0.1", 28, "AAAA", true},
		{"udp6", "::1", 16, "TXT", false},
	} {
		dst := &net.UDPAddr{IP: net.ParseIP(q.ip), Port: 53}
		var local netip.AddrPort
		if q.connected { // send() on a connected socket, as the glibc resolver does
			c, err := net.DialUDP(q.network, nil, dst)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			local = netip.MustParseAddrPort(c.LocalAddr().String())
			if err := syscall.Sendto(fdOf(t, c), dnsQuery(name, q.qtype), 0, nil); err != nil {
				t.Fatal(err)
			}
		} else {
			c, err := net.ListenUDP(q.network, nil)
			if err != nil {
				t.Skipf("skipping %s: %v", q.network, err)
			}
			defer c.Close()
			local = netip.MustParseAddrPort(c.LocalAddr().String())
			if _, err := c.WriteToUDP(dnsQuery(name, q.qtype), dst); err != nil {
				t.Fatal(err)
			}
		}
		ev := waitFor(t, events, "DNS_REQUEST "+q.want, func(ev *event.Event) bool {
			return ev.Type == event.DNSRequest && ev.PID == me && ev.SourcePort == local.Port()
		})
		checkSelf(t, ev)
		if ev.DomainName != name || ev.DNSType != q.want || ev.DestIP != q.ip || ev.DestPort != 53 || ev.Protocol != "udp" {
			t.Errorf("DNS: %q %s to %s:%d (%s); want %q %s to %s:53", ev.DomainName, ev.DNSType, ev.DestIP, ev.DestPort, ev.Protocol, name, q.want, q.ip)
		}
	}

	// sendmmsg, as the glibc resolver sends its A and AAAA queries: each
	// message is a query.
	c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	local := netip.MustParseAddrPort(c.LocalAddr().String())
	queries := [][]byte{dnsQuery(name, 1), dnsQuery(name, 28), dnsQuery(name, 16)}
	iovs := make([]unix.Iovec, len(queries))
	msgs := make([]struct {
		hdr unix.Msghdr
		len uint32
		_   uint32
	}, len(queries))
	for i, q := range queries {
		iovs[i].Base = &q[0]
		iovs[i].SetLen(len(q))
		msgs[i].hdr.Iov, msgs[i].hdr.Iovlen = &iovs[i], 1
	}
	n, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fdOf(t, c)), uintptr(unsafe.Pointer(&msgs[0])), uintptr(len(msgs)), 0, 0, 0)
	runtime.KeepAlive(queries)
	runtime.KeepAlive(iovs)
	if errno != 0 || n != uintptr(len(msgs)) {
		t.Fatalf("sendmmsg: sent %d of %d: %v", n, len(msgs), errno)
	}
	var got []string
	waitFor(t, events, "DNS_REQUEST of each message of a sendmmsg", func(ev *event.Event) bool {
		if ev.Type == event.DNSRequest && ev.PID == me && ev.SourcePort == local.Port() && ev.DomainName == name {
			got = append(got, ev.DNSType)
		}
		return len(got) == len(queries)
	})
	if want := []string{"A", "AAAA", "TXT"}; !slices.Equal(got, want) {
		t.Errorf("sendmmsg queries: %v, want %v", got, want)
	}
}

func fdOf(t *testing.T, c *net.UDPConn) int {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fd int
	rc.Control(func(f uintptr) { fd = int(f) })
	return fd
}

func TestPtrace(t *testing.T) {
	_, events := startCollector(t)
	me := uint32(os.Getpid())
	for _, req := range []struct {
		name string
		code int64
	}{{"attach", unix.PTRACE_ATTACH}, {"seize", unix.PTRACE_SEIZE}} {
		t.Run(req.name, func(t *testing.T) {
			child := exec.Command("/bin/sleep", "30")
			if err := child.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { child.Process.Kill(); child.Wait() }()
			pid := child.Process.Pid
			runtime.LockOSThread() // ptrace requests must come from the tracer thread
			defer runtime.UnlockOSThread()
			var err error
			if req.code == unix.PTRACE_ATTACH {
				err = unix.PtraceAttach(pid)
				if err == nil {
					var ws unix.WaitStatus
					unix.Wait4(pid, &ws, 0, nil)
				}
			} else {
				err = unix.PtraceSeize(pid)
			}
			if err != nil {
				t.Fatalf("ptrace %s: %v", req.name, err)
			}
			unix.PtraceDetach(pid)
			ev := waitFor(t, events, "PTRACE", func(ev *event.Event) bool {
				return ev.Type == event.Ptrace && ev.PID == me && ev.TargetPID == uint32(pid)
			})
			checkSelf(t, ev)
			if ev.PtraceRequest != req.code {
				t.Errorf("PTRACE_REQUEST = %d, want %d", ev.PtraceRequest, req.code)
			}
		})
	}
	// Reads of the tracee's memory and writes into it: the first of each is
	// reported, once per tracer and tracee.
	t.Run("poke", func(t *testing.T) {
		child := exec.Command("/bin/sleep", "30")
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { child.Process.Kill(); child.Wait() }()
		pid := child.Process.Pid
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := unix.PtraceAttach(pid); err != nil {
			t.Fatal(err)
		}
		var ws unix.WaitStatus
		if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil {
			t.Fatal(err)
		}
		var regs unix.PtraceRegs
		if err := unix.PtraceGetRegs(pid, &regs); err != nil {
			t.Fatal(err)
		}
		word := make([]byte, 8)
		for range 3 { // the word at the stack pointer, written back as it is
			if _, err := unix.PtracePeekData(pid, uintptr(regs.Rsp), word); err != nil {
				t.Fatal(err)
			}
			if _, err := unix.PtracePokeData(pid, uintptr(regs.Rsp), word); err != nil {
				t.Fatal(err)
			}
		}
		if err := unix.PtraceSetRegs(pid, &regs); err != nil {
			t.Fatal(err)
		}
		unix.PtraceDetach(pid)
		var got []int64
		var names []string
		waitFor(t, events, "PTRACE reads and writes, then the exit of the tracee", func(ev *event.Event) bool {
			if ev.Type == event.Ptrace && ev.PID == me && ev.TargetPID == uint32(pid) {
				got = append(got, ev.PtraceRequest)
				names = append(names, ev.PtraceRequestName)
			}
			if len(got) == 3 { // the tracee's end: nothing more can come
				child.Process.Kill()
			}
			return ev.Type == event.TerminateProcess && ev.PID == uint32(pid)
		})
		if want := []int64{unix.PTRACE_ATTACH, unix.PTRACE_PEEKDATA, unix.PTRACE_POKEDATA}; !slices.Equal(got, want) {
			t.Errorf("PTRACE_REQUEST sequence %v, want %v (attach, then the first read and the first write only)", got, want)
		}
		if want := []string{"PTRACE_ATTACH", "PTRACE_PEEKDATA", "PTRACE_POKEDATA"}; !slices.Equal(names, want) {
			t.Errorf("PTRACE_REQUEST_NAME sequence %v, want %v", names, want)
		}
	})
}

func TestPrivilegeChange(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("skipping: changing uids needs root")
	}
	c, events := startCollector(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=setresuid")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helper: %v %s", err, out)
	}
	pid := uint32(cmd.Process.Pid)
	var got [][2]uint32
	for len(got) < 2 {
		ev := waitFor(t, events, "PRIVILEGE_CHANGE", func(ev *event.Event) bool {
			return ev.Type == event.PrivilegeChange && ev.PID == pid
		})
		if ev.Operation != "setresuid" || ev.FilePath != self || ev.ParentFilePath != self {
			t.Errorf("PRIVILEGE_CHANGE: op %q exe %q parent %q", ev.Operation, ev.FilePath, ev.ParentFilePath)
		}
		got = append(got, [2]uint32{ev.UID, ev.NewUID})
	}
	// USER_ID is the caller's before the call, NEW_USER_ID what it made; with
	// the catch-all syscall hook, USER_ID is the caller's after.
	want := [][2]uint32{{0, 1000}, {1000, 0}}
	if strings.HasPrefix(c.SyscallHook(), "raw_syscalls:") {
		want = [][2]uint32{{1000, 1000}, {0, 0}}
	}
	if !slices.Equal(got, want) {
		t.Errorf("(USER_ID, NEW_USER_ID) sequence %v, want %v (drop, then back to root)", got, want)
	}
}

func TestModuleLoad(t *testing.T) {
	if err := collector.Supported(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	c, err := collector.New(collector.Options{RingBufferSize: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, u := range c.Unavailable() {
		if strings.HasPrefix(u, "module_load:") {
			if _, err := os.Stat("/proc/modules"); err != nil {
				t.Skipf("skipping: this kernel cannot load modules (no /proc/modules: built without CONFIG_MODULES), so it has no module_load tracepoint (%s)", u)
			}
			t.Fatalf("module_load hook unavailable on a kernel with modules: %s", u)
		}
	}
	mods, _ := filepath.Glob("/lib/modules/" + kernelRelease() + "/kernel/**/*.ko*")
	t.Skipf("skipping: no harmless module to load was found among %d under /lib/modules", len(mods))
}

func kernelRelease() string {
	var u unix.Utsname
	unix.Uname(&u)
	return unix.ByteSliceToString(u.Release[:])
}

// TestContainerID runs a process in a cgroup named like a docker container's
// and checks that its events carry the container id, and host events do not.
func TestContainerID(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("skipping: creating cgroups needs root")
	}
	root := cgroup2Root(t)
	dir := watchedDir(t)
	_, events := startCollectorWith(t, collector.Options{FilePrefixes: []string{dir + "/"}})
	b := make([]byte, 32)
	rand.Read(b)
	id := hex.EncodeToString(b)
	parent := filepath.Join(root, "vigil-test-"+id[:8])
	cg := filepath.Join(parent, "docker-"+id+".scope")
	if err := os.MkdirAll(cg, 0o755); err != nil {
		t.Skipf("skipping: cannot create a cgroup under %s: %v", root, err)
	}
	defer os.Remove(parent)
	defer os.Remove(cg)
	cgfd, err := unix.Open(cg, unix.O_DIRECTORY|unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(cgfd)
	target := filepath.Join(dir, "in-container")
	if err := os.WriteFile(target, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/cat", target)
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cgfd}
	if err := cmd.Run(); err != nil {
		t.Fatalf("run in cgroup: %v", err)
	}
	pid := uint32(cmd.Process.Pid)
	for _, typ := range []string{event.NewProcess, event.FileOpen} {
		ev := waitFor(t, events, typ+" in the container", func(ev *event.Event) bool { return ev.PID == pid && ev.Type == typ })
		if ev.ContainerID != id {
			t.Errorf("%s CONTAINER_ID = %q, want %q", typ, ev.ContainerID, id)
		}
		if typ == event.FileOpen && (ev.TargetPath != target || ev.FilePath != "/bin/cat" || ev.CommandLine != "/bin/cat "+target) {
			t.Errorf("FILE_OPEN in container: %s by %s %q", ev.TargetPath, ev.FilePath, ev.CommandLine)
		}
	}
	host := exec.Command("/bin/cat", target)
	if err := host.Run(); err != nil {
		t.Fatal(err)
	}
	ev := waitFor(t, events, "FILE_OPEN on the host", func(ev *event.Event) bool {
		return ev.PID == uint32(host.Process.Pid) && ev.Type == event.FileOpen
	})
	if ev.ContainerID != "" {
		t.Errorf("host process CONTAINER_ID = %q, want none", ev.ContainerID)
	}
}

// cgroup2Root returns the cgroup2 mount point, skipping the test if there is none.
func cgroup2Root(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Skip(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		for i, x := range f {
			if x == "-" && i+1 < len(f) && f[i+1] == "cgroup2" {
				return f[4]
			}
		}
	}
	t.Skip("skipping: no cgroup2 mount")
	return ""
}

// TestKernelHooks checks that syscall exits are hooked per syscall and process
// exits by group_dead on this kernel, and that the syscalls hooked are those
// the eBPF program handles.
func TestKernelHooks(t *testing.T) {
	c, _ := startCollector(t)
	if got, want := c.SyscallHook(), "syscalls:sys_exit_<name>"; got != want {
		t.Errorf("SyscallHook() = %q, want %q", got, want)
	}
	if got, want := collector.ExitProgram(c), bpf.SensorProgHandleExitGroup; got != want {
		t.Errorf("exit program = %q, want %q", got, want)
	}
	for _, u := range c.Unavailable() {
		if strings.HasPrefix(u, bpf.SensorProgIoUringComplete) {
			t.Errorf("io_uring hook unavailable: %s", u)
		}
	}
	src, err := os.ReadFile("../bpf/sensor.bpf.c")
	if err != nil {
		t.Fatal(err)
	}
	// The case labels of syscall_exited, up to the function that follows it.
	start := bytes.Index(src, []byte("void syscall_exited("))
	if start < 0 {
		t.Fatal("sensor.bpf.c has no syscall_exited")
	}
	body := src[start:]
	body = body[:bytes.Index(body, []byte("\n}\n"))]
	var handled []string
	for _, m := range regexp.MustCompile(`case NR_(\w+):`).FindAllSubmatch(body, -1) {
		if name := string(m[1]); !slices.Contains(handled, name) {
			handled = append(handled, name)
		}
	}
	slices.Sort(handled)
	hooked := slices.Sorted(slices.Values(collector.SyscallHooks))
	if !slices.Equal(handled, hooked) {
		t.Errorf("syscall_exited handles %v, the collector hooks %v", handled, hooked)
	}
}

// TestFallbackHooks runs the tests of the events reported at syscall exit and
// at process exit with the hooks meant for older kernels: raw_syscalls:sys_exit
// and handle_exit.
func TestFallbackHooks(t *testing.T) {
	fallbacks = true
	defer func() { fallbacks = false }()
	c, events := startCollector(t)
	// This collector only shows which hooks were taken; the subtests start their
	// own. Its events are drained so that a busy machine cannot fill its buffer.
	drained := make(chan struct{})
	t.Cleanup(func() { close(drained) })
	go func() {
		for {
			select {
			case <-events:
			case <-drained:
				return
			}
		}
	}()
	if got, want := c.SyscallHook(), "raw_syscalls:sys_exit"; got != want {
		t.Fatalf("SyscallHook() = %q, want %q", got, want)
	}
	if got, want := collector.ExitProgram(c), bpf.SensorProgHandleExit; got != want {
		t.Fatalf("exit program = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		name string
		test func(*testing.T)
	}{
		{"exec and exit", TestCaptureExecAndExit}, {"one exit per process", TestOneExitPerProcess},
		{"file", TestFileEvents}, {"raw path", TestFileOpenRawPath}, {"tcp", TestTCPConnectAccept}, {"udp", TestUDP},
		{"dns", TestDNSRequest}, {"ptrace", TestPtrace}, {"privilege", TestPrivilegeChange},
		{"listen", TestNetworkListen}, {"traceme", TestPtraceTraceme},
		{"namespaces", TestNamespaceChange}, {"mounts", TestMounts}, {"bpf load", TestBPFLoad},
		{"memfd", TestMemfdCreate}, {"userfaultfd", TestUserfaultfd},
		{"file operations", TestFileOps},
		{"sockets", TestSocketCreate}, {"descriptor dups", TestFDDup},
	} {
		t.Run(tc.name, tc.test)
	}
}
