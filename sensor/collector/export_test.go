package collector

// CatchAllSyscalls returns opts set to hook syscall exits at
// raw_syscalls:sys_exit, the fallback used where per-syscall tracepoints cannot
// be attached.
func CatchAllSyscalls(opts Options) Options {
	opts.catchAllSyscalls = true
	return opts
}

// SyscallHooks are the syscalls the collector attaches a tracepoint to.
var SyscallHooks = syscallHooks
