package collector_test

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/sensor/bpf"
	"github.com/vigil-sec/vigil/sensor/collector"
)

// uring is a minimal io_uring instance (uapi linux/io_uring.h), enough to
// submit one request at a time and wait for its completion.
type uring struct {
	fd             int
	ring, sqes     []byte
	sqTail         *uint32 // one request at a time: the queue never fills
	sqMask         uint32
	sqArray        unsafe.Pointer
	cqHead, cqTail *uint32
	cqMask         uint32
	cqes           unsafe.Pointer
	sqpoll         bool // a kernel thread takes the submissions
}

// ioUringParams is struct io_uring_params.
type ioUringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sqOff                                                                  struct {
		head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
		userAddr                                                        uint64
	}
	cqOff struct {
		head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
		userAddr                                                        uint64
	}
}

const (
	ioringOpNop         = 0
	ioringOffSQRing     = 0
	ioringOffSQEs       = 0x10000000
	ioringFeatSingleMap = 1 << 0
	ioringSetupSQPoll   = 1 << 1
	ioringEnterGetEvent = 1 << 0
	ioringEnterSQWakeup = 1 << 1
	iosqeAsync          = 1 << 4 // run the request in an io-wq worker
	ioringOpSendmsg     = 9
	ioringOpAccept      = 13
	ioringOpConnect     = 16
	ioringOpOpenat      = 18
	ioringOpSend        = 26
	ioringOpRenameat    = 35
	ioringOpUnlinkat    = 36
	ioringRegisterFiles = 2
	// ioringFileIndexAlloc as an SQE's file_index puts the new file into
	// a free slot of the ring's table of files, which the result names.
	ioringFileIndexAlloc = ^uint32(0)
	// ringFiles is how many slots the rings here have in their table of
	// files (direct descriptors).
	ringFiles = 8
)

func newURing(flags uint32) (*uring, error) {
	p := ioUringParams{flags: flags}
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, 4, uintptr(unsafe.Pointer(&p)), 0)
	if errno != 0 {
		return nil, fmt.Errorf("io_uring_setup: %w", errno)
	}
	r := &uring{fd: int(fd), sqpoll: flags&ioringSetupSQPoll != 0}
	if p.features&ioringFeatSingleMap == 0 {
		unix.Close(r.fd)
		return nil, errors.New("io_uring without IORING_FEAT_SINGLE_MMAP")
	}
	size := max(p.sqOff.array+p.sqEntries*4, p.cqOff.cqes+p.cqEntries*16)
	var err error
	if r.ring, err = unix.Mmap(r.fd, ioringOffSQRing, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		unix.Close(r.fd)
		return nil, fmt.Errorf("mmap rings: %w", err)
	}
	if r.sqes, err = unix.Mmap(r.fd, ioringOffSQEs, int(p.sqEntries*64), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		r.Close()
		return nil, fmt.Errorf("mmap sqes: %w", err)
	}
	at := func(off uint32) unsafe.Pointer { return unsafe.Pointer(&r.ring[off]) }
	r.sqTail = (*uint32)(at(p.sqOff.tail))
	r.sqMask, r.sqArray = *(*uint32)(at(p.sqOff.ringMask)), at(p.sqOff.array)
	r.cqHead, r.cqTail = (*uint32)(at(p.cqOff.head)), (*uint32)(at(p.cqOff.tail))
	r.cqMask, r.cqes = *(*uint32)(at(p.cqOff.ringMask)), at(p.cqOff.cqes)
	return r, nil
}

func (r *uring) Close() {
	if r.sqes != nil {
		unix.Munmap(r.sqes)
	}
	unix.Munmap(r.ring)
	unix.Close(r.fd)
}

