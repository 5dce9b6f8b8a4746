//go:build ignore

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// Process exec and exit capture for the Vigil sensor.
//
// Two BTF-enabled raw tracepoints feed one ring buffer:
//   tp_btf/sched_process_exec  -> one EVENT_EXEC record per successful execve
//   tp_btf/sched_process_exit  -> one EVENT_EXIT record per process (when the
//                                 last thread of the thread group exits)
// A record that does not fit in the ring buffer is counted in the per-CPU
// `drops` array instead of being silently lost.
//
// The record layout is mirrored by the decoder in sensor/collector; change both
// together (a test there compares it with the bpf2go-generated types).

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define PATH_MAX_LEN 512
#define ARGS_MAX_LEN 1024

enum event_kind {
	EVENT_EXEC = 1,
	EVENT_EXIT = 2,
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
	__u16 path_len;  // bytes of path used, without the NUL, exec only
	__u16 args_len;  // bytes of args used (NUL-separated argv), exec only
	__u32 _pad;
};

struct exec_event {
	struct event_hdr hdr;
	char path[PATH_MAX_LEN];
	char args[ARGS_MAX_LEN];
};

struct exit_event {
	struct event_hdr hdr;
};

// Referenced only so that the record types land in BTF, from which bpf2go
// generates their Go mirrors (ProcessExecEvent, ...). Never read or written.
const struct exec_event *unused_exec_event __attribute__((unused));
const struct exit_event *unused_exit_event __attribute__((unused));
const enum event_kind *unused_event_kind __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20); // user space may resize before loading
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

static __always_inline void count_drop(void)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&drops, &key);

	if (n)
		*n += 1; // per-CPU slot: no other writer
}

static __always_inline void fill_hdr(struct event_hdr *h, struct task_struct *task, __u32 kind)
{
	h->kind = kind;
	h->pid = BPF_CORE_READ(task, tgid);
	h->ppid = BPF_CORE_READ(task, real_parent, tgid);
	h->uid = BPF_CORE_READ(task, cred, uid.val);
	h->gid = BPF_CORE_READ(task, cred, gid.val);
	h->exit_code = 0;
	h->boot_ns = bpf_ktime_get_boot_ns();
	h->cgroup_id = bpf_get_current_cgroup_id();
	h->path_len = 0;
	h->args_len = 0;
	h->_pad = 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct exec_event *e;
	const char *filename;
	unsigned long arg_start, arg_end, n;
	long ret;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop();
		return 0;
	}
	fill_hdr(&e->hdr, task, EVENT_EXEC);

	filename = BPF_CORE_READ(bprm, filename);
	ret = bpf_probe_read_kernel_str(e->path, sizeof(e->path), filename);
	if (ret > 0)
		e->hdr.path_len = ret - 1;

	// The new image's argv, just copied onto its stack by the kernel.
	arg_start = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	n = arg_end > arg_start ? arg_end - arg_start : 0;
	if (n > ARGS_MAX_LEN)
		n = ARGS_MAX_LEN;
	barrier_var(n);
	if (n > ARGS_MAX_LEN)
		n = ARGS_MAX_LEN;
	if (n > 0 && bpf_probe_read_user(e->args, n, (const void *)arg_start) == 0)
		e->hdr.args_len = n;

	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *task)
{
	struct exit_event *e;

	// Report the process, not its threads: only the last thread out of the
	// group (signal->live has already been decremented to zero) emits.
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop();
		return 0;
	}
	fill_hdr(&e->hdr, task, EVENT_EXIT);
	e->hdr.exit_code = BPF_CORE_READ(task, exit_code);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
