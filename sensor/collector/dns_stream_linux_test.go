package collector_test

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/internal/event"
)

// resolverIP is the loopback address the test resolver listens on, port 53:
// not 127.0.0.1 or 127.0.0.53, which a resolver of the host may hold.
const resolverIP = "127.0.9.53"

// nxdomain answers query with "no such name": its header and question, QR
// and RA set, rcode 3, no other records.
func nxdomain(query []byte) []byte {
	if len(query) < 12 {
		return nil
	}
	end := 12
	for end < len(query) && query[end] != 0 {
		end += int(query[end]) + 1
	}
	end += 5 // the root label, type and class
	if end > len(query) {
		return nil
	}
	resp := append([]byte(nil), query[:end]...)
	resp[2] |= 0x80
	resp[3] = 0x80 | 3
	binary.BigEndian.PutUint16(resp[4:], 1)
	clear(resp[6:12])
	return resp
}

// startResolver serves UDP and TCP on resolverIP:53, answering every query
// with NXDOMAIN, until the test ends.
func startResolver(t *testing.T) {
	t.Helper()
	addr := &net.UDPAddr{IP: net.ParseIP(resolverIP), Port: 53}
	u, err := net.ListenUDP("udp4", addr)
	if err != nil {
		t.Skipf("skipping: cannot serve DNS on %s: %v", addr, err)
	}
	l, err := net.ListenTCP("tcp4", (*net.TCPAddr)(addr))
	if err != nil {
		u.Close()
		t.Skipf("skipping: cannot serve DNS on %s/tcp: %v", addr, err)
	}
	t.Cleanup(func() { u.Close(); l.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := u.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if resp := nxdomain(buf[:n]); resp != nil {
				u.WriteToUDP(resp, from)
			}
		}
	}()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				for {
					var n [2]byte
					if _, err := io.ReadFull(c, n[:]); err != nil {
						return
					}
					q := make([]byte, binary.BigEndian.Uint16(n[:]))
					if _, err := io.ReadFull(c, q); err != nil {
						return
					}
					resp := nxdomain(q)
					if resp == nil {
						return
					}
					c.Write(binary.BigEndian.AppendUint16(nil, uint16(len(resp))))
					c.Write(resp)
				}
			}()
		}
	}()
}

func randomName(t *testing.T, label string) string {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	return label + "-" + hex.EncodeToString(b) + ".vigil.example.com"
}

func connFd(t *testing.T, c syscall.Conn) int {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fd int
	rc.Control(func(f uintptr) { fd = int(f) })
	return fd
}

func prefixed(msg []byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(msg))), msg...)
}

