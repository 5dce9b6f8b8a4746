//go:build ignore

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// Host telemetry capture for the Vigil sensor.
//
// Every program writes records into one ring buffer (`events`); a record that
// does not fit is counted in the per-CPU `counters` array (COUNTER_DROPS)
// instead of being silently lost.
//
// BTF raw tracepoints and syscall tracepoints are used, no trampolines: they load
// on kernels where fentry/fexit and BPF LSM programs are refused. Syscall exits
// go to syscall_exited, from sys_exit_one (attached by the collector to the
// syscalls:sys_exit_<name> tracepoint of each syscall it handles) or, where
// those cannot be attached, from the catch-all sys_exit. Hooks, by record kind:
//
//   EXEC / EXIT     tp_btf/sched_process_exec, tp_btf/sched_process_exit (one of
//                   two programs, by the tracepoint's arguments on this kernel)
//   FILE_OPEN       tp_btf/sys_exit of open, openat, openat2, creat,
//                   open_by_handle_at: the new descriptor's file, its path walked
//                   from the dentry up through the mounts, filtered in the kernel
//                   by the `file_prefixes` LPM trie, or decided before any
//                   walk by the verdict cached for the file's directory
//                   (dir_verdicts.h); with the path argument as passed, read
//                   from the saved registers, when it holds ".."
//   FILE_DELETE,    sys_exit of unlink(at), rename(at)(2), chmod, fchmod(at)(2)
//   FILE_RENAME,    reports the call if it succeeded, its arguments read from the
//   FILE_CHMOD      registers, the path made absolute against the directory
//                   descriptor or the working directory
//   FILE_LINK, DIR_CREATE, DIR_DELETE, FILE_MKNOD, FILE_CHOWN, FILE_TRUNCATE
//                   file_ops.h (syscalls) and file_ops_uring.h (io_uring);
//                   prefixes watched for changes only: file_watch.h
//   NET_CONNECT     tcp: tp_btf/inet_sock_set_state (CLOSE->SYN_SENT in the
//                   connecting process records it; SYN_SENT->ESTABLISHED/CLOSE
//                   reports the outcome); a connect that fails before its SYN is
//                   reported from sys_exit. udp: sys_exit of connect, and
//                   sys_exit of sendto/sendmsg/sendmmsg for the first datagram a
//                   socket sends to each destination
//   NET_ACCEPT      sys_exit of accept/accept4: the new socket's endpoints
//   DNS             sys_exit of sendto/sendmsg/sendmmsg on a UDP socket to port
//                   53: the query's bytes
//   MODULE          tp_btf/module_load
//   PRIV            sys_exit of setuid, setgid, setreuid, setregid, setresuid,
//                   setresgid, setfsuid, setfsgid, capset that succeeded, with the
//                   caller's ids kept at the call's entry (sys_enter_creds)
//   PTRACE          sys_exit of ptrace(PTRACE_ATTACH / PTRACE_SEIZE) that succeeded,
//                   of the first write into a tracee (POKE*, SET*REGS*) and of the
//                   first read of its memory (PEEK*) by each tracer, and of every
//                   PTRACE_TRACEME, failed or not
//   NET_LISTEN      sys_exit of listen that succeeded: the socket's bound address,
//                   read from its sock (listen.h)
//   SOCKET_CREATE   sys_exit of socket that made a packet or raw IP socket,
//                   and IORING_OP_SOCKET (sockets.h)
//   FD_DUP          sys_exit of dup, dup2, dup3, fcntl(F_DUPFD*) onto 0, 1 or 2
//                   of a TCP, UDP or Unix socket, and IORING_OP_FIXED_FD_INSTALL
//                   (sockets.h)
//   DNS (streams)   tp_btf/sock_send_length of write, writev, and of sendto and
//                   sendmsg on TCP, on a socket whose peer port is 53
//                   (dns_stream.h)
//
// Syscall numbers and registers are those of x86-64.
//
// The record layouts are mirrored by the decoder in sensor/collector; change both
// together (a test there compares them with the bpf2go-generated types).

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define PATH_MAX_LEN 512
#define ARGS_MAX_LEN 1024
#define FPATH_MAX 1024   // a file path carried by a file record is shorter than this
#define PREFIX_MAX 128   // longest configurable path prefix
#define DNS_MAX 512      // bytes of a DNS query carried
#define MODNAME_MAX 56

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_CLOSE 7
#define ECONNABORTED 103

// bpf_ringbuf_submit / bpf_ringbuf_query flags (uapi linux/bpf.h).
#define BPF_RB_NO_WAKEUP 1
#define BPF_RB_FORCE_WAKEUP 2
#define BPF_RB_AVAIL_DATA 0

#define S_IFMT 00170000
#define S_IFREG 0100000
#define O_TRUNC 01000

enum event_kind {
	EVENT_EXEC = 1,
	EVENT_EXIT = 2,
	EVENT_FILE_OPEN = 3,
	EVENT_FILE_DELETE = 4,
	EVENT_FILE_RENAME = 5,
	EVENT_FILE_CHMOD = 6,
	EVENT_NET_CONNECT = 7,
	EVENT_NET_ACCEPT = 8,
	EVENT_DNS = 9,
	EVENT_MODULE = 10,
	EVENT_PRIV = 11,
	EVENT_PTRACE = 12,
	EVENT_NET_LISTEN = 20,
};

enum counter {
	COUNTER_DROPS = 0,         // records lost: ring buffer full
	COUNTER_FILE_FILTERED = 1, // file events dropped by the path filter, walked
	COUNTER_FILE_MATCHED = 2,  // file events that passed the path filter
	COUNTER_FILE_CACHED = 3,   // file opens dropped by their directory's cached
	                           // verdict, unwalked (not in COUNTER_FILE_FILTERED)
	COUNTER_MAX = 4,
};

enum priv_op {
	PRIV_SETUID = 1,
	PRIV_SETREUID = 2,
	PRIV_SETRESUID = 3,
	PRIV_SETFSUID = 4,
	PRIV_SETGID = 5,
	PRIV_SETREGID = 6,
	PRIV_SETRESGID = 7,
	PRIV_SETFSGID = 8,
	PRIV_CAPSET = 9,
};

// Common header of every record. 48 bytes, little endian, no implicit padding.
struct event_hdr {
	__u32 kind;      // enum event_kind
	__u32 pid;       // thread group id (the process id user space sees)
	__u32 ppid;      // real_parent's thread group id
	__u32 uid;       // real uid
	__u32 gid;       // real gid
	__s32 exit_code; // raw task->exit_code (wait status encoding), exit only
	__u64 boot_ns;   // bpf_ktime_get_boot_ns() when the record was made
	__u64 cgroup_id; // cgroup v2 id of the task
	__u16 path_len;  // bytes used of the record's first string (path, module name)
	__u16 args_len;  // bytes used of the second string (argv, new path, DNS query)
	__u32 euid;      // effective uid
};

// exec_event.flags
enum exec_flag {
	EXEC_OWN_CGROUPS = 1, // the process's cgroups are not its parent's (moved between fork and exec)
};

#include "process_context.h"

// An exec record is sent with only the used bytes of data: hdr.path_len bytes of
// the executable's path, hdr.args_len bytes of argv, ctx.cwd_len bytes of the
// working directory, ctx.env_len bytes of the environment.
struct exec_event {
	struct event_hdr hdr;
	__u32 flags; // EXEC_*
	__u32 _pad;
	struct exec_context ctx;
	char data[PATH_MAX_LEN + ARGS_MAX_LEN + CWD_MAX_LEN + ENV_MAX_LEN];
};

struct exit_event {
	struct event_hdr hdr;
};

// A file record is sent with only the used bytes of path: hdr.path_len bytes of
// the (first) path, then for a rename hdr.args_len bytes of the new path, for an
// open that of the path as the process passed it when it holds ".." (raw_path).
struct file_event {
	struct event_hdr hdr;
	__u32 flags;   // open: f_flags; chmod: the new mode; rename: RENAME_* flags
	__u32 fmode;   // open: f_mode (FMODE_READ, FMODE_WRITE, FMODE_CREATED)
	__u32 _pad;
	__u32 key_len; // always 0 when sent
	char path[2 * FPATH_MAX];
};

// saddr/sport are always the local end, daddr/dport the remote one.
struct net_event {
	struct event_hdr hdr;
	__u16 family;   // AF_INET or AF_INET6
	__u16 protocol; // IPPROTO_TCP or IPPROTO_UDP
	__u16 sport;    // host byte order
	__u16 dport;    // host byte order
	__s32 err;      // 0 or a positive errno
	__u32 _pad;
	__u8 saddr[16]; // IPv4 in the first 4 bytes
	__u8 daddr[16];
};

struct dns_event {
	struct net_event net;
	__u8 query[DNS_MAX]; // hdr.args_len bytes of the UDP payload
};

struct module_event {
	struct event_hdr hdr;
	char name[MODNAME_MAX];
};

struct priv_event {
	struct event_hdr hdr;
	__u32 op;       // enum priv_op
	__u32 new_uid;  // real uid after the change
	__u32 new_euid; // effective uid after the change
	__u32 new_gid;
	__u32 new_egid;
	__u32 _pad;
	__u64 old_caps; // effective capabilities before the call (0 where sys_enter_creds is not attached)
	__u64 new_caps; // and after
};

