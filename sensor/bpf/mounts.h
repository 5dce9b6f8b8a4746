/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * MOUNT and UNMOUNT: mount, move_mount and umount2 that succeeded.
 *
 * Reported at the syscall's exit. The mount point is made absolute against
 * the working directory or the directory descriptor, as file changes' paths
 * are (user_path: "." and ".." are resolved by user space). mount(2): the
 * source and file system type as the caller passed them, the MS_* flags (the
 * legacy MS_MGC_VAL magic dropped). move_mount(2), the new mount API's last
 * step (fsopen, fsconfig and fsmount build a detached mount that move_mount
 * attaches): the file system type and source (device name) read from the
 * mount moved when it is given by descriptor, else the path moved. umount2(2):
 * the mount point and its MNT_* / UMOUNT_* flags.
 *
 * Included by sensor.bpf.c before its syscall dispatch.
 */
#ifndef __VIGIL_MOUNTS_H__
#define __VIGIL_MOUNTS_H__

#define NR_mount 165
#define NR_umount 166 // umount2(2): the kernel names it umount (sys_exit_umount)
#define NR_move_mount 429
#define NR_pivot_root 155 // reported by no record: it moves every path (dir_verdicts.h)

#define MS_MGC_MSK 0xffff0000U
#define MS_MGC_VAL 0xc0ed0000U
#define MOUNT_FSTYPE_MAX 32

// Record kinds of this file: outside the range of enum event_kind.
enum mount_kind {
	EVENT_MOUNT = 33,
};

enum mount_op {
	MOUNT_MOUNT = 1,  // mount(2)
	MOUNT_MOVE = 2,   // move_mount(2)
	MOUNT_UMOUNT = 3, // umount2(2)
};

// A mount record is sent with only the used bytes of data: hdr.path_len bytes
// of the mount point, then hdr.args_len bytes of the source.
struct mount_event {
	struct event_hdr hdr;
	__u32 op;    // enum mount_op
	__u32 flags; // mount: MS_*; umount2: MNT_* and UMOUNT_*; move_mount: MOVE_MOUNT_*
	char fstype[MOUNT_FSTYPE_MAX]; // NUL-terminated, empty if unknown
	char data[2 * FPATH_MAX];
};

const struct mount_event *unused_mount_event __attribute__((unused));
const enum mount_op *unused_mount_op __attribute__((unused));
const enum mount_kind *unused_mount_kind __attribute__((unused));

/* Kernel types and members read here beyond vmlinux.h's (matched by name
   without the ___vigil_mnt suffix). */
struct file_system_type___vigil_mnt {
	const char *name;
} __attribute__((preserve_access_index));

struct super_block___vigil_mnt {
	struct file_system_type___vigil_mnt *s_type;
} __attribute__((preserve_access_index));

struct vfsmount___vigil_mnt {
	struct super_block___vigil_mnt *mnt_sb;
} __attribute__((preserve_access_index));

struct mount___vigil_mnt {
	const char *mnt_devname;
} __attribute__((preserve_access_index));

// Per-CPU space for building a mount record.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mount_event);
} mount_scratch SEC(".maps");

// mount_path puts the absolute path of (dfd, name) into e->data at byte at
// and returns its length, or 0. An empty name stands for dfd's own file (the
// *_EMPTY_PATH flags of move_mount).
static __always_inline __u32 mount_path(struct mount_event *e, __u32 at, long dfd, const char *name)
{
	struct walk_buf *w;
	__u32 off, len = 0;
	char c0 = 0;

	if (name)
		bpf_probe_read_user(&c0, 1, name);
	if (c0 == 0) {
		struct file *f = dfd >= 0 ? fd_file(dfd) : 0;

		if (!f)
			return 0;
		len = walk_path(f->f_path.dentry, f->f_path.mnt);
		off = WALK_END - len;
	} else {
		off = user_path(dfd, name, &len, false);
	}
	w = walk_buf();
	if (!w || len == 0 || len > FPATH_MAX - 1)
		return 0;
	barrier_var(off);
	barrier_var(len);
	if (off > WALK_BUF - FPATH_MAX || len > FPATH_MAX - 1)
		return 0;
	barrier_var(len);
	len &= FPATH_MAX - 1;
	barrier_var(at);
	at &= FPATH_MAX - 1;
	bpf_probe_read_kernel(&e->data[at], len, &w->b[off]);
	return len;
}

