package netnstest

import (
	"fmt"
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
)

// IsolatedEnv is set to 1 by scripts/isolated-net.sh in the fresh network
// namespace it runs its command in.
const IsolatedEnv = "VIGIL_TEST_NET_ISOLATED"

// nsDir is where ip netns keeps the namespaces it names.
const nsDir = "/run/netns"

// Require skips tb unless it can make network namespaces: Linux, root, and ip
// (iproute2) on the PATH.
func Require(tb testing.TB) {
	tb.Helper()
	if runtime.GOOS != "linux" {
		tb.Skip("network namespaces are Linux's")
	}
	if os.Geteuid() != 0 {
		tb.Skip("needs root to make network namespaces and veth pairs")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		tb.Skip("needs ip (iproute2) to make network namespaces and veth pairs")
	}
}

// IP runs ip with args in the test's own namespace and fails tb if it fails.
func IP(tb testing.TB, args ...string) {
	tb.Helper()
	if err := ip(args...); err != nil {
		tb.Fatal(err)
	}
}

func ip(args ...string) error {
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Unique returns prefix followed by this process's id: a name no other test
// process uses at the same time. Interface names hold 15 bytes at most, so a
// prefix for one should hold 8 at most.
func Unique(prefix string) string {
	return prefix + strconv.Itoa(os.Getpid())
}

// Subnet30 returns the two host addresses of a /30 in 10.octet.0.0/16 chosen
// by this process's id, so that two test processes addressing veth ends in
// one namespace at the same time (the host's, when tests run outside the
// isolated namespace) do not share a subnet. Each test picks its own octet.
func Subnet30(octet byte) (a, b netip.Prefix) {
	return subnet30(octet, os.Getpid())
}

func subnet30(octet byte, pid int) (a, b netip.Prefix) {
	i := pid % (1 << 14) // 2^14 subnets of 4 addresses in a /16
	base := [4]byte{10, octet, byte(i >> 6), byte(i&63) << 2}
	a4, b4 := base, base
	a4[3]++
	b4[3] += 2
	return netip.PrefixFrom(netip.AddrFrom4(a4), 30), netip.PrefixFrom(netip.AddrFrom4(b4), 30)
}

// Namespace is a named network namespace a test made.
type Namespace struct {
	Name string
}

// New makes the network namespace named Unique(prefix), with lo up; it is
// deleted, with the devices in it, when the test ends.
func New(tb testing.TB, prefix string) *Namespace {
	tb.Helper()
	Require(tb)
	n := &Namespace{Name: Unique(prefix)}
	IP(tb, "netns", "add", n.Name)
	tb.Cleanup(func() {
		if err := ip("netns", "del", n.Name); err != nil {
			tb.Errorf("cleanup: %v", err)
		}
	})
	n.IP(tb, "link", "set", "lo", "up")
	return n
}

// Path is the file naming the namespace, for setns(2).
func (n *Namespace) Path() string { return filepath.Join(nsDir, n.Name) }

// IP runs ip with args in the namespace and fails tb if it fails.
func (n *Namespace) IP(tb testing.TB, args ...string) {
	tb.Helper()
	IP(tb, append([]string{"-n", n.Name}, args...)...)
}

// Command returns the command name with args to be run in the namespace
// (through ip netns exec).
func (n *Namespace) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// Do runs f on a locked OS thread that entered the namespace: the sockets f
// makes live there, and stay there once Do returns. The thread is put back in
// the namespace it was in before Do returns, also when f ends the test.
func (n *Namespace) Do(tb testing.TB, f func()) {
	tb.Helper()
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		tb.Fatalf("netns %s: %v", n.Name, err)
	}
	defer orig.Close()
	if err := setns(n.Path()); err != nil {
		runtime.UnlockOSThread()
		tb.Fatalf("netns %s: %v", n.Name, err)
	}
	defer func() {
		if err := setnsFile(orig); err != nil {
			// The thread stays locked: it ends with its goroutine, never
			// running another one in the wrong namespace.
			panic(fmt.Sprintf("netns %s: back to the test's namespace: %v", n.Name, err))
		}
		runtime.UnlockOSThread()
	}()
	f()
}

// Enter moves the calling goroutine's thread, locked to it for good, into the
// namespace named name: for a test binary re-executed as a helper process,
// before it makes any socket.
func Enter(name string) error {
	runtime.LockOSThread()
	if err := setns(filepath.Join(nsDir, name)); err != nil {
		return fmt.Errorf("netns %s: %w", name, err)
	}
	return nil
}

func setns(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := setnsFile(f); err != nil {
		return fmt.Errorf("setns %s: %w", path, err)
	}
	return nil
}

// End is one end of a veth pair.
type End struct {
	// NS is the namespace the end is in; nil is the test's own.
	NS *Namespace
	// Name is the interface's name (15 bytes at most); an end in the test's
	// own namespace needs a name no other test process uses (Unique).
	Name string
	// Addrs are the end's addresses with their prefix length ("10.231.0.1/24",
	// "fd31::1/64"); IPv6 ones skip duplicate address detection, so they are
	// usable at once.
	Addrs []string
}

func (e End) ip(args ...string) []string {
	if e.NS == nil {
		return args
	}
	return append([]string{"-n", e.NS.Name}, args...)
}

// Veth joins a and b by a veth pair, adds their addresses and brings both
// ends up. Ends in namespaces go with their namespace; a pair with an end in
// the test's own namespace is deleted when the test ends.
func Veth(tb testing.TB, a, b End) {
	tb.Helper()
	Require(tb)
	add := []string{"link", "add", a.Name}
	if a.NS != nil {
		add = append(add, "netns", a.NS.Name)
	}
	add = append(add, "type", "veth", "peer", "name", b.Name)
	if b.NS != nil {
		add = append(add, "netns", b.NS.Name)
	}
	IP(tb, add...)
	for _, e := range []End{a, b} {
		if e.NS == nil {
			tb.Cleanup(func() {
				if err := ip("link", "del", e.Name); err != nil {
					tb.Errorf("cleanup: %v", err)
				}
			})
			break // deleting one end deletes the pair
		}
	}
	for _, e := range []End{a, b} {
		for _, addr := range e.Addrs {
			args := e.ip("addr", "add", addr, "dev", e.Name)
			if strings.Contains(addr, ":") {
				args = append(args, "nodad")
			}
			IP(tb, args...)
		}
		IP(tb, e.ip("link", "set", e.Name, "up")...)
	}
}

// SysClassNet builds a directory laid out as /sys/class/net for the test's
// namespace, for code that tells physical interfaces from virtual ones by
// where their links there point: the interfaces named in physical link under
// a PCI device, as a NIC's do; every other interface of the namespace, lo
// included, under devices/virtual, as veths, bridges and loopback do. An
// interface that appears later has no link.
func SysClassNet(tb testing.TB, physical ...string) string {
	tb.Helper()
	ifs, err := net.Interfaces()
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	for i, name := range physical {
		target := fmt.Sprintf("../../devices/pci0000:00/0000:00:%02x.0/net/%s", 3+i, name)
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			tb.Fatal(err)
		}
	}
	for _, ifc := range ifs {
		if slices.Contains(physical, ifc.Name) {
			continue
		}
		if err := os.Symlink("../../devices/virtual/net/"+ifc.Name, filepath.Join(dir, ifc.Name)); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}
