/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Minimal kernel type definitions for sensor.bpf.c.
 *
 * Trimmed by hand from `bpftool btf dump file /sys/kernel/btf/vmlinux format c`:
 * only the types and members the program reads are declared. Every struct carries
 * preserve_access_index, so each member access is recorded as a CO-RE relocation
 * and resolved against the running kernel's BTF at load time; member offsets and
 * the full layouts here do not need to match any particular kernel or architecture.
 */
#ifndef __VIGIL_VMLINUX_H__
#define __VIGIL_VMLINUX_H__

typedef signed char __s8;
typedef unsigned char __u8;
typedef short int __s16;
typedef short unsigned int __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long int __s64;
typedef long long unsigned int __u64;

typedef __s8 s8;
typedef __u8 u8;
typedef __s16 s16;
typedef __u16 u16;
typedef __s32 s32;
typedef __u32 u32;
typedef __s64 s64;
typedef __u64 u64;

typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;

typedef _Bool bool;
enum {
	false = 0,
	true = 1,
};

typedef int pid_t;
typedef unsigned int uid_t;
typedef unsigned int gid_t;
typedef unsigned short umode_t;
typedef unsigned int fmode_t;
typedef unsigned long size_t;
typedef unsigned short sa_family_t;

enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_LPM_TRIE = 11,
	BPF_MAP_TYPE_RINGBUF = 27,
};

enum {
	BPF_F_CURRENT_CPU = 0xffffffffULL,
};

enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
	BPF_EXIST = 2,
	BPF_F_NO_PREALLOC = 1,
};

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

typedef struct {
	int counter;
} atomic_t;

typedef struct {
	uid_t val;
} kuid_t;

typedef struct {
	gid_t val;
} kgid_t;

typedef struct {
	__u64 val;
} kernel_cap_t;

struct cred {
	kuid_t uid;
	kgid_t gid;
	kuid_t suid;
	kgid_t sgid;
	kuid_t euid;
	kgid_t egid;
	kuid_t fsuid;
	kgid_t fsgid;
	kernel_cap_t cap_effective;
};

struct mm_struct {
	unsigned long arg_start;
	unsigned long arg_end;
	unsigned long env_start;
	unsigned long env_end;
};

struct tty_driver {
	int major;
	int minor_start;
};

struct tty_struct {
	struct tty_driver *driver;
	int index;
};

struct signal_struct {
	atomic_t live;
	int nr_threads;
	struct tty_struct *tty;
};

struct upid {
	int nr;
};

struct pid {
	unsigned int level;
	struct upid numbers[1];
};

struct path;

struct fs_struct;

struct files_struct;

struct css_set;

struct task_struct {
	pid_t pid;
	pid_t tgid;
	int exit_code;
	struct task_struct *real_parent;
	const struct cred *cred;
	struct mm_struct *mm;
	struct signal_struct *signal;
	struct fs_struct *fs;
	struct files_struct *files;
	struct css_set *cgroups;
	struct task_struct *group_leader;
	__u64 start_time;
	__u64 start_boottime;
	kuid_t loginuid;
	unsigned int sessionid;
	struct pid *thread_pid;
};

/* x86-64 register frame of a syscall. */
struct pt_regs {
	unsigned long r10;
	unsigned long r8;
	unsigned long dx;
	unsigned long si;
	unsigned long di;
	unsigned long orig_ax;
};

struct file;

struct linux_binprm {
	struct file *file;
	const char *filename;
};

/* Files. */

struct qstr {
	__u32 hash;
	__u32 len;
	const unsigned char *name;
};

struct super_block {
	unsigned long s_magic;
};

struct inode {
	umode_t i_mode;
	struct super_block *i_sb;
	unsigned long i_ino;
	__u32 i_generation;
};

struct hlist_bl_node {
	struct hlist_bl_node *next, **pprev;
};

struct dentry {
	struct hlist_bl_node d_hash;
	struct dentry *d_parent;
	struct qstr d_name;
	struct inode *d_inode;
};

