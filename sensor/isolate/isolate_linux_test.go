package isolate

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/vigil-sec/vigil/internal/netnstest"
	"golang.org/x/sys/unix"
)

// The test builds a small network of its own (package netnstest), so the machine
// running it is never cut off:
//
//	netns "host" (vh: 10.231.0.1, fd31::1)  ──veth──  netns "net" (vn: .2 and .3, ::2 and ::3)
//
// The "net" side runs TCP and UDP echo servers on the backend address (.2, ::2)
// and on another address (.3, ::3). The isolated "host" is a cgroup of the test's
// own under the cgroup v2 mount: the programs attach to it instead of the root,
// and probes — this test binary re-executed — join that cgroup and the "host"
// netns and report what they can reach.

const helperEnv = "VIGIL_ISOLATE_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helper(mode))
	}
	os.Exit(m.Run())
}

const (
	backend4, other4 = "10.231.0.2", "10.231.0.3"
	backend6, other6 = "fd31::2", "fd31::3"
	echoPort         = 7007
)

// probeResult is what a probe reports for each check.
type probeResult map[string]string

func TestIsolateNamespaces(t *testing.T) {
	env := setupNet(t)

	all := probeResult{"tcp4 backend": "ok", "tcp6 backend": "ok", "tcp4 other": "ok", "tcp6 other": "ok",
		"udp4 backend": "ok", "udp6 backend": "ok", "udp4 other": "ok", "udp6 other": "ok", "loopback4": "ok", "loopback6": "ok",
		"udp4 reply from backend": "ok", "udp4 reply from other": "ok"}
	env.expect(t, "before isolation", all)

	// a connection to the other address opened before isolation
	held := env.holdConnection(t, net.JoinHostPort(other4, fmt.Sprint(echoPort)))
	if got := held.ping(t); got != "ok" {
		t.Fatalf("held connection before isolation: %s", got)
	}

	allow := []netip.Prefix{netip.MustParsePrefix(backend4 + "/32"), netip.MustParsePrefix(backend6 + "/128")}
	// isolate from another process that then exits: the sensor restarting
	env.run(t, "isolate", allow)

	isolated := probeResult{"tcp4 backend": "ok", "tcp6 backend": "ok", "tcp4 other": "refused", "tcp6 other": "refused",
		"udp4 backend": "ok", "udp6 backend": "ok", "udp4 other": "refused", "udp6 other": "refused", "loopback4": "ok", "loopback6": "ok",
		"udp4 reply from backend": "ok", "udp4 reply from other": "timeout"}
	env.expect(t, "isolated, after the isolating process exited", isolated)
	if got := held.ping(t); got != "timeout" {
		t.Fatalf("held connection to the other address while isolated: %s, want timeout (egress dropped)", got)
	}

	st, err := Current(env.opts)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Isolated || !slices.Equal(st.Allow, allow) {
		t.Fatalf("state from the pins = %+v, want isolated with %v", st, allow)
	}
	if st.Stats.ConnectRefused < 2 || st.Stats.SendRefused < 2 || st.Stats.IngressDropped < 1 || st.Stats.EgressDropped < 1 {
		t.Errorf("stats %+v: want refused connects and sends, dropped egress and ingress", st.Stats)
	}

	// isolating again (a re-applied task, a refreshed resolution) updates the list in place
	allow = []netip.Prefix{netip.MustParsePrefix(other4 + "/32"), netip.MustParsePrefix(backend6 + "/128")}
	if _, err := Isolate(env.opts, allow); err != nil {
		t.Fatal(err)
	}
	env.expect(t, "allow list updated", probeResult{"tcp4 backend": "refused", "tcp4 other": "ok", "tcp6 backend": "ok", "tcp6 other": "refused"})

	// rejoin from a fresh process too
	env.run(t, "rejoin", nil)
	env.expect(t, "after rejoin", all)
	if st, err := Current(env.opts); err != nil || st.Isolated {
		t.Fatalf("after rejoin: %+v %v", st, err)
	}
	if _, err := os.Stat(env.opts.PinDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pin directory left after rejoin: %v", err)
	}
	if was, err := Rejoin(env.opts); was || err != nil {
		t.Errorf("second rejoin = %v, %v; want nothing to do", was, err)
	}
}