struct ptrace_event {
	struct event_hdr hdr;
	__u32 target_pid; // the pid argument of ptrace; the caller itself for PTRACE_TRACEME
	__s32 err;        // 0, or the errno a PTRACE_TRACEME failed with
	__s64 request;    // PTRACE_ATTACH (16), PTRACE_SEIZE (0x4206), ...
};

struct prefix_key {
	__u32 prefixlen; // in bits
	char data[PREFIX_MAX];
};

// prefix_val.flags: the entry ends in '/' and a longer entry starts with it
// (dir_verdicts.h).
#define PREFIX_SPLIT 1

struct prefix_val {
	__u8 verdict; // 0 leave out, 1 report, PREFIX_CHANGES (file_watch.h)
	__u8 flags;   // PREFIX_SPLIT
	__u16 bits;   // the entry's own prefix length, in bits
};

// Referenced only so that the record types land in BTF, from which bpf2go
// generates their Go mirrors (SensorExecEvent, ...). Never read or written.
const struct exec_event *unused_exec_event __attribute__((unused));
const enum exec_context_flag *unused_exec_context_flag __attribute__((unused));
const struct exit_event *unused_exit_event __attribute__((unused));
const struct file_event *unused_file_event __attribute__((unused));
const struct net_event *unused_net_event __attribute__((unused));
const struct dns_event *unused_dns_event __attribute__((unused));
const struct module_event *unused_module_event __attribute__((unused));
const struct priv_event *unused_priv_event __attribute__((unused));
const struct ptrace_event *unused_ptrace_event __attribute__((unused));
const struct prefix_key *unused_prefix_key __attribute__((unused));
const struct prefix_val *unused_prefix_val __attribute__((unused));
const enum event_kind *unused_event_kind __attribute__((unused));
const enum counter *unused_counter __attribute__((unused));
const enum priv_op *unused_priv_op __attribute__((unused));
const enum exec_flag *unused_exec_flag __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20); // user space may resize before loading
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNTER_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

// Path prefixes of the file events to report, set from user space. The
// verdict is 1 for a prefix to report and 0 for one to leave out; the longest
// matching prefix decides. Entries user space adds to mark the directories
// that longer entries split (PREFIX_SPLIT) have the verdict of their own
// longest prefix: room for every '/'-terminated prefix of 256 entries.
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 256 * (PREFIX_MAX / 2));
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(key_size, sizeof(struct prefix_key));
	__uint(value_size, sizeof(struct prefix_val));
} file_prefixes SEC(".maps");

// Per-CPU space for building a file record.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct file_event);
} file_scratch SEC(".maps");

struct pending_connect {
	struct net_event ev;
};

// TCP connects in progress, by socket, from SYN_SENT until the handshake ends.
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct pending_connect);
} tcp_pending SEC(".maps");

struct udp_peer_key {
	__u64 ino; // the socket's inode number: unique for the socket's life, unlike
	           // its address, which a socket made after it closes may get
	__u8 addr[16]; // IPv4 as ::ffff:a.b.c.d
	__u16 port;
	__u16 _pad1;
	__u32 _pad2;
};

// UDP destinations already reported, per socket.
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct udp_peer_key);
	__type(value, __u8);
} udp_seen SEC(".maps");

// Per-CPU space for a network record being built.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pending_connect);
} net_scratch SEC(".maps");

// Bytes waiting in the ring buffer from which a new record wakes the reader.
// Below it records are submitted without a wakeup (each wakeup is an interrupt
// and a context switch) and user space finds them when it next polls; set by
// user space before loading, 0 wakes on every record.
const volatile __u64 wakeup_bytes = 0;

// Bytes over wakeup_bytes up to which a record still wakes the reader: more
// than the largest record (an exec record, some 6 KiB), so that a record lands
// in this window whenever the bytes waiting cross the threshold. Beyond it the
// reader was woken already, and it reads until fewer than wakeup_bytes are
// waiting before it waits again: a wakeup asked for by every record would cost
// each one an interrupt (an APIC write, a VM exit in a virtual machine) for as
// long as the reader takes to get a CPU.
#define WAKEUP_WINDOW (16 << 10)

// rb_flags chooses the submit flags for a record: wake the reader when
// wakeup_bytes are waiting, once per crossing of the threshold.
static __always_inline __u64 rb_flags(void)
{
	__u64 avail;

	if (wakeup_bytes == 0)
		return 0;
	avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	return avail >= wakeup_bytes && avail < wakeup_bytes + WAKEUP_WINDOW ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void count(__u32 idx)
{
	__u64 *n = bpf_map_lookup_elem(&counters, &idx);

	if (n)
		*n += 1; // per-CPU slot: no other writer
}

// fill_hdr reads task through its BTF pointer: plain loads (the verifier
// guards them against faults), not a helper call per field.
static __always_inline void fill_hdr(struct event_hdr *h, struct task_struct *task, __u32 kind)
{
	const struct cred *cred = task->cred;

	h->kind = kind;
	h->pid = task->tgid;
	h->ppid = task->real_parent->tgid;
	h->uid = cred->uid.val;
	h->gid = cred->gid.val;
	h->exit_code = 0;
	h->boot_ns = bpf_ktime_get_boot_ns();
	h->cgroup_id = bpf_get_current_cgroup_id();
	h->path_len = 0;
	h->args_len = 0;
	h->euid = cred->euid.val;
}

static __always_inline void fill_hdr_current(struct event_hdr *h, __u32 kind)
{
	fill_hdr(h, bpf_get_current_task_btf(), kind);
}

/* ---- processes ---------------------------------------------------------- */

// Per-CPU space for building an exec record.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_event);
} exec_scratch SEC(".maps");

/* ---- paths -------------------------------------------------------------- */

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

#define NAME_MAX 255
#define MAX_DEPTH 64
#define WALK_END 2048 // a walked path ends here in the walk buffer
#define WALK_BUF 4096

struct walk_buf {
	char b[WALK_BUF];
	__u32 first; // bytes of the last walk's first component, its '/' included (0: none)
};

// Per-CPU buffer in which paths are built, right to left, ending at WALK_END.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct walk_buf);
} walk_scratch SEC(".maps");

static __always_inline struct walk_buf *walk_buf(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&walk_scratch, &zero);
}

struct walk_ctx {
	__u64 dentry; // struct dentry *
	__u64 mnt;    // struct mount *
	__u64 root;   // the mount's root dentry
	__u32 len;    // bytes written so far, ending at WALK_END
	__u32 trunc;
};

static long walk_step(__u64 i, struct walk_ctx *c)
{
	struct dentry *d = bpf_rdonly_cast((void *)c->dentry, bpf_core_type_id_kernel(struct dentry));
	struct mount *m = bpf_rdonly_cast((void *)c->mnt, bpf_core_type_id_kernel(struct mount));
	struct dentry *parent;
	struct walk_buf *w;
	__u32 n, len, off;

	if (!d || !m)
		return 1;
	parent = d->d_parent;
	if (c->dentry == c->root || d == parent) {
		struct mount *mp = m->mnt_parent;

		if (!mp || mp == m)
			return 1; // the root of the mount tree
		c->dentry = (__u64)m->mnt_mountpoint;
		c->mnt = (__u64)mp;
		c->root = (__u64)mp->mnt.mnt_root;
		return 0;
	}
	n = d->d_name.len;
	if (n > NAME_MAX)
		n = NAME_MAX;
	len = c->len;
	if (len + n + 1 > FPATH_MAX - 1) {
		c->trunc = 1;
		return 1;
	}
	w = walk_buf();
	if (!w)
		return 1;
	if (len == 0)
		w->first = n + 1;
	len += n + 1;
	off = WALK_END - len;
	barrier_var(off);
	if (off > WALK_END - 1 || n > NAME_MAX)
		return 1;
	w->b[off] = '/';
	off++;
	barrier_var(off);
	if (off > WALK_END)
		return 1;
	bpf_probe_read_kernel(&w->b[off], n, d->d_name.name);
	c->len = len;
	c->dentry = (__u64)parent;
	return 0;
}

// A walked path too long for a record, or too deep for a walk, keeps its end,
// its first bytes replaced by CUT_MARK.
#define CUT_MARK "..."
#define CUT_LEN 3

// walk_path writes the absolute path of (dentry, vfsmount) into the walk
// buffer, ending at WALK_END, and returns its length. A path longer than a
// record carries (FPATH_MAX - 1 bytes), or of MAX_DEPTH components and mounts
// or more, keeps its end after CUT_MARK ("...<end of the path>"), which the
// prefix filter passes (see wanted): its prefix is unknown.
static __noinline __u64 walk_path(struct dentry *dentry, struct vfsmount *vfsmnt)
{
	struct walk_ctx c = {};
	struct walk_buf *w;
	struct vfsmount *vm = bpf_rdonly_cast(vfsmnt, bpf_core_type_id_kernel(struct vfsmount));

	if (!vm)
		return 0;
	w = walk_buf();
	if (w)
		w->first = 0;
	c.dentry = (__u64)dentry;
	c.mnt = (__u64)vfsmnt - bpf_core_field_offset(struct mount, mnt);
	c.root = (__u64)vm->mnt_root;
	if (bpf_loop(MAX_DEPTH, walk_step, &c, 0) >= MAX_DEPTH || c.trunc) {
		__u32 off = WALK_END - c.len;

		w = walk_buf();
		barrier_var(off);
		if (!w || c.len <= CUT_LEN || off > WALK_END - CUT_LEN)
			return 0;
		__builtin_memcpy(&w->b[off], CUT_MARK, CUT_LEN);
		return c.len;
	}
	if (c.len == 0) {
		w = walk_buf();
		if (!w)
			return 0;
		w->b[WALK_END - 1] = '/';
		return 1;
	}
	return c.len;
}

