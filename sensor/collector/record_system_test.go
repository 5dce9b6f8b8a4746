package collector

import (
	"encoding/binary"
	"reflect"
	"testing"
	"unsafe"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/sensor/bpf"
)

// TestRecordLayoutSystem keeps the offsets of the namespace, mount, BPF load,
// memfd and userfaultfd records in step with the C structs.
func TestRecordLayoutSystem(t *testing.T) {
	var n bpf.SensorNsEvent
	var m bpf.SensorMountEvent
	var b bpf.SensorBpfLoadEvent
	var f bpf.SensorMemfdEvent
	var u bpf.SensorUserfaultfdEvent
	var k bpf.SensorKernelLogEvent
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"ns op", unsafe.Offsetof(n.Op), nsOpOff},
		{"ns flags", unsafe.Offsetof(n.Flags), nsFlagsOff},
		{"ns target", unsafe.Offsetof(n.TargetPid), nsTargetOff},
		{"ns ino", unsafe.Offsetof(n.NsIno), nsInoOff},
		{"ns size", unsafe.Sizeof(n), nsSize},
		{"mount op", unsafe.Offsetof(m.Op), mountOpOff},
		{"mount flags", unsafe.Offsetof(m.Flags), mountFlagsOff},
		{"mount fstype", unsafe.Offsetof(m.Fstype), mountFSTypeOff},
		{"mount fstype max", uintptr(len(m.Fstype)), mountFSTypeMax},
		{"mount data", unsafe.Offsetof(m.Data), mountDataOff},
		{"mount path max", uintptr(len(m.Data) / 2), mountPathMax + 1},
		{"bpf prog type", unsafe.Offsetof(b.ProgType), bpfProgTypeOff},
		{"bpf attach type", unsafe.Offsetof(b.AttachType), bpfAttachOff},
		{"bpf prog id", unsafe.Offsetof(b.ProgId), bpfProgIDOff},
		{"bpf name", unsafe.Offsetof(b.Name), bpfNameOff},
		{"bpf size", unsafe.Sizeof(b), bpfLoadSize},
		{"memfd flags", unsafe.Offsetof(f.Flags), memfdFlagsOff},
		{"memfd name", unsafe.Offsetof(f.Name), memfdNameOff},
		{"memfd name max", uintptr(len(f.Name)), memfdNameMax + 1},
		{"userfaultfd flags", unsafe.Offsetof(u.Flags), uffdFlagsOff},
		{"userfaultfd unprivileged", unsafe.Offsetof(u.Unprivileged), uffdUnprivOff},
		{"userfaultfd size", unsafe.Sizeof(u), uffdSize},
		{"kernel log action", unsafe.Offsetof(k.Action), klogActionOff},
		{"kernel log err", unsafe.Offsetof(k.Err), klogErrOff},
		{"kernel log size", unsafe.Sizeof(k), klogSize},
		{"kind kernel log", uintptr(bpf.SensorKernelLogKindEVENT_KERNEL_LOG_CONTROL), kindKernelLog},
		{"kind namespace", uintptr(bpf.SensorNsKindEVENT_NAMESPACE), kindNamespace},
		{"kind mount", uintptr(bpf.SensorMountKindEVENT_MOUNT), kindMount},
		{"kind bpf load", uintptr(bpf.SensorBpfLoadKindEVENT_BPF_LOAD), kindBPFLoad},
		{"kind memfd", uintptr(bpf.SensorMemfdKindEVENT_MEMFD), kindMemfd},
		{"kind userfaultfd", uintptr(bpf.SensorUserfaultfdKindEVENT_USERFAULTFD), kindUserfaultfd},
		{"ns ops", uintptr(bpf.SensorNsOpNS_CLONE3), uintptr(len(nsOps) - 1)},
		{"mount ops", uintptr(bpf.SensorMountOpMOUNT_UMOUNT), uintptr(len(mountOps) - 1)},
		{"mount op mount", uintptr(bpf.SensorMountOpMOUNT_MOUNT), mountOpMount},
		{"mount op move", uintptr(bpf.SensorMountOpMOUNT_MOVE), mountOpMove},
	} {
		if c.got != c.want {
			t.Errorf("%s: C layout says %d, decoder uses %d", c.name, c.got, c.want)
		}
	}
}

