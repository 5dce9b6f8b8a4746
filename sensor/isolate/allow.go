package isolate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
)

// ResolvConfs are the files Resolvers reads: the system's resolv.conf and, where
// systemd-resolved runs, the upstream servers it forwards to (its stub at
// 127.0.0.53 is loopback, but its own queries go to these).
var ResolvConfs = []string{"/etc/resolv.conf", "/run/systemd/resolve/resolv.conf"}

// Resolvers returns the name servers listed in the given resolv.conf files
// (ResolvConfs when none are given) as /32 or /128 prefixes; missing files are
// skipped.
func Resolvers(files ...string) []netip.Prefix {
	if len(files) == 0 {
		files = ResolvConfs
	}
	var out []netip.Prefix
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) >= 2 && fields[0] == "nameserver" {
				// drop a zone (fe80::1%eth0)
				a, err := netip.ParseAddr(strings.SplitN(fields[1], "%", 2)[0])
				if err == nil {
					p := netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
					if !slices.Contains(out, p) {
						out = append(out, p)
					}
				}
			}
		}
		f.Close()
	}
	return out
}

// Resolve turns allow-list entries into prefixes: an address (10.0.0.5, fd00::1),
// a CIDR prefix (10.0.0.0/24), or a host name, alone, with a port
// (api.example.com:443) or as a URL (https://api.example.com/v1) — names are
// looked up with r (net.DefaultResolver when nil) and every address they have is
// allowed. Entries that cannot be resolved are reported in the error, joined;
// the prefixes of the others are returned all the same.
func Resolve(ctx context.Context, r *net.Resolver, entries []string) ([]netip.Prefix, error) {
	if r == nil {
		r = net.DefaultResolver
	}
	var out []netip.Prefix
	var errs []error
	add := func(p netip.Prefix) {
		p = netip.PrefixFrom(p.Addr().Unmap(), min(p.Bits(), p.Addr().Unmap().BitLen())).Masked()
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if p, err := netip.ParsePrefix(e); err == nil {
			add(p)
			continue
		}
		host := e
		if strings.Contains(e, "://") {
			u, err := url.Parse(e)
			if err != nil || u.Hostname() == "" {
				errs = append(errs, fmt.Errorf("allow %q: not an address, prefix, host name or URL", e))
				continue
			}
			host = u.Hostname()
		} else if h, _, err := net.SplitHostPort(e); err == nil {
			host = h
		}
		if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
			add(netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		addrs, err := r.LookupNetIP(ctx, "ip", host)
		if err != nil {
			errs = append(errs, fmt.Errorf("allow %q: %w", e, err))
			continue
		}
		for _, a := range addrs {
			add(netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out, errors.Join(errs...)
}
