// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// DNS queries the syscall hooks of sendto/sendmsg/sendmmsg do not see: those
// written with write() or writev() on a connected UDP socket (Go's resolver,
// musl), and those sent over TCP (a resolver's fallback, `options use-vc`),
// where each message follows its 2-byte length. Included by sensor.bpf.c.
//
// The hook is the sock_send_length tracepoint, which the kernel passes only for
// data sent on a socket: writes to files, pipes and terminals never reach it,
// so a write() costs nothing unless it goes to a socket. It runs after the
// socket's sendmsg, in the sending thread; the data is read from the buffers the
// syscall was given (its registers), after checking that the syscall's
// descriptor is the socket the tracepoint names.
//
// A TCP query is expected whole in one write (Go), or as its length alone
// followed by the message in the next buffer or write (glibc writes both in one
// writev); a query cut anywhere else is not recognized. Up to DNS_IOV_MAX
// buffers of a writev or sendmsg are looked at.

#define NR_write 1
#define NR_writev 20
#define DNS_IOV_MAX 4

// TCP sockets to port 53, by sock, whose last buffer sent was a message's
// length alone: the next buffer is the message.
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u8);
} dns_len_sent SEC(".maps");

SEC("tp_btf/sock_send_length")
int BPF_PROG(sock_send_length, struct sock *sk, int ret, int flags)
{
	struct pt_regs *regs;
	struct pending_connect *p;
	struct user_msghdr m = {};
	const struct iovec *vec = 0;
	struct iovec iov = {};
	__u64 nr, cnt = 1, left = ret, key = (__u64)sk;
	__u16 proto, family;
	bool len_sent;
	__u8 one = 1;

	// The cheapest test first: almost nothing is sent to port 53.
	if (ret <= 0 || sk->__sk_common.skc_dport != bpf_htons(53))
		return 0;
	family = sk->__sk_common.skc_family;
	proto = sk->sk_protocol;
	if ((family != AF_INET && family != AF_INET6) || (proto != IPPROTO_TCP && proto != IPPROTO_UDP))
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	nr = regs->orig_ax;
	switch (nr) {
	case NR_write:
		iov.iov_base = (void *)regs->si;
		iov.iov_len = regs->dx;
		break;
	case NR_writev:
		vec = (const struct iovec *)regs->si;
		cnt = regs->dx;
		break;
	case NR_sendto: // on UDP: syscall_exited's
		if (proto != IPPROTO_TCP)
			return 0;
		iov.iov_base = (void *)regs->si;
		iov.iov_len = regs->dx;
		break;
	case NR_sendmsg: // on UDP: syscall_exited's
		if (proto != IPPROTO_TCP || bpf_probe_read_user(&m, sizeof(m), (void *)regs->si) != 0)
			return 0;
		vec = m.msg_iov;
		cnt = m.msg_iovlen;
		break;
	default:
		return 0; // sendmmsg (syscall_exited's), sendfile, splice, io_uring
	}
	if (file_sock(fd_file(regs->di)) != sk)
		return 0;
	p = net_tmp();
	if (!p)
		return 0;
	__builtin_memset(&p->ev, 0, sizeof(p->ev));
	fill_hdr_current(&p->ev.hdr, EVENT_DNS);
	p->ev.protocol = proto;
	sock_addrs(&p->ev, sk);

	if (proto == IPPROTO_UDP) {
		// One datagram: the query starts in its first buffer.
		if (vec && bpf_probe_read_user(&iov, sizeof(iov), vec) != 0)
			return 0;
		dns_query(&p->ev, iov.iov_base, iov.iov_len < left ? iov.iov_len : left);
		return 0;
	}
	len_sent = bpf_map_lookup_elem(&dns_len_sent, &key) != 0;
	if (len_sent)
		bpf_map_delete_elem(&dns_len_sent, &key);
	for (int i = 0; i < DNS_IOV_MAX; i++) {
		__u64 n;

		if (i >= cnt || left == 0)
			break;
		if (vec && bpf_probe_read_user(&iov, sizeof(iov), &vec[i]) != 0)
			break;
		n = iov.iov_len < left ? iov.iov_len : left;
		left -= n;
		if (len_sent) {
			len_sent = false;
			dns_query(&p->ev, iov.iov_base, n);
		} else if (n == 2) {
			len_sent = true;
		} else if (n > 2) {
			dns_query(&p->ev, iov.iov_base + 2, n - 2);
		}
	}
	if (len_sent)
		bpf_map_update_elem(&dns_len_sent, &key, &one, BPF_ANY);
	return 0;
}
