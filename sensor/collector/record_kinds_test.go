package collector

import (
	"encoding/binary"
	"testing"
	"unsafe"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/sensor/bpf"
)

// TestRecordLayoutKinds keeps the offsets of the file, network, DNS, module,
// privilege and ptrace records in step with the C structs.
func TestRecordLayoutKinds(t *testing.T) {
	var f bpf.SensorFileEvent
	var n bpf.SensorNetEvent
	var d bpf.SensorDnsEvent
	var m bpf.SensorModuleEvent
	var p bpf.SensorPrivEvent
	var x bpf.SensorPtraceEvent
	var h bpf.SensorEventHdr
	checks := []struct {
		name      string
		got, want uintptr
	}{
		{"euid", unsafe.Offsetof(h.Euid), 44},
		{"file flags", unsafe.Offsetof(f.Flags), fileFlagsOff},
		{"file fmode", unsafe.Offsetof(f.Fmode), fileModeOff},
		{"file path", unsafe.Offsetof(f.Path), filePathOff},
		{"file path max", uintptr(len(f.Path) / 2), filePathMax + 1},
		{"net family", unsafe.Offsetof(n.Family), netFamilyOff},
		{"net protocol", unsafe.Offsetof(n.Protocol), netProtoOff},
		{"net sport", unsafe.Offsetof(n.Sport), netSportOff},
		{"net dport", unsafe.Offsetof(n.Dport), netDportOff},
		{"net err", unsafe.Offsetof(n.Err), netErrOff},
		{"net saddr", unsafe.Offsetof(n.Saddr), netSaddrOff},
		{"net daddr", unsafe.Offsetof(n.Daddr), netDaddrOff},
		{"net size", unsafe.Sizeof(n), netSize},
		{"dns query", unsafe.Offsetof(d.Query), dnsQueryOff},
		{"dns size", unsafe.Sizeof(d), dnsSize},
		{"module name", unsafe.Offsetof(m.Name), moduleNameOff},
		{"module size", unsafe.Sizeof(m), moduleSize},
		{"priv op", unsafe.Offsetof(p.Op), privOpOff},
		{"priv uid", unsafe.Offsetof(p.NewUid), privUIDOff},
		{"priv euid", unsafe.Offsetof(p.NewEuid), privEUIDOff},
		{"priv gid", unsafe.Offsetof(p.NewGid), privGIDOff},
		{"priv egid", unsafe.Offsetof(p.NewEgid), privEGIDOff},
		{"priv old caps", unsafe.Offsetof(p.OldCaps), privOldCapsOff},
		{"priv new caps", unsafe.Offsetof(p.NewCaps), privNewCapsOff},
		{"priv size", unsafe.Sizeof(p), privSize},
		{"ptrace target", unsafe.Offsetof(x.TargetPid), ptraceTargetOff},
		{"ptrace request", unsafe.Offsetof(x.Request), ptraceRequestOff},
		{"ptrace size", unsafe.Sizeof(x), ptraceSize},
		{"kind file open", uintptr(bpf.SensorEventKindEVENT_FILE_OPEN), kindFileOpen},
		{"kind file delete", uintptr(bpf.SensorEventKindEVENT_FILE_DELETE), kindFileDelete},
		{"kind file rename", uintptr(bpf.SensorEventKindEVENT_FILE_RENAME), kindFileRename},
		{"kind file chmod", uintptr(bpf.SensorEventKindEVENT_FILE_CHMOD), kindFileChmod},
		{"kind connect", uintptr(bpf.SensorEventKindEVENT_NET_CONNECT), kindConnect},
		{"kind accept", uintptr(bpf.SensorEventKindEVENT_NET_ACCEPT), kindAccept},
		{"kind dns", uintptr(bpf.SensorEventKindEVENT_DNS), kindDNS},
		{"kind module", uintptr(bpf.SensorEventKindEVENT_MODULE), kindModule},
		{"kind priv", uintptr(bpf.SensorEventKindEVENT_PRIV), kindPriv},
		{"kind ptrace", uintptr(bpf.SensorEventKindEVENT_PTRACE), kindPtrace},
		{"priv ops", uintptr(bpf.SensorPrivOpPRIV_CAPSET), uintptr(len(privOps) - 1)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: C layout says %d, decoder uses %d", c.name, c.got, c.want)
		}
	}
}

