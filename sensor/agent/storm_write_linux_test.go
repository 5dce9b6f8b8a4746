package agent

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// writeOp returns a storm operation that writes 64 bytes with write(2): to a
// file (target a path: every worker appends to it) or, for "udp:ADDR", on a
// UDP socket connected to ADDR (the datagrams are sent whether or not
// anything reads them).
func writeOp(target string) (func() error, error) {
	buf := make([]byte, 64)
	var fd int
	if addr, ok := cutPrefix(target, "udp:"); ok {
		c, err := net.Dial("udp4", addr)
		if err != nil {
			return nil, err
		}
		f, err := c.(*net.UDPConn).File()
		if err != nil {
			return nil, err
		}
		fd = int(f.Fd())
	} else {
		f, err := os.OpenFile(target, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return nil, err
		}
		fd = int(f.Fd())
	}
	return func() error {
		_, err := unix.Write(fd, buf)
		return err
	}, nil
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return s, false
}

// BenchmarkSensorWriteStorm writes with write(2) from every CPU in a separate
// process, alternately without and with the whole sensor: to a file (what
// almost every write on a host is; the sensor reports none of them) and on a
// UDP socket to a loopback port other than 53 (the sends the DNS hook looks
// at and lets go). Nothing is reported: the ratio is what the hooks cost.
func BenchmarkSensorWriteStorm(b *testing.B) {
	dir, err := os.MkdirTemp("/var/tmp", "vigil-bench-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	const writes = 400000
	for _, c := range []struct{ name, target string }{{"file", file}, {"udp", "udp:" + sink.LocalAddr().String()}} {
		b.Run(c.name, func(b *testing.B) {
			if err := os.Truncate(file, 0); err != nil {
				b.Fatal(err)
			}
			_, _ = alternate(b, func(n int) string { return "write " + strconv.Itoa(n) + " " + c.target }, writes, "write", nil)
		})
	}
}
