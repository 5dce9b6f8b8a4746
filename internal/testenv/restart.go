package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Emulator is an emulator process that a test can stop and start again on the
// same port with the same data directory, to simulate a backend outage. It is
// stopped when the test ends.
type Emulator struct {
	Name     string
	Endpoint string // http://127.0.0.1:PORT
	Dir      string // where it keeps its data across restarts

	port  int
	build func(t testing.TB) *exec.Cmd

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan error
	logs string
}

func newEmulator(t testing.TB, name, dir string, build func(port int) *exec.Cmd) *Emulator {
	t.Helper()
	port := freePort(t)
	e := &Emulator{Name: name, Dir: dir, port: port,
		Endpoint: "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		build:    func(testing.TB) *exec.Cmd { return build(port) }}
	t.Cleanup(e.Stop)
	return e
}

// NewKinesalite returns a kinesalite keeping its streams in dir (a LevelDB), so a
// restart keeps the streams and their records. Call Start.
func NewKinesalite(t testing.TB, dir string) *Emulator {
	t.Helper()
	return newEmulator(t, "kinesalite", dir, func(port int) *exec.Cmd {
		script := fmt.Sprintf("require('kinesalite')({path: %q, createStreamMs: 50, deleteStreamMs: 50, updateStreamMs: 50}).listen(%d, '127.0.0.1')", dir, port)
		return nodeCommand(t, "kinesalite", "-e", script)
	})
}

// NewS3rver returns an s3rver keeping its buckets in dir. Call Start.
func NewS3rver(t testing.TB, dir string) *Emulator {
	t.Helper()
	return newEmulator(t, "s3rver", dir, func(port int) *exec.Cmd { return s3rverCmd(t, dir, port) })
}

// Start runs the emulator and waits until it accepts connections.
func (e *Emulator) Start(t testing.TB) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cmd != nil {
		t.Fatalf("%s already running", e.Name)
	}
	logf, err := os.CreateTemp("", e.Name+"-*.log")
	if err != nil {
		t.Fatal(err)
	}
	e.logs = logf.Name()
	cmd := e.build(t)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start %s: %v", e.Name, err)
	}
	logf.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	e.cmd, e.done = cmd, done
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(e.port))
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		select {
		case err := <-done:
			out, _ := os.ReadFile(e.logs)
			e.cmd = nil
			t.Fatalf("%s exited before listening on %s (%v): %s", e.Name, addr, err, out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(e.logs)
			t.Fatalf("%s did not listen on %s within 30s: %s", e.Name, addr, out)
		}
	}
}

// Stop ends the emulator abruptly (SIGKILL, as a crash or a lost network would)
// and waits for it to exit; its port is closed afterwards. Stopping a stopped
// emulator does nothing.
func (e *Emulator) Stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cmd == nil {
		return
	}
	_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
	<-e.done
	e.cmd = nil
	if e.logs != "" {
		_ = os.Remove(e.logs)
	}
}

// Restart stops the emulator and starts it again on the same port and data.
func (e *Emulator) Restart(t testing.TB) {
	t.Helper()
	e.Stop()
	e.Start(t)
}
