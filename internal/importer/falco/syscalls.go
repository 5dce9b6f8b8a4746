package falco

import (
	"sort"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/importer"
)

// callGroup is a set of syscalls one Vigil event type reports and can tell apart
// from the type's other syscalls by a field: the operation (PRIVILEGE_CHANGE,
// NAMESPACE_CHANGE, MOUNT), or the kind of link (FILE_LINK). Syscalls of one group
// are the same event to Vigil.
type callGroup struct {
	calls    []string
	op       string // event/OPERATION of the group, or ""
	linkType string // event/LINK_TYPE of the group, or ""
}

// reported lists, per Vigil event type, the Falco event types (syscalls) it reports.
var reported = map[event.Type][]callGroup{
	event.NewProcess:       {{calls: []string{"execve", "execveat"}}},
	event.TerminateProcess: {{calls: []string{"procexit"}}},
	event.FileOpen:         {{calls: []string{"open", "openat", "openat2", "creat", "open_by_handle_at"}}},
	event.FileDelete:       {{calls: []string{"unlink", "unlinkat"}}},
	event.DirDelete:        {{calls: []string{"rmdir", "unlinkat"}}},
	event.FileRename:       {{calls: []string{"rename", "renameat", "renameat2"}}},
	event.FileChmod:        {{calls: []string{"chmod", "fchmod", "fchmodat", "fchmodat2"}}},
	event.FileLink: {{calls: []string{"link", "linkat"}, linkType: "hard"},
		{calls: []string{"symlink", "symlinkat"}, linkType: "symbolic"}},
	event.DirCreate:    {{calls: []string{"mkdir", "mkdirat"}}},
	event.FileMknod:    opGroups("mknod", "mknodat"),
	event.FileChown:    {{calls: []string{"chown", "fchown", "lchown", "fchownat"}}},
	event.FileTruncate: {{calls: []string{"truncate", "ftruncate"}}},
	// A UDP socket's first datagram to each destination is reported as a connect.
	event.NetworkConnect: {{calls: []string{"connect", "sendto", "sendmsg", "sendmmsg"}}},
	event.NetworkAccept:  {{calls: []string{"accept", "accept4"}}},
	event.NetworkListen:  {{calls: []string{"listen"}}},
	event.Ptrace:         {{calls: []string{"ptrace"}}},
	event.ModuleLoad:     {{calls: []string{"init_module", "finit_module"}}},
	event.PrivilegeChange: opGroups("setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid",
		"setfsuid", "setfsgid", "capset"),
	event.NamespaceChange: opGroups("setns", "unshare", "clone", "clone3"),
	event.Mount:           opGroups("mount", "move_mount"),
	event.Unmount:         {{calls: []string{"umount", "umount2"}}},
	event.BPFLoad:         {{calls: []string{"bpf"}}},
	event.MemfdCreate:     {{calls: []string{"memfd_create"}}},
	event.Userfaultfd:     {{calls: []string{"userfaultfd"}}},
	socketCreate:          {{calls: []string{"socket"}}},
	fdDup:                 opGroups("dup", "dup2", "dup3", "fcntl"),
}

func opGroups(ops ...string) []callGroup {
	out := make([]callGroup, len(ops))
	for i, op := range ops {
		out[i] = callGroup{calls: []string{op}, op: op}
	}
	return out
}

// syscallTypes maps a Falco event type to the Vigil event types that report it.
var syscallTypes = func() map[string][]event.Type {
	m := map[string][]event.Type{}
	for _, t := range allTypes() {
		for _, g := range reported[t] {
			for _, c := range g.calls {
				m[c] = append(m[c], t)
			}
		}
	}
	return m
}()

// typeSyscalls lists the syscalls Vigil's events of type t report.
func typeSyscalls(t event.Type) []string {
	var out []string
	for _, g := range reported[t] {
		out = append(out, g.calls...)
	}
	sort.Strings(out)
	return out
}

// groupNode is the condition that tells group g from the other groups of its type.
func groupNode(g callGroup) *importer.Node {
	switch {
	case g.op != "":
		return importer.Leaf(importer.OpIs, "event/OPERATION", g.op)
	case g.linkType != "":
		return importer.Leaf(importer.OpIs, "event/LINK_TYPE", g.linkType)
	}
	return importer.True()
}