func fileRec(kind uint32, flags, fmode uint32, path, path2 string) []byte {
	b := make([]byte, filePathOff+len(path)+len(path2))
	putHdr(b, hdr{kind: kind, pid: 7, ppid: 1, uid: 1000, bootNs: 10, pathLen: uint16(len(path)), argsLen: uint16(len(path2))})
	binary.LittleEndian.PutUint32(b[44:], 0) // euid
	binary.LittleEndian.PutUint32(b[fileFlagsOff:], flags)
	binary.LittleEndian.PutUint32(b[fileModeOff:], fmode)
	copy(b[filePathOff:], path)
	copy(b[filePathOff+len(path):], path2)
	return b
}

func netRec(kind uint32, family, proto, sport, dport uint16, errno int32, saddr, daddr []byte, query []byte) []byte {
	size := netSize
	if kind == kindDNS {
		size = dnsSize
	}
	b := make([]byte, size)
	putHdr(b, hdr{kind: kind, pid: 7, bootNs: 10, argsLen: uint16(len(query))})
	le := binary.LittleEndian
	le.PutUint16(b[netFamilyOff:], family)
	le.PutUint16(b[netProtoOff:], proto)
	le.PutUint16(b[netSportOff:], sport)
	le.PutUint16(b[netDportOff:], dport)
	le.PutUint32(b[netErrOff:], uint32(errno))
	copy(b[netSaddrOff:], saddr)
	copy(b[netDaddrOff:], daddr)
	copy(b[dnsQueryOff:], query)
	return b
}

func privRec(op, uid, euid, gid, egid uint32) []byte {
	b := make([]byte, privSize)
	putHdr(b, hdr{kind: kindPriv, pid: 7, bootNs: 10})
	le := binary.LittleEndian
	le.PutUint32(b[privOpOff:], op)
	le.PutUint32(b[privUIDOff:], uid)
	le.PutUint32(b[privEUIDOff:], euid)
	le.PutUint32(b[privGIDOff:], gid)
	le.PutUint32(b[privEGIDOff:], egid)
	return b
}

func ptraceRec(target uint32, req int64) []byte {
	b := make([]byte, ptraceSize)
	putHdr(b, hdr{kind: kindPtrace, pid: 7, bootNs: 10})
	binary.LittleEndian.PutUint32(b[ptraceTargetOff:], target)
	binary.LittleEndian.PutUint64(b[ptraceRequestOff:], uint64(req))
	return b
}

func moduleRec(name string) []byte {
	b := make([]byte, moduleSize)
	putHdr(b, hdr{kind: kindModule, pid: 7, bootNs: 10, pathLen: uint16(len(name))})
	copy(b[moduleNameOff:], name)
	return b
}

var (
	v4lo = []byte{127, 0, 0, 1}
	v6lo = []byte{15: 1}
	v4m  = []byte{10: 0xff, 11: 0xff, 12: 10, 13: 0, 14: 0, 15: 9}
)

