// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// NET_LISTEN: a socket that listens for connections (a server, or a backdoor's
// listener). Included by sensor.bpf.c; reported from sys_exit of listen.

#define NR_listen 50
#define IPPROTO_SCTP 132
#define IPPROTO_MPTCP 262

// The address a socket listens on, as the kernel bound it: read from the sock,
// not from any address the process passed. IPv4 in the first 4 bytes of addr;
// an unspecified address (all interfaces) is all zeros.
struct listen_event {
	struct event_hdr hdr;
	__u16 family;   // AF_INET or AF_INET6
	__u16 protocol; // IPPROTO_TCP, IPPROTO_SCTP or IPPROTO_MPTCP
	__u16 port;     // host byte order
	__u16 _pad;
	__u32 backlog;  // the queue of pending connections, as the kernel capped it (somaxconn)
	__u32 _pad2;
	__u8 addr[16];
};

const struct listen_event *unused_listen_event __attribute__((unused));

// The member of struct sock the backlog is kept in, declared apart from
// vmlinux.h (CO-RE matches the flavor to struct sock).
struct sock___listen {
	__u32 sk_max_ack_backlog;
} __attribute__((preserve_access_index));

// A Multipath TCP socket listens through its first subflow, which keeps the
// backlog (the member is absent before 6.6: there the backlog reads 0).
struct mptcp_sock___listen {
	struct sock *first;
} __attribute__((preserve_access_index));

// listened reports that the socket open as f (NULL: nothing to report) now
// listens.
static __always_inline void listened(struct file *f)
{
	struct sock *sk = file_sock(f);
	struct listen_event *e;
	__u16 proto;

	if (!sk)
		return;
	proto = sk->sk_protocol;
	if (proto != IPPROTO_TCP && proto != IPPROTO_SCTP && proto != IPPROTO_MPTCP)
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(COUNTER_DROPS);
		return;
	}
	fill_hdr_current(&e->hdr, EVENT_NET_LISTEN);
	e->family = sk->__sk_common.skc_family;
	e->protocol = proto;
	e->port = sk->__sk_common.skc_num;
	e->_pad = 0;
	if (proto == IPPROTO_MPTCP) {
		struct sock *first = 0;

		if (bpf_core_field_exists(((struct mptcp_sock___listen *)0)->first))
			first = BPF_CORE_READ((struct mptcp_sock___listen *)sk, first);
		e->backlog = first ? BPF_CORE_READ((struct sock___listen *)first, sk_max_ack_backlog) : 0;
	} else {
		e->backlog = BPF_CORE_READ((struct sock___listen *)sk, sk_max_ack_backlog);
	}
	e->_pad2 = 0;
	__builtin_memset(e->addr, 0, sizeof(e->addr));
	if (e->family == AF_INET6)
		BPF_CORE_READ_INTO(&e->addr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
	else
		map_v4(e->addr, sk->__sk_common.skc_rcv_saddr);
	bpf_ringbuf_submit(e, rb_flags());
}
