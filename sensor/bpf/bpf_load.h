/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * BPF_LOAD: bpf(BPF_PROG_LOAD) that succeeded.
 *
 * Reported at the syscall's exit from the program the kernel loaded (found
 * through the new descriptor): its type, expected attach type, id and name,
 * as `bpftool prog` shows them. The sensor's own loads (its process,
 * bpf_self_tgid) are left out.
 *
 * Included by sensor.bpf.c before its syscall dispatch.
 */
#ifndef __VIGIL_BPF_LOAD_H__
#define __VIGIL_BPF_LOAD_H__

#define NR_bpf 321
#define BPF_PROG_LOAD_CMD 5 // enum bpf_cmd's BPF_PROG_LOAD
#define BPF_OBJ_NAME_LEN 16

// Record kinds of this file: outside the range of enum event_kind.
enum bpf_load_kind {
	EVENT_BPF_LOAD = 34,
};

struct bpf_load_event {
	struct event_hdr hdr;
	__u32 prog_type;   // enum bpf_prog_type
	__u32 attach_type; // enum bpf_attach_type (expected_attach_type)
	__u32 prog_id;
	__u32 _pad;
	char name[BPF_OBJ_NAME_LEN]; // NUL-terminated
};

const struct bpf_load_event *unused_bpf_load_event __attribute__((unused));
const enum bpf_load_kind *unused_bpf_load_kind __attribute__((unused));

// The sensor's own process, whose loads are not reported; set by user space
// before loading.
const volatile __u32 bpf_self_tgid = 0;

/* Kernel types read here (matched by name without the ___vigil suffix). */
struct bpf_prog_aux___vigil {
	__u32 id;
	char name[BPF_OBJ_NAME_LEN];
} __attribute__((preserve_access_index));

enum bpf_prog_type___vigil {
	VIGIL_BPF_PROG_TYPE_UNSPEC = 0,
};

enum bpf_attach_type___vigil {
	VIGIL_BPF_ATTACH_TYPE_0 = 0,
};

struct bpf_prog___vigil {
	enum bpf_prog_type___vigil type;
	enum bpf_attach_type___vigil expected_attach_type;
	struct bpf_prog_aux___vigil *aux;
} __attribute__((preserve_access_index));

// bpf_loaded reports a successful bpf(BPF_PROG_LOAD, ...) (command cmd,
// return value ret: the program's new descriptor).
static __noinline void bpf_loaded(__u64 cmd, long ret)
{
	struct bpf_prog___vigil *p;
	struct bpf_load_event *e;
	struct file *f;

	if (cmd != BPF_PROG_LOAD_CMD || ret < 0)
		return;
	if ((bpf_get_current_pid_tgid() >> 32) == bpf_self_tgid)
		return;
	f = fd_file(ret);
	if (!f)
		return;
	p = f->private_data;
	if (!p)
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(COUNTER_DROPS);
		return;
	}
	fill_hdr_current(&e->hdr, EVENT_BPF_LOAD);
	e->prog_type = BPF_CORE_READ(p, type);
	e->attach_type = BPF_CORE_READ(p, expected_attach_type);
	e->prog_id = BPF_CORE_READ(p, aux, id);
	e->_pad = 0;
	if (BPF_CORE_READ_STR_INTO(&e->name, p, aux, name) < 0)
		e->name[0] = 0;
	bpf_ringbuf_submit(e, rb_flags());
}

#endif /* __VIGIL_BPF_LOAD_H__ */
