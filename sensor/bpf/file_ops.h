// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// File operations besides open, delete, rename and chmod, reported at the exit
// of their syscalls if they succeeded. Included by sensor.bpf.c after the file
// changes, whose machinery they share: records are struct file_event, paths
// are made absolute against the directory descriptor or the working directory
// (change_path), filtered by the file_prefixes trie and cut as theirs are.
//
//   FILE_LINK      link, linkat (hard: the new name, then the existing file's
//                  path), symlink, symlinkat (symbolic: the new name, then the
//                  target as given, made absolute only for the filter when it
//                  is; a relative target is not). Reported if the new name or
//                  the target (absolute) passes the filter. flags: enum link_type
//   DIR_CREATE     mkdir, mkdirat. flags: the mode asked for (before the umask)
//   DIR_DELETE     rmdir, unlinkat with AT_REMOVEDIR
//   FILE_MKNOD     mknod, mknodat. flags: the mode with its type bits, and
//                  MKNOD_AT for mknodat; fmode: the device number as the call
//                  gave it
//   FILE_CHOWN     chown, lchown, fchown, fchownat. flags, fmode: the new owner
//                  and group as given (0xffffffff: left as they were)
//   FILE_TRUNCATE  truncate, ftruncate. flags, fmode: the new length's low and
//                  high 32 bits
//
// The kinds are numbered apart from enum event_kind's and the other concerns', from 40.

#define NR_truncate 76
#define NR_ftruncate 77
#define NR_mkdir 83
#define NR_rmdir 84
#define NR_link 86
#define NR_symlink 88
#define NR_chown 92
#define NR_fchown 93
#define NR_lchown 94
#define NR_mknod 133
#define NR_mkdirat 258
#define NR_mknodat 259
#define NR_fchownat 260
#define NR_linkat 265
#define NR_symlinkat 266

#define AT_REMOVEDIR 0x200

// MKNOD_AT in a FILE_MKNOD's flags: made by mknodat (a mode's bits end at
// 0xffff)
#define MKNOD_AT 0x10000
#define AT_EMPTY_PATH 0x1000

enum file_op_kind {
	EVENT_FILE_LINK = 40,
	EVENT_DIR_CREATE = 41,
	EVENT_DIR_DELETE = 42,
	EVENT_FILE_MKNOD = 43,
	EVENT_FILE_CHOWN = 44,
	EVENT_FILE_TRUNCATE = 45,
};

// file_event.flags of a FILE_LINK
enum link_type {
	LINK_HARD = 1,
	LINK_SYMBOLIC = 2,
};

const enum file_op_kind *unused_file_op_kind __attribute__((unused));
const enum link_type *unused_link_type __attribute__((unused));

// fd_change_path puts the path of the open file f into e->path at byte at and
// returns its length, or 0; *want is set if it passes the prefix filter.
static __always_inline __u32 fd_change_path(struct file_event *e, __u32 at, struct file *f, bool *want)
{
	struct walk_buf *w;
	__u64 off, len;

	if (!f)
		return 0;
	len = walk_path(f->f_path.dentry, f->f_path.mnt);
	w = walk_buf();
	if (!w || len == 0 || len > FPATH_MAX - 1)
		return 0;
	off = WALK_END - len;
	barrier_var(off);
	barrier_var(len);
	if (off > WALK_BUF - FPATH_MAX || len > FPATH_MAX - 1)
		return 0;
	if (wanted(w, off, len))
		*want = true;
	barrier_var(at);
	at &= FPATH_MAX - 1;
	bpf_probe_read_kernel(&e->path[at], len, &w->b[off]);
	return len;
}

// empty_name reports whether the path argument name is "" (AT_EMPTY_PATH: the
// call acts on its descriptor).
static __always_inline bool empty_name(const char *name, bool kern)
{
	char c0 = 1;

	if (kern)
		bpf_probe_read_kernel(&c0, 1, name);
	else
		bpf_probe_read_user(&c0, 1, name);
	return c0 == 0;
}

// at_path puts the path argument (dfd, name) into e->path at byte at, or with
// AT_EMPTY_PATH in flags and an empty name the path of dfd's file.
static __always_inline __u32 at_path(struct file_event *e, __u32 at, long dfd, const char *name, __u64 flags, bool *want, bool kern)
{
	if ((flags & AT_EMPTY_PATH) && empty_name(name, kern))
		return kern ? 0 : fd_change_path(e, at, fd_file(dfd), want);
	return change_path(e, at, dfd, name, want, kern);
}

// symlink_target puts a symbolic link's target into e->path at byte at as it
// was given and returns its length, or 0. An absolute target passes through
// change_path (and the prefix filter); a relative one is copied.
static __always_inline __u32 symlink_target(struct file_event *e, __u32 at, const char *target, bool *want, bool kern)
{
	char c0 = 0;
	long n;

	if ((kern ? bpf_probe_read_kernel(&c0, 1, target) : bpf_probe_read_user(&c0, 1, target)) != 0)
		return 0;
	if (c0 == '/')
		return change_path(e, at, AT_FDCWD, target, want, kern);
	barrier_var(at);
	at &= FPATH_MAX - 1;
	n = read_name(&e->path[at], FPATH_MAX, target, kern);
	if (n <= 1)
		return 0;
	return n - 1;
}

