package netnstest

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSubnet30(t *testing.T) {
	for _, tc := range []struct {
		octet byte
		pid   int
		a, b  string
	}{
		{233, 0, "10.233.0.1/30", "10.233.0.2/30"},
		{233, 1, "10.233.0.5/30", "10.233.0.6/30"},
		{233, 63, "10.233.0.253/30", "10.233.0.254/30"},
		{233, 64, "10.233.1.1/30", "10.233.1.2/30"},
		{234, 16383, "10.234.255.253/30", "10.234.255.254/30"},
		{234, 16384, "10.234.0.1/30", "10.234.0.2/30"}, // the ids wrap
		{239, 4194303, "10.239.255.253/30", "10.239.255.254/30"},
	} {
		t.Run(strconv.Itoa(tc.pid), func(t *testing.T) {
			a, b := subnet30(tc.octet, tc.pid)
			if a.String() != tc.a || b.String() != tc.b {
				t.Fatalf("subnet30(%d, %d) = %s %s, want %s %s", tc.octet, tc.pid, a, b, tc.a, tc.b)
			}
		})
	}
	a, b := Subnet30(235)
	if a.Masked() != b.Masked() || a == b || !netip.MustParsePrefix("10.235.0.0/16").Contains(a.Addr()) {
		t.Fatalf("Subnet30(235) = %s %s: want two hosts of one /30 in 10.235.0.0/16", a, b)
	}
}

func TestUnique(t *testing.T) {
	got := Unique("vnt")
	if got != "vnt"+strconv.Itoa(os.Getpid()) || len(got) > 15 {
		t.Fatalf("Unique(vnt) = %q", got)
	}
}

// interfaces returns the names of the interfaces of the calling thread's
// namespace.
func interfaces(t *testing.T) []string {
	t.Helper()
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range ifs {
		names = append(names, i.Name)
	}
	slices.Sort(names)
	return names
}

// TestVeth sends datagrams over veth pairs: between two namespaces, and between
// the test's own namespace and another; each namespace holds lo and its end
// only, and everything is gone once the test that made it ends.
func TestVeth(t *testing.T) {
	Require(t)
	own, peer := Subnet30(238)
	for _, tc := range []struct {
		name string
		// sender: the sending end is in a namespace of its own, not the
		// test's
		sender bool
		addrA  string
		addrB  string
	}{
		{"namespace to namespace, IPv4", true, "10.237.0.1/24", "10.237.0.2/24"},
		{"namespace to namespace, IPv6", true, "fd37::1/64", "fd37::2/64"},
		{"own namespace to namespace", false, own.String(), peer.String()},
	} {
		var namespaces []string
		var link string // the end in the test's own namespace
		t.Run(tc.name, func(t *testing.T) {
			var a *Namespace
			nameA := "vta"
			if tc.sender {
				a = New(t, "vgl-nt-a")
				namespaces = append(namespaces, a.Name)
			} else {
				nameA = Unique("vnt")
			}
			b := New(t, "vgl-nt-b")
			namespaces = append(namespaces, b.Name)
			Veth(t, End{NS: a, Name: nameA, Addrs: []string{tc.addrA}}, End{NS: b, Name: "vtb", Addrs: []string{tc.addrB}})

			to := netip.MustParsePrefix(tc.addrB).Addr()
			var pc net.PacketConn
			b.Do(t, func() {
				if got := interfaces(t); !slices.Equal(got, []string{"lo", "vtb"}) {
					t.Errorf("interfaces in %s: %v, want lo and vtb", b.Name, got)
				}
				var err error
				if pc, err = net.ListenPacket("udp", net.JoinHostPort(to.String(), "0")); err != nil {
					t.Fatal(err)
				}
			})
			defer pc.Close()
			send := func() {
				c, err := net.Dial("udp", pc.LocalAddr().String())
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if _, err := c.Write([]byte("over the veth")); err != nil {
					t.Fatal(err)
				}
			}
			if a != nil {
				a.Do(t, func() {
					if got := interfaces(t); !slices.Equal(got, []string{"lo", "vta"}) {
						t.Errorf("interfaces in %s: %v, want lo and vta", a.Name, got)
					}
					send()
				})
			} else {
				if !slices.Contains(interfaces(t), nameA) {
					t.Errorf("no %s in the test's namespace", nameA)
				}
				link = nameA
				send()
			}
			pc.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 64)
			n, from, err := pc.ReadFrom(buf)
			if err != nil || string(buf[:n]) != "over the veth" {
				t.Fatalf("received %q from %v: %v", buf[:n], from, err)
			}
			if want := netip.MustParsePrefix(tc.addrA).Addr(); from.(*net.UDPAddr).AddrPort().Addr().Unmap() != want {
				t.Errorf("datagram from %v, want from %s", from, want)
			}
		})
		for _, name := range namespaces {
			if _, err := os.Stat((&Namespace{Name: name}).Path()); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: namespace %s left behind (%v)", tc.name, name, err)
			}
		}
		if _, err := net.InterfaceByName(link); link != "" && err == nil {
			t.Errorf("%s: interface %s left behind", tc.name, link)
		}
	}
}