// fd_exec_name reports whether p, a program's name as exec was given it (at
// least 6 bytes), is "/dev/fd/..." or "/proc/...".
static __always_inline bool fd_exec_name(const char *p)
{
	if (p[0] != '/')
		return false;
	if (p[1] == 'd')
		return p[2] == 'e' && p[3] == 'v' && p[4] == '/' && p[5] == 'f' && p[6] == 'd' && p[7] == '/';
	return p[1] == 'p' && p[2] == 'r' && p[3] == 'o' && p[4] == 'c' && p[5] == '/';
}

#define DELETED " (deleted)"
#define DELETED_LEN 10

// exec_file_path writes into data the path of f, the file of a program being
// run, and returns its length (plen, data untouched, if it has none that fits):
// "/memfd:<name> (deleted)" for an anonymous in-memory file (memfd_create),
// the path with " (deleted)" after it for a file that was unlinked.
static __always_inline __u32 exec_file_path(char *data, struct file *f, __u32 plen)
{
	struct dentry *d;
	struct walk_buf *w;
	__u64 len, off;

	if (!f)
		return plen;
	d = f->f_path.dentry;
	if (d == d->d_parent && d != f->f_path.mnt->mnt_root) {
		// Not in any directory tree: a pseudo file, named "memfd:<name>".
		len = d->d_name.len;
		if (len == 0 || len > PATH_MAX_LEN - 2 - DELETED_LEN)
			return plen;
		data[0] = '/';
		bpf_probe_read_kernel(&data[1], len & (PATH_MAX_LEN - 1), d->d_name.name);
		len += 1;
	} else {
		len = walk_path(d, f->f_path.mnt);
		w = walk_buf();
		if (!w || len == 0 || len > PATH_MAX_LEN - 1 - DELETED_LEN)
			return plen;
		off = WALK_END - len;
		barrier_var(off);
		if (off > WALK_END)
			return plen;
		bpf_probe_read_kernel(data, len & (PATH_MAX_LEN - 1), &w->b[off]);
	}
	if (!d->d_hash.pprev) { // unhashed: unlinked, or never linked
		barrier_var(len);
		if (len > PATH_MAX_LEN - 1 - DELETED_LEN)
			return plen;
		__builtin_memcpy(&data[len], DELETED, DELETED_LEN);
		len += DELETED_LEN;
	}
	return len;
}

#include "process_context_read.h"

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct exec_event *e;
	const char *filename;
	unsigned long arg_start, arg_end, n;
	__u32 zero = 0, plen = 0, size, off;
	long ret;

	e = bpf_map_lookup_elem(&exec_scratch, &zero);
	if (!e)
		return 0;
	fill_hdr(&e->hdr, task, EVENT_EXEC);
	// Container runtimes move the process into the container's cgroups between
	// fork and exec; one that still shares its parent's set of cgroups (every
	// hierarchy, v1 included) runs where its parent runs.
	e->flags = task->cgroups != task->real_parent->cgroups ? EXEC_OWN_CGROUPS : 0;
	e->_pad = 0;

	filename = bprm->filename;
	ret = bpf_probe_read_kernel_str(e->data, PATH_MAX_LEN, filename);
	if (ret > 0)
		plen = (ret - 1) & (PATH_MAX_LEN - 1); // at most PATH_MAX_LEN - 1
	// A program run through a descriptor (fexecve and execveat give
	// "/dev/fd/N", a /proc/<pid>/fd/N link its own name) is named by its
	// file, as /proc/<pid>/exe names it.
	if (plen > 5 && fd_exec_name(e->data))
		plen = exec_file_path(e->data, bprm->file, plen);
	e->hdr.path_len = plen;

	// The new image's argv, just copied onto its stack by the kernel, right
	// after the path.
	arg_start = task->mm->arg_start;
	arg_end = task->mm->arg_end;
	n = arg_end > arg_start ? arg_end - arg_start : 0;
	if (n > ARGS_MAX_LEN)
		n = ARGS_MAX_LEN;
	barrier_var(n);
	if (n > ARGS_MAX_LEN)
		n = ARGS_MAX_LEN;
	if (n > 0 && bpf_probe_read_user(e->data + plen, n, (const void *)arg_start) == 0)
		e->hdr.args_len = n;

	// The process context, then the working directory and the environment
	// after argv.
	read_exec_context(&e->ctx, task);
	read_exe_layer(&e->ctx, bprm->file);
	off = plen + e->hdr.args_len;
	barrier_var(off);
	if (off > PATH_MAX_LEN + ARGS_MAX_LEN - 1)
		return 0;
	e->ctx.cwd_len = read_cwd(e->data + off, task);
	off += e->ctx.cwd_len;
	barrier_var(off);
	if (off > PATH_MAX_LEN + ARGS_MAX_LEN + CWD_MAX_LEN - 1)
		return 0;
	e->ctx.env_len = read_env(e->data + off, task);

	size = offsetof(struct exec_event, data) + off + e->ctx.env_len;
	barrier_var(size);
	if (size > sizeof(*e))
		return 0;
	if (bpf_ringbuf_output(&events, e, size, rb_flags()) != 0)
		count(COUNTER_DROPS);
	return 0;
}

// A process, as the key of exits_seen: pids are reused, the pair is not.
struct exit_key {
	__u32 tgid;
	__u32 _pad;
	__u64 start_time; // the thread group leader's
};

// Exits of processes with several threads that were reported. Threads exiting
// together can all find signal->live at zero by the time they reach the
// tracepoint; the first to add its process here reports it. A thread that finds
// itself the only one left (signal->nr_threads drops as exited threads are
// released, after their tracepoint) only looks its process up, which is
// cheaper than adding it. Entries are never removed: the oldest are evicted long
// after the threads of their process are gone.
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct exit_key);
	__type(value, __u8);
} exits_seen SEC(".maps");

// exited reports the exit of task's process.
static __always_inline void exited(struct task_struct *task)
{
	struct exit_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(COUNTER_DROPS);
		return;
	}
	fill_hdr(&e->hdr, task, EVENT_EXIT);
	e->hdr.exit_code = task->exit_code;
	bpf_ringbuf_submit(e, rb_flags());
}

// handle_exit is for kernels whose sched_process_exit does not say whether the
// thread is the last of its group (handle_exit_group is loaded where it does).
SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *task)
{
	struct exit_key k = {};
	__u8 one = 1;

	// Report the process, not its threads: only a thread that finds no thread
	// of its group alive (signal->live has already been decremented) emits,
	// and only once per process.
	if (task->signal->live.counter != 0)
		return 0;
	k.tgid = task->tgid;
	k.start_time = task->group_leader->start_time;
	if (task->signal->nr_threads > 1) {
		if (bpf_map_update_elem(&exits_seen, &k, &one, BPF_NOEXIST) != 0)
			return 0;
	} else if (bpf_map_lookup_elem(&exits_seen, &k)) {
		return 0;
	}
	exited(task);
	return 0;
}

// handle_exit_group reports a process's exit from the one thread the kernel
// tells is the last of its group (group_dead: the thread that took
// signal->live to zero), without handle_exit's map of processes reported.
SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit_group, struct task_struct *task, bool group_dead)
{
	if (group_dead)
		exited(task);
	return 0;
}

/* ---- helpers shared by the syscall hooks -------------------------------- */

#define AT_FDCWD -100
#define S_IFSOCK 0140000
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define EINPROGRESS 115
#define EALREADY 114
#define PTRACE_TRACEME 0
#define PTRACE_PEEKTEXT 1
#define PTRACE_PEEKDATA 2
#define PTRACE_PEEKUSER 3
#define PTRACE_ATTACH 16
#define PTRACE_SEIZE 0x4206
#define PTRACE_POKETEXT 4
#define PTRACE_POKEDATA 5
#define PTRACE_POKEUSER 6
#define PTRACE_SETREGS 13
#define PTRACE_SETFPREGS 15
#define PTRACE_SETREGSET 0x4205

// x86-64 syscall numbers.
#define NR_open 2
#define NR_chmod 90
#define NR_fchmod 91
#define NR_creat 85
#define NR_rename 82
#define NR_unlink 87
#define NR_connect 42
#define NR_accept 43
#define NR_sendto 44
#define NR_sendmsg 46
#define NR_ptrace 101
#define NR_setuid 105
#define NR_setgid 106
#define NR_setreuid 113
#define NR_setregid 114
#define NR_setresuid 117
#define NR_setresgid 119
#define NR_setfsuid 122
#define NR_setfsgid 123
#define NR_capset 126
#define NR_openat 257
#define NR_unlinkat 263
#define NR_renameat 264
#define NR_fchmodat 268
#define NR_accept4 288
#define NR_open_by_handle_at 304
#define NR_sendmmsg 307
#define NR_renameat2 316
#define NR_openat2 437
#define NR_fchmodat2 452

// A syscall's number and arguments, as read at its exit.
struct sys_args {
	__u64 nr;
	__u64 a[5];
};

// A TCP socket whose SYN was sent: the thread that connected it, and the
// socket's inode number (kernel memory is reused: a socket made after this one
// closed may have its address, the key).
struct syn_sent {
	__u64 pid_tgid;
	__u64 ino;
};

