/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * USERFAULTFD: userfaultfd(2) that succeeded.
 *
 * Reported at the syscall's exit: the flags passed (O_CLOEXEC, O_NONBLOCK,
 * UFFD_USER_MODE_ONLY) and whether the caller was unprivileged: without
 * CAP_SYS_PTRACE in its effective set, the kernel's own test (such a caller
 * gets a userfaultfd only with UFFD_USER_MODE_ONLY or where
 * vm.unprivileged_userfaultfd is 1). A call refused is not reported. A
 * userfaultfd made through /dev/userfaultfd (ioctl USERFAULTFD_IOC_NEW) is not
 * seen here: hooking ioctl would cost every ioctl on the host.
 *
 * Included by sensor.bpf.c before its syscall dispatch.
 */
#ifndef __VIGIL_USERFAULTFD_H__
#define __VIGIL_USERFAULTFD_H__

#define NR_userfaultfd 323
#define CAP_SYS_PTRACE 19

// Record kinds of this file: outside the range of enum event_kind.
enum userfaultfd_kind {
	EVENT_USERFAULTFD = 36,
};

struct userfaultfd_event {
	struct event_hdr hdr;
	__u32 flags;        // as passed
	__u32 unprivileged; // 1: the caller had no CAP_SYS_PTRACE
};

const struct userfaultfd_event *unused_userfaultfd_event __attribute__((unused));
const enum userfaultfd_kind *unused_userfaultfd_kind __attribute__((unused));

// userfaultfd_created reports a successful userfaultfd (return value ret,
// flags its argument).
static __noinline void userfaultfd_created(long ret, __u64 flags)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct userfaultfd_event *e;

	if (ret < 0)
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(COUNTER_DROPS);
		return;
	}
	fill_hdr(&e->hdr, task, EVENT_USERFAULTFD);
	e->flags = flags;
	e->unprivileged = (task->cred->cap_effective.val & (1ULL << CAP_SYS_PTRACE)) == 0;
	bpf_ringbuf_submit(e, rb_flags());
}

#endif /* __VIGIL_USERFAULTFD_H__ */
