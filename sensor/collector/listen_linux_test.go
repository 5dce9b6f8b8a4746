package collector_test

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/internal/event"
)

// somaxconn is the kernel's cap on a listen backlog.
func somaxconn(t *testing.T) uint32 {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	return uint32(n)
}

// listenRaw makes a socket of family and protocol, binds it to addr port 0 and
// listens with backlog; it returns the socket and the port the kernel chose.
func listenRaw(t *testing.T, family, proto int, addr netip.Addr, backlog int) (int, uint16, error) {
	t.Helper()
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return -1, 0, err
	}
	t.Cleanup(func() { unix.Close(fd) })
	var sa unix.Sockaddr
	if family == unix.AF_INET6 {
		sa = &unix.SockaddrInet6{Addr: addr.As16()}
	} else {
		sa = &unix.SockaddrInet4{Addr: addr.As4()}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return -1, 0, err
	}
	got, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	var port uint16
	switch s := got.(type) {
	case *unix.SockaddrInet4:
		port = uint16(s.Port)
	case *unix.SockaddrInet6:
		port = uint16(s.Port)
	}
	return fd, port, unix.Listen(fd, backlog)
}

// TestNetworkListen listens on loopback and on every interface, over IPv4 and
// IPv6, with raw syscalls and with Go's net.Listen: each successful listen is
// one NETWORK_LISTEN with the address and port the kernel bound and the
// backlog it keeps; a listen that fails is none.
func TestNetworkListen(t *testing.T) {
	_, events := startCollector(t)
	me := uint32(os.Getpid())
	max := somaxconn(t)
	for _, tc := range []struct {
		name        string
		family      int
		addr        string
		backlog     int
		wantBacklog uint32
	}{
		{"tcp4 loopback", unix.AF_INET, "127.0.0.1", 7, 7},
		{"tcp6 loopback", unix.AF_INET6, "::1", 9, 9},
		{"tcp4 any", unix.AF_INET, "0.0.0.0", 1, 1},
		{"backlog above somaxconn", unix.AF_INET, "127.0.0.1", int(max) + 1000, max},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, port, err := listenRaw(t, tc.family, 0, netip.MustParseAddr(tc.addr), tc.backlog)
			if err != nil {
				if tc.family == unix.AF_INET6 {
					t.Skipf("skipping: no IPv6 loopback: %v", err)
				}
				t.Fatal(err)
			}
			ev := waitFor(t, events, "NETWORK_LISTEN "+tc.name, func(ev *event.Event) bool {
				return ev.Type == event.NetworkListen && ev.PID == me && ev.DestPort == port
			})
			checkSelf(t, ev)
			if ev.DestIP != tc.addr || ev.Protocol != "tcp" || ev.Backlog != tc.wantBacklog || ev.SourceIP != "" || ev.SourcePort != 0 {
				t.Errorf("NETWORK_LISTEN: %s %s:%d backlog %d source %q:%d; want tcp %s:%d backlog %d, no source",
					ev.Protocol, ev.DestIP, ev.DestPort, ev.Backlog, ev.SourceIP, ev.SourcePort, tc.addr, port, tc.wantBacklog)
			}
		})
	}

	t.Run("go net.Listen", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		port := uint16(ln.Addr().(*net.TCPAddr).Port)
		ev := waitFor(t, events, "NETWORK_LISTEN of net.Listen", func(ev *event.Event) bool {
			return ev.Type == event.NetworkListen && ev.PID == me && ev.DestPort == port
		})
		// Go listens with the largest backlog the kernel allows; it may
		// use Multipath TCP, reported as tcp.
		if ev.DestIP != "127.0.0.1" || ev.Protocol != "tcp" || ev.Backlog != max {
			t.Errorf("NETWORK_LISTEN: %s %s:%d backlog %d; want tcp 127.0.0.1:%d backlog %d", ev.Protocol, ev.DestIP, ev.DestPort, ev.Backlog, port, max)
		}
	})

	t.Run("failed listen", func(t *testing.T) {
		// listen on a UDP socket fails; a TCP listen after it is the sentinel.
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
			t.Fatal(err)
		}
		sa, _ := unix.Getsockname(fd)
		udpPort := uint16(sa.(*unix.SockaddrInet4).Port)
		if err := unix.Listen(fd, 5); !errors.Is(err, unix.EOPNOTSUPP) {
			t.Fatalf("listen on UDP: %v, want EOPNOTSUPP", err)
		}
		_, port, err := listenRaw(t, unix.AF_INET, 0, netip.MustParseAddr("127.0.0.1"), 3)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, events, "NETWORK_LISTEN of the sentinel", func(ev *event.Event) bool {
			if ev.Type == event.NetworkListen && ev.PID == me && ev.DestPort == udpPort {
				t.Errorf("failed listen reported: %+v", ev)
			}
			return ev.Type == event.NetworkListen && ev.PID == me && ev.DestPort == port
		})
	})

	t.Run("sctp", func(t *testing.T) {
		_, port, err := listenRaw(t, unix.AF_INET, unix.IPPROTO_SCTP, netip.MustParseAddr("127.0.0.1"), 4)
		if err != nil {
			t.Skipf("skipping: no SCTP here: %v", err)
		}
		ev := waitFor(t, events, "NETWORK_LISTEN sctp", func(ev *event.Event) bool {
			return ev.Type == event.NetworkListen && ev.PID == me && ev.DestPort == port
		})
		if ev.DestIP != "127.0.0.1" || ev.Protocol != "sctp" || ev.Backlog != 4 {
			t.Errorf("NETWORK_LISTEN: %s %s:%d backlog %d; want sctp 127.0.0.1:%d backlog 4", ev.Protocol, ev.DestIP, ev.DestPort, ev.Backlog, port)
		}
	})
}