// TCP sockets whose SYN was sent and whose handshake has not succeeded: a
// connect that fails after its SYN is reported by the handshake's end, not by
// the syscall's exit.
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct syn_sent);
} tcp_syn SEC(".maps");

// fd_file returns the current task's open file for fd, or NULL.
static __always_inline struct file *fd_file(__u64 fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt;
	struct file **fds;
	struct file *f = 0;

	if (!fdt || fd >= fdt->max_fds)
		return 0;
	fds = fdt->fd;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd & 0xfffffff]) != 0 || !f)
		return 0;
	return bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file));
}

// wanted looks the path of len bytes at w->b[off] up in the prefix trie: true
// if the longest matching prefix is one to report.
static __always_inline bool wanted(struct walk_buf *w, __u32 off, __u32 len)
{
	struct prefix_val *v;
	__u32 *key_len;

	if (len > PREFIX_MAX)
		len = PREFIX_MAX;
	off -= 4;
	barrier_var(off);
	if (off > WALK_BUF - sizeof(struct prefix_key))
		return false;
	key_len = (__u32 *)&w->b[off];
	if (((char *)key_len)[4] == CUT_MARK[0])
		return true;
	*key_len = len * 8;
	v = bpf_map_lookup_elem(&file_prefixes, key_len);
	return v && v->verdict;
}

static __always_inline struct file_event *file_rec(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&file_scratch, &zero);
}

static __always_inline void file_emit(struct file_event *e)
{
	__u32 n = e->hdr.path_len + e->hdr.args_len;

	barrier_var(n);
	if (n > 2 * FPATH_MAX)
		return;
	if (bpf_ringbuf_output(&events, e, offsetof(struct file_event, path) + n, rb_flags()) != 0)
		count(COUNTER_DROPS);
}

#include "file_watch.h"
#include "dir_verdicts.h"

struct pair_ctx {
	__u32 off;
	__u32 len;
	char a, b1, b2; // the pair looked for: a, then b1 or b2
	char _pad;
	__u32 found;
};

static long pair_step(__u64 i, struct pair_ctx *c)
{
	struct walk_buf *w = walk_buf();
	__u64 j = c->off + i;
	char a, b;

	if (!w || i + 1 >= c->len)
		return 1;
	barrier_var(j);
	if (j > WALK_BUF - 2)
		return 1;
	a = w->b[j];
	b = w->b[j + 1];
	if (a == c->a && (b == c->b1 || b == c->b2)) {
		c->found = 1;
		return 1;
	}
	return 0;
}

// has_pair reports whether the len bytes at w->b[off] hold the byte a followed
// by b1 or b2.
static __always_inline bool has_pair(__u32 off, __u32 len, char a, char b1, char b2)
{
	struct pair_ctx c = {.off = off, .len = len, .a = a, .b1 = b1, .b2 = b2};

	bpf_loop(FPATH_MAX, pair_step, &c, 0);
	return c.found;
}

// has_dots reports whether the path holds "/." or "//": it may not be in
// canonical form, so the kernel cannot judge it by prefix.
static __always_inline bool has_dots(__u32 off, __u32 len)
{
	return has_pair(off, len, '/', '.', '/');
}

// raw_path puts the path argument the process passed to the open (raw, in its
// memory; NULL where the hook has none) into e->path at byte at, after the
// resolved path, and returns its length, when it holds ".." (a ".." component,
// which a prefix check of it or a rule reading the resolved path cannot see,
// or a name with two dots in a row): else 0, and the record stays as small as
// without it. A path longer than a record carries keeps its first
// FPATH_MAX - 1 bytes. Called for opens that passed the prefix filter only.
static __always_inline __u32 raw_path(struct file_event *e, __u32 at, const char *raw)
{
	struct walk_buf *w;
	long n;

	if (!raw)
		return 0;
	w = walk_buf();
	if (!w)
		return 0;
	n = bpf_probe_read_user_str(&w->b[WALK_END], FPATH_MAX, raw);
	if (n <= 2 || !has_pair(WALK_END, n - 1, '.', '.', '.'))
		return 0;
	n--;
	barrier_var(n);
	barrier_var(at);
	if (n > FPATH_MAX - 1 || at > FPATH_MAX - 1)
		return 0;
	bpf_probe_read_kernel(&e->path[at], n, &w->b[WALK_END]);
	return n;
}

/* ---- file opens --------------------------------------------------------- */

// file_opened reports the file f just opened (NULL: nothing to report);
// oflags are the open flags the caller passed (the kernel clears O_TRUNC from
// the file's own flags), raw the path it passed, in its memory (NULL: none,
// or not known: see raw_path).
static __always_inline void file_opened(struct file *f, __u32 oflags, const char *raw)
{
	struct dir_verdict id;
	struct file_event *e;
	struct dentry *d, *dir;
	struct vfsmount *mnt;
	struct walk_buf *w;
	__u64 len, off;
	bool cacheable;
	int verdict = -1;

	if (!f)
		return;
	// Regular files only: directories, devices, pipes and sockets are left out.
	if ((f->f_inode->i_mode & S_IFMT) != S_IFREG)
		return;
	d = f->f_path.dentry;
	mnt = f->f_path.mnt;
	dir = d->d_parent;
	// A file that is a mount's root, or in no directory, is walked whole.
	cacheable = dir_cache && dir && dir != d && d != mnt->mnt_root;
	if (cacheable) {
		id.gen = dir_gen_now(); // before the walk: a change meanwhile makes what it finds stale
		verdict = dir_cached(&id, dir, mnt, id.gen);
		if (verdict >= 0 && !verdict_reports(verdict, f->f_mode)) {
			count(COUNTER_FILE_CACHED);
			return;
		}
	}
	len = walk_path(d, mnt);
	w = walk_buf();
	if (!w || len == 0 || len > FPATH_MAX - 1)
		return;
	off = WALK_END - len;
	if (verdict < 0) {
		if (cacheable)
			dir_learn(&id, dir, mnt, w, off, len);
		if (!wanted_open(w, off, len, f->f_mode)) {
			count(COUNTER_FILE_FILTERED);
			return;
		}
	}
	count(COUNTER_FILE_MATCHED);
	e = file_rec();
	if (!e)
		return;
	fill_hdr_current(&e->hdr, EVENT_FILE_OPEN);
	barrier_var(off);
	barrier_var(len);
	if (off > WALK_BUF - FPATH_MAX || len > FPATH_MAX - 1)
		return;
	bpf_probe_read_kernel(e->path, len, &w->b[off]);
	e->hdr.path_len = len;
	e->hdr.args_len = raw_path(e, len, raw);
	e->flags = f->f_flags | (oflags & O_TRUNC);
	e->fmode = f->f_mode;
	e->_pad = 0;
	e->key_len = 0;
	file_emit(e);
}

/* ---- file changes ------------------------------------------------------- */

// read_name copies the string name, in kernel memory if kern, else in the
// current process's, into dst (at most size bytes, NUL included).
static __always_inline long read_name(void *dst, __u32 size, const char *name, bool kern)
{
	if (kern)
		return bpf_probe_read_kernel_str(dst, size, name);
	return bpf_probe_read_user_str(dst, size, name);
}

// user_path builds the absolute form of a path argument (dfd, name; name in
// kernel memory if kern, else a syscall's argument in the process's memory) in
// the walk buffer and returns its start; *lenp gets its length (0 on failure).
// The result is not normalised: "." and ".." stay as given and are resolved by
// user space (such paths always reach it, see has_dots). A path longer than a
// record carries is cut to its first FPATH_MAX - 1 bytes (see change_path).
static __always_inline __u32 user_path(long dfd, const char *name, __u32 *lenp, bool kern)
{
	struct walk_buf *w = walk_buf();
	struct dentry *d;
	struct vfsmount *m;
	__u32 dlen, off;
	char c0 = 0;
	long n;

	*lenp = 0;
	if (!w || !name)
		return 0;
	if ((kern ? bpf_probe_read_kernel(&c0, 1, name) : bpf_probe_read_user(&c0, 1, name)) != 0)
		return 0;
	if (c0 == '/') {
		n = read_name(&w->b[WALK_END], FPATH_MAX, name, kern);
		if (n <= 1)
			return 0;
		*lenp = n - 1;
		return WALK_END;
	}
	if (dfd == AT_FDCWD) {
		struct task_struct *task = bpf_get_current_task_btf();

		d = task->fs->pwd.dentry;
		m = task->fs->pwd.mnt;
	} else {
		struct file *f = fd_file(dfd);

		if (!f)
			return 0;
		d = f->f_path.dentry;
		m = f->f_path.mnt;
	}
	dlen = walk_path(d, m);
	w = walk_buf();
	if (!w || dlen == 0 || dlen > FPATH_MAX - 1)
		return 0;
	off = WALK_END - dlen;
	if (dlen == 1) { // the directory is "/"
		n = read_name(&w->b[WALK_END], FPATH_MAX, name, kern);
		if (n <= 1)
			return 0;
		*lenp = n < FPATH_MAX ? n : FPATH_MAX - 1; // "/" + name
		return off;
	}
	w->b[WALK_END] = '/';
	n = read_name(&w->b[WALK_END + 1], FPATH_MAX - 1, name, kern);
	if (n <= 1)
		return 0;
	*lenp = dlen + n < FPATH_MAX ? dlen + n : FPATH_MAX - 1; // dir + "/" + name
	return off;
}