// unreported are event types Falco knows that no Vigil event reports: Linux
// syscalls the sensor does not hook, and Falco's own events. A condition that can
// only hold on them can never match a Vigil event.
var unreported = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range strings.Fields(`
read write close stat fstat lstat poll lseek mmap mmap2 mprotect munmap brk rt_sigaction
rt_sigprocmask rt_sigreturn ioctl pread pread64 pwrite pwrite64 readv writev access pipe pipe2
select pselect6 sched_yield mremap msync mincore madvise shmget shmat shmctl shmdt pause
nanosleep getitimer alarm setitimer getpid sendfile sendfile64 recvfrom recvmsg recvmmsg recv
send shutdown bind getsockname getpeername socketpair setsockopt getsockopt fork vfork exit
exit_group wait4 waitid kill tkill tgkill uname semget semop semctl semtimedop msgget msgsnd
msgrcv msgctl fcntl fcntl64 flock fsync fdatasync getdents getdents64 getcwd chdir fchdir
readlink readlinkat umask gettimeofday getrlimit setrlimit prlimit prlimit64 getrusage
sysinfo times getuid getgid geteuid getegid setpgid getppid getpgrp setsid getgroups
setgroups getresuid getresgid getpgid getsid capget rt_sigpending rt_sigtimedwait
rt_sigqueueinfo rt_sigsuspend sigaltstack utime utimes utimensat futimesat uselib personality
ustat statfs fstatfs sysfs getpriority setpriority sched_setparam sched_getparam
sched_setscheduler sched_getscheduler sched_get_priority_max sched_get_priority_min
sched_rr_get_interval sched_setaffinity sched_getaffinity sched_setattr sched_getattr mlock
mlock2 munlock mlockall munlockall vhangup modify_ldt pivot_root prctl arch_prctl adjtimex
chroot sync syncfs acct settimeofday swapon swapoff reboot sethostname setdomainname iopl
ioperm delete_module quotactl quotactl_fd gettid readahead setxattr lsetxattr fsetxattr getxattr
lgetxattr fgetxattr listxattr llistxattr flistxattr removexattr lremovexattr fremovexattr time
futex futex_waitv set_thread_area get_thread_area io_setup io_destroy io_getevents io_submit
io_cancel io_pgetevents lookup_dcookie epoll_create epoll_create1 epoll_ctl epoll_wait
epoll_pwait epoll_pwait2 remap_file_pages set_tid_address restart_syscall fadvise64
timer_create timer_settime timer_gettime timer_getoverrun timer_delete clock_settime
clock_gettime clock_getres clock_nanosleep clock_adjtime mbind set_mempolicy get_mempolicy
migrate_pages move_pages mq_open mq_unlink mq_timedsend mq_timedreceive mq_notify
mq_getsetattr kexec_load kexec_file_load add_key request_key keyctl ioprio_set ioprio_get
inotify_init inotify_init1 inotify_add_watch inotify_rm_watch newfstatat fstatat64 faccessat
faccessat2 ppoll set_robust_list get_robust_list splice tee vmsplice sync_file_range
signalfd signalfd4 timerfd_create timerfd_settime timerfd_gettime eventfd eventfd2 fallocate
preadv pwritev preadv2 pwritev2 rt_tgsigqueueinfo perf_event_open fanotify_init fanotify_mark
name_to_handle_at getcpu process_vm_readv process_vm_writev kcmp seccomp getrandom membarrier
copy_file_range pkey_mprotect pkey_alloc pkey_free statx rseq pidfd_send_signal pidfd_open
pidfd_getfd io_uring_setup io_uring_enter io_uring_register open_tree fsopen fsconfig fsmount
fspick close_range process_madvise process_mrelease mount_setattr landlock_create_ruleset
landlock_add_rule landlock_restrict_self memfd_secret cachestat map_shadow_stack statmount
listmount mseal socketcall llseek _llseek stat64 lstat64 fstat64 sigreturn sigaction
sigprocmask signal getuid32 getgid32 geteuid32 getegid32 setuid32 setgid32 setresuid32
setresgid32 chown32 fchown32 lchown32 nice
container signaldeliver switch pluginevent asyncevent notification procinfo cpu_hotplug
drop infra page_fault scapevent k8s mesos tracer`) {
		m[s] = true
	}
	return m
}()

// knownCall reports whether name is an event type Falco knows.
func knownCall(name string) bool {
	_, ok := syscallTypes[name]
	return ok || unreported[name]
}
