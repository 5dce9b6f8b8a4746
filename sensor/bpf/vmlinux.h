/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Minimal kernel type definitions for process.bpf.c.
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

enum bpf_map_type {
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_RINGBUF = 27,
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

struct cred {
	kuid_t uid;
	kgid_t gid;
};

struct mm_struct {
	unsigned long arg_start;
	unsigned long arg_end;
};

struct signal_struct {
	atomic_t live;
};

struct task_struct {
	pid_t pid;
	pid_t tgid;
	int exit_code;
	struct task_struct *real_parent;
	const struct cred *cred;
	struct mm_struct *mm;
	struct signal_struct *signal;
};

struct linux_binprm {
	const char *filename;
};

#pragma clang attribute pop

#endif /* __VIGIL_VMLINUX_H__ */