// submit queues one request, which prep writes into its zeroed SQE, waits for
// its completion and returns its result (an errno when negative).
func (r *uring) submit(prep func(sqe []byte)) (int32, error) {
	tail := atomic.LoadUint32(r.sqTail)
	idx := tail & r.sqMask
	sqe := r.sqes[idx*64 : idx*64+64]
	clear(sqe)
	prep(sqe)
	*(*uint32)(unsafe.Add(r.sqArray, 4*idx)) = idx
	atomic.StoreUint32(r.sqTail, tail+1)
	flags := uintptr(ioringEnterGetEvent)
	if r.sqpoll {
		flags |= ioringEnterSQWakeup // in case the thread went idle
	}
	// The wait for the completion ends early on a signal (the Go runtime's
	// preemption), and io_uring_enter then returns what it submitted: wait
	// again until the completion is there.
	head := atomic.LoadUint32(r.cqHead)
	for submit, deadline := uintptr(1), time.Now().Add(10*time.Second); head == atomic.LoadUint32(r.cqTail); submit = 0 {
		_, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), submit, 1, flags, 0, 0)
		if errno != 0 && errno != unix.EINTR {
			return 0, fmt.Errorf("io_uring_enter: %w", errno)
		}
		if time.Now().After(deadline) {
			return 0, errors.New("no completion within 10s")
		}
	}
	res := *(*int32)(unsafe.Add(r.cqes, 16*(head&r.cqMask)+8))
	atomic.StoreUint32(r.cqHead, head+1)
	return res, nil
}

// registerSparse gives the ring a table of n empty slots for files (direct
// descriptors).
func (r *uring) registerSparse(n int) error {
	fds := make([]int32, n)
	for i := range fds {
		fds[i] = -1
	}
	return r.registerFiles(fds)
}

// registerFiles gives the ring a table of files holding the files of fds
// (-1: an empty slot).
func (r *uring) registerFiles(fds []int32) error {
	n := len(fds)
	_, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), ioringRegisterFiles, uintptr(unsafe.Pointer(&fds[0])), uintptr(n), 0, 0)
	runtime.KeepAlive(fds)
	if errno != 0 {
		return fmt.Errorf("io_uring_register files: %w", errno)
	}
	return nil
}

// sqeFileIndex sets an SQE's file_index: the request's new file goes into the
// ring's table of files, at slot index-1 (or a free one, for
// ioringFileIndexAlloc), instead of the process's descriptors.
func sqeFileIndex(sqe []byte, index uint32) {
	*(*uint32)(unsafe.Pointer(&sqe[44])) = index
}

// sqeSet writes the fields of an SQE that the requests here use: the flags,
// fd, off (addr2), addr, len and the op's flags (open_flags).
func sqeSet(sqe []byte, opcode uint8, async bool, fd int32, off, addr uint64, length, opFlags uint32) {
	sqe[0] = opcode
	if async {
		sqe[1] = iosqeAsync
	}
	*(*int32)(unsafe.Pointer(&sqe[4])) = fd
	*(*uint64)(unsafe.Pointer(&sqe[8])) = off
	*(*uint64)(unsafe.Pointer(&sqe[16])) = addr
	*(*uint32)(unsafe.Pointer(&sqe[24])) = length
	*(*uint32)(unsafe.Pointer(&sqe[28])) = opFlags
}

// openat opens path relative to the working directory, in an io-wq worker if
// async, and returns the new descriptor; with a fileIndex (see sqeFileIndex),
// the file goes into the ring's table of files, and the result is 0 or the
// slot picked.
func (r *uring) openat(path string, flags int, async bool, fileIndex uint32) (int, error) {
	name, err := unix.BytePtrFromString(path)
	if err != nil {
		return 0, err
	}
	res, err := r.submit(func(sqe []byte) {
		sqeSet(sqe, ioringOpOpenat, async, unix.AT_FDCWD, 0, uint64(uintptr(unsafe.Pointer(name))), 0o600, uint32(flags))
		sqeFileIndex(sqe, fileIndex)
	})
	runtime.KeepAlive(name)
	if err == nil && res < 0 {
		err = fmt.Errorf("openat: %w", unix.Errno(-res))
	}
	return int(res), err
}

// unlinkat deletes name relative to directory descriptor dfd.
func (r *uring) unlinkat(dfd int, name string, async bool) error {
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return err
	}
	res, err := r.submit(func(sqe []byte) {
		sqeSet(sqe, ioringOpUnlinkat, async, int32(dfd), 0, uint64(uintptr(unsafe.Pointer(p))), 0, 0)
	})
	runtime.KeepAlive(p)
	if err == nil && res < 0 {
		err = fmt.Errorf("unlinkat: %w", unix.Errno(-res))
	}
	return err
}