// change_path puts the path argument into e->path at byte at (0 or after the
// first path) and returns its length, or 0. *want is set if the path passes
// the prefix filter.
static __always_inline __u32 change_path(struct file_event *e, __u32 at, long dfd, const char *name, bool *want, bool kern)
{
	struct walk_buf *w;
	__u32 off, len;

	off = user_path(dfd, name, &len, kern);
	w = walk_buf();
	if (!w || len == 0 || len > FPATH_MAX - 1)
		return 0;
	barrier_var(off);
	barrier_var(len);
	barrier_var(at);
	if (off > WALK_BUF - FPATH_MAX || len > FPATH_MAX - 1 || at > FPATH_MAX - 1)
		return 0;
	// A path that fills the record may have been cut (its end unknown, so
	// its cleaned form too): reported whatever its prefix.
	if (len == FPATH_MAX - 1 || has_dots(off, len) || wanted(w, off, len))
		*want = true;
	barrier_var(len);
	len &= FPATH_MAX - 1;
	barrier_var(at);
	at &= FPATH_MAX - 1;
	bpf_probe_read_kernel(&e->path[at], len, &w->b[off]);
	return len;
}

// change_ready completes the record of a file change whose paths change_path
// put into e, and reports whether it is to be sent: both paths found, and one
// passing the prefix filter (counted either way).
static __always_inline bool change_ready(struct file_event *e, __u32 kind, __u32 len, __u32 len2, __u32 flags, bool want)
{
	if (len == 0 || (kind == EVENT_FILE_RENAME && len2 == 0))
		return false;
	if (!want) {
		count(COUNTER_FILE_FILTERED);
		return false;
	}
	count(COUNTER_FILE_MATCHED);
	fill_hdr_current(&e->hdr, kind);
	e->hdr.path_len = len;
	e->hdr.args_len = len2;
	e->flags = flags;
	e->fmode = 0;
	e->_pad = 0;
	e->key_len = 0;
	return true;
}

static __always_inline void file_changed(struct sys_args *a, long ret)
{
	struct file_event *e;
	__u32 kind, len = 0, len2 = 0, flags = 0;
	bool want = false;

	if (ret != 0)
		return;
	e = file_rec();
	if (!e)
		return;
	switch (a->nr) {
	case NR_unlink:
		kind = EVENT_FILE_DELETE;
		len = change_path(e, 0, AT_FDCWD, (const char *)a->a[0], &want, false);
		break;
	case NR_unlinkat:
		if (a->a[2] & 0x200) // AT_REMOVEDIR: a directory
			return;
		kind = EVENT_FILE_DELETE;
		len = change_path(e, 0, (int)a->a[0], (const char *)a->a[1], &want, false);
		break;
	case NR_rename:
		kind = EVENT_FILE_RENAME;
		len = change_path(e, 0, AT_FDCWD, (const char *)a->a[0], &want, false);
		if (len)
			len2 = change_path(e, len, AT_FDCWD, (const char *)a->a[1], &want, false);
		break;
	case NR_renameat:
	case NR_renameat2:
		kind = EVENT_FILE_RENAME;
		len = change_path(e, 0, (int)a->a[0], (const char *)a->a[1], &want, false);
		if (len)
			len2 = change_path(e, len, (int)a->a[2], (const char *)a->a[3], &want, false);
		if (a->nr == NR_renameat2)
			flags = a->a[4];
		break;
	case NR_chmod:
		kind = EVENT_FILE_CHMOD;
		flags = a->a[1];
		len = change_path(e, 0, AT_FDCWD, (const char *)a->a[0], &want, false);
		break;
	case NR_fchmodat:
	case NR_fchmodat2:
		kind = EVENT_FILE_CHMOD;
		flags = a->a[2];
		len = change_path(e, 0, (int)a->a[0], (const char *)a->a[1], &want, false);
		break;
	case NR_fchmod: {
		struct file *f = fd_file(a->a[0]);
		struct walk_buf *w;
		__u64 off, wlen;

		if (!f)
			return;
		kind = EVENT_FILE_CHMOD;
		flags = a->a[1];
		wlen = walk_path(f->f_path.dentry, f->f_path.mnt);
		w = walk_buf();
		if (!w || wlen == 0 || wlen > FPATH_MAX - 1)
			return;
		off = WALK_END - wlen;
		barrier_var(off);
		barrier_var(wlen);
		if (off > WALK_BUF - FPATH_MAX || wlen > FPATH_MAX - 1)
			return;
		want = wanted(w, off, wlen);
		bpf_probe_read_kernel(e->path, wlen, &w->b[off]);
		len = wlen;
		break;
	}
	default:
		return;
	}
	if (change_ready(e, kind, len, len2, flags, want))
		file_emit(e);
}

#include "file_ops.h"

/* ---- network ------------------------------------------------------------ */

static __always_inline void map_v4(__u8 *dst, __be32 a)
{
	__builtin_memset(dst, 0, 16);
	*(__be32 *)dst = a;
}

// sock_addrs fills the local and remote endpoint of sk into e.
static __always_inline void sock_addrs(struct net_event *e, struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	e->family = family;
	e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == AF_INET6) {
		BPF_CORE_READ_INTO(&e->saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&e->daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	} else {
		map_v4(e->saddr, BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr));
		map_v4(e->daddr, BPF_CORE_READ(sk, __sk_common.skc_daddr));
	}
}

// read_sockaddr reads an AF_INET or AF_INET6 socket address from kernel
// memory if kern, else from the current process's, into family, addr (16
// bytes; IPv4 in the first 4) and port (host order).
static __always_inline bool read_sockaddr(const void *sa, bool kern, __u16 *family, __u8 *addr, __u16 *port)
{
	struct sockaddr_in6 s6 = {};

	if (!sa)
		return false;
	if ((kern ? bpf_probe_read_kernel(&s6, sizeof(s6), sa) : bpf_probe_read_user(&s6, sizeof(s6), sa)) != 0)
		return false;
	if (s6.sin6_family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&s6;

		*family = AF_INET;
		*port = bpf_ntohs(s4->sin_port);
		map_v4(addr, s4->sin_addr.s_addr);
		return true;
	}
	if (s6.sin6_family == AF_INET6) {
		*family = AF_INET6;
		*port = bpf_ntohs(s6.sin6_port);
		__builtin_memcpy(addr, s6.sin6_addr.in6_u.u6_addr8, 16);
		return true;
	}
	return false;
}

static __always_inline void emit_net(struct net_event *src)
{
	struct net_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count(COUNTER_DROPS);
		return;
	}
	__builtin_memcpy(e, src, sizeof(*e));
	bpf_ringbuf_submit(e, rb_flags());
}

static __always_inline struct pending_connect *net_tmp(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&net_scratch, &zero);
}

// file_socket returns the socket open as f, its sock in *sk, or NULL if f is
// not a socket with a sock.
static __always_inline struct socket *file_socket(struct file *f, struct sock **sk)
{
	struct socket *s;

	if (!f || (f->f_inode->i_mode & S_IFMT) != S_IFSOCK)
		return 0;
	s = bpf_rdonly_cast(f->private_data, bpf_core_type_id_kernel(struct socket));
	if (!s)
		return 0;
	*sk = s->sk;
	return *sk ? s : 0;
}