// offline looks names up in /etc/hosts only: one it would ask a nameserver
// about fails, naming the nameserver, before a packet is sent.
var offline = &net.Resolver{PreferGo: true, Dial: func(_ context.Context, network, address string) (net.Conn, error) {
	return nil, fmt.Errorf("tests ask no nameserver (%s %s)", network, address)
}}

func TestResolve(t *testing.T) {
	got, err := Resolve(context.Background(), offline, []string{"10.0.0.5", "10.1.0.0/16", "[fd00::1]:443", "https://192.0.2.7:8443/v1", "::ffff:10.0.0.9", "localhost", "10.0.0.5"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"10.0.0.5/32", "10.1.0.0/16", "fd00::1/128", "192.0.2.7/32", "10.0.0.9/32", "127.0.0.1/32"} {
		if !slices.Contains(got, netip.MustParsePrefix(want)) {
			t.Errorf("%v lacks %s", got, want)
		}
	}
	got, err = Resolve(context.Background(), offline, []string{"no-such-host.invalid", "10.0.0.1"})
	if err == nil || !strings.Contains(err.Error(), `allow "no-such-host.invalid"`) || !slices.Equal(got, []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}) {
		t.Errorf("unresolvable name: %v, err = %v; want 10.0.0.1/32 and an error naming the name", got, err)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "resolv.conf")
	os.WriteFile(conf, []byte("# x\nnameserver 10.0.0.2\nnameserver fe80::1%eth0\nsearch ec2.internal\nnameserver 10.0.0.2\n"), 0o644)
	if got := Resolvers(conf, filepath.Join(dir, "missing")); !slices.Equal(got, []netip.Prefix{netip.MustParsePrefix("10.0.0.2/32"), netip.MustParsePrefix("fe80::1/128")}) {
		t.Errorf("Resolvers = %v", got)
	}
}

type testNet struct {
	hostNS, netNS *netnstest.Namespace
	cgroup        string
	opts          Options
}

// setupNet makes the namespaces, the cgroup and the servers, or skips saying why
// the machine cannot run the test.
func setupNet(t *testing.T) *testNet {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: network namespaces, cgroups and cgroup eBPF programs")
	}
	netnstest.Require(t)
	root, err := CgroupRoot()
	if err != nil {
		t.Skipf("no cgroup v2 hierarchy: %v", err)
	}
	if err := MountBPFFS(BPFFSRoot); err != nil {
		t.Skipf("no bpffs: %v", err)
	}
	var objs isolateObjects
	if err := loadIsolateObjects(&objs, nil); err != nil {
		if errors.Is(err, ebpf.ErrNotSupported) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EINVAL) {
			t.Skipf("the kernel refuses cgroup eBPF programs: %v", err)
		}
		t.Fatal(err)
	}
	objs.Close()

	id := fmt.Sprint(os.Getpid())
	n := &testNet{hostNS: netnstest.New(t, "vgl-h"), netNS: netnstest.New(t, "vgl-n"), cgroup: filepath.Join(root, "vigil-isolate-test-"+id)}
	n.opts = Options{Cgroup: n.cgroup, PinDir: filepath.Join(BPFFSRoot, "vigil-test-"+id, "isolate")}
	netnstest.Veth(t, netnstest.End{NS: n.hostNS, Name: "vh", Addrs: []string{"10.231.0.1/24", "fd31::1/64"}},
		netnstest.End{NS: n.netNS, Name: "vn", Addrs: []string{backend4 + "/24", other4 + "/24", backend6 + "/64", other6 + "/64"}})
	if err := os.Mkdir(n.cgroup, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := Rejoin(n.opts); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		os.Remove(filepath.Dir(n.opts.PinDir))
		for range 50 { // the probes may still be leaving the cgroup
			if err := os.Remove(n.cgroup); err == nil || errors.Is(err, os.ErrNotExist) {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("cleanup: cgroup %s not removed", n.cgroup)
	})
	n.serve(t)
	return n
}