// renameat renames oldName (relative to oldDfd) to newName (relative to
// newDfd).
func (r *uring) renameat(oldDfd int, oldName string, newDfd int, newName string, async bool) error {
	o, err := unix.BytePtrFromString(oldName)
	if err != nil {
		return err
	}
	n, err := unix.BytePtrFromString(newName)
	if err != nil {
		return err
	}
	res, err := r.submit(func(sqe []byte) {
		sqeSet(sqe, ioringOpRenameat, async, int32(oldDfd), uint64(uintptr(unsafe.Pointer(n))), uint64(uintptr(unsafe.Pointer(o))), uint32(newDfd), 0)
	})
	runtime.KeepAlive(o)
	runtime.KeepAlive(n)
	if err == nil && res < 0 {
		err = fmt.Errorf("renameat: %w", unix.Errno(-res))
	}
	return err
}

// accept accepts a connection on listening socket fd and returns its
// descriptor, or with a fileIndex (see sqeFileIndex) 0 or the slot picked in
// the ring's table of files.
func (r *uring) accept(fd int, async bool, fileIndex uint32) (int, error) {
	res, err := r.submit(func(sqe []byte) {
		flags := uint32(unix.SOCK_CLOEXEC)
		if fileIndex != 0 {
			flags = 0 // a direct descriptor is never inherited
		}
		sqeSet(sqe, ioringOpAccept, async, int32(fd), 0, 0, 0, flags)
		sqeFileIndex(sqe, fileIndex)
	})
	if err == nil && res < 0 {
		err = fmt.Errorf("accept: %w", unix.Errno(-res))
	}
	return int(res), err
}

// sendmsg sends payload on socket fd, to to if it is not nil.
func (r *uring) sendmsg(fd int, to *unix.RawSockaddrInet4, payload []byte, async bool) error {
	iov := unix.Iovec{Base: &payload[0]}
	iov.SetLen(len(payload))
	msg := unix.Msghdr{Iov: &iov, Iovlen: 1}
	if to != nil {
		msg.Name = (*byte)(unsafe.Pointer(to))
		msg.Namelen = uint32(unsafe.Sizeof(*to))
	}
	res, err := r.submit(func(sqe []byte) {
		sqeSet(sqe, ioringOpSendmsg, async, int32(fd), 0, uint64(uintptr(unsafe.Pointer(&msg))), 1, 0)
	})
	runtime.KeepAlive(&msg)
	runtime.KeepAlive(&iov)
	runtime.KeepAlive(payload)
	runtime.KeepAlive(to)
	if err == nil && res < 0 {
		err = fmt.Errorf("sendmsg: %w", unix.Errno(-res))
	}
	return err
}

// send sends payload on connected socket fd.
func (r *uring) send(fd int, payload []byte, async bool) error {
	res, err := r.submit(func(sqe []byte) {
		sqeSet(sqe, ioringOpSend, async, int32(fd), 0, uint64(uintptr(unsafe.Pointer(&payload[0]))), uint32(len(payload)), 0)
	})
	runtime.KeepAlive(payload)
	if err == nil && res < 0 {
		err = fmt.Errorf("send: %w", unix.Errno(-res))
	}
	return err
}

// sendto sends payload on socket fd to to, given in the SQE (IORING_OP_SEND
// with addr2).
func (r *uring) sendto(fd int, to *unix.RawSockaddrInet4, payload []byte, async bool) error {
	res, err := r.submit(func(sqe []byte) {
		sqeSet(sqe, ioringOpSend, async, int32(fd), uint64(uintptr(unsafe.Pointer(to))), uint64(uintptr(unsafe.Pointer(&payload[0]))), uint32(len(payload)), 0)
		*(*uint16)(unsafe.Pointer(&sqe[44])) = uint16(unsafe.Sizeof(*to)) // addr_len
	})
	runtime.KeepAlive(payload)
	runtime.KeepAlive(to)
	if err == nil && res < 0 {
		err = fmt.Errorf("send: %w", unix.Errno(-res))
	}
	return err
}

// inet4 is ip:port as a raw IPv4 socket address.
func inet4(ip [4]byte, port uint16) unix.RawSockaddrInet4 {
	return unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: ip, Port: port<<8 | port>>8} // port in network byte order
}

