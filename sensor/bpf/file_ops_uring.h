// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// The file operations of file_ops.h submitted through io_uring: directories
// made (IORING_OP_MKDIRAT) and removed (UNLINKAT with AT_REMOVEDIR), links
// (LINKAT, SYMLINKAT), and truncation (FTRUNCATE, from 6.9). Included by
// sensor.bpf.c after uring_changes. As for deletes and renames, a request's
// paths are resolved at its submission and kept in uring_changes until its
// completion says whether it succeeded; a truncation is reported at its
// completion from the request's file. An opcode whose request type this
// kernel's BTF lacks is not seen (the collector lists it as unavailable).

#define IORING_OP_MKDIRAT 37
#define IORING_OP_SYMLINKAT 38
#define IORING_OP_LINKAT 39
#define IORING_OP_FTRUNCATE 55

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

/* The command data of the requests, at the start of their io_kiocb. */
struct io_mkdir {
	struct file *file;
	int dfd;
	umode_t mode;
	struct filename *filename;
};

/* linkat and symlinkat (oldpath: the target) */
struct io_link {
	struct file *file;
	int old_dfd;
	int new_dfd;
	struct filename *oldpath;
	struct filename *newpath;
	int flags;
};

struct io_ftrunc {
	struct file *file;
	__s64 len;
};

#pragma clang attribute pop

// uring_file_op_submitted keeps in uring_changes the record of a file
// operation request submitted as req, and reports whether the opcode is one of
// them (io_uring_submit_req is then done with it).
static __always_inline bool uring_file_op_submitted(void *req, __u8 opcode)
{
	__u32 kind, len = 0, len2 = 0, flags = 0;
	struct file_event *e;
	__u64 key = (__u64)req;
	bool want = false;

	switch (opcode) {
	case IORING_OP_MKDIRAT: {
		struct io_mkdir *m;

		if (!bpf_core_type_exists(struct io_mkdir))
			return true;
		m = bpf_rdonly_cast(req, bpf_core_type_id_kernel(struct io_mkdir));
		e = file_rec();
		if (!m || !e)
			return true;
		kind = EVENT_DIR_CREATE;
		flags = m->mode & 07777;
		len = change_path(e, 0, m->dfd, m->filename->name, &want, true);
		break;
	}
	case IORING_OP_UNLINKAT: {
		struct io_unlink *u = bpf_rdonly_cast(req, bpf_core_type_id_kernel(struct io_unlink));

		if (!u || !(u->flags & AT_REMOVEDIR))
			return false; // a file: io_uring_submit_req's
		e = file_rec();
		if (!e)
			return true;
		kind = EVENT_DIR_DELETE;
		len = change_path(e, 0, u->dfd, u->filename->name, &want, true);
		break;
	}
	case IORING_OP_LINKAT:
	case IORING_OP_SYMLINKAT: {
		struct io_link *l;

		if (!bpf_core_type_exists(struct io_link))
			return true;
		l = bpf_rdonly_cast(req, bpf_core_type_id_kernel(struct io_link));
		e = file_rec();
		if (!l || !e)
			return true;
		kind = EVENT_FILE_LINK;
		len = change_path(e, 0, l->new_dfd, l->newpath->name, &want, true);
		if (!len)
			return true;
		if (opcode == IORING_OP_SYMLINKAT) {
			flags = LINK_SYMBOLIC;
			len2 = symlink_target(e, len, l->oldpath->name, &want, true);
		} else {
			flags = LINK_HARD;
			len2 = change_path(e, len, l->old_dfd, l->oldpath->name, &want, true);
		}
		break;
	}
	default:
		return false;
	}
	if (file_op_ready(e, kind, len, len2, flags, 0, want))
		bpf_map_update_elem(&uring_changes, &key, e, BPF_ANY);
	return true;
}

// uring_file_op_completed reports the file operation request r (key: its
// address) that completed with res, and whether the opcode is one of them
// (io_uring_complete is then done with it).
static __always_inline bool uring_file_op_completed(struct io_kiocb *r, __u64 key, __u8 op, long res)
{
	struct file_event *e;

	switch (op) {
	case IORING_OP_MKDIRAT: case IORING_OP_LINKAT: case IORING_OP_SYMLINKAT:
		e = bpf_map_lookup_elem(&uring_changes, &key);
		if (!e)
			return true;
		if (res == 0) {
			e->hdr.boot_ns = bpf_ktime_get_boot_ns();
			file_emit(e);
		}
		bpf_map_delete_elem(&uring_changes, &key);
		return true;
	case IORING_OP_FTRUNCATE: {
		struct io_ftrunc *t;
		bool want = false;
		__u32 len;
		__u64 n;

		if (res != 0 || !bpf_core_type_exists(struct io_ftrunc))
			return true;
		t = bpf_rdonly_cast(r, bpf_core_type_id_kernel(struct io_ftrunc));
		e = file_rec();
		if (!t || !e)
			return true;
		n = t->len;
		len = fd_change_path(e, 0, r->file, &want);
		if (file_op_ready(e, EVENT_FILE_TRUNCATE, len, 0, (__u32)n, n >> 32, want))
			file_emit(e);
		return true;
	}
	}
	return false;
}
