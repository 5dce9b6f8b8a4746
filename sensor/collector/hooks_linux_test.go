package collector

import (
	"context"
	"syscall"
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/sensor/bpf"
)

// runForBenchmark starts a collector whose events are read and dropped,
// with BPF run time statistics on, until the benchmark ends.
func runForBenchmark(b *testing.B) *Collector {
	if err := Supported(); err != nil {
		b.Skipf("skipping: %v", err)
	}
	kt, err := EnableKernelTime()
	if err != nil {
		b.Skipf("skipping: %v", err)
	}
	b.Cleanup(func() { kt.Close() })
	c, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, func(*event.Event) {}) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
		c.Close()
	})
	return c
}

// BenchmarkHookCost runs /bin/true once per iteration with the collector
// attached and reports what each of its eBPF programs cost per call (their run
// time as the kernel accounts it, with BPF run time statistics on) and how
// often the syscall hook ran per exec (on the whole host: other processes'
// syscalls count too; see Collector.SyscallHook for which hook that is): the
// kernel side of the exec storm in sensor/agent, hook by hook.
func BenchmarkHookCost(b *testing.B) {
	c := runForBenchmark(b)
	syscallProg := bpf.SensorProgSysExitOne
	if c.SyscallHook() != "syscalls:sys_exit_<name>" {
		syscallProg = bpf.SensorProgSysExit
	}
	hooks := []struct{ prog, unit string }{
		{bpf.SensorProgHandleExec, "exec-ns/call"},
		{c.exitProg, "exit-ns/call"},
		{syscallProg, "syscall-ns/call"},
	}
	type sample struct{ runs, ns uint64 }
	read := func() []sample {
		out := make([]sample, len(hooks))
		for i, h := range hooks {
			st, err := c.coll.Programs[h.prog].Stats()
			if err != nil {
				b.Fatalf("%s: %v", h.prog, err)
			}
			out[i] = sample{st.RunCount, uint64(st.Runtime)}
		}
		return out
	}
	before := read()
	for b.Loop() {
		pid, err := syscall.ForkExec("/bin/true", []string{"true"}, &syscall.ProcAttr{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := syscall.Wait4(pid, nil, 0, nil); err != nil {
			b.Fatal(err)
		}
	}
	after := read()
	for i, h := range hooks {
		if runs := after[i].runs - before[i].runs; runs > 0 {
			b.ReportMetric(float64(after[i].ns-before[i].ns)/float64(runs), h.unit)
		}
	}
	syscalls := after[2].runs - before[2].runs
	b.ReportMetric(float64(syscalls)/float64(b.N), "syscall-calls/exec")
}

// BenchmarkSocketHookCost measures what the syscall hook costs per call for
// the sockets and dups it does not report, which the kernel filters out: a
// dup onto a descriptor above 2 (one comparison), fcntl(F_GETFD), whose
// result is 1 (two), a dup3
// of a file that is no socket onto stdin (a descriptor lookup), and a TCP
// socket (a comparison of its arguments). The run time is the hook's on the
// whole host while the calls run.
func BenchmarkSocketHookCost(b *testing.B) {
	c := runForBenchmark(b)
	if c.SyscallHook() != "syscalls:sys_exit_<name>" {
		b.Skipf("skipping: syscall exits hooked at %s", c.SyscallHook())
	}
	null, err := syscall.Open("/dev/null", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer syscall.Close(null)
	stdin, err := syscall.Dup(0)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		syscall.Dup3(stdin, 0, 0)
		syscall.Close(stdin)
	}()
	prog := c.coll.Programs[bpf.SensorProgSysExitOne]
	for _, bc := range []struct {
		name string
		call func() error
	}{
		{"dup onto 3 or above", func() error {
			fd, err := syscall.Dup(null)
			if err == nil {
				syscall.Close(fd)
			}
			return err
		}},
		{"fcntl F_GETFD", func() error {
			_, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(null), syscall.F_GETFD, 0)
			return errno(e)
		}},
		{"dup3 of a file onto stdin", func() error { return syscall.Dup3(null, 0, 0) }},
		{"tcp socket", func() error {
			fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
			if err == nil {
				syscall.Close(fd)
			}
			return err
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			before, err := prog.Stats()
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := bc.call(); err != nil {
					b.Fatal(err)
				}
			}
			after, err := prog.Stats()
			if err != nil {
				b.Fatal(err)
			}
			if runs := after.RunCount - before.RunCount; runs > 0 {
				b.ReportMetric(float64(after.Runtime-before.Runtime)/float64(runs), "syscall-ns/call")
			}
		})
	}
}

func errno(e syscall.Errno) error {
	if e != 0 {
		return e
	}
	return nil
}
