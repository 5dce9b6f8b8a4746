//go:build linux

package isolate

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

func (o Options) pinDir() string {
	if o.PinDir != "" {
		return o.PinDir
	}
	return DefaultPinDir
}

func (o Options) cgroup() (string, error) {
	if o.Cgroup != "" {
		return o.Cgroup, nil
	}
	return CgroupRoot()
}

// hook is one program and where it attaches; name is its pin's name.
type hook struct {
	name   string
	attach ebpf.AttachType
	prog   func(*isolatePrograms) *ebpf.Program
}

var hooks = []hook{
	{"link_connect4", ebpf.AttachCGroupInet4Connect, func(p *isolatePrograms) *ebpf.Program { return p.Connect4 }},
	{"link_connect6", ebpf.AttachCGroupInet6Connect, func(p *isolatePrograms) *ebpf.Program { return p.Connect6 }},
	{"link_sendmsg4", ebpf.AttachCGroupUDP4Sendmsg, func(p *isolatePrograms) *ebpf.Program { return p.Sendmsg4 }},
	{"link_sendmsg6", ebpf.AttachCGroupUDP6Sendmsg, func(p *isolatePrograms) *ebpf.Program { return p.Sendmsg6 }},
	{"link_egress", ebpf.AttachCGroupInetEgress, func(p *isolatePrograms) *ebpf.Program { return p.Egress }},
	{"link_ingress", ebpf.AttachCGroupInetIngress, func(p *isolatePrograms) *ebpf.Program { return p.Ingress }},
}

// Pinned map names.
const (
	pinAllow4 = "allow4"
	pinAllow6 = "allow6"
	pinStats  = "stats"
)

// Isolate cuts the cgroup off the network except loopback and allow. If it is
// already isolated (by this or an earlier sensor process) it only replaces the
// allow list. The allow list is in place before the first program attaches, so
// the backend stays reachable throughout. Isolate holds nothing open when it
// returns: the pins keep the programs attached.
func Isolate(o Options, allow []netip.Prefix) (State, error) {
	dir := o.pinDir()
	if err := checkBPFFS(dir); err != nil {
		// mount the conventional bpffs when the pins belong under it
		if !strings.HasPrefix(dir, BPFFSRoot+"/") || MountBPFFS(BPFFSRoot) != nil {
			return State{}, err
		}
		if err := checkBPFFS(dir); err != nil {
			return State{}, err
		}
	}
	n := pinnedLinks(dir)
	if n == len(hooks) {
		if err := Update(o, allow); err != nil {
			return State{}, err
		}
		return Current(o)
	}
	if n > 0 { // a half-done isolation (crash while attaching): start over
		if _, err := Rejoin(o); err != nil {
			return State{}, err
		}
	}
	cg, err := o.cgroup()
	if err != nil {
		return State{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return State{}, fmt.Errorf("isolate: %w", err)
	}
	var objs isolateObjects
	if err := loadIsolateObjects(&objs, nil); err != nil {
		return State{}, fmt.Errorf("isolate: load the eBPF programs: %w", err)
	}
	defer objs.Close()
	if err := fill(objs.Allow4, objs.Allow6, allow); err != nil {
		return State{}, err
	}
	undo := func(err error) (State, error) {
		_, _ = Rejoin(o)
		return State{}, err
	}
	for name, m := range map[string]*ebpf.Map{pinAllow4: objs.Allow4, pinAllow6: objs.Allow6, pinStats: objs.Stats} {
		path := filepath.Join(dir, name)
		_ = os.Remove(path) // a map left from an earlier isolation
		if err := m.Pin(path); err != nil {
			return undo(fmt.Errorf("isolate: pin %s: %w", name, err))
		}
	}
	for _, h := range hooks {
		l, err := link.AttachCgroup(link.CgroupOptions{Path: cg, Attach: h.attach, Program: h.prog(&objs.isolatePrograms)})
		if err != nil {
			return undo(fmt.Errorf("isolate: attach %s to %s: %w", strings.TrimPrefix(h.name, "link_"), cg, err))
		}
		err = l.Pin(filepath.Join(dir, h.name))
		l.Close()
		if err != nil {
			return undo(fmt.Errorf("isolate: pin %s: %w", h.name, err))
		}
	}
	st, err := Current(o)
	st.Cgroup = cg
	return st, err
}

// Update replaces the allow list of an isolated cgroup in place (entries no
// longer wanted are removed after the new ones are added).
func Update(o Options, allow []netip.Prefix) error {
	dir := o.pinDir()
	m4, err := ebpf.LoadPinnedMap(filepath.Join(dir, pinAllow4), nil)
	if err != nil {
		return fmt.Errorf("isolate: update: not isolated (%w)", err)
	}
	defer m4.Close()
	m6, err := ebpf.LoadPinnedMap(filepath.Join(dir, pinAllow6), nil)
	if err != nil {
		return fmt.Errorf("isolate: update: not isolated (%w)", err)
	}
	defer m6.Close()
	return fill(m4, m6, allow)
}

// Rejoin removes the isolation: it detaches the programs and removes the pins.
// It reports whether there was anything to remove.
func Rejoin(o Options) (bool, error) {
	dir := o.pinDir()
	was := false
	var errs []error
	for _, h := range hooks {
		path := filepath.Join(dir, h.name)
		l, err := link.LoadPinnedLink(path, nil)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("rejoin: open %s: %w", h.name, err))
			continue
		}
		was = true
		if err := l.Detach(); err != nil && !errors.Is(err, ebpf.ErrNotSupported) {
			errs = append(errs, fmt.Errorf("rejoin: detach %s: %w", h.name, err))
		}
		if err := l.Unpin(); err != nil {
			errs = append(errs, fmt.Errorf("rejoin: unpin %s: %w", h.name, err))
		}
		l.Close()
	}
	for _, name := range []string{pinAllow4, pinAllow6, pinStats} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("rejoin: %w", err))
		}
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("rejoin: %w", err))
	}
	return was, errors.Join(errs...)
}

