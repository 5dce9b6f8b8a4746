// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// Readers of the process context at exec (process_context.h): the task's
// audit login uid and session, controlling terminal, pid in its own pid
// namespace, effective capabilities and creation time through CO-RE; its
// working directory walked with walk_path; its environment from the new
// image's stack; whether its executable is on an overlayfs upper layer. Included by sensor.bpf.c after the path walker.

#ifndef __VIGIL_PROCESS_CONTEXT_READ_H__
#define __VIGIL_PROCESS_CONTEXT_READ_H__

// capture_env is set by the collector when environment variables are to be
// reported: the block is not copied otherwise.
const volatile __u32 capture_env = 0;

static __always_inline void read_exec_context(struct exec_context *c, struct task_struct *task)
{
	const struct cred *cred = task->cred;
	struct tty_struct *tty;
	struct pid *p;
	unsigned int level;
	int nr = 0;

	c->flags = 0;
	c->start_ns = task->start_boottime;
	c->cap_effective = 0;
	// kernel_cap_t is one __u64 since 6.3, two __u32 before: the same 8 bytes.
	bpf_probe_read_kernel(&c->cap_effective, sizeof(c->cap_effective), &cred->cap_effective);
	c->loginuid = 0xffffffff;
	c->sessionid = 0xffffffff;
	if (bpf_core_field_exists(task->loginuid)) {
		c->loginuid = task->loginuid.val;
		c->sessionid = task->sessionid;
		c->flags |= CTX_HAS_LOGINUID;
	}
	c->tty = 0;
	tty = task->signal->tty;
	if (tty) {
		struct tty_driver *drv = tty->driver;

		if (drv) {
			c->tty = ((__u32)drv->major << 20) | (__u32)(drv->minor_start + tty->index);
			c->flags |= CTX_HAS_TTY;
		}
	}
	c->vpid = 0;
	p = task->thread_pid;
	if (p) {
		level = p->level;
		if (level < 32)
			bpf_probe_read_kernel(&nr, sizeof(nr), (void *)p + bpf_core_field_offset(struct pid, numbers) +
									 level * bpf_core_type_size(struct upid) +
									 bpf_core_field_offset(struct upid, nr));
	}
	c->vpid = nr;
	c->cwd_len = 0;
	c->env_len = 0;
}

// read_cwd writes the task's working directory into dst (room for
// CWD_MAX_LEN bytes) and returns its length, 0 if it has none that fits.
static __always_inline __u32 read_cwd(char *dst, struct task_struct *task)
{
	struct fs_struct *fs = task->fs;
	struct walk_buf *w;
	__u64 len, off;

	if (!fs)
		return 0;
	len = walk_path(fs->pwd.dentry, fs->pwd.mnt);
	w = walk_buf();
	if (!w || len == 0)
		return 0;
	if (len > CWD_MAX_LEN - 1) {
		// keep the end, as the walk does for paths longer than a record's
		off = WALK_END - (CWD_MAX_LEN - 1);
		len = CWD_MAX_LEN - 1;
		barrier_var(off);
		if (off > WALK_END - CUT_LEN)
			return 0;
		__builtin_memcpy(&w->b[off], CUT_MARK, CUT_LEN);
	}
	off = WALK_END - len;
	barrier_var(off);
	if (off > WALK_END)
		return 0;
	bpf_probe_read_kernel(dst, len & (CWD_MAX_LEN - 1), &w->b[off]);
	return len & (CWD_MAX_LEN - 1);
}

// read_env copies the start of the new image's environment block (NUL
// separated "NAME=value" strings, just written onto its stack) into dst
// (room for ENV_MAX_LEN bytes) and returns the bytes copied.
static __always_inline __u32 read_env(char *dst, struct task_struct *task)
{
	unsigned long start, end, n;

	if (!capture_env)
		return 0;
	start = task->mm->env_start;
	end = task->mm->env_end;
	n = end > start ? end - start : 0;
	if (n > ENV_MAX_LEN)
		n = ENV_MAX_LEN;
	barrier_var(n);
	if (n > ENV_MAX_LEN)
		n = ENV_MAX_LEN;
	if (n == 0 || bpf_probe_read_user(dst, n, (const void *)start) != 0)
		return 0;
	return n;
}

#define OVERLAYFS_SUPER_MAGIC 0x794c7630

// The part of overlayfs's inode read here: the VFS inode it embeds and the
// dentry of its upper copy (NULL while the file is only in a lower layer).
// overlayfs may be a module: CO-RE finds the type in its BTF when it is loaded
// before the sensor, and the collector reports the check missing otherwise.
// check_exe_layer is set by the collector when the kernel's BTF has the
// overlayfs inode: executables' layers are not looked at otherwise.
const volatile __u32 check_exe_layer = 0;

struct ovl_inode___vigil {
	struct inode vfs_inode;
	struct dentry *__upperdentry;
} __attribute__((preserve_access_index));

// read_exe_layer sets CTX_EXE_UPPER when file, the executable, is an
// overlayfs file with an upper dentry: created or copied up (written, or its
// metadata changed) on the upper layer, that is after the container started.
static __always_inline void read_exe_layer(struct exec_context *c, struct file *file)
{
	struct dentry *upper = NULL;
	struct inode *inode;
	void *oi;

	if (!check_exe_layer || !bpf_core_type_exists(struct ovl_inode___vigil) || !file)
		return;
	inode = file->f_inode;
	if (!inode || inode->i_sb->s_magic != OVERLAYFS_SUPER_MAGIC)
		return;
	// container_of(inode, struct ovl_inode, vfs_inode)
	oi = (void *)inode - bpf_core_field_offset(struct ovl_inode___vigil, vfs_inode);
	bpf_probe_read_kernel(&upper, sizeof(upper), oi + bpf_core_field_offset(struct ovl_inode___vigil, __upperdentry));
	if (upper)
		c->flags |= CTX_EXE_UPPER;
}

#endif /* __VIGIL_PROCESS_CONTEXT_READ_H__ */
