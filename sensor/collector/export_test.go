package collector

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
