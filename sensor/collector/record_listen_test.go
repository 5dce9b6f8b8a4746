package collector

import (
	"encoding/binary"
	"reflect"
	"testing"
	"unsafe"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/sensor/bpf"
)

// TestRecordLayoutListen keeps the listen record's offsets, and the ptrace
// record's error, in step with the C structs.
func TestRecordLayoutListen(t *testing.T) {
	var l bpf.SensorListenEvent
	var p bpf.SensorPtraceEvent
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"listen family", unsafe.Offsetof(l.Family), listenFamilyOff},
		{"listen protocol", unsafe.Offsetof(l.Protocol), listenProtoOff},
		{"listen port", unsafe.Offsetof(l.Port), listenPortOff},
		{"listen backlog", unsafe.Offsetof(l.Backlog), listenBacklogOff},
		{"listen addr", unsafe.Offsetof(l.Addr), listenAddrOff},
		{"listen size", unsafe.Sizeof(l), listenSize},
		{"kind listen", uintptr(bpf.SensorEventKindEVENT_NET_LISTEN), kindListen},
		{"ptrace err", unsafe.Offsetof(p.Err), ptraceErrOff},
	} {
		if c.got != c.want {
			t.Errorf("%s: C layout says %d, decoder uses %d", c.name, c.got, c.want)
		}
	}
}

func listenRec(family, proto, port uint16, backlog uint32, addr []byte) []byte {
	b := make([]byte, listenSize)
	putHdr(b, hdr{kind: kindListen, pid: 7, bootNs: 10})
	le := binary.LittleEndian
	le.PutUint16(b[listenFamilyOff:], family)
	le.PutUint16(b[listenProtoOff:], proto)
	le.PutUint16(b[listenPortOff:], port)
	le.PutUint32(b[listenBacklogOff:], backlog)
	copy(b[listenAddrOff:], addr)
	return b
}

func ptraceErrRec(target uint32, req int64, errno int32) []byte {
	b := ptraceRec(target, req)
	binary.LittleEndian.PutUint32(b[ptraceErrOff:], uint32(errno))
	return b
}

func TestDecodeListenAndPtrace(t *testing.T) {
	tests := []struct {
		name    string
		raw     []byte
		want    event.Event // the fields checked
		wantErr error
	}{
		{"tcp4 loopback", listenRec(afInet, protoTCP, 4444, 7, v4lo),
			event.Event{Type: event.NetworkListen, Protocol: "tcp", DestIP: "127.0.0.1", DestPort: 4444, Backlog: 7}, nil},
		{"tcp4 any address", listenRec(afInet, protoTCP, 80, 4096, nil),
			event.Event{Type: event.NetworkListen, Protocol: "tcp", DestIP: "0.0.0.0", DestPort: 80, Backlog: 4096}, nil},
		{"tcp6 any address", listenRec(afInet6, protoTCP, 22, 128, nil),
			event.Event{Type: event.NetworkListen, Protocol: "tcp", DestIP: "::", DestPort: 22, Backlog: 128}, nil},
		{"tcp6 loopback", listenRec(afInet6, protoTCP, 8080, 1, v6lo),
			event.Event{Type: event.NetworkListen, Protocol: "tcp", DestIP: "::1", DestPort: 8080, Backlog: 1}, nil},
		{"tcp6 v4-mapped", listenRec(afInet6, protoTCP, 8080, 1, v4m),
			event.Event{Type: event.NetworkListen, Protocol: "tcp", DestIP: "::ffff:10.0.0.9", DestPort: 8080, Backlog: 1}, nil},
		{"mptcp as tcp", listenRec(afInet, protoMPTCP, 9000, 5, v4lo),
			event.Event{Type: event.NetworkListen, Protocol: "tcp", DestIP: "127.0.0.1", DestPort: 9000, Backlog: 5}, nil},
		{"sctp", listenRec(afInet, protoSCTP, 3868, 5, v4lo),
			event.Event{Type: event.NetworkListen, Protocol: "sctp", DestIP: "127.0.0.1", DestPort: 3868, Backlog: 5}, nil},
		{"udp", listenRec(afInet, 17, 53, 5, v4lo), event.Event{}, errBadField},
		{"unix family", listenRec(1, protoTCP, 1, 5, nil), event.Event{}, errBadField},
		{"listen cut short", listenRec(afInet, protoTCP, 1, 1, v4lo)[:listenSize-1], event.Event{}, errShortRecord},
		{"traceme", ptraceErrRec(7, 0, 0),
			event.Event{Type: event.Ptrace, TargetPID: 7, PtraceRequest: 0, PtraceRequestName: "PTRACE_TRACEME"}, nil},
		{"traceme refused", ptraceErrRec(7, 0, 1),
			event.Event{Type: event.Ptrace, TargetPID: 7, PtraceRequestName: "PTRACE_TRACEME", ErrorCode: 1}, nil},
		{"peekdata", ptraceRec(99, 2),
			event.Event{Type: event.Ptrace, TargetPID: 99, PtraceRequest: 2, PtraceRequestName: "PTRACE_PEEKDATA"}, nil},
		{"pokeuser, Falco's name", ptraceRec(99, 6),
			event.Event{Type: event.Ptrace, TargetPID: 99, PtraceRequest: 6, PtraceRequestName: "PTRACE_POKEUSR"}, nil},
		{"seize", ptraceRec(99, 0x4206),
			event.Event{Type: event.Ptrace, TargetPID: 99, PtraceRequest: 0x4206, PtraceRequestName: "PTRACE_SEIZE"}, nil},
		{"unnamed request", ptraceRec(99, 0x4242),
			event.Event{Type: event.Ptrace, TargetPID: 99, PtraceRequest: 0x4242, PtraceRequestName: "PTRACE_0x4242"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, ok := decodeAndFill(t, tt.raw, tt.wantErr)
			if !ok {
				return
			}
			got := event.Event{Type: ev.Type, Protocol: ev.Protocol, DestIP: ev.DestIP, DestPort: ev.DestPort,
				Backlog: ev.Backlog, TargetPID: ev.TargetPID, PtraceRequest: ev.PtraceRequest,
				PtraceRequestName: ev.PtraceRequestName, ErrorCode: ev.ErrorCode, SourceIP: ev.SourceIP}
			if !reflect.DeepEqual(got, tt.want) || ev.PID != 7 {
				t.Errorf("event %+v\nwant  %+v", got, tt.want)
			}
		})
	}
}

