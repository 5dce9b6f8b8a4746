package hoststats

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// TxCounters reads the bytes each counted network interface has transmitted
// so far, by interface name.
type TxCounters func() (map[string]uint64, error)

// NetDev returns the TxCounters of the host's physical network interfaces, from
// procNetDev (normally /proc/net/dev) and sysClassNet (/sys/class/net).
//
// An interface counts unless sysfs places it under devices/virtual: loopback,
// bridges, veth pairs, tunnels, bonds and VLANs are left out, so a byte
// forwarded from a container, or sent over a bond and its NIC, counts once, when
// a NIC sends it. Without sysfs every interface but lo counts.
func NetDev(procNetDev, sysClassNet string) TxCounters {
	return func() (map[string]uint64, error) {
		data, err := os.ReadFile(procNetDev)
		if err != nil {
			return nil, fmt.Errorf("interface counters: %w", err)
		}
		all, err := parseNetDev(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", procNetDev, err)
		}
		for name := range all {
			if virtual(sysClassNet, name) {
				delete(all, name)
			}
		}
		return all, nil
	}
}

// virtual reports whether sysfs places interface name among the virtual
// devices (or, without sysfs, whether it is lo).
func virtual(sysClassNet, name string) bool {
	target, err := os.Readlink(filepath.Join(sysClassNet, name))
	if err != nil {
		return name == "lo"
	}
	return strings.Contains(filepath.ToSlash(target), "/devices/virtual/")
}

// parseNetDev reads the transmitted bytes of every interface from the text of
// /proc/net/dev: two header lines, then "name: " and 16 counters, receive then
// transmit, the ninth being the bytes transmitted.
func parseNetDev(data []byte) (map[string]uint64, error) {
	out := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		if line <= 2 {
			continue
		}
		text := sc.Text()
		if strings.TrimSpace(text) == "" {
			continue
		}
		name, counters, ok := strings.Cut(text, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("line %d: no interface name: %q", line, text)
		}
		f := strings.Fields(counters)
		if len(f) < 16 {
			return nil, fmt.Errorf("line %d (%s): %d counters, want 16", line, name, len(f))
		}
		tx, err := strconv.ParseUint(f[8], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d (%s): transmitted bytes: %w", line, name, err)
		}
		out[name] = tx
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if line < 2 {
		return nil, fmt.Errorf("%d lines, want the 2 header lines at least", line)
	}
	return out, nil
}

// txDelta is the bytes sent between two readings of the counters: per
// interface, what its counter rose by, or all it holds for an interface that
// appeared or whose counter restarted (it was re-created).
func txDelta(prev, cur map[string]uint64) uint64 {
	var sum uint64
	for name, n := range cur {
		if p, ok := prev[name]; ok && n >= p {
			sum += n - p
		} else {
			sum += n
		}
	}
	return sum
}