// Current reads the isolation's state from the pins.
func Current(o Options) (State, error) {
	dir := o.pinDir()
	st := State{PinDir: dir}
	if pinnedLinks(dir) == 0 {
		return st, nil
	}
	st.Isolated = true
	m4, err := ebpf.LoadPinnedMap(filepath.Join(dir, pinAllow4), nil)
	if err != nil {
		return st, fmt.Errorf("isolate: %w", err)
	}
	defer m4.Close()
	m6, err := ebpf.LoadPinnedMap(filepath.Join(dir, pinAllow6), nil)
	if err != nil {
		return st, fmt.Errorf("isolate: %w", err)
	}
	defer m6.Close()
	if st.Allow, err = entries(m4, m6); err != nil {
		return st, err
	}
	if m, err := ebpf.LoadPinnedMap(filepath.Join(dir, pinStats), nil); err == nil {
		defer m.Close()
		for i, dst := range []*uint64{&st.Stats.ConnectRefused, &st.Stats.SendRefused, &st.Stats.EgressDropped, &st.Stats.IngressDropped} {
			var per []uint64
			if err := m.Lookup(uint32(i), &per); err == nil {
				for _, v := range per {
					*dst += v
				}
			}
		}
	}
	return st, nil
}

func pinnedLinks(dir string) int {
	n := 0
	for _, h := range hooks {
		if _, err := os.Stat(filepath.Join(dir, h.name)); err == nil {
			n++
		}
	}
	return n
}

func key4(p netip.Prefix) isolateV4Key {
	return isolateV4Key{Prefixlen: uint32(p.Bits()), Addr: p.Addr().As4()}
}

func key6(p netip.Prefix) isolateV6Key {
	return isolateV6Key{Prefixlen: uint32(p.Bits()), Addr: p.Addr().As16()}
}