// connect connects socket fd to the IPv4 address ip:port.
func (r *uring) connect(fd int, ip [4]byte, port uint16, async bool) error {
	sa := inet4(ip, port)
	res, err := r.submit(func(sqe []byte) {
		sqeSet(sqe, ioringOpConnect, async, int32(fd), uint64(unsafe.Sizeof(sa)), uint64(uintptr(unsafe.Pointer(&sa))), 0, 0)
	})
	runtime.KeepAlive(&sa)
	if err == nil && res < 0 {
		err = fmt.Errorf("connect: %w", unix.Errno(-res))
	}
	return err
}

// newTestRing returns an io_uring instance set up with flags and a table of
// ringFiles empty slots for files, closed when the test ends. It skips the test where the collector c has no io_uring hook or
// the kernel refuses io_uring.
func newTestRing(t testing.TB, c *collector.Collector, flags uint32) *uring {
	t.Helper()
	if slices.ContainsFunc(c.Unavailable(), func(u string) bool { return strings.HasPrefix(u, "io_uring") }) {
		t.Skipf("skipping: %v", c.Unavailable())
	}
	r, err := newURing(flags)
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	if err := r.registerSparse(ringFiles); err != nil {
		t.Fatal(err)
	}
	return r
}

type ringMode struct {
	name  string
	ring  *uring
	async bool // the request runs in an io-wq worker
}

// ringModes are the ways a request runs: in the submitting thread or an io-wq
// worker of r, and in the SQ polling thread of polled.
func ringModes(r, polled *uring) []ringMode {
	return []ringMode{{"inline", r, false}, {"in a worker", r, true}, {"by the SQ polling thread", polled, false}}
}

// TestIoUringOpen opens a watched file through io_uring, in the submitting
// thread, in an io-wq worker and in the SQ polling thread, into a descriptor
// and into the ring's table of files, and checks the FILE_OPEN events, as a
// syscall open would report them.
func TestIoUringOpen(t *testing.T) {
	dir := watchedDir(t)
	f := filepath.Join(dir, "secret")
	if err := os.WriteFile(f, []byte("x"), 0o600); err != nil { // before the collector: not reported
		t.Fatal(err)
	}
	c, events := startCollectorWith(t, collector.Options{FilePrefixes: []string{dir + "/"}})
	r := newTestRing(t, c, 0)
	polled := newTestRing(t, c, ioringSetupSQPoll)
	me := uint32(os.Getpid())
	for _, tc := range []struct {
		name      string
		ring      *uring
		flags     int
		async     bool
		fileIndex uint32
		want      string
	}{
		{"read", r, unix.O_RDONLY, false, 0, "read"},
		{"write, truncate, in a worker", r, unix.O_WRONLY | unix.O_TRUNC, true, 0, "write,truncate"},
		{"read, in a worker", r, unix.O_RDONLY, true, 0, "read"},
		{"read, by the SQ polling thread", polled, unix.O_RDONLY, false, 0, "read"},
		{"write, by the SQ polling thread", polled, unix.O_WRONLY, false, 0, "write"},
		{"read, into the ring's table", r, unix.O_RDONLY, false, 3, "read"},
		{"write, into a slot the kernel picks", r, unix.O_WRONLY, false, ioringFileIndexAlloc, "write"},
		{"read, into the ring's table, in a worker", r, unix.O_RDONLY, true, ioringFileIndexAlloc, "read"},
		{"write, into the ring's table, by the SQ polling thread", polled, unix.O_WRONLY, false, 5, "write"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fd, err := tc.ring.openat(f, tc.flags, tc.async, tc.fileIndex)
			if err != nil {
				t.Fatal(err)
			}
			if tc.fileIndex == 0 {
				unix.Close(fd)
			}
			ev := waitFor(t, events, "FILE_OPEN by io_uring", func(ev *event.Event) bool {
				return ev.PID == me && ev.Type == event.FileOpen && ev.TargetPath == f
			})
			checkSelf(t, ev)
			if ev.FileFlags != tc.want {
				t.Errorf("FILE_FLAGS = %q, want %q", ev.FileFlags, tc.want)
			}
		})
	}
	// An open outside the watched prefix is filtered, as a syscall's is.
	before := c.Stats()
	fd, err := r.openat("/proc/self/status", unix.O_RDONLY, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	if after := c.Stats(); after.FileFiltered <= before.FileFiltered {
		t.Errorf("unwatched io_uring open not counted as filtered: before %+v after %+v", before, after)
	}
}

