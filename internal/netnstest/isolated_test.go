package netnstest

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestIsolated runs where scripts/isolated-net.sh says the tests are isolated
// (make test as root, or TestIsolatedNetScript): the namespace has lo only, and
// a connection to any address but loopback fails at connect, with ENETUNREACH,
// before a packet is sent.
func TestIsolated(t *testing.T) {
	if os.Getenv(IsolatedEnv) != "1" {
		t.Skipf("%s is not set: the tests are not running in scripts/isolated-net.sh's namespace (make test runs them there as root)", IsolatedEnv)
	}
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	if len(ifs) != 1 || ifs[0].Name != "lo" || ifs[0].Flags&net.FlagUp == 0 {
		t.Fatalf("interfaces %v, want lo only, up", ifs)
	}
	for _, tc := range []struct{ network, addr string }{
		{"udp4", "203.0.113.1:9"},
		{"udp6", "[2001:db8::1]:9"},
		{"tcp4", "192.0.2.1:443"},
		{"tcp6", "[2001:db8::1]:443"},
		{"udp4", "10.0.0.1:53"}, // a private address, as a resolver's
	} {
		t.Run(tc.network+" "+tc.addr, func(t *testing.T) {
			c, err := net.DialTimeout(tc.network, tc.addr, time.Second)
			if err == nil {
				c.Close()
				t.Fatalf("dial %s %s succeeded: there is a route out", tc.network, tc.addr)
			}
			if !errors.Is(err, syscall.ENETUNREACH) {
				t.Fatalf("dial %s %s: %v, want ENETUNREACH", tc.network, tc.addr, err)
			}
		})
	}
	// loopback works
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	c, err := net.Dial("udp4", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("lo")); err != nil {
		t.Fatal(err)
	}
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := pc.ReadFrom(make([]byte, 8)); err != nil {
		t.Fatalf("loopback: %v", err)
	}
}

// script is scripts/isolated-net.sh, from this package's directory.
func script(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "scripts", "isolated-net.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestIsolatedNetScript runs commands through scripts/isolated-net.sh: as root
// they see lo only and the variable saying so, and this package's tests pass
// there, making namespaces of their own; as another user the command runs as
// is, and the script says it is not isolated.
func TestIsolatedNetScript(t *testing.T) {
	Require(t)
	sh := script(t)

	t.Run("lo only", func(t *testing.T) {
		out, err := exec.Command(sh, "sh", "-c", `ip -o link show; echo "isolated=$`+IsolatedEnv+`"; readlink /proc/self/ns/net`).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) != 3 || !regexp.MustCompile(`^1: lo: <LOOPBACK,UP`).MatchString(lines[0]) || lines[1] != "isolated=1" ||
			!strings.HasPrefix(lines[2], "net:[") || lines[2] == ownNetns(t) {
			t.Fatalf("inside the script:\n%s\nwant lo only, up, isolated=1 and a namespace other than the test's (%s)", out, ownNetns(t))
		}
	})

	t.Run("the tests inside", func(t *testing.T) {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(sh, exe, "-test.run=^(TestIsolated|TestVeth|TestDo)$", "-test.v", "-test.count=1").CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		for _, name := range []string{"TestIsolated", "TestVeth", "TestDo"} {
			if !strings.Contains(string(out), "--- PASS: "+name+" ") {
				t.Errorf("%s did not pass inside the script:\n%s", name, out)
			}
		}
	})

	t.Run("not root", func(t *testing.T) {
		if _, err := exec.LookPath("setpriv"); err != nil {
			t.Skip("needs setpriv (util-linux) to run the script as another user")
		}
		cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			sh, "sh", "-c", `echo "isolated=$`+IsolatedEnv+`"; readlink /proc/self/ns/net`)
		cmd.Env = append(os.Environ(), IsolatedEnv+"=")
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v: %s%s", err, stdout.String(), stderr.String())
		}
		if !strings.Contains(stderr.String(), "not isolated") {
			t.Errorf("stderr %q: want it to say the command is not isolated", stderr.String())
		}
		if out, want := stdout.String(), "isolated=\n"+ownNetns(t)+"\n"; out != want {
			t.Errorf("stdout %q, want %q: the command run in the test's namespace", out, want)
		}
	})
}

// ownNetns names the test process's network namespace.
func ownNetns(t *testing.T) string {
	t.Helper()
	id, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	return id
}