func nsRec(op, flags, target uint32, ino uint64) []byte {
	b := make([]byte, nsSize)
	putHdr(b, hdr{kind: kindNamespace, pid: 7, bootNs: 10})
	le := binary.LittleEndian
	le.PutUint32(b[nsOpOff:], op)
	le.PutUint32(b[nsFlagsOff:], flags)
	le.PutUint32(b[nsTargetOff:], target)
	le.PutUint64(b[nsInoOff:], ino)
	return b
}

func mountRec(op, flags uint32, fstype, target, source string) []byte {
	b := make([]byte, mountDataOff+len(target)+len(source))
	putHdr(b, hdr{kind: kindMount, pid: 7, bootNs: 10, pathLen: uint16(len(target)), argsLen: uint16(len(source))})
	le := binary.LittleEndian
	le.PutUint32(b[mountOpOff:], op)
	le.PutUint32(b[mountFlagsOff:], flags)
	copy(b[mountFSTypeOff:mountDataOff-1], fstype)
	copy(b[mountDataOff:], target)
	copy(b[mountDataOff+len(target):], source)
	return b
}

func bpfRec(typ, id uint32, name string) []byte {
	b := make([]byte, bpfLoadSize)
	putHdr(b, hdr{kind: kindBPFLoad, pid: 7, bootNs: 10})
	le := binary.LittleEndian
	le.PutUint32(b[bpfProgTypeOff:], typ)
	le.PutUint32(b[bpfProgIDOff:], id)
	copy(b[bpfNameOff:bpfLoadSize-1], name)
	return b
}

func memfdRec(flags uint32, name string) []byte {
	b := make([]byte, memfdNameOff+len(name))
	putHdr(b, hdr{kind: kindMemfd, pid: 7, bootNs: 10, pathLen: uint16(len(name))})
	binary.LittleEndian.PutUint32(b[memfdFlagsOff:], flags)
	copy(b[memfdNameOff:], name)
	return b
}

func uffdRec(flags, unpriv uint32) []byte {
	b := make([]byte, uffdSize)
	putHdr(b, hdr{kind: kindUserfaultfd, pid: 7, bootNs: 10})
	binary.LittleEndian.PutUint32(b[uffdFlagsOff:], flags)
	binary.LittleEndian.PutUint32(b[uffdUnprivOff:], unpriv)
	return b
}

func klogRec(action uint32, errno int32) []byte {
	b := make([]byte, klogSize)
	putHdr(b, hdr{kind: kindKernelLog, pid: 7, bootNs: 10})
	binary.LittleEndian.PutUint32(b[klogActionOff:], action)
	binary.LittleEndian.PutUint32(b[klogErrOff:], uint32(errno))
	return b
}