// mount_string copies the NUL-terminated string s (user memory unless kern)
// into e->data at byte at and returns its length without the NUL.
static __always_inline __u32 mount_string(struct mount_event *e, __u32 at, const char *s, bool kern)
{
	long n;

	if (!s)
		return 0;
	barrier_var(at);
	at &= FPATH_MAX - 1;
	n = kern ? bpf_probe_read_kernel_str(&e->data[at], FPATH_MAX, s) : bpf_probe_read_user_str(&e->data[at], FPATH_MAX, s);
	return n > 1 ? n - 1 : 0;
}

// mounted reports a successful mount, move_mount or umount2 (the syscall and
// its arguments in a, its return value ret).
static __noinline void mounted(struct sys_args *a, long ret)
{
	__u64 nr = a->nr, a0 = a->a[0], a1 = a->a[1], a2 = a->a[2], a3 = a->a[3], a4 = a->a[4];
	struct mount_event *e;
	__u32 zero = 0, len = 0, len2 = 0, n;

	if (ret != 0)
		return;
	e = bpf_map_lookup_elem(&mount_scratch, &zero);
	if (!e)
		return;
	e->fstype[0] = 0;
	switch (nr) {
	case NR_mount: // (source, target, fstype, flags, data)
		e->op = MOUNT_MOUNT;
		e->flags = a3;
		if ((e->flags & MS_MGC_MSK) == MS_MGC_VAL)
			e->flags &= ~MS_MGC_MSK;
		len = mount_path(e, 0, AT_FDCWD, (const char *)a1);
		if (len == 0)
			return;
		len2 = mount_string(e, len, (const char *)a0, false);
		if (a2)
			bpf_probe_read_user_str(e->fstype, sizeof(e->fstype), (const char *)a2);
		break;
	case NR_move_mount: { // (from_dfd, from_path, to_dfd, to_path, flags)
		char c0 = 0;

		e->op = MOUNT_MOVE;
		e->flags = a4;
		len = mount_path(e, 0, (long)(int)a2, (const char *)a3);
		if (len == 0)
			return;
		if (a1)
			bpf_probe_read_user(&c0, 1, (const char *)a1);
		if (c0 == 0) {
			// The mount given by descriptor (fsmount's or open_tree's):
			// its device name and file system type.
			struct file *f = fd_file((long)(int)a0);

			if (f) {
				struct vfsmount___vigil_mnt *vm = (void *)f->f_path.mnt;
				struct mount___vigil_mnt *m = (void *)((__u64)f->f_path.mnt - bpf_core_field_offset(struct mount, mnt));
				const char *fsname = BPF_CORE_READ(vm, mnt_sb, s_type, name);

				len2 = mount_string(e, len, BPF_CORE_READ(m, mnt_devname), true);
				if (fsname)
					bpf_probe_read_kernel_str(e->fstype, sizeof(e->fstype), fsname);
			}
		} else {
			len2 = mount_path(e, len, (long)(int)a0, (const char *)a1);
		}
		break;
	}
	case NR_umount: // (target, flags)
		e->op = MOUNT_UMOUNT;
		e->flags = a1;
		len = mount_path(e, 0, AT_FDCWD, (const char *)a0);
		if (len == 0)
			return;
		break;
	default:
		return;
	}
	fill_hdr_current(&e->hdr, EVENT_MOUNT);
	e->hdr.path_len = len;
	e->hdr.args_len = len2;
	n = len + len2;
	barrier_var(n);
	if (n > 2 * FPATH_MAX)
		return;
	if (bpf_ringbuf_output(&events, e, offsetof(struct mount_event, data) + n, rb_flags()) != 0)
		count(COUNTER_DROPS);
}

#endif /* __VIGIL_MOUNTS_H__ */