struct vfsmount {
	struct dentry *mnt_root;
};

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
};

struct file {
	fmode_t f_mode;
	struct inode *f_inode;
	unsigned int f_flags;
	struct path f_path;
	void *private_data;
};

struct mount {
	struct mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
	int mnt_id;
	__u64 mnt_id_unique; // Linux 6.8 and later
};

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
};

struct files_struct {
	struct fdtable *fdt;
};

struct fs_struct {
	struct path pwd;
};

/* Sockets. */

struct in_addr {
	__be32 s_addr;
};

struct in6_addr {
	union {
		__u8 u6_addr8[16];
		__be32 u6_addr32[4];
	} in6_u;
};

struct sockaddr {
	sa_family_t sa_family;
};

struct sockaddr_in {
	sa_family_t sin_family;
	__be16 sin_port;
	struct in_addr sin_addr;
};

struct sockaddr_in6 {
	sa_family_t sin6_family;
	__be16 sin6_port;
	__be32 sin6_flowinfo;
	struct in6_addr sin6_addr;
};

struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	volatile unsigned char skc_state;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
};

struct socket;

struct sock {
	struct sock_common __sk_common;
	int sk_err;
	__u16 sk_protocol;
	struct socket *sk_socket;
};

struct iovec {
	void *iov_base;
	size_t iov_len;
};

struct iov_iter {
	__u8 iter_type;
	size_t iov_offset;
	union {
		struct iovec __ubuf_iovec;
		struct {
			union {
				const struct iovec *__iov;
				void *ubuf;
			};
			size_t count;
		};
	};
};

struct msghdr {
	void *msg_name;
	int msg_namelen;
	struct iov_iter msg_iter;
};

struct socket {
	short type;
	struct file *file;
	struct sock *sk;
};

struct user_msghdr {
	void *msg_name;
	int msg_namelen;
	struct iovec *msg_iov;
	unsigned long msg_iovlen;
};

struct proto_accept_arg;

struct filename {
	const char *name;
};

/* Kernel modules (absent from kernels built without CONFIG_MODULES). */

struct module {
	char name[56];
};

/* io_uring (absent from kernels built without CONFIG_IO_URING). */

struct io_uring_cqe {
	__u64 user_data;
	__s32 res;
	__u32 flags;
};

struct io_kiocb {
	struct file *file;
	u8 opcode;
	void *async_data;
};

/* The async data of a send or sendmsg request: msg_name points at the
   kernel's copy of the destination. */
struct io_async_msghdr {
	struct msghdr msg;
};

struct open_how {
	__u64 flags;
	__u64 mode;
	__u64 resolve;
};

/* The command data of an open request, at the start of its io_kiocb. */
struct io_open {
	struct file *file;
	int dfd;
	u32 file_slot;
	struct filename *filename;
	struct open_how how;
};

struct io_unlink {
	struct file *file;
	int dfd;
	int flags;
	struct filename *filename;
};

struct io_rename {
	struct file *file;
	int old_dfd;
	int new_dfd;
	struct filename *oldpath;
	struct filename *newpath;
	int flags;
};

/* The command data of an accept request. */
struct io_accept {
	struct file *file;
	u32 file_slot;
};

/* The command data of a send or sendmsg request. */
struct io_sr_msg {
	struct file *file;
	union {
		struct user_msghdr *umsg;
		void *buf;
	};
	int len;
};

/* A ring's table of files (direct descriptors), since 6.13. */
struct io_rsrc_node {
	unsigned long file_ptr; /* a file pointer, flags in its low bits */
};

struct io_rsrc_data {
	unsigned int nr;
	struct io_rsrc_node **nodes;
};

struct io_file_table {
	struct io_rsrc_data data;
};

struct io_ring_ctx {
	struct io_file_table file_table;
};

#pragma clang attribute pop

#endif /* __VIGIL_VMLINUX_H__ */
