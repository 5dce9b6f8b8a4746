//go:build ignore

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// Network isolation of a host (or, in tests, of one cgroup) for the Vigil sensor.
//
// Attached to a cgroup v2 directory (the root in production), these programs let
// the processes in it talk only to loopback and to the addresses in the allow
// lists (the Vigil backend endpoints, the DNS resolvers, the instance metadata
// service); everything else is refused:
//
//   cgroup/connect4, connect6    connect(2) to a refused address fails (EPERM)
//   cgroup/sendmsg4, sendmsg6    an unconnected UDP send to one fails (EPERM)
//   cgroup_skb/egress            packets to a refused address are dropped, which
//                                also cuts connections opened before isolation
//   cgroup_skb/ingress           packets from a refused address are dropped
//
// Always allowed: loopback (127.0.0.0/8, ::1, the lo device), IPv6 neighbour
// discovery, and DHCP (UDP to ports 67/547, from 67/547 to 68/546) so leases
// keep being renewed while a host is isolated.
//
// The allow lists are LPM tries keyed by prefix, filled from user space before
// the programs are attached and updated in place when the endpoints are
// re-resolved. Counters of what was refused are kept in `stats`.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char __license[] SEC("license") = "Dual BSD/GPL";

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_UDP_ 17
#define IPPROTO_ICMPV6_ 58

struct v4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct v6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

enum stat {
	STAT_CONNECT_REFUSED = 0,
	STAT_SENDMSG_REFUSED = 1,
	STAT_EGRESS_DROPPED = 2,
	STAT_INGRESS_DROPPED = 3,
	STAT_MAX = 4,
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct v4_key);
	__type(value, __u8);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} allow4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct v6_key);
	__type(value, __u8);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} allow6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, STAT_MAX);
} stats SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &which);
	if (v)
		*v += 1;
}

// allowed4 takes the address in network byte order.
static __always_inline int allowed4(__u32 addr)
{
	if ((bpf_ntohl(addr) >> 24) == 127)
		return 1;
	struct v4_key k = { .prefixlen = 32 };
	__builtin_memcpy(k.addr, &addr, 4);
	return bpf_map_lookup_elem(&allow4, &k) != 0;
}

static __always_inline int allowed6(__u32 a0, __u32 a1, __u32 a2, __u32 a3)
{
	if (a0 == 0 && a1 == 0 && a2 == 0 && a3 == bpf_htonl(1))
		return 1; // ::1
	if (a0 == 0 && a1 == 0 && a2 == bpf_htonl(0xffff))
		return allowed4(a3); // ::ffff:a.b.c.d
	struct v6_key k = { .prefixlen = 128 };
	__builtin_memcpy(&k.addr[0], &a0, 4);
	__builtin_memcpy(&k.addr[4], &a1, 4);
	__builtin_memcpy(&k.addr[8], &a2, 4);
	__builtin_memcpy(&k.addr[12], &a3, 4);
	return bpf_map_lookup_elem(&allow6, &k) != 0;
}

static __always_inline int dhcp_out(__u16 dport)
{
	return dport == 67 || dport == 547;
}

SEC("cgroup/connect4")
int connect4(struct bpf_sock_addr *ctx)
{
	if (allowed4(ctx->user_ip4))
		return 1;
	count(STAT_CONNECT_REFUSED);
	return 0;
}

SEC("cgroup/connect6")
int connect6(struct bpf_sock_addr *ctx)
{
	if (allowed6(ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3]))
		return 1;
	count(STAT_CONNECT_REFUSED);
	return 0;
}

SEC("cgroup/sendmsg4")
int sendmsg4(struct bpf_sock_addr *ctx)
{
	if (allowed4(ctx->user_ip4) || dhcp_out(bpf_ntohs(ctx->user_port)))
		return 1;
	count(STAT_SENDMSG_REFUSED);
	return 0;
}

SEC("cgroup/sendmsg6")
int sendmsg6(struct bpf_sock_addr *ctx)
{
	if (allowed6(ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3]) ||
	    dhcp_out(bpf_ntohs(ctx->user_port)))
		return 1;
	count(STAT_SENDMSG_REFUSED);
	return 0;
}

// udp_ports loads the source and destination port of a UDP datagram whose
// header starts at off.
static __always_inline int udp_ports(struct __sk_buff *skb, __u32 off, __u16 *sport, __u16 *dport)
{
	__u16 p[2];
	if (bpf_skb_load_bytes(skb, off, p, sizeof(p)) < 0)
		return -1;
	*sport = bpf_ntohs(p[0]);
	*dport = bpf_ntohs(p[1]);
	return 0;
}

// skb_allowed decides on one packet; the skb starts at the network header.
// egress selects the peer address: the destination going out, the source
// coming in.
static __always_inline int skb_allowed(struct __sk_buff *skb, int egress)
{
	__u16 sport = 0, dport = 0;

	if (skb->ifindex == 1)
		return 1; // lo
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		__u8 vihl, proto;
		__u32 peer;
		if (bpf_skb_load_bytes(skb, 0, &vihl, 1) < 0 || bpf_skb_load_bytes(skb, 9, &proto, 1) < 0 ||
		    bpf_skb_load_bytes(skb, egress ? 16 : 12, &peer, 4) < 0)
			return 0;
		if (allowed4(peer))
			return 1;
		if (proto == IPPROTO_UDP_ && udp_ports(skb, (vihl & 0xf) * 4, &sport, &dport) == 0) {
			if (egress ? dport == 67 : (sport == 67 && dport == 68))
				return 1;
		}
		return 0;
	}
	if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		__u8 next;
		__u32 a[4];
		if (bpf_skb_load_bytes(skb, 6, &next, 1) < 0 || bpf_skb_load_bytes(skb, egress ? 24 : 8, a, 16) < 0)
			return 0;
		if (allowed6(a[0], a[1], a[2], a[3]))
			return 1;
		if (next == IPPROTO_ICMPV6_) {
			__u8 type;
			// router/neighbour solicitation and advertisement, redirect
			if (bpf_skb_load_bytes(skb, 40, &type, 1) == 0 && type >= 133 && type <= 137)
				return 1;
		}
		if (next == IPPROTO_UDP_ && udp_ports(skb, 40, &sport, &dport) == 0) {
			if (egress ? dport == 547 : (sport == 547 && dport == 546))
				return 1;
		}
		return 0;
	}
	return 1; // not IP
}

SEC("cgroup_skb/egress")
int egress(struct __sk_buff *skb)
{
	if (skb_allowed(skb, 1))
		return 1;
	count(STAT_EGRESS_DROPPED);
	return 0;
}

SEC("cgroup_skb/ingress")
int ingress(struct __sk_buff *skb)
{
	if (skb_allowed(skb, 0))
		return 1;
	count(STAT_INGRESS_DROPPED);
	return 0;
}
