// Package netnstest builds the small networks tests send packets over, so that
// no test sends one beyond loopback or hosts it made itself: named network
// namespaces (ip netns) joined by veth pairs with private addresses.
//
//   - New makes a namespace with lo up, deleted when the test ends;
//   - Veth joins two namespaces (or a namespace and the test's own) by a veth
//     pair, addresses both ends and brings them up; an end in the test's own
//     namespace is deleted when the test ends;
//   - Namespace.Do runs a function on a locked OS thread inside a namespace,
//     so the sockets it makes live there, and puts the thread back;
//   - Enter moves a re-executed test binary's thread into a namespace;
//   - Subnet30 and Unique give each test process its own addresses and
//     interface names, so tests running at once in one namespace do not meet.
//
// Everything skips, saying why, unless the test runs as root with ip
// (iproute2) on the PATH (Require).
//
// When `make test` runs as root the whole suite runs inside a fresh network
// namespace with only loopback up (scripts/isolated-net.sh, which sets
// VIGIL_TEST_NET_ISOLATED=1): a test that tries to leave the machine fails at
// once with ENETUNREACH. Namespaces the tests make with ip netns work the same
// inside it. The tests of this package prove both.
package netnstest