// TestIoUringConnect connects TCP and UDP sockets through io_uring and checks
// the NETWORK_CONNECT events, as connect(2) would report them.
func TestIoUringConnect(t *testing.T) {
	c, events := startCollector(t)
	r := newTestRing(t, c, 0)
	tcp, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	me := uint32(os.Getpid())
	modes := ringModes(r, newTestRing(t, c, ioringSetupSQPoll))
	type connectCase struct {
		proto string
		typ   int
		port  int
		mode  ringMode
	}
	var cases []connectCase
	for _, m := range modes {
		cases = append(cases, connectCase{"tcp", unix.SOCK_STREAM, tcp.Addr().(*net.TCPAddr).Port, m},
			connectCase{"udp", unix.SOCK_DGRAM, udp.LocalAddr().(*net.UDPAddr).Port, m})
	}
	for _, tc := range cases {
		t.Run(tc.proto+" "+tc.mode.name, func(t *testing.T) {
			fd, err := unix.Socket(unix.AF_INET, tc.typ, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fd)
			if err := tc.mode.ring.connect(fd, [4]byte{127, 0, 0, 1}, uint16(tc.port), tc.mode.async); err != nil {
				t.Fatal(err)
			}
			sa, err := unix.Getsockname(fd)
			if err != nil {
				t.Fatal(err)
			}
			local := sa.(*unix.SockaddrInet4).Port
			ev := waitFor(t, events, tc.proto+" NETWORK_CONNECT by io_uring", func(ev *event.Event) bool {
				return ev.Type == event.NetworkConnect && ev.PID == me && ev.Protocol == tc.proto && int(ev.SourcePort) == local
			})
			checkSelf(t, ev)
			if ev.SourceIP != "127.0.0.1" || ev.DestIP != "127.0.0.1" || int(ev.DestPort) != tc.port || ev.ErrorCode != 0 {
				t.Errorf("%s connect: %s:%d -> %s:%d err %d", tc.proto, ev.SourceIP, ev.SourcePort, ev.DestIP, ev.DestPort, ev.ErrorCode)
			}
		})
	}
}

// TestIoUringChanges deletes and renames watched files through io_uring and
// checks the FILE_DELETE and FILE_RENAME events, as the syscalls would report
// them: successful ones only, paths made absolute.
func TestIoUringChanges(t *testing.T) {
	dir := watchedDir(t)
	other := watchedDir(t) // not watched
	c, events := startCollectorWith(t, collector.Options{FilePrefixes: []string{dir + "/"}})
	r := newTestRing(t, c, 0)
	dfd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dfd)
	me := uint32(os.Getpid())
	mine := func(typ, target string) func(*event.Event) bool {
		return func(ev *event.Event) bool { return ev.PID == me && ev.Type == typ && ev.TargetPath == target }
	}
	touch := func(p string) {
		t.Helper()
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range ringModes(r, newTestRing(t, c, ioringSetupSQPoll)) {
		t.Run(m.name, func(t *testing.T) {
			a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
			touch(a)
			// A rename relative to a directory descriptor, one to an
			// unwatched directory (reported: the old path is watched).
			if err := m.ring.renameat(dfd, "a", unix.AT_FDCWD, b, m.async); err != nil {
				t.Fatal(err)
			}
			ev := waitFor(t, events, "FILE_RENAME by io_uring", mine(event.FileRename, b))
			checkSelf(t, ev)
			if ev.OldTargetPath != a {
				t.Errorf("OLD_FILE_PATH = %q, want %q", ev.OldTargetPath, a)
			}
			away := filepath.Join(other, "b")
			if err := m.ring.renameat(unix.AT_FDCWD, b, unix.AT_FDCWD, away, m.async); err != nil {
				t.Fatal(err)
			}
			waitFor(t, events, "FILE_RENAME out of the watched directory", mine(event.FileRename, away))
			touch(b)

			// A failed delete, an unwatched one, then a delete relative to
			// a directory descriptor.
			if err := m.ring.unlinkat(dfd, "missing", m.async); !errors.Is(err, unix.ENOENT) {
				t.Fatalf("unlinkat of a missing file: %v", err)
			}
			if err := m.ring.unlinkat(unix.AT_FDCWD, away, m.async); err != nil {
				t.Fatal(err)
			}
			if err := m.ring.unlinkat(dfd, "b", m.async); err != nil {
				t.Fatal(err)
			}
			checkSelf(t, waitFor(t, events, "FILE_DELETE by io_uring", func(ev *event.Event) bool {
				if ev.Type == event.FileDelete && (strings.Contains(ev.TargetPath, "missing") || ev.TargetPath == away) {
					t.Errorf("failed or unwatched delete reported: %s", ev.TargetPath)
				}
				return mine(event.FileDelete, b)(ev)
			}))
		})
	}
}