func TestDecodeKinds(t *testing.T) {
	q := []byte{0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', 'w', 'w', 2, 'g', 'o', 3, 'd', 'e', 'v', 0, 0, 28, 0, 1}
	tests := []struct {
		name    string
		raw     []byte
		check   func(*event.Event) bool
		wantErr error
	}{
		{"open", fileRec(kindFileOpen, 0o1001, fmodeWrite|fmodeCreated, "/etc/cron.d/x", ""),
			func(e *event.Event) bool {
				return e.Type == event.FileOpen && e.TargetPath == "/etc/cron.d/x" && e.FileFlags == "write,create,truncate"
			}, nil},
		{"open read", fileRec(kindFileOpen, 0, fmodeRead, "/etc/shadow", ""),
			func(e *event.Event) bool { return e.FileFlags == "read" }, nil},
		{"delete", fileRec(kindFileDelete, 0, 0, "/tmp/x", ""),
			func(e *event.Event) bool { return e.Type == event.FileDelete && e.TargetPath == "/tmp/x" }, nil},
		{"rename", fileRec(kindFileRename, 0, 0, "/tmp/a", "/etc/b"),
			func(e *event.Event) bool {
				return e.Type == event.FileRename && e.OldTargetPath == "/tmp/a" && e.TargetPath == "/etc/b"
			}, nil},
		{"chmod setuid", fileRec(kindFileChmod, 0o104755, 0, "/tmp/sh", ""),
			func(e *event.Event) bool { return e.Type == event.FileChmod && e.FileMode == 0o4755 }, nil},
		{"rename without new path", fileRec(kindFileRename, 0, 0, "/tmp/a", ""), nil, errBadLength},
		{"open with the path as passed", fileRec(kindFileOpen, 0, fmodeRead, "/etc/passwd", "../../../etc/passwd"),
			func(e *event.Event) bool {
				return e.Type == event.FileOpen && e.TargetPath == "/etc/passwd" && e.RawPath == "../../../etc/passwd"
			}, nil},
		{"open without it", fileRec(kindFileOpen, 0, fmodeRead, "/etc/passwd", ""),
			func(e *event.Event) bool { return e.RawPath == "" }, nil},
		{"open with a passed path too long", fileRec(kindFileOpen, 0, 0, "/tmp/a", string(make([]byte, filePathMax+1))), nil, errBadLength},
		{"delete with two paths", fileRec(kindFileDelete, 0, 0, "/tmp/a", "/b"), nil, errBadLength},
		{"file without path", fileRec(kindFileOpen, 0, 0, "", ""), nil, errBadLength},
		{"file cut short", fileRec(kindFileOpen, 0, 0, "/etc/x", "")[:filePathOff+3], nil, errShortRecord},
		{"tcp4 connect refused", netRec(kindConnect, afInet, 6, 40000, 22, 111, v4lo, v4lo, nil),
			func(e *event.Event) bool {
				return e.Type == event.NetworkConnect && e.Protocol == "tcp" && e.SourceIP == "127.0.0.1" &&
					e.SourcePort == 40000 && e.DestIP == "127.0.0.1" && e.DestPort == 22 && e.ErrorCode == 111
			}, nil},
		{"tcp6 accept", netRec(kindAccept, afInet6, 6, 8080, 50000, 0, v6lo, v6lo, nil),
			func(e *event.Event) bool {
				return e.Type == event.NetworkAccept && e.SourceIP == "::1" && e.SourcePort == 50000 && e.DestPort == 8080
			}, nil},
		{"v4-mapped shown as IPv4, unbound source empty", netRec(kindConnect, afInet6, 17, 0, 53, 0, nil, v4m, nil),
			func(e *event.Event) bool { return e.Protocol == "udp" && e.DestIP == "10.0.0.9" && e.SourceIP == "" }, nil},
		{"dns", netRec(kindDNS, afInet, 17, 5353, 53, 0, v4lo, v4lo, q),
			func(e *event.Event) bool {
				return e.Type == event.DNSRequest && e.DomainName == "www.go.dev" && e.DNSType == "AAAA" && e.DestPort == 53
			}, nil},
		{"dns response", netRec(kindDNS, afInet, 17, 5353, 53, 0, v4lo, v4lo, append([]byte{0, 0, 0x80}, q[3:]...)), nil, errNotDNS},
		{"bad family", netRec(kindConnect, 1, 6, 0, 0, 0, nil, nil, nil), nil, errBadField},
		{"bad protocol", netRec(kindConnect, afInet, 1, 0, 0, 0, nil, nil, nil), nil, errBadField},
		{"net cut short", netRec(kindConnect, afInet, 6, 0, 0, 0, nil, nil, nil)[:netSize-1], nil, errShortRecord},
		{"module", moduleRec("nf_tables"), func(e *event.Event) bool { return e.Type == event.ModuleLoad && e.ModuleName == "nf_tables" }, nil},
		{"setresuid to root", privRec(3, 0, 0, 100, 100),
			func(e *event.Event) bool {
				return e.Type == event.PrivilegeChange && e.Operation == "setresuid" && e.NewUID == 0 && e.NewGID == 100
			}, nil},
		{"capset", privRec(9, 1000, 1000, 1000, 1000), func(e *event.Event) bool { return e.Operation == "capset" }, nil},
		{"bad privilege op", privRec(10, 0, 0, 0, 0), nil, errBadField},
		{"zero privilege op", privRec(0, 0, 0, 0, 0), nil, errBadField},
		{"ptrace", ptraceRec(4242, 16),
			func(e *event.Event) bool {
				return e.Type == event.Ptrace && e.TargetPID == 4242 && e.PtraceRequest == 16
			}, nil},
		{"ptrace cut short", ptraceRec(1, 16)[:ptraceSize-1], nil, errShortRecord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, ok := decodeAndFill(t, tt.raw, tt.wantErr)
			if !ok {
				return
			}
			if !tt.check(&ev) || ev.PID != 7 {
				t.Errorf("event %+v", ev)
			}
		})
	}
}