// file_sock returns the socket behind f, or NULL if f is not an inet socket.
static __always_inline struct sock *file_sock(struct file *f)
{
	struct sock *sk;
	__u16 family;

	if (!file_socket(f, &sk))
		return 0;
	family = sk->__sk_common.skc_family;
	if (family != AF_INET && family != AF_INET6)
		return 0;
	return sk;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(inet_sock_set_state, struct sock *sk, int oldstate, int newstate)
{
	struct pending_connect *p;
	__u64 key = (__u64)sk;
	int err;

	if (oldstate == TCP_CLOSE && newstate == TCP_SYN_SENT) {
		// In the connecting process: remember who asked.
		struct syn_sent syn = {.pid_tgid = bpf_get_current_pid_tgid()};
		struct socket *so = sk->sk_socket;

		if (so && so->file)
			syn.ino = so->file->f_inode->i_ino;
		p = net_tmp();
		if (!p)
			return 0;
		__builtin_memset(p, 0, sizeof(*p));
		fill_hdr_current(&p->ev.hdr, EVENT_NET_CONNECT);
		p->ev.protocol = IPPROTO_TCP;
		bpf_map_update_elem(&tcp_pending, &key, p, BPF_ANY);
		bpf_map_update_elem(&tcp_syn, &key, &syn, BPF_ANY);
		return 0;
	}
	if (oldstate != TCP_SYN_SENT)
		return 0;
	p = bpf_map_lookup_elem(&tcp_pending, &key);
	if (!p)
		return 0;
	if (newstate == TCP_ESTABLISHED) {
		err = 0;
		bpf_map_delete_elem(&tcp_syn, &key); // the connect does not fail now
	} else if (newstate == TCP_CLOSE) {
		err = sk->sk_err;
		if (err == 0)
			err = ECONNABORTED; // closed before the handshake ended
	} else {
		return 0;
	}
	p->ev.err = err;
	sock_addrs(&p->ev, sk);
	p->ev.hdr.boot_ns = bpf_ktime_get_boot_ns();
	emit_net(&p->ev);
	bpf_map_delete_elem(&tcp_pending, &key);
	return 0;
}

static __always_inline void connect_done(struct sys_args *a, long ret)
{
	struct file *f = fd_file(a->a[0]);
	struct sock *sk = file_sock(f);
	struct pending_connect *p;

	if (!sk)
		return;
	if (sk->sk_protocol == IPPROTO_TCP) {
		// The handshake reports itself unless no SYN was sent at all.
		__u64 key = (__u64)sk;
		struct syn_sent *by;

		if (ret == 0 || ret == -EINPROGRESS || ret == -EALREADY)
			return;
		by = bpf_map_lookup_elem(&tcp_syn, &key);
		if (by && by->pid_tgid == bpf_get_current_pid_tgid() && by->ino == f->f_inode->i_ino) {
			bpf_map_delete_elem(&tcp_syn, &key);
			return;
		}
	} else if (sk->sk_protocol != IPPROTO_UDP) {
		return;
	}
	p = net_tmp();
	if (!p)
		return;
	__builtin_memset(&p->ev, 0, sizeof(p->ev));
	if (!read_sockaddr((const void *)a->a[1], false, &p->ev.family, p->ev.daddr, &p->ev.dport))
		return; // AF_UNSPEC: a UDP disconnect
	fill_hdr_current(&p->ev.hdr, EVENT_NET_CONNECT);
	p->ev.protocol = sk->sk_protocol;
	p->ev.err = -ret;
	if (ret == 0)
		sock_addrs(&p->ev, sk);
	else
		p->ev.sport = sk->__sk_common.skc_num;
	emit_net(&p->ev);
}

// accepted reports the connection accepted as file f (NULL: nothing to
// report).
static __always_inline void accepted(struct file *f)
{
	struct sock *sk = file_sock(f);
	struct pending_connect *p;

	if (!sk || sk->sk_protocol != IPPROTO_TCP)
		return;
	p = net_tmp();
	if (!p)
		return;
	__builtin_memset(&p->ev, 0, sizeof(p->ev));
	fill_hdr_current(&p->ev.hdr, EVENT_NET_ACCEPT);
	p->ev.protocol = IPPROTO_TCP;
	sock_addrs(&p->ev, sk);
	emit_net(&p->ev);
}

// dns_query sends up to DNS_MAX bytes at buf (user memory) as a DNS record.
static __always_inline void dns_query(struct net_event *ne, const void *buf, __u64 n)
{
	struct dns_event *e;

	if (!buf || n == 0)
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(COUNTER_DROPS);
		return;
	}
	__builtin_memcpy(&e->net, ne, sizeof(*ne));
	e->net.hdr.kind = EVENT_DNS;
	if (n > DNS_MAX)
		n = DNS_MAX;
	if (bpf_probe_read_user(e->query, n, buf) != 0) {
		bpf_ringbuf_discard(e, 0);
		return;
	}
	e->net.hdr.args_len = n;
	bpf_ringbuf_submit(e, rb_flags());
}

// udp_send handles a datagram sent on file f (NULL, or not an inet socket:
// nothing to do) to name (a sockaddr in kernel memory if kern, else in the
// process's; NULL if the socket is connected) with its first buffer buf (user
// memory) of n bytes.
static __always_inline void udp_send(struct file *f, const void *name, bool kern, const void *buf, __u64 n)
{
	struct sock *sk = file_sock(f);
	struct pending_connect *p;
	struct udp_peer_key key = {};
	struct net_event *e;
	__u8 one = 1;

	if (!sk || sk->sk_protocol != IPPROTO_UDP)
		return;
	p = net_tmp();
	if (!p)
		return;
	e = &p->ev;
	__builtin_memset(e, 0, sizeof(*e));
	if (name) {
		if (!read_sockaddr(name, kern, &e->family, e->daddr, &e->dport))
			return;
	} else {
		sock_addrs(e, sk); // connected: its connect was reported
	}
	if (e->dport != 53 && !name)
		return;
	fill_hdr_current(&e->hdr, EVENT_NET_CONNECT);
	e->protocol = IPPROTO_UDP;
	e->sport = sk->__sk_common.skc_num;
	if (name) {
		if (sk->__sk_common.skc_family == AF_INET6)
			BPF_CORE_READ_INTO(&e->saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		else
			map_v4(e->saddr, sk->__sk_common.skc_rcv_saddr);
	}
	if (e->dport == 53)
		dns_query(e, buf, n);
	if (!name)
		return;
	key.ino = f->f_inode->i_ino;
	if (e->family == AF_INET) {
		key.addr[10] = 0xff;
		key.addr[11] = 0xff;
		__builtin_memcpy(&key.addr[12], e->daddr, 4);
	} else {
		__builtin_memcpy(key.addr, e->daddr, 16);
	}
	key.port = e->dport;
	if (bpf_map_update_elem(&udp_seen, &key, &one, BPF_NOEXIST) != 0)
		return; // this socket already sent there
	emit_net(e);
}

static __always_inline void send_msg(struct file *f, const struct user_msghdr *um)
{
	struct user_msghdr m = {};
	struct iovec iov = {};

	if (bpf_probe_read_user(&m, sizeof(m), um) != 0)
		return;
	if (m.msg_iovlen > 0 && m.msg_iov)
		bpf_probe_read_user(&iov, sizeof(iov), m.msg_iov);
	udp_send(f, m.msg_name, false, iov.iov_base, iov.iov_len);
}

// The size of struct mmsghdr: a user_msghdr and the bytes sent, padded.
#define MMSGHDR_SIZE 64
// The most messages one sendmmsg sends (UIO_MAXIOV).
#define MMSG_MAX 1024

struct mmsg_ctx {
	__u64 file; // struct file *
	__u64 vec;  // the mmsghdr array, in user memory
	__u32 n;    // how many of them were sent
};

static long mmsg_step(__u64 i, struct mmsg_ctx *c)
{
	if (i >= c->n)
		return 1;
	send_msg(bpf_rdonly_cast((void *)c->file, bpf_core_type_id_kernel(struct file)),
		 (const struct user_msghdr *)(c->vec + i * MMSGHDR_SIZE));
	return 0;
}

// send_mmsg handles each of the n messages a sendmmsg call sent from the
// mmsghdr array at vec (a resolver sends its A and AAAA queries together).
static __always_inline void send_mmsg(struct file *f, __u64 vec, __u32 n)
{
	struct mmsg_ctx c = {.file = (__u64)f, .vec = vec, .n = n};

	if (!f || n == 0)
		return;
	if (n > MMSG_MAX)
		n = MMSG_MAX;
	bpf_loop(n, mmsg_step, &c, 0);
}

/* ---- privileges and ptrace ---------------------------------------------- */

// A thread's ids and effective capabilities as it entered a set*id or capset
// call: by its exit they are gone.
struct creds_before {
	__u32 uid;
	__u32 euid;
	__u32 gid;
	__u32 _pad;
	__u64 caps;
};

// Threads in a set*id or capset call, by pid_tgid, from the call's entry
// (sys_enter_creds) to its exit (creds_changed).
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct creds_before);
} creds_entry SEC(".maps");

// sys_enter_creds is attached to the syscalls:sys_enter_<name> tracepoint of
// each set*id call and capset where sys_exit_one is attached per syscall: it
// keeps the caller's ids, which the call's PRIVILEGE_CHANGE record carries.
SEC("tracepoint/syscalls/sys_enter_creds")
int sys_enter_creds(void *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	const struct cred *c = task->cred;
	struct creds_before b = {
		.uid = c->uid.val, .euid = c->euid.val, .gid = c->gid.val, .caps = c->cap_effective.val,
	};
	__u64 id = bpf_get_current_pid_tgid();

	bpf_map_update_elem(&creds_entry, &id, &b, BPF_ANY);
	return 0;
}

static __always_inline void creds_changed(struct sys_args *a, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	const struct cred *c = task->cred;
	struct creds_before before = {}, *b;
	__u64 id = bpf_get_current_pid_tgid();
	bool entered = false;
	struct priv_event *e;
	__u32 op;

	b = bpf_map_lookup_elem(&creds_entry, &id);
	if (b) {
		before = *b;
		entered = true;
		bpf_map_delete_elem(&creds_entry, &id);
	}
	// setfsuid/setfsgid return the previous id whether or not they succeeded:
	// they did if the id is now the one asked for.
	if (a->nr == NR_setfsuid) {
		if (c->fsuid.val != (__u32)a->a[0])
			return;
	} else if (a->nr == NR_setfsgid) {
		if (c->fsgid.val != (__u32)a->a[0])
			return;
	} else if (ret != 0) {
		return;
	}
	switch (a->nr) {
	case NR_setuid: op = PRIV_SETUID; break;
	case NR_setreuid: op = PRIV_SETREUID; break;
	case NR_setresuid: op = PRIV_SETRESUID; break;
	case NR_setfsuid: op = PRIV_SETFSUID; break;
	case NR_setgid: op = PRIV_SETGID; break;
	case NR_setregid: op = PRIV_SETREGID; break;
	case NR_setresgid: op = PRIV_SETRESGID; break;
	case NR_setfsgid: op = PRIV_SETFSGID; break;
	default: op = PRIV_CAPSET; break;
	}
	// Every successful call is reported, with the ids it left; the header
	// has the caller's ids from before the call where sys_enter_creds kept
	// them, else (the catch-all syscall hook) the ids after.
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(COUNTER_DROPS);
		return;
	}
	fill_hdr_current(&e->hdr, EVENT_PRIV);
	if (entered) {
		e->hdr.uid = before.uid;
		e->hdr.euid = before.euid;
		e->hdr.gid = before.gid;
	}
	e->op = op;
	e->new_uid = c->uid.val;
	e->new_euid = c->euid.val;
	e->new_gid = c->gid.val;
	e->new_egid = c->egid.val;
	e->_pad = 0;
	e->old_caps = before.caps;
	e->new_caps = c->cap_effective.val;
	bpf_ringbuf_submit(e, rb_flags());
}

