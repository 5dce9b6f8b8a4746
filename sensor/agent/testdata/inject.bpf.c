// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// Replays process records into the sensor's ring buffer at a rate no exec storm
// reaches on a small machine: BenchmarkSensorExecStorm (storm_linux_test.go)
// loads it with the sensor's `events` map in place of its own and a process
// calls getppid(2) once per exec it stands for. Each call queues the exec
// record and the exit record of a new process (templates[0] and templates[1],
// filled by the benchmark: records as sensor.bpf.c makes them), stamped with a
// fresh pid and the time, with the sensor's wakeup rule.
//
// Build: `make generate` (clang-14, in rate_linux_test.go); inject.o is committed.

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define RECORD_MAX 256

// The leading fields of sensor.bpf.c's struct event_hdr.
struct event_hdr {
	__u32 kind;
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__s32 exit_code;
	__u64 boot_ns;
};

struct record {
	__u8 b[RECORD_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096); // set to the sensor's size before loading
} events SEC(".maps");

// Per CPU, so that stamping a template races with no other CPU.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct record);
} templates SEC(".maps");

const volatile __u32 caller = 0;       // the tgid whose getppid calls inject
const volatile __u32 exec_size = 0;    // bytes of templates[0] to send
const volatile __u32 exit_size = 0;    // bytes of templates[1] to send
const volatile __u32 first_pid = 0;    // pids handed out start here
const volatile __u64 wakeup_bytes = 0; // the sensor's wakeup threshold

__u32 next_pid = 0;
__u64 injected = 0; // records queued
__u64 lost = 0;     // records the full ring buffer refused: the sensor's drops

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define WAKEUP_WINDOW (16 << 10) // as sensor.bpf.c

static __always_inline __u64 rb_flags(void)
{
	__u64 avail;

	if (wakeup_bytes == 0)
		return 0;
	avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	return avail >= wakeup_bytes && avail < wakeup_bytes + WAKEUP_WINDOW ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void send(__u32 idx, __u32 size, __u32 pid)
{
	struct record *r = bpf_map_lookup_elem(&templates, &idx);
	struct event_hdr *h;

	if (!r || size < sizeof(*h) || size > sizeof(*r))
		return;
	h = (struct event_hdr *)r->b;
	h->pid = pid;
	h->boot_ns = bpf_ktime_get_boot_ns();
	if (bpf_ringbuf_output(&events, r, size, rb_flags()) == 0)
		__sync_fetch_and_add(&injected, 1);
	else
		__sync_fetch_and_add(&lost, 1);
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int inject(void *ctx)
{
	__u32 pid;

	if (bpf_get_current_pid_tgid() >> 32 != caller)
		return 0;
	pid = first_pid + __sync_fetch_and_add(&next_pid, 1);
	send(0, exec_size, pid);
	send(1, exit_size, pid);
	return 0;
}