func TestParseDNSQuery(t *testing.T) {
	q := func(labels ...string) []byte {
		b := []byte{0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}
		for _, l := range labels {
			b = append(b, byte(len(l)))
			b = append(b, l...)
		}
		return append(b, 0, 0, 1, 0, 1)
	}
	long := make([]string, 0, 5)
	for range 5 {
		long = append(long, string(make([]byte, 60)))
	}
	for _, tt := range []struct {
		name string
		msg  []byte
		want string
		ok   bool
	}{
		{"plain", q("example", "com"), "example.com", true},
		{"root", q(), "", true},
		{"short header", q("a")[:11], "", false},
		{"no question", append([]byte{0, 1, 1, 0, 0, 0}, q("a")[6:]...), "", false},
		{"opcode update", append([]byte{0, 1, 0x28, 0}, q("a")[4:]...), "", false},
		{"compression pointer", append(q()[:12], 0xc0, 12, 0, 1, 0, 1), "", false},
		{"label past end", q("example")[:15], "", false},
		{"no type", q("a")[:15], "", false},
		{"too long", q(long...), "", false},
	} {
		name, _, err := parseDNSQuery(tt.msg, nil)
		if (err == nil) != tt.ok || (tt.ok && string(name) != tt.want) {
			t.Errorf("%s: %q, %v", tt.name, name, err)
		}
	}
}

func FuzzParseDNSQuery(f *testing.F) {
	f.Add([]byte{0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, msg []byte) {
		var buf [256]byte
		name, _, err := parseDNSQuery(msg, buf[:0])
		if err == nil && len(name) > 253 {
			t.Fatalf("name of %d bytes", len(name))
		}
	})
}

