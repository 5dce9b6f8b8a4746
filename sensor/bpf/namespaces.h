/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * NAMESPACE_CHANGE: setns, unshare, and clone/clone3 asked for new namespaces.
 *
 * Reported at the syscall's exit, if it succeeded (clone and clone3 in the
 * parent: their return value is the child's pid). The namespaces are the
 * CLONE_NEW* bits of the call's flags; for setns the record also carries what
 * the descriptor named: a namespace file (/proc/<pid>/ns/<type>, or one bind
 * mounted elsewhere) gives the namespace's inode and type, read from the file
 * (the pid in the path it was opened by is not kept by the kernel); a pidfd
 * gives the process whose namespaces were joined, and the types asked for.
 *
 * Included by sensor.bpf.c before its syscall dispatch.
 */
#ifndef __VIGIL_NAMESPACES_H__
#define __VIGIL_NAMESPACES_H__

#define NR_clone 56
#define NR_unshare 272
#define NR_setns 308
#define NR_clone3 435

// CLONE_NEW* (uapi linux/sched.h). CLONE_NEWTIME shares its bit with the exit
// signal of clone(2), which cannot ask for it.
#define CLONE_NEWTIME 0x00000080
#define CLONE_NEWNS 0x00020000
#define CLONE_NEWCGROUP 0x02000000
#define CLONE_NEWUTS 0x04000000
#define CLONE_NEWIPC 0x08000000
#define CLONE_NEWUSER 0x10000000
#define CLONE_NEWPID 0x20000000
#define CLONE_NEWNET 0x40000000
#define CLONE_NEW_ALL (CLONE_NEWTIME | CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | \
		       CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

// Magic numbers of the file systems a setns descriptor lives on (uapi
// linux/magic.h): namespace files, pidfds (6.9 and later), and anonymous
// inodes (pidfds before 6.9).
#define NSFS_MAGIC 0x6e736673
#define PID_FS_MAGIC 0x50494446
#define ANON_INODE_FS_MAGIC 0x09041934

// Record kinds of this file: outside the range of enum event_kind.
enum ns_kind {
	EVENT_NAMESPACE = 32,
};

enum ns_op {
	NS_SETNS = 1,
	NS_UNSHARE = 2,
	NS_CLONE = 3,
	NS_CLONE3 = 4,
};

struct ns_event {
	struct event_hdr hdr;
	__u32 op;         // enum ns_op
	__u32 flags;      // the CLONE_NEW* bits of the namespaces entered or made
	__u32 target_pid; // clone: the child, as the caller sees it; setns: the pidfd's process
	__u32 _pad;
	__u64 ns_ino;     // setns into a namespace file: the namespace's inode
};

const struct ns_event *unused_ns_event __attribute__((unused));
const enum ns_op *unused_ns_op __attribute__((unused));
const enum ns_kind *unused_ns_kind __attribute__((unused));

/* Kernel types and members read here beyond vmlinux.h's (matched by name
   without the ___vigil suffix). */
struct super_block___vigil {
	unsigned long s_magic;
} __attribute__((preserve_access_index));

struct inode___vigil {
	struct super_block___vigil *i_sb;
	void *i_private;
} __attribute__((preserve_access_index));

struct proc_ns_operations___vigil {
	int type;
} __attribute__((preserve_access_index));

struct ns_common___vigil {
	__u32 ns_type; // 6.18 and later
	const struct proc_ns_operations___vigil *ops;
} __attribute__((preserve_access_index));

struct upid___vigil {
	int nr;
} __attribute__((preserve_access_index));

struct pid___vigil {
	struct upid___vigil numbers[1];
} __attribute__((preserve_access_index));

// ns_setns_target fills e's target from the setns descriptor f: a namespace
// file's inode and type, or a pidfd's process (its pid in the initial pid
// namespace).
static __always_inline void ns_setns_target(struct ns_event *e, struct file *f)
{
	struct inode___vigil *inode;
	unsigned long magic;
	void *priv;

	if (!e || !f)
		return;
	inode = (void *)f->f_inode;
	magic = BPF_CORE_READ(inode, i_sb, s_magic);
	if (magic == NSFS_MAGIC) {
		struct ns_common___vigil *ns = BPF_CORE_READ(inode, i_private);

		e->ns_ino = f->f_inode->i_ino;
		if (e->flags == 0 && ns) {
			if (bpf_core_field_exists(ns->ns_type))
				e->flags = BPF_CORE_READ(ns, ns_type);
			else
				e->flags = BPF_CORE_READ(ns, ops, type);
		}
		return;
	}
	if (magic == PID_FS_MAGIC)
		priv = BPF_CORE_READ(inode, i_private);
	else if (magic == ANON_INODE_FS_MAGIC)
		priv = f->private_data;
	else
		return;
	if (priv)
		e->target_pid = BPF_CORE_READ((struct pid___vigil *)priv, numbers[0].nr);
}

// ns_changed reports a successful setns, unshare, clone or clone3 (syscall
// nr, return value ret, first two arguments a0 and a1) that entered or made
// namespaces.
static __noinline void ns_changed(__u64 nr, long ret, __u64 a0, __u64 a1)
{
	struct ns_event *e;
	__u64 flags = 0;
	__u32 op;

	switch (nr) {
	case NR_setns:
		if (ret != 0)
			return;
		op = NS_SETNS;
		flags = a1; // nstype: 0 (any), one CLONE_NEW* bit, or a mask for a pidfd
		break;
	case NR_unshare:
		if (ret != 0)
			return;
		op = NS_UNSHARE;
		flags = a0;
		break;
	case NR_clone:
		if (ret <= 0) // the child returns 0: the parent reports
			return;
		op = NS_CLONE;
		flags = a0 & ~0xffULL; // the low byte is the exit signal
		break;
	case NR_clone3:
		if (ret <= 0)
			return;
		op = NS_CLONE3;
		// struct clone_args begins with its flags
		if (bpf_probe_read_user(&flags, sizeof(flags), (void *)a0) != 0)
			return;
		break;
	default:
		return;
	}
	flags &= CLONE_NEW_ALL;
	if (flags == 0 && op != NS_SETNS)
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(COUNTER_DROPS);
		return;
	}
	fill_hdr_current(&e->hdr, EVENT_NAMESPACE);
	e->op = op;
	e->flags = flags;
	e->target_pid = op == NS_CLONE || op == NS_CLONE3 ? ret : 0;
	e->_pad = 0;
	e->ns_ino = 0;
	if (op == NS_SETNS)
		ns_setns_target(e, fd_file(a0));
	bpf_ringbuf_submit(e, rb_flags());
}

#endif /* __VIGIL_NAMESPACES_H__ */
