#!/bin/sh
# isolated-net.sh CMD [ARG...] runs CMD in a fresh network namespace that has
# only loopback, up: nothing CMD starts can send a packet beyond this machine
# (a connect or send to any other address fails at once with ENETUNREACH),
# while loopback and the network namespaces tests make themselves (ip netns,
# veth pairs) work as usual. CMD sees VIGIL_TEST_NET_ISOLATED=1.
#
# It needs root (unshare --net); as another user it runs CMD as is, on the
# host's network, and says so on stderr. `make test` runs the Go tests through
# it, after `go mod download`, so that they need no network.
#
# sysfs stays the host's: /sys/class/net still lists the host's interfaces;
# /proc/net/dev and netlink (ip link, net.Interfaces) show the namespace's.
set -eu

if [ "$#" -eq 0 ]; then
	echo "usage: $0 CMD [ARG...]" >&2
	exit 2
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "isolated-net.sh: not root: running $1 on the host's network, not isolated" >&2
	exec "$@"
fi

for tool in unshare ip; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "isolated-net.sh: $tool is missing: cannot isolate $1 from the network (install util-linux and iproute2)" >&2
		exit 1
	fi
done

exec unshare --net -- sh -c 'ip link set lo up && VIGIL_TEST_NET_ISOLATED=1 exec "$@"' isolated-net.sh "$@"