// serve starts the echo servers in the "net" namespace. A UDP datagram "both"
// to the backend is answered from the backend and from the other address.
func (n *testNet) serve(t *testing.T) {
	var udp = map[string]*net.UDPConn{}
	n.netNS.Do(t, func() {
		for _, a := range []string{backend4, other4, backend6, other6} {
			addr := net.JoinHostPort(a, fmt.Sprint(echoPort))
			l, err := net.Listen("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					go func() { defer c.Close(); io.Copy(c, c) }()
				}
			}()
			pc, err := net.ListenPacket("udp", addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { pc.Close() })
			udp[a] = pc.(*net.UDPConn)
		}
	})
	for a, pc := range udp {
		go func() {
			buf := make([]byte, 1500)
			for {
				k, from, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				if string(buf[:k]) == "both" && a == backend4 {
					udp[backend4].WriteTo([]byte("backend"), from)
					udp[other4].WriteTo([]byte("other"), from)
					continue
				}
				pc.WriteTo(buf[:k], from)
			}
		}()
	}
}

// command returns the test binary re-executed as a helper in the test cgroup and
// the "host" namespace.
func (n *testNet) command(t *testing.T, mode string, arg any) *exec.Cmd {
	t.Helper()
	cg, err := os.Open(n.cgroup)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cg.Close() })
	raw, _ := json.Marshal(arg)
	opts, _ := json.Marshal(n.opts)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, "VIGIL_NETNS="+n.hostNS.Name, "VIGIL_ARG="+string(raw), "VIGIL_OPTS="+string(opts))
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(cg.Fd())}
	cmd.Stderr = os.Stderr
	return cmd
}

// run runs a helper to its end and returns what it printed.
func (n *testNet) run(t *testing.T, mode string, arg any) []byte {
	t.Helper()
	out, err := n.command(t, mode, arg).Output()
	if err != nil {
		t.Fatalf("helper %s: %v: %s", mode, err, out)
	}
	return out
}

// expect runs a probe and checks the results it has in want.
func (n *testNet) expect(t *testing.T, when string, want probeResult) {
	t.Helper()
	var got probeResult
	out := n.run(t, "probe", nil)
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: probe said %q: %v", when, out, err)
	}
	for k, w := range want {
		if !strings.HasPrefix(got[k], w) {
			t.Errorf("%s: %s = %q, want %s", when, k, got[k], w)
		}
	}
}

type heldConn struct {
	in  io.Writer
	out *bufio.Scanner
}

// holdConnection starts a helper that keeps one TCP connection to addr open and
// sends a ping over it on each line it reads.
func (n *testNet) holdConnection(t *testing.T, addr string) *heldConn {
	t.Helper()
	cmd := n.command(t, "hold", addr)
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); cmd.Process.Kill(); cmd.Wait() })
	h := &heldConn{in: in, out: bufio.NewScanner(out)}
	if !h.out.Scan() || h.out.Text() != "connected" {
		t.Fatalf("hold %s: %q", addr, h.out.Text())
	}
	return h
}

func (h *heldConn) ping(t *testing.T) string {
	t.Helper()
	fmt.Fprintln(h.in, "ping")
	if !h.out.Scan() {
		t.Fatal("the holding helper ended")
	}
	return h.out.Text()
}

