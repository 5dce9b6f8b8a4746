package collector

import (
	"slices"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/vigil-sec/vigil/sensor/bpf"
)

// Capabilities a sensor's heartbeat lists as missing (MISSING_CAPABILITIES)
// when the kernel hooks behind them are not attached: a kind of event that is
// absent because it cannot be captured, not because nothing happened.
// Programs and syscalls that map to none here are named by themselves.
var (
	// progCapabilities maps the eBPF programs attached on their own to what
	// they capture.
	progCapabilities = map[string]string{
		bpf.SensorProgModuleLoad:       "module_load",
		bpf.SensorProgIoUringComplete:  "io_uring",
		bpf.SensorProgIoUringSubmitReq: "io_uring",
		bpf.SensorProgInetSockSetState: "tcp_connect",
		// the caller's ids before a set*id call (PRIVILEGE_CHANGE's USER_ID)
		bpf.SensorProgSysEnterCreds: "privilege_caller_ids",
	}
	// syscallCapabilities maps the syscalls whose exits are hooked to what
	// they capture.
	syscallCapabilities = map[string]string{
		"open": "file_open", "openat": "file_open", "openat2": "file_open", "creat": "file_open",
		"open_by_handle_at": "file_open",
		"unlink":            "file_change", "unlinkat": "file_change", "rename": "file_change",
		"renameat": "file_change", "renameat2": "file_change", "chmod": "file_change",
		"fchmod": "file_change", "fchmodat": "file_change", "fchmodat2": "file_change",
		"accept": "network", "accept4": "network", "connect": "network",
		"sendto": "network", "sendmsg": "network", "sendmmsg": "network",
		"ptrace": "ptrace",
		"setuid": "privilege", "setgid": "privilege", "setreuid": "privilege", "setregid": "privilege",
		"setresuid": "privilege", "setresgid": "privilege", "setfsuid": "privilege", "setfsgid": "privilege",
		"capset": "privilege",
		"setns":  "namespace", "unshare": "namespace", "clone": "namespace", "clone3": "namespace",
		"mount": "mount", "umount": "mount", "move_mount": "mount",
		"pivot_root":   "file_open", // only to keep the open filter's cache current
		"bpf":          "bpf_load",
		"memfd_create": "memfd",
		"userfaultfd":  "userfaultfd",
		"syslog":       "kernel_log",
		"socket":       "socket_create",
		"dup":          "fd_dup", "dup2": "fd_dup", "dup3": "fd_dup", "fcntl": "fd_dup",
	}
)

func progCapability(prog string) string {
	if c, ok := progCapabilities[prog]; ok {
		return c
	}
	return prog
}

func syscallCapability(name string) string {
	if c, ok := syscallCapabilities[name]; ok {
		return c
	}
	return name
}

// Capabilities lists every capability name a heartbeat may report missing,
// sorted.
func Capabilities() []string {
	var out []string
	for _, c := range progCapabilities {
		out = append(out, c)
	}
	for _, name := range syscallHooks {
		out = append(out, syscallCapability(name))
	}
	out = append(out, exeUpperLayer)
	slices.Sort(out)
	return slices.Compact(out)
}

func (c *Collector) disabled(capability string) bool {
	return slices.Contains(c.opts.Disable, capability)
}

// hookedSyscalls are the syscalls of syscallHooks whose capability is not
// disabled.
func (c *Collector) hookedSyscalls() []string {
	out := make([]string, 0, len(syscallHooks))
	for _, name := range syscallHooks {
		if !c.disabled(syscallCapability(name)) {
			out = append(out, name)
		}
	}
	return out
}

// missingCapabilities derives the capabilities not captured from the hooks
// not attached (c.unavailable, each "<program>: <reason>") and the syscalls
// not hooked: sorted, each once.
func (c *Collector) missingCapabilities() []string {
	var out []string
	for _, u := range c.unavailable {
		prog, _, _ := strings.Cut(u, ":")
		switch prog {
		case bpf.SensorProgSysExit, bpf.SensorProgSysExitOne:
			// no syscall exit is hooked at all
			for _, name := range syscallHooks {
				out = append(out, syscallCapability(name))
			}
		default:
			out = append(out, progCapability(prog))
		}
	}
	if c.syscallHook == "syscalls:sys_exit_<name>" {
		for _, name := range syscallHooks {
			if c.disabled(syscallCapability(name)) {
				out = append(out, syscallCapability(name))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Missing lists the capabilities (see Capabilities) this collector does not
// capture because their kernel hooks are not attached, sorted; nil when
// every hook is attached. Unavailable says why.
func (c *Collector) Missing() []string { return slices.Clone(c.missing) }

// disablePrograms leaves out of spec the programs whose capability
// Options.Disable names (never those the collector needs), noting each as
// unavailable.
func (c *Collector) disablePrograms(spec *ebpf.CollectionSpec) {
	for name := range spec.Programs {
		if requiredProgs[name] || name == bpf.SensorProgSysExit || name == bpf.SensorProgSysExitOne {
			continue
		}
		if c.disabled(progCapability(name)) {
			delete(spec.Programs, name)
			c.unavailable = append(c.unavailable, name+": disabled (collector.Options.Disable)")
		}
	}
}