// netnsID names the network namespace of the calling thread.
func netnsID(t *testing.T) string {
	t.Helper()
	id, err := os.Readlink("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestDo checks that Do runs its function in the namespace and puts its thread
// back, also when the function ends the test.
func TestDo(t *testing.T) {
	Require(t)
	ns := New(t, "vgl-do")
	out, err := ns.Command("readlink", "/proc/self/ns/net").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSpace(string(out))
	for _, tc := range []struct {
		name string
		end  func(t *testing.T) // how f ends
	}{
		{"returns", func(*testing.T) {}},
		{"ends the test", func(t *testing.T) { t.SkipNow() }},
	} {
		var before, inside, after string
		t.Run(tc.name, func(t *testing.T) {
			runtime.LockOSThread() // kept locked after Do: the same thread
			defer runtime.UnlockOSThread()
			before = netnsID(t)
			defer func() { after = netnsID(t) }()
			ns.Do(t, func() {
				inside = netnsID(t)
				tc.end(t)
			})
		})
		if inside != want || before == want || after != before {
			t.Errorf("%s: namespace before Do %s, in f %s (want %s), after %s", tc.name, before, inside, want, after)
		}
	}
}

// TestEnter runs this test binary again, entering a namespace first, and has it
// list its interfaces.
func TestEnter(t *testing.T) {
	if name := os.Getenv("VIGIL_NETNSTEST_ENTER"); name != "" {
		if err := Enter(name); err != nil {
			t.Fatal(err)
		}
		t.Logf("interfaces: %s.", strings.Join(interfaces(t), ","))
		return
	}
	ns := New(t, "vgl-enter")
	Veth(t, End{NS: ns, Name: "ve0"}, End{NS: ns, Name: "ve1"})
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestEnter$", "-test.v")
	cmd.Env = append(os.Environ(), "VIGIL_NETNSTEST_ENTER="+ns.Name)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "interfaces: lo,ve0,ve1.") {
		t.Fatalf("in %s: %v: %s", ns.Name, err, out)
	}
	if err := Enter("vgl-no-such-namespace"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Enter of a missing namespace: %v", err)
	}
}

// TestSysClassNet checks where the links of a built /sys/class/net point.
func TestSysClassNet(t *testing.T) {
	Require(t)
	peer := New(t, "vgl-sys")
	name := Unique("vsy")
	Veth(t, End{Name: name}, End{NS: peer, Name: "vsp"})
	dir := SysClassNet(t, name)
	for _, tc := range []struct {
		name, target string
	}{
		{name, "../../devices/pci0000:00/0000:00:03.0/net/" + name},
		{"lo", "../../devices/virtual/net/lo"},
		{"vsp", ""}, // in the other namespace
	} {
		got, err := os.Readlink(filepath.Join(dir, tc.name))
		if tc.target == "" {
			if !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: link to %q (%v), want none", tc.name, got, err)
			}
			continue
		}
		if err != nil || got != tc.target {
			t.Errorf("%s: link to %q (%v), want %q", tc.name, got, err, tc.target)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ifs := interfaces(t); len(entries) != len(ifs) {
		t.Errorf("%d links for the %d interfaces %v", len(entries), len(ifs), ifs)
	}
}