// helper is the re-executed test binary: it is already in the test cgroup
// (placed there at clone); it enters the "host" namespace on a locked thread.
func helper(mode string) int {
	if ns := os.Getenv("VIGIL_NETNS"); ns != "" {
		if err := netnstest.Enter(ns); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	}
	var opts Options
	json.Unmarshal([]byte(os.Getenv("VIGIL_OPTS")), &opts)
	arg := os.Getenv("VIGIL_ARG")
	switch mode {
	case "isolate":
		var allow []netip.Prefix
		json.Unmarshal([]byte(arg), &allow)
		if _, err := Isolate(opts, allow); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	case "rejoin":
		if _, err := Rejoin(opts); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	case "probe":
		json.NewEncoder(os.Stdout).Encode(probe())
	case "hold":
		var addr string
		json.Unmarshal([]byte(arg), &addr)
		c, err := net.DialTimeout("tcp", addr, 3*time.Second)
		if err != nil {
			fmt.Println(err)
			return 1
		}
		fmt.Println("connected")
		sc := bufio.NewScanner(os.Stdin)
		buf := make([]byte, 16)
		for sc.Scan() {
			c.SetDeadline(time.Now().Add(time.Second))
			_, err := c.Write([]byte("ping"))
			if err == nil {
				_, err = io.ReadFull(c, buf[:4])
			}
			fmt.Println(outcome(err))
		}
	}
	return 0
}

func outcome(err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, unix.EPERM):
		return "refused: " + err.Error()
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	default:
		return "error: " + err.Error()
	}
}

func probe() probeResult {
	res := probeResult{}
	port := fmt.Sprint(echoPort)
	for name, addr := range map[string]string{"backend": backend4, "other": other4} {
		res["tcp4 "+name] = tcpEcho(net.JoinHostPort(addr, port))
		res["udp4 "+name] = udpEcho(net.JoinHostPort(addr, port))
	}
	for name, addr := range map[string]string{"backend": backend6, "other": other6} {
		res["tcp6 "+name] = tcpEcho(net.JoinHostPort(addr, port))
		res["udp6 "+name] = udpEcho(net.JoinHostPort(addr, port))
	}
	for name, addr := range map[string]string{"loopback4": "127.0.0.1:0", "loopback6": "[::1]:0"} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			res[name] = outcome(err)
			continue
		}
		go func() {
			if c, err := l.Accept(); err == nil {
				io.Copy(c, c)
				c.Close()
			}
		}()
		res[name] = tcpEcho(l.Addr().String())
		l.Close()
	}
	// replies from both addresses to one unconnected socket: the other's is
	// dropped on ingress while isolated
	pc, err := net.ListenPacket("udp4", ":0")
	if err == nil {
		defer pc.Close()
		to := &net.UDPAddr{IP: net.ParseIP(backend4), Port: echoPort}
		res["udp4 reply from backend"], res["udp4 reply from other"] = "timeout", "timeout"
		if _, err := pc.WriteTo([]byte("both"), to); err == nil {
			buf := make([]byte, 64)
			pc.SetReadDeadline(time.Now().Add(1500 * time.Millisecond))
			for {
				k, _, err := pc.ReadFrom(buf)
				if err != nil {
					break
				}
				res["udp4 reply from "+string(buf[:k])] = "ok"
			}
		}
	}
	return res
}

func tcpEcho(addr string) string {
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return outcome(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write([]byte("hi")); err != nil {
		return outcome(err)
	}
	buf := make([]byte, 2)
	_, err = io.ReadFull(c, buf)
	return outcome(err)
}

func udpEcho(addr string) string {
	c, err := net.ListenPacket("udp", ":0")
	if err != nil {
		return outcome(err)
	}
	defer c.Close()
	to, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return outcome(err)
	}
	for range 3 { // a datagram may be lost
		if _, err := c.WriteTo([]byte("hi"), to); err != nil {
			return outcome(err)
		}
		c.SetReadDeadline(time.Now().Add(time.Second))
		buf := make([]byte, 16)
		if _, _, err := c.ReadFrom(buf); err == nil {
			return "ok"
		} else if !os.IsTimeout(err) {
			return outcome(err)
		}
	}
	return "timeout"
}
