/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * KERNEL_LOG_CONTROL: syslog(2) calls that change the kernel's log rather
 * than read it: SYSLOG_ACTION_READ_CLEAR (4), SYSLOG_ACTION_CLEAR (5, what
 * `dmesg -C` does), SYSLOG_ACTION_CONSOLE_OFF (6), SYSLOG_ACTION_CONSOLE_ON
 * (7) and SYSLOG_ACTION_CONSOLE_LEVEL (8).
 *
 * Reported at the syscall's exit with the action and the call's result, a
 * refused call too: an attempt to clear the kernel's log is worth seeing. The
 * reading actions (2, 3, 9, 10) and the no-ops (0, 1) are not reported;
 * neither are writes to /dev/kmsg or /proc/sys/kernel/printk.
 *
 * Included by sensor.bpf.c before its syscall dispatch.
 */
#ifndef __VIGIL_KERNEL_LOG_H__
#define __VIGIL_KERNEL_LOG_H__

#define NR_syslog 103

#define SYSLOG_ACTION_READ_CLEAR 4
#define SYSLOG_ACTION_CONSOLE_LEVEL 8

// Record kinds of this file: outside the range of enum event_kind.
enum kernel_log_kind {
	EVENT_KERNEL_LOG_CONTROL = 52,
};

struct kernel_log_event {
	struct event_hdr hdr;
	__u32 action; // syslog(2)'s type: 4 to 8
	__s32 err;    // 0, or the errno the call failed with
};

const struct kernel_log_event *unused_kernel_log_event __attribute__((unused));
const enum kernel_log_kind *unused_kernel_log_kind __attribute__((unused));

// kernel_log_controlled reports a syslog(2) of action (its first argument)
// that changes the kernel's log; ret is its return value.
static __noinline void kernel_log_controlled(__u64 action, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct kernel_log_event *e;

	if (action < SYSLOG_ACTION_READ_CLEAR || action > SYSLOG_ACTION_CONSOLE_LEVEL)
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(COUNTER_DROPS);
		return;
	}
	fill_hdr(&e->hdr, task, EVENT_KERNEL_LOG_CONTROL);
	e->action = action;
	e->err = ret < 0 ? -ret : 0;
	bpf_ringbuf_submit(e, rb_flags());
}

#endif /* __VIGIL_KERNEL_LOG_H__ */