// file_op_ready completes the record of a file operation built in e and
// reports whether it is to be sent (see change_ready); extra goes to fmode.
static __always_inline bool file_op_ready(struct file_event *e, __u32 kind, __u32 len, __u32 len2, __u32 flags, __u32 extra, bool want)
{
	if (kind == EVENT_FILE_LINK && len2 == 0)
		return false;
	if (!change_ready(e, kind, len, len2, flags, want))
		return false;
	e->fmode = extra;
	return true;
}

// file_op_changed reports the file operations of this file at the exit of
// their syscalls (a: number and arguments, ret: the result).
static __noinline void file_op_changed(struct sys_args *a, long ret)
{
	struct file_event *e;
	__u32 kind, len = 0, len2 = 0, flags = 0, extra = 0;
	bool want = false;

	if (ret != 0)
		return;
	e = file_rec();
	if (!e)
		return;
	switch (a->nr) {
	case NR_link:
		kind = EVENT_FILE_LINK;
		flags = LINK_HARD;
		len = change_path(e, 0, AT_FDCWD, (const char *)a->a[1], &want, false);
		if (len)
			len2 = change_path(e, len, AT_FDCWD, (const char *)a->a[0], &want, false);
		break;
	case NR_linkat:
		kind = EVENT_FILE_LINK;
		flags = LINK_HARD;
		len = change_path(e, 0, (int)a->a[2], (const char *)a->a[3], &want, false);
		if (len)
			len2 = at_path(e, len, (int)a->a[0], (const char *)a->a[1], a->a[4], &want, false);
		break;
	case NR_symlink:
		kind = EVENT_FILE_LINK;
		flags = LINK_SYMBOLIC;
		len = change_path(e, 0, AT_FDCWD, (const char *)a->a[1], &want, false);
		if (len)
			len2 = symlink_target(e, len, (const char *)a->a[0], &want, false);
		break;
	case NR_symlinkat:
		kind = EVENT_FILE_LINK;
		flags = LINK_SYMBOLIC;
		len = change_path(e, 0, (int)a->a[1], (const char *)a->a[2], &want, false);
		if (len)
			len2 = symlink_target(e, len, (const char *)a->a[0], &want, false);
		break;
	case NR_mkdir:
		kind = EVENT_DIR_CREATE;
		flags = a->a[1] & 07777;
		len = change_path(e, 0, AT_FDCWD, (const char *)a->a[0], &want, false);
		break;
	case NR_mkdirat:
		kind = EVENT_DIR_CREATE;
		flags = a->a[2] & 07777;
		len = change_path(e, 0, (int)a->a[0], (const char *)a->a[1], &want, false);
		break;
	case NR_rmdir:
		kind = EVENT_DIR_DELETE;
		len = change_path(e, 0, AT_FDCWD, (const char *)a->a[0], &want, false);
		break;
	case NR_unlinkat:
		if (!(a->a[2] & AT_REMOVEDIR))
			return; // a file: file_changed
		kind = EVENT_DIR_DELETE;
		len = change_path(e, 0, (int)a->a[0], (const char *)a->a[1], &want, false);
		break;
	case NR_mknod:
		kind = EVENT_FILE_MKNOD;
		flags = a->a[1] & 0xffff;
		extra = a->a[2];
		len = change_path(e, 0, AT_FDCWD, (const char *)a->a[0], &want, false);
		break;
	case NR_mknodat:
		kind = EVENT_FILE_MKNOD;
		flags = (a->a[2] & 0xffff) | MKNOD_AT;
		extra = a->a[3];
		len = change_path(e, 0, (int)a->a[0], (const char *)a->a[1], &want, false);
		break;
	case NR_chown:
	case NR_lchown:
		kind = EVENT_FILE_CHOWN;
		flags = a->a[1];
		extra = a->a[2];
		len = change_path(e, 0, AT_FDCWD, (const char *)a->a[0], &want, false);
		break;
	case NR_fchownat:
		kind = EVENT_FILE_CHOWN;
		flags = a->a[2];
		extra = a->a[3];
		len = at_path(e, 0, (int)a->a[0], (const char *)a->a[1], a->a[4], &want, false);
		break;
	case NR_fchown:
		kind = EVENT_FILE_CHOWN;
		flags = a->a[1];
		extra = a->a[2];
		len = fd_change_path(e, 0, fd_file(a->a[0]), &want);
		break;
	case NR_truncate:
		kind = EVENT_FILE_TRUNCATE;
		flags = a->a[1];
		extra = a->a[1] >> 32;
		len = change_path(e, 0, AT_FDCWD, (const char *)a->a[0], &want, false);
		break;
	case NR_ftruncate:
		kind = EVENT_FILE_TRUNCATE;
		flags = a->a[1];
		extra = a->a[1] >> 32;
		len = fd_change_path(e, 0, fd_file(a->a[0]), &want);
		break;
	default:
		return;
	}
	if (file_op_ready(e, kind, len, len2, flags, extra, want))
		file_emit(e);
}
