package hoststats

import (
	"errors"
	"maps"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/netnstest"
)

func TestParseNetDev(t *testing.T) {
	tests := []struct {
		file    string
		want    map[string]uint64
		wantErr string
	}{
		{"net_dev_vm", map[string]uint64{"lo": 2407547595, "ifb0": 0, "ifb1": 0, "eth0": 15523393}, ""},
		{"net_dev_docker_host", map[string]uint64{"lo": 1000000, "ens5": 123456789, "docker0": 777, "veth1a2b3c4": 200}, ""},
		// no space after the colon once the counter is wide; the largest counter
		{"net_dev_packed", map[string]uint64{"eth0": 18446744073709551615}, ""},
		{"net_dev_no_interfaces", map[string]uint64{}, ""},
		{"net_dev_short", nil, "line 3 (eth0): 3 counters, want 16"},
		{"net_dev_bad_number", nil, `line 3 (eth0): transmitted bytes: strconv.ParseUint: parsing "x"`},
		{"net_dev_no_name", nil, "line 3: no interface name"},
		{"net_dev_truncated", nil, "1 lines, want the 2 header lines"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseNetDev(data)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func FuzzParseNetDev(f *testing.F) {
	for _, name := range []string{"net_dev_vm", "net_dev_docker_host", "net_dev_packed", "net_dev_short"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := parseNetDev(data)
		if err != nil && got != nil {
			t.Fatalf("counters %v with error %v", got, err)
		}
	})
}

// TestNetDevVirtual checks which interfaces count, on a sysfs laid out as
// Linux lays it out: by where each interface's link points.
func TestNetDevVirtual(t *testing.T) {
	sys := t.TempDir()
	for name, target := range map[string]string{
		"lo":          "../../devices/virtual/net/lo",
		"ens5":        "../../devices/pci0000:00/0000:00:05.0/net/ens5",
		"docker0":     "../../devices/virtual/net/docker0",
		"veth1a2b3c4": "../../devices/virtual/net/veth1a2b3c4",
	} {
		if err := os.Symlink(target, filepath.Join(sys, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, sys string
		want      map[string]uint64
	}{
		{"sysfs", sys, map[string]uint64{"ens5": 123456789}},
		{"no sysfs: all but lo", filepath.Join(sys, "missing"), map[string]uint64{"ens5": 123456789, "docker0": 777, "veth1a2b3c4": 200}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NetDev(filepath.Join("testdata", "net_dev_docker_host"), tc.sys)()
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := NetDev(filepath.Join(sys, "no-such-file"), sys)(); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing /proc/net/dev: error %v", err)
	}
	if _, err := NetDev(filepath.Join("testdata", "net_dev_short"), sys)(); err == nil || !strings.Contains(err.Error(), "net_dev_short: line 3") {
		t.Fatalf("bad /proc/net/dev: error %v, want one naming the file and line", err)
	}
}

// TestOutboundBytes steps the Generator through readings of the counters.
func TestOutboundBytes(t *testing.T) {
	readings := []struct {
		counters map[string]uint64
		err      error
	}{
		{map[string]uint64{"eth0": 1000, "eth1": 50}, nil}, // at New: the baseline
		{map[string]uint64{"eth0": 1500, "eth1": 50}, nil}, // +500
		{map[string]uint64{"eth0": 1500, "eth1": 80}, nil}, // +30
		{nil, errors.New("read failed")},                   // 0, baseline kept
		{map[string]uint64{"eth0": 2500, "eth1": 80}, nil}, // +1000 since the last good read
		{map[string]uint64{"eth0": 2600, "eth2": 40}, nil}, // +100, and eth2 new: +40
		{map[string]uint64{"eth0": 10, "eth2": 40}, nil},   // eth0 re-created: +10
		{map[string]uint64{"eth0": 10, "eth2": 40}, nil},   // idle
	}
	want := []uint64{500, 30, 0, 1000, 140, 10, 0}
	i := 0
	c := &clock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	g := New(Options{Now: c.now, TxBytes: func() (map[string]uint64, error) {
		r := readings[i]
		i++
		return maps.Clone(r.counters), r.err
	}})
	var got []uint64
	for range want {
		for _, e := range g.Due(c.step(time.Minute)) {
			if e.Type == event.HostStats {
				got = append(got, e.OutboundBytes)
			}
		}
		if (g.TxErr() != nil) != (readings[i-1].err != nil) {
			t.Fatalf("reading %d: TxErr() = %v", i-1, g.TxErr())
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("outbound bytes %v, want %v", got, want)
	}

	// A first read that fails leaves no baseline: the first good one is not
	// counted whole.
	i = 0
	readings = readings[3:]
	g = New(Options{Now: c.now, TxBytes: func() (map[string]uint64, error) {
		r := readings[i]
		i++
		return maps.Clone(r.counters), r.err
	}})
	if g.TxErr() == nil {
		t.Fatal("TxErr() = nil after a failed read")
	}
	var first []uint64
	for range 2 {
		for _, e := range g.Due(c.step(time.Minute)) {
			if e.Type == event.HostStats {
				first = append(first, e.OutboundBytes)
			}
		}
	}
	if !reflect.DeepEqual(first, []uint64{0, 140}) {
		t.Fatalf("after a failed first read: %v, want [0 140]", first)
	}
}

// TestNetDevLive sends datagrams over a veth pair, from the test's namespace to a
// peer namespace of its own (10.233.x.x/30, by the test's process id), and
// checks that NetDev counts them on the test's end of the pair.
//
// NetDev counts physical interfaces only, and sysfs places a veth under
// devices/virtual; so the test points NetDev at a /sys/class/net of its own,
// where its end of the pair links under a PCI device, as a NIC does, and lo and
// every other interface of the namespace under devices/virtual. No packet goes
// beyond the pair.
func TestNetDevLive(t *testing.T) {
	netnstest.Require(t)
	own, peerAddr := netnstest.Subnet30(233)
	peer := netnstest.New(t, "vgl-hs")
	end := netnstest.Unique("vhs")
	netnstest.Veth(t, netnstest.End{Name: end, Addrs: []string{own.String()}},
		netnstest.End{NS: peer, Name: "vhp", Addrs: []string{peerAddr.String()}})
	read := NetDev("/proc/net/dev", netnstest.SysClassNet(t, end))

	var pc net.PacketConn
	peer.Do(t, func() {
		var err error
		if pc, err = net.ListenPacket("udp4", net.JoinHostPort(peerAddr.Addr().String(), "9")); err != nil {
			t.Fatal(err)
		}
	})
	defer pc.Close()
	conn, err := net.Dial("udp4", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// one datagram through first: the peer's address resolved, none of the
	// counted ones waits for it (or is dropped while waiting)
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := pc.ReadFrom(make([]byte, 16)); err != nil {
		t.Fatalf("the peer got nothing over the veth pair: %v", err)
	}

	before, err := read()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := before[end]; !ok {
		t.Fatalf("counters %v: no %s, the veth end that looks physical", before, end)
	}
	if _, ok := before["lo"]; ok {
		t.Fatalf("counters %v: lo counted", before)
	}
	payload := make([]byte, 1000)
	const n = 100
	for range n {
		if _, err := conn.Write(payload); err != nil {
			t.Fatal(err)
		}
	}
	const least = n * 1000
	deadline := time.Now().Add(5 * time.Second)
	for {
		after, err := read()
		if err != nil {
			t.Fatal(err)
		}
		if sent := after[end] - before[end]; sent >= least {
			if total := txDelta(before, after); total < sent {
				t.Fatalf("txDelta %d < %d sent by %s", total, sent, end)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s sent %d bytes, want at least %d (before %v, after %v)", end, after[end]-before[end], least, before, after)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