// TestPtraceRequestNames checks the names against the requests the kernel
// hook reports, as defined in sensor.bpf.c.
func TestPtraceRequestNames(t *testing.T) {
	for req, want := range map[int64]string{
		0: "PTRACE_TRACEME", 1: "PTRACE_PEEKTEXT", 2: "PTRACE_PEEKDATA", 3: "PTRACE_PEEKUSR",
		4: "PTRACE_POKETEXT", 5: "PTRACE_POKEDATA", 6: "PTRACE_POKEUSR", 13: "PTRACE_SETREGS",
		15: "PTRACE_SETFPREGS", 16: "PTRACE_ATTACH", 0x4205: "PTRACE_SETREGSET", 0x4206: "PTRACE_SEIZE",
		0x4207: "PTRACE_INTERRUPT", -1: "PTRACE_0x-1",
	} {
		if got := ptraceRequestName(req); got != want {
			t.Errorf("request %#x: %q, want %q", req, got, want)
		}
	}
}

// FuzzDecodeListen feeds arbitrary bytes after a valid listen header.
func FuzzDecodeListen(f *testing.F) {
	f.Add(listenRec(afInet, protoTCP, 1, 1, v4lo))
	f.Add(listenRec(afInet6, protoSCTP, 1, 1, v6lo))
	f.Add(ptraceErrRec(1, 0, 1))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var r record
		if err := decodeRecord(raw, &r); err != nil {
			return
		}
		var ev event.Event
		r.fill(&ev, 0, nil)
		if !event.KnownType(ev.Type) {
			t.Fatalf("unknown type %q", ev.Type)
		}
		if ev.Type == event.NetworkListen && (ev.DestIP == "" || (ev.Protocol != "tcp" && ev.Protocol != "sctp")) {
			t.Fatalf("listen event %+v", ev)
		}
	})
}

func TestDecodeListenAllocs(t *testing.T) {
	raw := listenRec(afInet, protoTCP, 1, 1, v4lo)
	var r record
	if n := testing.AllocsPerRun(100, func() { _ = decodeRecord(raw, &r) }); n != 0 {
		t.Errorf("%v allocations per decode, want 0", n)
	}
}