// TestIoUringAccept accepts TCP connections through io_uring, into a
// descriptor and into the ring's table of files, and checks the
// NETWORK_ACCEPT events, as accept(2) would report them.
func TestIoUringAccept(t *testing.T) {
	c, events := startCollector(t)
	r := newTestRing(t, c, 0)
	lfd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(lfd)
	if err := unix.Bind(lfd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(lfd, 8); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(lfd)
	if err != nil {
		t.Fatal(err)
	}
	port := sa.(*unix.SockaddrInet4).Port
	for _, m := range ringModes(r, newTestRing(t, c, ioringSetupSQPoll)) {
		for _, into := range []struct {
			name      string
			fileIndex uint32
		}{{"", 0}, {", into the ring's table", 2}, {", into a slot the kernel picks", ioringFileIndexAlloc}} {
			t.Run(m.name+into.name, func(t *testing.T) { testIoUringAccept(t, events, m, lfd, port, into.fileIndex) })
		}
	}
}

// testIoUringAccept accepts a connection to port on listening socket lfd
// through the ring of m, into a descriptor or, with a fileIndex, into the
// ring's table, and checks the NETWORK_ACCEPT event.
func testIoUringAccept(t *testing.T, events <-chan event.Event, m ringMode, lfd, port int, fileIndex uint32) {
	conn, err := net.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", port)) // queued until accepted
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fd, err := m.ring.accept(lfd, m.async, fileIndex)
	if err != nil {
		t.Fatal(err)
	}
	if fileIndex == 0 {
		defer unix.Close(fd)
	}
	me, peer := uint32(os.Getpid()), conn.LocalAddr().(*net.TCPAddr).Port
	ev := waitFor(t, events, "NETWORK_ACCEPT by io_uring", func(ev *event.Event) bool {
		return ev.Type == event.NetworkAccept && ev.PID == me && int(ev.SourcePort) == peer
	})
	checkSelf(t, ev)
	if ev.Protocol != "tcp" || ev.SourceIP != "127.0.0.1" || ev.DestIP != "127.0.0.1" || int(ev.DestPort) != port {
		t.Errorf("accept: %s %s:%d -> %s:%d", ev.Protocol, ev.SourceIP, ev.SourcePort, ev.DestIP, ev.DestPort)
	}
}

// TestIoUringSend sends UDP datagrams through io_uring and checks what
// sendmsg(2) and send(2) would give: NETWORK_CONNECT for the first datagram to
// each destination of an unconnected socket, DNS_REQUEST for a query.
func TestIoUringSend(t *testing.T) {
	c, events := startCollector(t)
	r := newTestRing(t, c, 0)
	// A resolver on 127.0.0.1:53 when the port is free (queries are captured
	// as they are sent, answered or not).
	if srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}); err == nil {
		defer srv.Close()
	}
	sink, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	sinkPort := sink.LocalAddr().(*net.UDPAddr).Port
	me := uint32(os.Getpid())
	socket := func(t *testing.T) (fd, port int) {
		t.Helper()
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(fd) })
		if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
			t.Fatal(err)
		}
		sa, err := unix.Getsockname(fd)
		if err != nil {
			t.Fatal(err)
		}
		return fd, sa.(*unix.SockaddrInet4).Port
	}
	for _, m := range ringModes(r, newTestRing(t, c, ioringSetupSQPoll)) {
		t.Run(m.name, func(t *testing.T) {
			// An unconnected socket, the destination in the message
			// (sendmsg) or in the SQE (send with addr2): the first datagram
			// to a destination is reported, the next one is not; then a DNS
			// query.
			b := make([]byte, 4)
			rand.Read(b)
			name := "vigil-" + hex.EncodeToString(b) + ".example.com"
			for _, op := range []struct {
				name string
				send func(fd int, to *unix.RawSockaddrInet4, payload []byte, async bool) error
			}{{"sendmsg", m.ring.sendmsg}, {"send with addr2", m.ring.sendto}} {
				fd, port := socket(t)
				to := inet4([4]byte{127, 0, 0, 1}, uint16(sinkPort))
				for range 2 {
					if err := op.send(fd, &to, []byte("x"), m.async); err != nil {
						t.Fatal(err)
					}
				}
				dns := inet4([4]byte{127, 0, 0, 1}, 53)
				if err := op.send(fd, &dns, dnsQuery(name, 1), m.async); err != nil {
					t.Fatal(err)
				}
				sent := 0
				ev := waitFor(t, events, "DNS_REQUEST by io_uring "+op.name, func(ev *event.Event) bool {
					if ev.Type == event.NetworkConnect && ev.PID == me && int(ev.SourcePort) == port && int(ev.DestPort) == sinkPort {
						sent++
					}
					return ev.Type == event.DNSRequest && ev.PID == me && int(ev.SourcePort) == port
				})
				checkSelf(t, ev)
				if ev.DomainName != name || ev.DNSType != "A" || ev.DestIP != "127.0.0.1" || ev.DestPort != 53 {
					t.Errorf("%s: DNS: %q %s to %s:%d", op.name, ev.DomainName, ev.DNSType, ev.DestIP, ev.DestPort)
				}
				if sent != 1 {
					t.Errorf("%s: %d NETWORK_CONNECT for two datagrams to one destination, want 1", op.name, sent)
				}
			}

			// send on a socket connected to the resolver: its query.
			fd, port := socket(t)
			if err := unix.Connect(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: 53}); err != nil {
				t.Fatal(err)
			}
			if err := m.ring.send(fd, dnsQuery(name, 28), m.async); err != nil {
				t.Fatal(err)
			}
			ev := waitFor(t, events, "DNS_REQUEST by io_uring send", func(ev *event.Event) bool {
				return ev.Type == event.DNSRequest && ev.PID == me && int(ev.SourcePort) == port
			})
			if ev.DomainName != name || ev.DNSType != "AAAA" || ev.DestPort != 53 {
				t.Errorf("DNS: %q %s to %s:%d", ev.DomainName, ev.DNSType, ev.DestIP, ev.DestPort)
			}
		})
	}
}