// FuzzDecodeKinds feeds arbitrary bytes after a valid header of each kind.
func FuzzDecodeKinds(f *testing.F) {
	for _, seed := range [][]byte{
		fileRec(kindFileRename, 0, 0, "/a", "/b"),
		fileRec(kindFileOpen, 0, fmodeRead, "/etc/passwd", "/var/www/../../etc/passwd"),
		netRec(kindDNS, afInet, 17, 1, 53, 0, v4lo, v4lo, []byte{0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1}),
		netRec(kindAccept, afInet6, 6, 1, 2, 0, v6lo, v4m, nil),
		moduleRec("x"), privRec(1, 0, 0, 0, 0), ptraceRec(1, 16),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var r record
		if err := decodeRecord(raw, &r); err != nil {
			return
		}
		if len(r.path) > len(raw) || len(r.args) > len(raw) {
			t.Fatalf("slices longer than the record")
		}
		var ev event.Event
		r.fill(&ev, 0, nil)
		if !event.KnownType(ev.Type) {
			t.Fatalf("unknown type %q", ev.Type)
		}
		if ev.RawPath != "" && (ev.Type != event.FileOpen || len(ev.RawPath) > filePathMax) {
			t.Fatalf("%s with a passed path of %d bytes", ev.Type, len(ev.RawPath))
		}
	})
}

// TestDecodeKindsAllocs: the fixed part of every kind decodes without allocating.
func TestDecodeKindsAllocs(t *testing.T) {
	q := []byte{0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1}
	for _, raw := range [][]byte{
		fileRec(kindFileOpen, 0, 1, "/etc/passwd", ""), fileRec(kindFileOpen, 0, 1, "/etc/passwd", "../etc/passwd"), netRec(kindConnect, afInet, 6, 1, 2, 0, v4lo, v4lo, nil),
		netRec(kindDNS, afInet, 17, 1, 53, 0, v4lo, v4lo, q), privRec(1, 0, 0, 0, 0), ptraceRec(1, 16), moduleRec("m"),
	} {
		var r record
		if n := testing.AllocsPerRun(100, func() { _ = decodeRecord(raw, &r) }); n != 0 {
			t.Errorf("kind %d: %v allocations per decode, want 0", binary.LittleEndian.Uint32(raw), n)
		}
	}
}

func TestCleanPaths(t *testing.T) {
	pe, err := prefixEntries(Options{FilePrefixes: []string{"/etc/", "/var/spool/cron"}, FileExcludes: []string{"/etc/ld.so.cache"}})
	if err != nil {
		t.Fatal(err)
	}
	c := &Collector{prefixes: pe}
	for _, tt := range []struct {
		target, old string
		want        bool
		wantPath    string
	}{
		{"/etc/passwd", "", true, "/etc/passwd"},
		{"/tmp/../etc/shadow", "", true, "/etc/shadow"},
		{"/etc/../tmp/x", "", false, "/tmp/x"},
		{"/etc//ld.so.cache", "", false, "/etc/ld.so.cache"},
		{"/var/spool/crontabs/./root", "", true, "/var/spool/crontabs/root"},
		{"/tmp/./a", "/etc/../etc/cron.d/x", true, "/tmp/a"},
		// Cut by the kernel (its beginning unknown): kept, whatever it holds.
		{"...lll/.config/x", "", true, "...lll/.config/x"},
		{"...lll//x", "", true, "...lll/x"},
		{"...lll/a/../../../x", "", true, ".../x"},
		{".../a/./b", "", true, ".../a/b"},
		// Cut at its end (an argument longer than a record): kept.
		{"/tmp/./././...", "", true, "/tmp/..."},
		{"/etc/x/../...", "", true, "/etc/..."},
	} {
		ev := event.Event{TargetPath: tt.target, OldTargetPath: tt.old}
		if got := c.cleanPaths(&ev); got != tt.want || ev.TargetPath != tt.wantPath {
			t.Errorf("cleanPaths(%q, %q) = %v, %q; want %v, %q", tt.target, tt.old, got, ev.TargetPath, tt.want, tt.wantPath)
		}
	}
	if _, err := prefixEntries(Options{FilePrefixes: []string{""}}); err == nil {
		t.Error("empty prefix accepted")
	}
	if _, err := prefixEntries(Options{FilePrefixes: []string{string(make([]byte, MaxFilePrefix+1))}}); err == nil {
		t.Error("over-long prefix accepted")
	}
}