// fill makes the two tries hold exactly allow.
func fill(m4, m6 *ebpf.Map, allow []netip.Prefix) error {
	want4 := map[isolateV4Key]bool{}
	want6 := map[isolateV6Key]bool{}
	for _, p := range allow {
		p = p.Masked()
		switch {
		case !p.IsValid():
			return fmt.Errorf("isolate: invalid allow prefix %v", p)
		case p.Addr().Is4():
			want4[key4(p)] = true
		case p.Addr().Is4In6():
			want4[key4(netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0)))] = true
		default:
			want6[key6(p)] = true
		}
	}
	if len(want4) > MaxEntries || len(want6) > MaxEntries {
		return fmt.Errorf("isolate: %d IPv4 and %d IPv6 allow entries, at most %d each", len(want4), len(want6), MaxEntries)
	}
	one := uint8(1)
	for k := range want4 {
		if err := m4.Update(k, one, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("isolate: allow %v/%d: %w", netip.AddrFrom4(k.Addr), k.Prefixlen, err)
		}
	}
	for k := range want6 {
		if err := m6.Update(k, one, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("isolate: allow %v/%d: %w", netip.AddrFrom16(k.Addr), k.Prefixlen, err)
		}
	}
	var stale4 []isolateV4Key
	var k4 isolateV4Key
	var v uint8
	it := m4.Iterate()
	for it.Next(&k4, &v) {
		if !want4[k4] {
			stale4 = append(stale4, k4)
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("isolate: read allow4: %w", err)
	}
	for _, k := range stale4 {
		if err := m4.Delete(k); err != nil {
			return fmt.Errorf("isolate: remove %v/%d: %w", netip.AddrFrom4(k.Addr), k.Prefixlen, err)
		}
	}
	var stale6 []isolateV6Key
	var k6 isolateV6Key
	it = m6.Iterate()
	for it.Next(&k6, &v) {
		if !want6[k6] {
			stale6 = append(stale6, k6)
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("isolate: read allow6: %w", err)
	}
	for _, k := range stale6 {
		if err := m6.Delete(k); err != nil {
			return fmt.Errorf("isolate: remove %v/%d: %w", netip.AddrFrom16(k.Addr), k.Prefixlen, err)
		}
	}
	return nil
}

func entries(m4, m6 *ebpf.Map) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var k4 isolateV4Key
	var k6 isolateV6Key
	var v uint8
	it := m4.Iterate()
	for it.Next(&k4, &v) {
		out = append(out, netip.PrefixFrom(netip.AddrFrom4(k4.Addr), int(k4.Prefixlen)))
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("isolate: read allow4: %w", err)
	}
	it = m6.Iterate()
	for it.Next(&k6, &v) {
		out = append(out, netip.PrefixFrom(netip.AddrFrom16(k6.Addr), int(k6.Prefixlen)))
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("isolate: read allow6: %w", err)
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	return out, nil
}

// checkBPFFS fails with the fix when dir would not be on a bpffs.
func checkBPFFS(dir string) error {
	p := dir
	for {
		var st unix.Statfs_t
		if err := unix.Statfs(p, &st); err == nil {
			if st.Type != unix.BPF_FS_MAGIC {
				return fmt.Errorf("isolate: %s is not on a bpffs: mount one (mount -t bpf bpf %s)", dir, BPFFSRoot)
			}
			return nil
		}
		parent := filepath.Dir(p)
		if parent == p {
			return fmt.Errorf("isolate: %s: no such directory", dir)
		}
		p = parent
	}
}

// MountBPFFS mounts a bpffs at dir (normally BPFFSRoot) unless one is there.
func MountBPFFS(dir string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err == nil && st.Type == unix.BPF_FS_MAGIC {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("mount bpffs: %w", err)
	}
	if err := unix.Mount("bpf", dir, "bpf", 0, "mode=0700"); err != nil {
		return fmt.Errorf("mount bpffs at %s: %w", dir, err)
	}
	return nil
}

// CgroupRoot returns the root of the cgroup v2 hierarchy: /sys/fs/cgroup on a
// unified system, /sys/fs/cgroup/unified on a hybrid one, else the first cgroup2
// mount in /proc/self/mountinfo.
func CgroupRoot() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("cgroup v2 root: %w", err)
	}
	defer f.Close()
	var found []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 36 35 0:30 / /sys/fs/cgroup rw,... shared:9 - cgroup2 cgroup2 rw
		fields := strings.Fields(sc.Text())
		for i, x := range fields {
			if x == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" && len(fields) > 4 && fields[3] == "/" {
				found = append(found, unescape(fields[4]))
			}
		}
	}
	for _, want := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		if slices.Contains(found, want) {
			return want, nil
		}
	}
	if len(found) > 0 {
		return found[0], nil
	}
	return "", fmt.Errorf("cgroup v2 root: no cgroup2 file system is mounted (mount -t cgroup2 none /sys/fs/cgroup)")
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var c byte
			if _, err := fmt.Sscanf(s[i+1:i+4], "%o", &c); err == nil {
				b.WriteByte(c)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
