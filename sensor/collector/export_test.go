package collector

import (
	"fmt"
	"time"
)

// FallbackHooks returns opts set to load the hooks meant for kernels without
// per-syscall tracepoints or group_dead in sched_process_exit.
func FallbackHooks(opts Options) Options {
	opts.fallbackHooks = true
	return opts
}

// ExitProgram is the exit program c loaded.
func ExitProgram(c *Collector) string { return c.exitProg }

// SyscallHooks are the syscalls the collector attaches a tracepoint to.
var SyscallHooks = syscallHooks

// CompletionPassesCQE is completionPassesCQE, for tests.
var CompletionPassesCQE = completionPassesCQE

// ProgramStats returns how often the program name of c ran and for how long
// in all (with EnableKernelTime on).
func ProgramStats(c *Collector, name string) (runs uint64, total time.Duration, err error) {
	p, ok := c.coll.Programs[name]
	if !ok {
		return 0, 0, fmt.Errorf("no program %s", name)
	}
	st, err := p.Stats()
	if err != nil {
		return 0, 0, err
	}
	return st.RunCount, st.Runtime, nil
}