// TestRecordKindsDistinct checks that the record kinds the concerns of
// sensor/bpf number in their own enums never share a value: the decoder
// dispatches on the kind alone.
func TestRecordKindsDistinct(t *testing.T) {
	kinds := []struct {
		name string
		kind uint32
	}{
		{"EVENT_EXEC", uint32(bpf.SensorEventKindEVENT_EXEC)},
		{"EVENT_EXIT", uint32(bpf.SensorEventKindEVENT_EXIT)},
		{"EVENT_FILE_OPEN", uint32(bpf.SensorEventKindEVENT_FILE_OPEN)},
		{"EVENT_FILE_DELETE", uint32(bpf.SensorEventKindEVENT_FILE_DELETE)},
		{"EVENT_FILE_RENAME", uint32(bpf.SensorEventKindEVENT_FILE_RENAME)},
		{"EVENT_FILE_CHMOD", uint32(bpf.SensorEventKindEVENT_FILE_CHMOD)},
		{"EVENT_NET_CONNECT", uint32(bpf.SensorEventKindEVENT_NET_CONNECT)},
		{"EVENT_NET_ACCEPT", uint32(bpf.SensorEventKindEVENT_NET_ACCEPT)},
		{"EVENT_NET_LISTEN", uint32(bpf.SensorEventKindEVENT_NET_LISTEN)},
		{"EVENT_DNS", uint32(bpf.SensorEventKindEVENT_DNS)},
		{"EVENT_MODULE", uint32(bpf.SensorEventKindEVENT_MODULE)},
		{"EVENT_PRIV", uint32(bpf.SensorEventKindEVENT_PRIV)},
		{"EVENT_PTRACE", uint32(bpf.SensorEventKindEVENT_PTRACE)},
		{"EVENT_NAMESPACE", uint32(bpf.SensorNsKindEVENT_NAMESPACE)},
		{"EVENT_MOUNT", uint32(bpf.SensorMountKindEVENT_MOUNT)},
		{"EVENT_BPF_LOAD", uint32(bpf.SensorBpfLoadKindEVENT_BPF_LOAD)},
		{"EVENT_MEMFD", uint32(bpf.SensorMemfdKindEVENT_MEMFD)},
		{"EVENT_USERFAULTFD", uint32(bpf.SensorUserfaultfdKindEVENT_USERFAULTFD)},
		{"EVENT_FILE_LINK", uint32(bpf.SensorFileOpKindEVENT_FILE_LINK)},
		{"EVENT_DIR_CREATE", uint32(bpf.SensorFileOpKindEVENT_DIR_CREATE)},
		{"EVENT_DIR_DELETE", uint32(bpf.SensorFileOpKindEVENT_DIR_DELETE)},
		{"EVENT_FILE_MKNOD", uint32(bpf.SensorFileOpKindEVENT_FILE_MKNOD)},
		{"EVENT_FILE_CHOWN", uint32(bpf.SensorFileOpKindEVENT_FILE_CHOWN)},
		{"EVENT_FILE_TRUNCATE", uint32(bpf.SensorFileOpKindEVENT_FILE_TRUNCATE)},
		{"EVENT_SOCKET_CREATE", uint32(bpf.SensorSocketKindEVENT_SOCKET_CREATE)},
		{"EVENT_FD_DUP", uint32(bpf.SensorSocketKindEVENT_FD_DUP)},
		{"EVENT_KERNEL_LOG_CONTROL", uint32(bpf.SensorKernelLogKindEVENT_KERNEL_LOG_CONTROL)},
	}
	seen := map[uint32]string{}
	for _, k := range kinds {
		if other, ok := seen[k.kind]; ok {
			t.Errorf("%s and %s are both kind %d", other, k.name, k.kind)
		}
		seen[k.kind] = k.name
	}
}