// TestDNSStreams sends DNS queries with write(), writev() and, over TCP, send()
// and sendmsg(), to a resolver on loopback port 53: each query is one
// DNS_REQUEST with its name and type, the socket's endpoints and protocol.
// Over TCP the query follows its length, in the same buffer, in one of its own
// (glibc's writev) or in a write of its own.
func TestDNSStreams(t *testing.T) {
	startResolver(t)
	_, events := startCollector(t)
	me := uint32(os.Getpid())
	type query struct {
		name  string
		qtype uint16
		want  string
	}
	for _, tc := range []struct {
		name    string
		network string
		send    func(t *testing.T, fd int, qs []query)
		queries []uint16
	}{
		{"udp write", "udp4", func(t *testing.T, fd int, qs []query) {
			if _, err := unix.Write(fd, dnsQuery(qs[0].name, qs[0].qtype)); err != nil {
				t.Fatal(err)
			}
		}, []uint16{1}},
		{"udp writev", "udp4", func(t *testing.T, fd int, qs []query) {
			if _, err := unix.Writev(fd, [][]byte{dnsQuery(qs[0].name, qs[0].qtype)}); err != nil {
				t.Fatal(err)
			}
		}, []uint16{28}},
		{"tcp write", "tcp4", func(t *testing.T, fd int, qs []query) {
			if _, err := unix.Write(fd, prefixed(dnsQuery(qs[0].name, qs[0].qtype))); err != nil {
				t.Fatal(err)
			}
		}, []uint16{16}},
		{"tcp writev of lengths and queries", "tcp4", func(t *testing.T, fd int, qs []query) {
			var iov [][]byte
			for _, q := range qs {
				msg := dnsQuery(q.name, q.qtype)
				iov = append(iov, binary.BigEndian.AppendUint16(nil, uint16(len(msg))), msg)
			}
			if _, err := unix.Writev(fd, iov); err != nil {
				t.Fatal(err)
			}
		}, []uint16{1, 28}},
		{"tcp length, then query", "tcp4", func(t *testing.T, fd int, qs []query) {
			msg := dnsQuery(qs[0].name, qs[0].qtype)
			if _, err := unix.Write(fd, binary.BigEndian.AppendUint16(nil, uint16(len(msg)))); err != nil {
				t.Fatal(err)
			}
			if _, err := unix.Write(fd, msg); err != nil {
				t.Fatal(err)
			}
		}, []uint16{33}},
		{"tcp send", "tcp4", func(t *testing.T, fd int, qs []query) {
			if err := unix.Sendto(fd, prefixed(dnsQuery(qs[0].name, qs[0].qtype)), 0, nil); err != nil {
				t.Fatal(err)
			}
		}, []uint16{15}},
		{"tcp sendmsg", "tcp4", func(t *testing.T, fd int, qs []query) {
			if _, err := unix.SendmsgN(fd, prefixed(dnsQuery(qs[0].name, qs[0].qtype)), nil, nil, 0); err != nil {
				t.Fatal(err)
			}
		}, []uint16{12}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial(tc.network, net.JoinHostPort(resolverIP, "53"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			local := netip.MustParseAddrPort(c.LocalAddr().String())
			name := randomName(t, "stream")
			var qs []query
			for _, qt := range tc.queries {
				qs = append(qs, query{name, qt, dnsTypeName(qt)})
			}
			tc.send(t, connFd(t, c.(syscall.Conn)), qs)
			var got []string
			waitFor(t, events, "DNS_REQUEST of "+tc.name, func(ev *event.Event) bool {
				if ev.Type != event.DNSRequest || ev.PID != me || ev.SourcePort != local.Port() {
					return false
				}
				checkSelf(t, *ev)
				if ev.DomainName != name || ev.DestIP != resolverIP || ev.DestPort != 53 || ev.Protocol != tc.network[:3] || ev.SourceIP != local.Addr().String() {
					t.Errorf("DNS_REQUEST: %q %s from %s:%d to %s:%d (%s); want %q from %s to %s:53 (%s)",
						ev.DomainName, ev.DNSType, ev.SourceIP, ev.SourcePort, ev.DestIP, ev.DestPort, ev.Protocol, name, local, resolverIP, tc.network[:3])
				}
				got = append(got, ev.DNSType)
				return len(got) == len(qs)
			})
			for i, q := range qs {
				if got[i] != q.want {
					t.Errorf("query %d: DNS_TYPE %s, want %s", i, got[i], q.want)
				}
			}
		})
	}
}

func dnsTypeName(t uint16) string {
	return map[uint16]string{1: "A", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA", 33: "SRV"}[t]
}

// TestDNSGoResolver resolves names with Go's own resolver (net.Resolver with
// PreferGo), over UDP and over TCP, against the loopback resolver: it writes
// its queries with write() on a connected socket, which the syscall hooks of
// sendto and sendmsg do not see.
func TestDNSGoResolver(t *testing.T) {
	startResolver(t)
	_, events := startCollector(t)
	me := uint32(os.Getpid())
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network+"4", net.JoinHostPort(resolverIP, "53"))
			}}
			name := randomName(t, "go-"+network)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := r.LookupIP(ctx, "ip4", name+".")
			var dnsErr *net.DNSError
			if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
				t.Fatalf("lookup %s: %v, want not found (the loopback resolver's NXDOMAIN)", name, err)
			}
			ev := waitFor(t, events, "DNS_REQUEST of Go's resolver", func(ev *event.Event) bool {
				return ev.Type == event.DNSRequest && ev.PID == me && ev.DomainName == name
			})
			if ev.DNSType != "A" || ev.DestIP != resolverIP || ev.DestPort != 53 || ev.Protocol != network || ev.SourceIP != "127.0.0.1" || ev.SourcePort == 0 {
				t.Errorf("DNS_REQUEST: %q %s from %s:%d to %s:%d (%s); want A from 127.0.0.1 to %s:53 (%s)",
					ev.DomainName, ev.DNSType, ev.SourceIP, ev.SourcePort, ev.DestIP, ev.DestPort, ev.Protocol, resolverIP, network)
			}
		})
	}
}

// TestDNSStreamNotDNS writes a DNS query to a TCP server on another port and
// to a file: neither is a DNS_REQUEST. A query to port 53 after them is the
// sentinel.
func TestDNSStreamNotDNS(t *testing.T) {
	startResolver(t)
	_, events := startCollector(t)
	me := uint32(os.Getpid())
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	other := randomName(t, "other")
	c, err := net.Dial("tcp4", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(prefixed(dnsQuery(other, 1))); err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(t.TempDir(), "dns")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(prefixed(dnsQuery(other, 1))); err != nil {
		t.Fatal(err)
	}
	sentinel := randomName(t, "sentinel")
	s, err := net.Dial("udp4", net.JoinHostPort(resolverIP, "53"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Write(dnsQuery(sentinel, 1)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, events, "the sentinel's DNS_REQUEST", func(ev *event.Event) bool {
		if ev.Type == event.DNSRequest && ev.PID == me && ev.DomainName == other {
			t.Errorf("a query not sent to port 53 reported: %+v", ev)
		}
		return ev.Type == event.DNSRequest && ev.PID == me && ev.DomainName == sentinel
	})
}