// A tracer and its tracee (tgid << 32 | pid) that a write into the tracee's
// memory or registers was reported for.
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} ptrace_writes SEC(".maps");

// A tracer and its tracee (as in ptrace_writes) that a read of the tracee's
// memory was reported for.
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} ptrace_reads SEC(".maps");

// ptraced reports a successful PTRACE_ATTACH or PTRACE_SEIZE, the first
// successful write into a tracee's memory or registers (POKETEXT, POKEDATA,
// POKEUSER, SETREGS, SETFPREGS, SETREGSET) and the first successful read of its
// memory (PEEKTEXT, PEEKDATA, PEEKUSER) by each tracer: code injection writes
// word by word and a memory dump reads so, a record each would flood. Every
// PTRACE_TRACEME is reported, failed or not: a process that asks to be traced
// by its parent and looks at the answer is checking for a debugger.
static __always_inline void ptraced(struct sys_args *a, long ret)
{
	struct ptrace_event *e;
	__u64 req = a->a[0];
	__u32 target = a->a[1];

	if (req == PTRACE_TRACEME) {
		target = bpf_get_current_pid_tgid() >> 32;
	} else if (ret != 0) {
		return;
	}
	switch (req) {
	case PTRACE_ATTACH: case PTRACE_SEIZE: case PTRACE_TRACEME:
		break;
	case PTRACE_PEEKTEXT: case PTRACE_PEEKDATA: case PTRACE_PEEKUSER: {
		__u64 key = (bpf_get_current_pid_tgid() & 0xffffffff00000000ULL) | (__u32)a->a[1];
		__u8 one = 1;

		if (bpf_map_update_elem(&ptrace_reads, &key, &one, BPF_NOEXIST) != 0)
			return; // reported already
		break;
	}
	case PTRACE_POKETEXT: case PTRACE_POKEDATA: case PTRACE_POKEUSER:
	case PTRACE_SETREGS: case PTRACE_SETFPREGS: case PTRACE_SETREGSET: {
		__u64 key = (bpf_get_current_pid_tgid() & 0xffffffff00000000ULL) | (__u32)a->a[1];
		__u8 one = 1;

		if (bpf_map_update_elem(&ptrace_writes, &key, &one, BPF_NOEXIST) != 0)
			return; // reported already
		break;
	}
	default:
		return;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(COUNTER_DROPS);
		return;
	}
	fill_hdr_current(&e->hdr, EVENT_PTRACE);
	e->target_pid = target;
	e->err = -ret;
	e->request = a->a[0];
	bpf_ringbuf_submit(e, rb_flags());
}

#include "listen.h"
#include "dns_stream.h"
#include "namespaces.h"
#include "mounts.h"
#include "bpf_load.h"
#include "memfd.h"
#include "userfaultfd.h"
#include "kernel_log.h"
#include "sockets.h"

/* ---- syscall dispatch --------------------------------------------------- */

// dir_paths_moved bumps dir_gen after a syscall (nr, returning ret) that can
// have changed the path of a directory.
static __always_inline void dir_paths_moved(long nr, long ret)
{
	if (ret != 0)
		return;
	switch (nr) {
	case NR_rename: case NR_renameat: case NR_renameat2:
	case NR_mount: case NR_umount: case NR_move_mount: case NR_pivot_root:
		dir_paths_changed();
	}
}

// syscall_exited reports syscall id's exit with return value ret; regs holds the
// registers the caller passed its arguments in.
static __always_inline void syscall_exited(struct pt_regs *regs, long id, long ret)
{
	struct sys_args a;

	dir_paths_moved(id, ret);
	// The saved argument registers still hold what the caller passed.
	switch (id) {
	case NR_open: case NR_openat: case NR_openat2: case NR_creat: case NR_open_by_handle_at: {
		const char *raw = 0;
		__u64 oflags = 0;

		if (ret < 0)
			return;
		switch (id) {
		case NR_open: oflags = regs->si; raw = (const char *)regs->di; break;
		case NR_openat: oflags = regs->dx; raw = (const char *)regs->si; break;
		case NR_creat: oflags = O_TRUNC; raw = (const char *)regs->di; break;
		case NR_openat2:
			bpf_probe_read_user(&oflags, sizeof(oflags), (void *)regs->dx);
			raw = (const char *)regs->si;
			break;
		}
		file_opened(fd_file(ret), oflags, raw);
		return;
	}
	case NR_accept: case NR_accept4:
		if (ret >= 0)
			accepted(fd_file(ret));
		return;
	case NR_listen:
		if (ret == 0)
			listened(fd_file(regs->di));
		return;
	case NR_sendto:
		if (ret >= 0)
			udp_send(fd_file(regs->di), (const void *)regs->r8, false, (const void *)regs->si, regs->dx);
		return;
	case NR_sendmsg:
		if (ret >= 0)
			send_msg(fd_file(regs->di), (const struct user_msghdr *)regs->si);
		return;
	case NR_sendmmsg:
		if (ret > 0)
			send_mmsg(fd_file(regs->di), regs->si, ret);
		return;
	case NR_setns: case NR_unshare: case NR_clone: case NR_clone3:
		ns_changed(id, ret, regs->di, regs->si);
		return;
	case NR_mount: case NR_umount: case NR_move_mount:
		a.nr = id;
		a.a[0] = regs->di;
		a.a[1] = regs->si;
		a.a[2] = regs->dx;
		a.a[3] = regs->r10;
		a.a[4] = regs->r8;
		mounted(&a, ret);
		return;
	case NR_pivot_root: // dir_paths_moved's only
		return;
	case NR_bpf:
		bpf_loaded(regs->di, ret);
		return;
	case NR_memfd_create:
		memfd_created(ret, regs->si);
		return;
	case NR_userfaultfd:
		userfaultfd_created(ret, regs->di);
		return;
	case NR_syslog:
		kernel_log_controlled(regs->di, ret);
		return;
	case NR_socket:
		socket_created(ret, regs->di, regs->si, regs->dx);
		return;
	case NR_dup: case NR_dup2: case NR_dup3: case NR_fcntl:
		if (ret >= 0 && ret <= 2) // a standard stream: else nothing to look at
			fd_dup_exited(id, ret, regs->di, regs->si);
		return;
	case NR_unlink: case NR_unlinkat: case NR_rename: case NR_renameat: case NR_renameat2:
	case NR_chmod: case NR_fchmod: case NR_fchmodat: case NR_fchmodat2:
	case NR_connect: case NR_ptrace:
	case NR_link: case NR_linkat: case NR_symlink: case NR_symlinkat: case NR_mkdir: case NR_mkdirat:
	case NR_rmdir: case NR_mknod: case NR_mknodat: case NR_chown: case NR_fchown: case NR_lchown:
	case NR_fchownat: case NR_truncate: case NR_ftruncate:
	case NR_setuid: case NR_setgid: case NR_setreuid: case NR_setregid: case NR_setresuid:
	case NR_setresgid: case NR_setfsuid: case NR_setfsgid: case NR_capset:
		break;
	default:
		return;
	}
	a.nr = id;
	a.a[0] = regs->di;
	a.a[1] = regs->si;
	a.a[2] = regs->dx;
	a.a[3] = regs->r10;
	a.a[4] = regs->r8;
	switch (id) {
	case NR_connect:
		connect_done(&a, ret);
		break;
	case NR_ptrace:
		ptraced(&a, ret);
		break;
	case NR_setuid: case NR_setgid: case NR_setreuid: case NR_setregid: case NR_setresuid:
	case NR_setresgid: case NR_setfsuid: case NR_setfsgid: case NR_capset:
		creds_changed(&a, ret);
		break;
	default:
		file_changed(&a, ret);
		file_op_changed(&a, ret);
	}
}

// sys_exit sees every syscall's exit (the raw tracepoint has no per-syscall
// filter): the collector attaches it only when it cannot attach sys_exit_one to
// the tracepoint of each syscall syscall_exited handles.
SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	syscall_exited(regs, regs->orig_ax, ret);
	return 0;
}

// The context of a syscalls:sys_exit_<name> tracepoint (its tracefs "format").
struct syscall_exit_ctx {
	__u64 common;
	int nr;
	long ret;
};

// sys_exit_one is attached to the syscalls:sys_exit_<name> tracepoint of each
// syscall syscall_exited handles, so that it runs for those syscalls only.
SEC("tracepoint/syscalls/sys_exit_one")
int sys_exit_one(struct syscall_exit_ctx *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());

	syscall_exited(regs, ctx->nr, ctx->ret);
	return 0;
}

/* ---- io_uring ----------------------------------------------------------- */

// io_uring opcodes (uapi linux/io_uring.h).
#define IORING_OP_SENDMSG 9
#define IORING_OP_ACCEPT 13
#define IORING_OP_CONNECT 16
#define IORING_OP_OPENAT 18
#define IORING_OP_SEND 26
#define IORING_OP_OPENAT2 28
#define IORING_OP_RENAMEAT 35
#define IORING_OP_UNLINKAT 36
#define IORING_OP_SEND_ZC 47
#define IORING_OP_SENDMSG_ZC 48
#define AT_REMOVEDIR 0x200

