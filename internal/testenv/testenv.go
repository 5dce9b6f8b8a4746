package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// ToolsDir returns the repository's tools/ directory (where node_modules lives),
// found by walking up from the working directory to go.mod.
func ToolsDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "tools", "package.json")); err == nil {
				return filepath.Join(dir, "tools")
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("tools/package.json not found above the working directory")
		}
		dir = parent
	}
}

func node(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the AWS-API emulators need it (make test installs them with npm)")
	}
	return path
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs the emulator mk makes for a free port until the test ends and
// waits for it to accept connections there. The port is free when chosen, but
// another process (a test of another package running meanwhile) may take it
// before the emulator listens: then the emulator exits, or a listener that is
// not its own answers, and start tries again on another port.
func start(t testing.TB, name string, mk func(port int) *exec.Cmd) string {
	t.Helper()
	for attempt := 1; ; attempt++ {
		addr, taken := startOnce(t, name, mk)
		if !taken {
			return addr
		}
		if attempt == 5 {
			t.Fatalf("%s: its port was taken by another process 5 times", name)
		}
	}
}

// startOnce starts mk's emulator on a free port; taken reports that another
// process holds the port (the emulator is stopped then).
func startOnce(t testing.TB, name string, mk func(port int) *exec.Cmd) (addr string, taken bool) {
	t.Helper()
	port := freePort(t)
	cmd := mk(port)
	logf, err := os.CreateTemp(t.TempDir(), name+"-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			if owns, known := listens(cmd.Process.Pid, port); owns || !known {
				t.Cleanup(stop)
				// runs before stop: a test that failed says whether the
				// emulator had stopped, and what it wrote
				t.Cleanup(func() { reportEmulator(t, name, logf.Name(), exited, &waitErr) })
				return "http://" + addr, false
			}
		}
		select {
		case <-exited:
			out, _ := os.ReadFile(logf.Name())
			if bytes.Contains(out, []byte("EADDRINUSE")) {
				return "", true
			}
			t.Fatalf("%s exited before listening (%v): %s", name, waitErr, out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			if owns, known := listens(cmd.Process.Pid, port); known && !owns {
				return "", true
			}
			out, _ := os.ReadFile(logf.Name())
			t.Fatalf("%s did not listen on %s within 30s: %s", name, addr, out)
		}
	}
}

// emulatorLogTail bounds what a failed test prints of an emulator's log.
const emulatorLogTail = 4 << 10

// reportEmulator logs, for a test that failed, whether the emulator name had
// exited (and how) and the end of its log.
func reportEmulator(t testing.TB, name, logPath string, exited <-chan struct{}, waitErr *error) {
	if !t.Failed() {
		return
	}
	select {
	case <-exited:
		t.Logf("%s exited during the test: %v", name, *waitErr)
	default:
		t.Logf("%s was still running", name)
	}
	out, err := os.ReadFile(logPath)
	if err != nil || len(out) == 0 {
		return
	}
	if len(out) > emulatorLogTail {
		out = out[len(out)-emulatorLogTail:]
	}
	t.Logf("%s's log, its last %d bytes:\n%s", name, len(out), out)
}

// listens reports whether process pid holds the socket listening on
// 127.0.0.1:port; known is false where /proc cannot tell.
func listens(pid, port int) (owns, known bool) {
	tcp, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return false, false
	}
	want := fmt.Sprintf("0100007F:%04X", port)
	inode := ""
	for _, line := range strings.Split(string(tcp), "\n") {
		f := strings.Fields(line)
		if len(f) > 9 && f[1] == want && f[3] == "0A" { // LISTEN
			inode = f[9]
		}
	}
	if inode == "" {
		return false, false
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return false, false
	}
	for _, fd := range fds {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && l == "socket:["+inode+"]" {
			return true, true
		}
	}
	return false, true
}

// nodeCommand returns a command running node with args in tools/, after checking
// that node and the npm package module are installed.
func nodeCommand(t testing.TB, module string, args ...string) *exec.Cmd {
	t.Helper()
	tools := ToolsDir(t)
	n := node(t)
	if _, err := os.Stat(filepath.Join(tools, "node_modules", module)); err != nil {
		t.Fatalf("npm package %s is not installed in %s: run `make test` (it runs npm ci there)", module, tools)
	}
	cmd := exec.Command(n, args...)
	cmd.Dir = tools
	return cmd
}

// Kinesis returns the endpoint of a Kinesis API: AWS_ENDPOINT_URL when set, else a
// kinesalite started for this test.
func Kinesis(t testing.TB) string {
	t.Helper()
	if ep := os.Getenv("AWS_ENDPOINT_URL"); ep != "" {
		return ep
	}
	return start(t, "kinesalite", func(port int) *exec.Cmd {
		script := fmt.Sprintf("require('kinesalite')({createStreamMs: 50, deleteStreamMs: 50, updateStreamMs: 50}).listen(%d, '127.0.0.1')", port)
		return nodeCommand(t, "kinesalite", "-e", script)
	})
}

// AWSConfig returns an SDK configuration for endpoint: static dummy credentials and
// us-east-1 for emulators, the standard chain without IMDS when AWS_ENDPOINT_URL is
// set.
func AWSConfig(t testing.TB, endpoint string) aws.Config {
	t.Helper()
	ctx := context.Background()
	if os.Getenv("AWS_ENDPOINT_URL") != "" {
		// LocalStack or an account: the standard chain, kept away from the
		// instance metadata service (a test host is not an EC2 role).
		cfg, err := config.LoadDefaultConfig(ctx, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
		config.WithBaseEndpoint(endpoint),
	)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
