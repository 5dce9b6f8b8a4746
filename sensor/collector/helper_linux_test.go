package collector_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/sensor/collector"
)

const helperEnv = "VIGIL_COLLECTOR_TEST_HELPER"

// TestMain lets the test binary re-exec itself as a multi-threaded child process.
func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "setresuid" {
		// One thread changes its ids to 1000 and back to root (the saved uid
		// stays 0), as a privilege-dropping daemon would; raw syscalls so that
		// only this thread changes.
		runtime.LockOSThread()
		if _, _, e := syscall.RawSyscall(syscall.SYS_SETRESUID, 1000, 1000, 0); e != 0 {
			os.Exit(10)
		}
		if _, _, e := syscall.RawSyscall(syscall.SYS_SETRESUID, 0, 0, 0); e != 0 {
			os.Exit(11)
		}
		os.Exit(0)
	}
	if os.Getenv(helperEnv) == "unsupported" {
		// Run as a user without BPF privileges: Supported and New give the
		// one-line reason.
		fmt.Println(collector.Supported())
		_, err := collector.New(collector.Options{})
		fmt.Println(err)
		fmt.Println(errors.Is(collector.Supported(), collector.ErrUnsupported))
		os.Exit(0)
	}
	if os.Getenv(helperEnv) == "traceme" {
		// Ask to be traced by the parent, then ask again, as a program that
		// checks for a debugger does: the second request fails (EPERM).
		runtime.LockOSThread()
		if _, _, e := syscall.RawSyscall(syscall.SYS_PTRACE, syscall.PTRACE_TRACEME, 0, 0); e != 0 {
			os.Exit(10)
		}
		if _, _, e := syscall.RawSyscall(syscall.SYS_PTRACE, syscall.PTRACE_TRACEME, 0, 0); e != syscall.EPERM {
			os.Exit(11)
		}
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	}
	if os.Getenv(helperEnv) == "overlay" {
		os.Exit(overlayHelper())
	}
	if os.Getenv(helperEnv) == "threads" {
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				runtime.LockOSThread() // keep a distinct OS thread per goroutine
				wg.Done()
				select {}
			}()
		}
		wg.Wait()
		os.Exit(3)
	}
	os.Exit(m.Run())
}

// TestOneExitPerProcess checks that a process with several threads yields exactly
// one TERMINATE_PROCESS, not one per thread.
func TestOneExitPerProcess(t *testing.T) {
	_, events := startCollector(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=threads")
	if err := cmd.Run(); err == nil || cmd.ProcessState.ExitCode() != 3 {
		t.Fatalf("helper: %v", err)
	}
	pid := uint32(cmd.Process.Pid)
	// A process started after the helper is gone: once its exit arrives, every
	// record of the helper has been read (the ring buffer keeps reservation order).
	sentinel := exec.Command("/bin/true")
	if err := sentinel.Run(); err != nil {
		t.Fatal(err)
	}
	exits := 0
	for ev := next(t, events, pid, event.NewProcess); ; ev = recv(t, events) {
		if ev.PID == pid && ev.Type == event.TerminateProcess {
			exits++
			if ev.ExitCode != 3 {
				t.Errorf("EXIT_CODE = %d, want 3", ev.ExitCode)
			}
		}
		if ev.PID == uint32(sentinel.Process.Pid) && ev.Type == event.TerminateProcess {
			break
		}
	}
	if exits != 1 {
		t.Errorf("got %d TERMINATE_PROCESS events for a 5-thread process, want 1", exits)
	}
}

// recv returns the next event, or fails the test after 10s.
func recv(t testing.TB, events <-chan event.Event) event.Event {
	t.Helper()
	select {
	case ev := <-events:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
		return event.Event{}
	}
}