// BenchmarkIoUringHookCost submits io_uring NOP requests one at a time with
// the collector attached and reports what each of its two io_uring programs
// costs per request that is none of theirs (their run time as the kernel
// accounts it): what a host doing its I/O through io_uring pays per request.
func BenchmarkIoUringHookCost(b *testing.B) {
	kt, err := collector.EnableKernelTime()
	if err != nil {
		b.Skipf("skipping: %v", err)
	}
	defer kt.Close()
	c, _ := startCollector(b)
	r := newTestRing(b, c, 0)
	progs := []struct{ name, unit string }{
		{bpf.SensorProgIoUringSubmitReq, "submit-ns/req"},
		{bpf.SensorProgIoUringComplete, "complete-ns/req"},
	}
	read := func() (runs [2]uint64, total [2]time.Duration) {
		for i, p := range progs {
			var err error
			if runs[i], total[i], err = collector.ProgramStats(c, p.name); err != nil {
				b.Fatal(err)
			}
		}
		return runs, total
	}
	runs0, total0 := read()
	for b.Loop() {
		if _, err := r.submit(func(sqe []byte) { sqe[0] = ioringOpNop }); err != nil {
			b.Fatal(err)
		}
	}
	runs1, total1 := read()
	for i, p := range progs {
		if n := runs1[i] - runs0[i]; n > 0 {
			b.ReportMetric(float64(total1[i]-total0[i])/float64(n), p.unit)
		}
	}
}
