// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// The process context an exec record carries besides the executable and argv:
// what user space keeps for every event of the process (see sensor/enrich).
// Layout only; the readers are in process_context_read.h.

#ifndef __VIGIL_PROCESS_CONTEXT_H__
#define __VIGIL_PROCESS_CONTEXT_H__

#define CWD_MAX_LEN 512  // working directory bytes carried (a longer one keeps its end after "...")
#define ENV_MAX_LEN 4096 // environment bytes carried: the start of the block

// exec_context.flags
enum exec_context_flag {
	CTX_HAS_TTY = 1,      // the process has a controlling terminal (tty is its device)
	CTX_HAS_LOGINUID = 2, // the kernel keeps audit login uids and sessions
	CTX_EXE_UPPER = 4,    // the executable is on an overlayfs upper layer
};

// Numbers read from the task at exec. 40 bytes, no implicit padding.
struct exec_context {
	__u64 start_ns;      // task->start_boottime: creation (fork), boot clock ns as event_hdr.boot_ns
	__u64 cap_effective; // cred->cap_effective
	__u32 loginuid;      // audit login uid (4294967295 when unset)
	__u32 sessionid;     // audit session id (4294967295 when unset)
	__u32 tty;           // controlling tty: major << 20 | minor (kernel dev_t)
	__u32 vpid;          // thread group id in the task's own (active) pid namespace
	__u16 cwd_len;       // bytes of the working directory after argv in data
	__u16 env_len;       // bytes of the environment after the working directory
	__u32 flags;         // CTX_*
};

#endif /* __VIGIL_PROCESS_CONTEXT_H__ */