// Deletes and renames submitted through io_uring, by request, from their
// submission (when their names are known) to their completion (when whether
// they succeeded is): records ready to send but for the time.
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);
	__type(value, struct file_event);
} uring_changes SEC(".maps");

// The destinations of io_uring sends that carry one (IORING_OP_SEND and
// SEND_ZC with addr2), by request, from their submission (the kernel's copy of
// the address is in the request's async data, which a send hands back to a
// cache before it completes) to their completion. Those of sends that failed
// or were not on UDP sockets are left to the LRU to evict.
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);
	__type(value, struct sockaddr_in6);
} uring_dests SEC(".maps");

#include "file_ops_uring.h"

// io_uring_submit_req keeps the deletes and renames io_uring requests were
// prepared for, paths resolved as the syscalls' are, in uring_changes, and the
// destinations of sends given one in uring_dests.
SEC("tp_btf/io_uring_submit_req")
int BPF_PROG(io_uring_submit_req, void *req)
{
	struct io_kiocb *r = bpf_rdonly_cast(req, bpf_core_type_id_kernel(struct io_kiocb));
	__u32 kind, len = 0, len2 = 0, flags = 0;
	struct file_event *e;
	__u64 key = (__u64)req;
	bool want = false;

	if (!r)
		return 0;
	if (uring_file_op_submitted(req, r->opcode))
		return 0;
	switch (r->opcode) {
	case IORING_OP_UNLINKAT: {
		struct io_unlink *u = bpf_rdonly_cast(req, bpf_core_type_id_kernel(struct io_unlink));

		if (!u || (u->flags & AT_REMOVEDIR))
			return 0;
		e = file_rec();
		if (!e)
			return 0;
		kind = EVENT_FILE_DELETE;
		len = change_path(e, 0, u->dfd, u->filename->name, &want, true);
		break;
	}
	case IORING_OP_RENAMEAT: {
		struct io_rename *rn = bpf_rdonly_cast(req, bpf_core_type_id_kernel(struct io_rename));

		if (!rn)
			return 0;
		e = file_rec();
		if (!e)
			return 0;
		kind = EVENT_FILE_RENAME;
		flags = rn->flags;
		len = change_path(e, 0, rn->old_dfd, rn->oldpath->name, &want, true);
		if (len)
			len2 = change_path(e, len, rn->new_dfd, rn->newpath->name, &want, true);
		break;
	}
	case IORING_OP_SEND: case IORING_OP_SEND_ZC: {
		struct io_async_msghdr *m = bpf_rdonly_cast(r->async_data, bpf_core_type_id_kernel(struct io_async_msghdr));
		struct sockaddr_in6 to = {};

		if (m && m->msg.msg_name && bpf_probe_read_kernel(&to, sizeof(to), m->msg.msg_name) == 0)
			bpf_map_update_elem(&uring_dests, &key, &to, BPF_ANY);
		return 0;
	}
	default:
		return 0;
	}
	if (change_ready(e, kind, len, len2, flags, want))
		bpf_map_update_elem(&uring_changes, &key, e, BPF_ANY);
	return 0;
}

// IORING_FILE_INDEX_ALLOC in a request's file_slot: the kernel picks the slot
// of the ring's table of files and returns it as the result.
#define IORING_FILE_INDEX_ALLOC 0xffffffffU
// The low bits of a file pointer in the ring's table of files are flags
// (FFS_NOWAIT, FFS_ISREG).
#define FFS_FLAGS 3UL

// ring_file returns the file that a request of ring, which completed with res,
// installed in the ring's table of files: at file_slot - 1, or at res where
// the kernel picked the slot. NULL if there is none, or where the table is not
// the array of io_rsrc_node read here (kernels before 6.13 keep an array of
// io_fixed_file).
static __always_inline struct file *ring_file(struct io_ring_ctx *ring, __u32 file_slot, long res)
{
	__u32 i = file_slot == IORING_FILE_INDEX_ALLOC ? (__u32)res : file_slot - 1;
	struct io_rsrc_node **nodes, *node = 0;

	if (!bpf_core_field_exists(ring->file_table.data) || i >= ring->file_table.data.nr)
		return 0;
	nodes = ring->file_table.data.nodes;
	if (bpf_probe_read_kernel(&node, sizeof(node), &nodes[i]) != 0 || !node)
		return 0;
	node = bpf_rdonly_cast(node, bpf_core_type_id_kernel(struct io_rsrc_node));
	return bpf_rdonly_cast((void *)(node->file_ptr & ~FFS_FLAGS), bpf_core_type_id_kernel(struct file));
}

// io_uring_complete reports the files io_uring requests opened, which no
// syscall exit sees: the request runs in the submitting thread, an io-wq
// worker or the SQ polling thread, all threads of the submitting process that
// share its file table, where the new descriptor is installed before the
// completion is posted. An open into the ring's own table of files (a direct
// descriptor, file_slot set) installs no descriptor: its file is read from the
// ring's table instead (ring_file).
//
// A UDP socket connected through io_uring is reported here with both ends; a
// TCP one reports itself when its handshake ends (inet_sock_set_state), as
// after connect(2). A connection accepted through io_uring (each completion of
// a multishot accept) is reported as after accept(2), into a descriptor or the
// ring's table of files alike.
//
// UDP datagrams sent through io_uring are seen as sendmsg(2)'s and sendto(2)'s
// are: the first one to each destination of an unconnected socket, and DNS
// queries; the destination of a send that carries one in its SQE
// (IORING_OP_SEND with addr2) is the one io_uring_submit_req kept.
SEC("tp_btf/io_uring_complete")
int BPF_PROG(io_uring_complete, struct io_ring_ctx *ring, void *req, struct io_uring_cqe *cqe)
{
	struct io_kiocb *r = bpf_rdonly_cast(req, bpf_core_type_id_kernel(struct io_kiocb));
	struct sockaddr_in6 *to = 0;
	__u64 key = (__u64)req;
	struct io_open *o;
	struct sock *sk;
	long res;
	__u8 op;

	if (!r || !cqe)
		return 0;
	op = r->opcode;
	res = cqe->res;
	if (res == 0 && op == IORING_OP_RENAMEAT)
		dir_paths_changed();
	if (uring_file_op_completed(r, key, op, res))
		return 0;
	if (op == IORING_OP_UNLINKAT || op == IORING_OP_RENAMEAT) {
		struct file_event *e = bpf_map_lookup_elem(&uring_changes, &key);

		if (!e)
			return 0;
		if (res == 0) {
			e->hdr.boot_ns = bpf_ktime_get_boot_ns();
			file_emit(e);
		}
		bpf_map_delete_elem(&uring_changes, &key);
		return 0;
	}
	if (uring_socket_completed(ring, req, op, res))
		return 0;
	if (res < 0)
		return 0;
	if (op == IORING_OP_SENDMSG || op == IORING_OP_SENDMSG_ZC || op == IORING_OP_SEND || op == IORING_OP_SEND_ZC) {
		struct io_sr_msg *sr = bpf_rdonly_cast(req, bpf_core_type_id_kernel(struct io_sr_msg));

		if (!sr)
			return 0;
		if (op == IORING_OP_SENDMSG || op == IORING_OP_SENDMSG_ZC) {
			send_msg(r->file, sr->umsg);
			return 0;
		}
		sk = file_sock(r->file);
		if (sk && sk->sk_protocol == IPPROTO_UDP)
			to = bpf_map_lookup_elem(&uring_dests, &key);
		udp_send(r->file, to, true, sr->buf, sr->len);
		if (to)
			bpf_map_delete_elem(&uring_dests, &key);
		return 0;
	}
	if (op == IORING_OP_ACCEPT) {
		struct io_accept *a = bpf_rdonly_cast(req, bpf_core_type_id_kernel(struct io_accept));

		if (a)
			accepted(a->file_slot ? ring_file(ring, a->file_slot, res) : fd_file(res));
		return 0;
	}
	if (op == IORING_OP_CONNECT) {
		struct pending_connect *p;

		sk = file_sock(r->file);
		if (!sk || sk->sk_protocol != IPPROTO_UDP)
			return 0;
		p = net_tmp();
		if (!p)
			return 0;
		__builtin_memset(&p->ev, 0, sizeof(p->ev));
		fill_hdr_current(&p->ev.hdr, EVENT_NET_CONNECT);
		p->ev.protocol = IPPROTO_UDP;
		sock_addrs(&p->ev, sk);
		emit_net(&p->ev);
		return 0;
	}
	if (op != IORING_OP_OPENAT && op != IORING_OP_OPENAT2)
		return 0;
	o = bpf_rdonly_cast(req, bpf_core_type_id_kernel(struct io_open));
	if (o)
		file_opened(o->file_slot ? ring_file(ring, o->file_slot, res) : fd_file(res), o->how.flags, 0);
	return 0;
}

/* ---- kernel modules ----------------------------------------------------- */

SEC("tp_btf/module_load")
int BPF_PROG(module_load, struct module *mod)
{
	struct module_event *e;
	long n;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(COUNTER_DROPS);
		return 0;
	}
	fill_hdr_current(&e->hdr, EVENT_MODULE);
	n = bpf_probe_read_kernel_str(e->name, sizeof(e->name), mod->name);
	e->hdr.path_len = n > 1 ? n - 1 : 0;
	bpf_ringbuf_submit(e, rb_flags());
	return 0;
}