func TestDecodeSystem(t *testing.T) {
	long := string(make([]byte, mountPathMax))
	tests := []struct {
		name    string
		raw     []byte
		want    event.Event // the fields checked; Type always
		wantErr error
	}{
		{"unshare", nsRec(2, 0x04020000, 0, 0), event.Event{Type: event.NamespaceChange, Operation: "unshare", Namespaces: "mnt,uts"}, nil},
		{"clone3 every namespace", nsRec(4, 0x7e020080, 4242, 0),
			event.Event{Type: event.NamespaceChange, Operation: "clone3", Namespaces: "time,mnt,cgroup,uts,ipc,user,pid,net", TargetPID: 4242}, nil},
		{"setns namespace file", nsRec(1, 0x40000000, 0, 4026531840),
			event.Event{Type: event.NamespaceChange, Operation: "setns", Namespaces: "net", NamespaceInode: 4026531840}, nil},
		{"other bits ignored", nsRec(3, 0x20000000|0x11, 9, 0), event.Event{Type: event.NamespaceChange, Operation: "clone", Namespaces: "pid", TargetPID: 9}, nil},
		{"bad namespace op", nsRec(5, 0, 0, 0), event.Event{}, errBadField},
		{"namespace cut short", nsRec(1, 0, 0, 0)[:nsSize-1], event.Event{}, errShortRecord},
		{"mount", mountRec(1, 6|1<<21|1<<30, "tmpfs", "/mnt/x", "none"),
			event.Event{Type: event.Mount, Operation: "mount", MountPath: "/mnt/x", MountSource: "none", FSType: "tmpfs", Flags: "nosuid,nodev,relatime,0x40000000"}, nil},
		{"bind mount", mountRec(1, 4096|16384, "", "/host/../mnt", "/"),
			event.Event{Type: event.Mount, Operation: "mount", MountPath: "/mnt", MountSource: "/", Flags: "bind,rec"}, nil},
		{"move_mount", mountRec(2, 4, "overlay", "/a", "overlay"),
			event.Event{Type: event.Mount, Operation: "move_mount", MountPath: "/a", MountSource: "overlay", FSType: "overlay", Flags: "f_empty_path"}, nil},
		{"umount", mountRec(3, 2|1, "", "/mnt/x", ""), event.Event{Type: event.Unmount, Operation: "umount2", MountPath: "/mnt/x", Flags: "force,detach"}, nil},
		{"mount point cut", mountRec(3, 0, "", long, ""), event.Event{Type: event.Unmount, Operation: "umount2", MountPath: long + "..."}, nil},
		{"umount with a source", mountRec(3, 0, "", "/x", "y"), event.Event{}, errBadLength},
		{"mount without a mount point", mountRec(1, 0, "", "", "y"), event.Event{}, errBadLength},
		{"bad mount op", mountRec(4, 0, "", "/x", ""), event.Event{}, errBadField},
		{"mount cut short", mountRec(1, 0, "", "/mnt/x", "none")[:mountDataOff+3], event.Event{}, errShortRecord},
		{"bpf socket filter", bpfRec(1, 77, "vigil_sf"), event.Event{Type: event.BPFLoad, BPFProgType: "socket_filter", BPFProgName: "vigil_sf", BPFProgID: 77}, nil},
		{"bpf unknown type", bpfRec(200, 1, ""), event.Event{Type: event.BPFLoad, BPFProgType: "prog_type_200", BPFProgID: 1}, nil},
		{"bpf cut short", bpfRec(1, 1, "x")[:bpfLoadSize-1], event.Event{}, errShortRecord},
		{"memfd", memfdRec(3, "memfd:payload"), event.Event{Type: event.MemfdCreate, MemfdName: "payload", Flags: "cloexec,allow_sealing"}, nil},
		{"memfd hugetlb 2MB", memfdRec(4|21<<26, "memfd:h"), event.Event{Type: event.MemfdCreate, MemfdName: "h", Flags: "hugetlb"}, nil},
		{"memfd name too long", memfdRec(0, string(make([]byte, memfdNameMax+1))), event.Event{}, errBadLength},
		{"memfd cut short", memfdRec(0, "memfd:x")[:memfdNameOff+2], event.Event{}, errShortRecord},
		{"userfaultfd unprivileged", uffdRec(0o2000000|1, 1), event.Event{Type: event.Userfaultfd, Flags: "user_mode_only,cloexec", Unprivileged: 1}, nil},
		{"userfaultfd root", uffdRec(0o4000, 0), event.Event{Type: event.Userfaultfd, Flags: "nonblock"}, nil},
		{"userfaultfd bad unprivileged", uffdRec(0, 2), event.Event{}, errBadField},
		{"userfaultfd cut short", uffdRec(0, 0)[:uffdSize-1], event.Event{}, errShortRecord},
		{"syslog clear", klogRec(5, 0), event.Event{Type: event.KernelLogControl, Operation: "clear"}, nil},
		{"syslog read and clear refused", klogRec(4, 22), event.Event{Type: event.KernelLogControl, Operation: "read_clear", ErrorCode: 22}, nil},
		{"syslog console off", klogRec(6, 0), event.Event{Type: event.KernelLogControl, Operation: "console_off"}, nil},
		{"syslog console level", klogRec(8, 0), event.Event{Type: event.KernelLogControl, Operation: "console_level"}, nil},
		{"syslog read is not reported", klogRec(3, 0), event.Event{}, errBadField},
		{"syslog cut short", klogRec(5, 0)[:klogSize-1], event.Event{}, errShortRecord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, ok := decodeAndFill(t, tt.raw, tt.wantErr)
			if !ok {
				return
			}
			got := event.Event{Type: ev.Type, Operation: ev.Operation, Namespaces: ev.Namespaces, TargetPID: ev.TargetPID,
				NamespaceInode: ev.NamespaceInode, MountPath: ev.MountPath, MountSource: ev.MountSource, FSType: ev.FSType,
				Flags: ev.Flags, BPFProgType: ev.BPFProgType, BPFProgName: ev.BPFProgName, BPFProgID: ev.BPFProgID,
				MemfdName: ev.MemfdName, Unprivileged: ev.Unprivileged, ErrorCode: ev.ErrorCode}
			if !reflect.DeepEqual(got, tt.want) || ev.PID != 7 {
				t.Errorf("event\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestDecodeSystemAllocs: these records decode without allocating.
func TestDecodeSystemAllocs(t *testing.T) {
	for _, raw := range [][]byte{
		nsRec(2, 0x20000, 0, 0), mountRec(1, 0, "tmpfs", "/mnt", "none"), bpfRec(1, 1, "x"),
		memfdRec(1, "memfd:x"), uffdRec(1, 1), klogRec(5, 0),
	} {
		var r record
		if n := testing.AllocsPerRun(100, func() { _ = decodeRecord(raw, &r) }); n != 0 {
			t.Errorf("kind %d: %v allocations per decode, want 0", binary.LittleEndian.Uint32(raw), n)
		}
	}
}

func TestNamespaceNames(t *testing.T) {
	for _, tt := range []struct {
		flags uint32
		want  string
	}{{0, ""}, {0x20000, "mnt"}, {0x60000000, "pid,net"}, {0x10000000 | 0x80, "time,user"}, {0xff, "time"}} {
		if got := namespaceNames(tt.flags); got != tt.want {
			t.Errorf("namespaceNames(%#x) = %q, want %q", tt.flags, got, tt.want)
		}
	}
}

func fuzzSystem(f *testing.F, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var r record
		if err := decodeRecord(raw, &r); err != nil {
			return
		}
		if len(r.path) > len(raw) || len(r.args) > len(raw) || len(r.fsType) > len(raw) {
			t.Fatalf("slices longer than the record")
		}
		var ev event.Event
		r.fill(&ev, 0, nil)
		if !event.KnownType(ev.Type) {
			t.Fatalf("unknown type %q", ev.Type)
		}
	})
}

func FuzzDecodeNamespace(f *testing.F) {
	fuzzSystem(f, nsRec(1, 0x20000, 0, 5), nsRec(4, 0x80, 3, 0))
}

func FuzzDecodeMount(f *testing.F) {
	fuzzSystem(f, mountRec(1, 6, "tmpfs", "/mnt", "none"), mountRec(3, 2, "", "/mnt", ""), mountRec(2, 4, "ext4", "/a", "/dev/sda"))
}

func FuzzDecodeBPFLoad(f *testing.F) {
	fuzzSystem(f, bpfRec(1, 1, "vigil"), bpfRec(99, 2, "0123456789abcdef"))
}

func FuzzDecodeMemfd(f *testing.F) {
	fuzzSystem(f, memfdRec(3, "memfd:x"), memfdRec(0, ""))
}

func FuzzDecodeUserfaultfd(f *testing.F) {
	fuzzSystem(f, uffdRec(1, 1), uffdRec(0, 0))
}

func FuzzDecodeKernelLog(f *testing.F) {
	fuzzSystem(f, klogRec(5, 0), klogRec(4, 22), klogRec(3, 0))
}
