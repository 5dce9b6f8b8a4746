/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * MEMFD_CREATE: memfd_create that succeeded.
 *
 * Reported at the syscall's exit: the name, read from the new file (its
 * dentry is named "memfd:<name>", as /proc/<pid>/fd shows it), and the MFD_*
 * flags the caller passed (vm.memfd_noexec may add MFD_NOEXEC_SEAL, which is
 * not shown).
 *
 * Included by sensor.bpf.c before its syscall dispatch.
 */
#ifndef __VIGIL_MEMFD_H__
#define __VIGIL_MEMFD_H__

#define NR_memfd_create 319
#define MEMFD_NAME_MAX 256 // "memfd:" and the name (at most 249 bytes)

// Record kinds of this file: outside the range of enum event_kind.
enum memfd_kind {
	EVENT_MEMFD = 35,
};

struct memfd_event {
	struct event_hdr hdr;
	__u32 flags; // MFD_*
	__u32 _pad;
	char name[MEMFD_NAME_MAX]; // hdr.path_len bytes of the file's name
};

const struct memfd_event *unused_memfd_event __attribute__((unused));
const enum memfd_kind *unused_memfd_kind __attribute__((unused));

// memfd_created reports a successful memfd_create (return value ret: the new
// descriptor; flags its second argument).
static __noinline void memfd_created(long ret, __u64 flags)
{
	struct memfd_event *e;
	struct file *f;
	long n;

	if (ret < 0)
		return;
	f = fd_file(ret);
	if (!f)
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(COUNTER_DROPS);
		return;
	}
	fill_hdr_current(&e->hdr, EVENT_MEMFD);
	e->flags = flags;
	e->_pad = 0;
	n = bpf_probe_read_kernel_str(e->name, sizeof(e->name), f->f_path.dentry->d_name.name);
	e->hdr.path_len = n > 1 ? n - 1 : 0;
	bpf_ringbuf_submit(e, rb_flags());
}

#endif /* __VIGIL_MEMFD_H__ */
