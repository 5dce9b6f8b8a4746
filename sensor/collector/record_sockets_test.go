package collector

import (
	"encoding/binary"
	"reflect"
	"testing"
	"unsafe"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/sensor/bpf"
)

// TestRecordLayoutSockets keeps the offsets of the socket and descriptor dup
// records in step with the C structs.
func TestRecordLayoutSockets(t *testing.T) {
	var s bpf.SensorSocketEvent
	var d bpf.SensorFdDupEvent
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"socket family", unsafe.Offsetof(s.Family), socketFamilyOff},
		{"socket type", unsafe.Offsetof(s.Type), socketTypeOff},
		{"socket protocol", unsafe.Offsetof(s.Protocol), socketProtoOff},
		{"socket size", unsafe.Sizeof(s), socketSize},
		{"dup ends", unsafe.Offsetof(d.Net), 0},
		{"dup op", unsafe.Offsetof(d.Op), fdDupOpOff},
		{"dup fd", unsafe.Offsetof(d.Fd), fdDupFDOff},
		{"dup size", unsafe.Sizeof(d), fdDupSize},
		{"kind socket", uintptr(bpf.SensorSocketKindEVENT_SOCKET_CREATE), kindSocketCreate},
		{"kind dup", uintptr(bpf.SensorSocketKindEVENT_FD_DUP), kindFDDup},
		{"dup ops", uintptr(bpf.SensorDupOpDUP_FIXED_FD_INSTALL), uintptr(len(dupOps) - 1)},
	} {
		if c.got != c.want {
			t.Errorf("%s: C layout says %d, decoder uses %d", c.name, c.got, c.want)
		}
	}
}

func socketRec(family, typ uint16, proto uint32) []byte {
	b := make([]byte, socketSize)
	putHdr(b, hdr{kind: kindSocketCreate, pid: 7, bootNs: 10})
	le := binary.LittleEndian
	le.PutUint16(b[socketFamilyOff:], family)
	le.PutUint16(b[socketTypeOff:], typ)
	le.PutUint32(b[socketProtoOff:], proto)
	return b
}

// dupRec is an FD_DUP record: a network record of the socket's ends, then
// the operation and the new descriptor.
func dupRec(op, fd uint32, family, proto, sport, dport uint16, saddr, daddr []byte) []byte {
	b := make([]byte, fdDupSize)
	copy(b, netRec(kindConnect, family, proto, sport, dport, 0, saddr, daddr, nil))
	binary.LittleEndian.PutUint32(b, kindFDDup)
	binary.LittleEndian.PutUint32(b[fdDupOpOff:], op)
	binary.LittleEndian.PutUint32(b[fdDupFDOff:], fd)
	return b
}

func TestDecodeSockets(t *testing.T) {
	tests := []struct {
		name    string
		raw     []byte
		want    event.Event // the fields checked; Type always
		wantErr error
	}{
		{"packet socket", socketRec(afPacket, 3, 768),
			event.Event{Type: event.SocketCreate, SocketDomain: "AF_PACKET", SocketType: "SOCK_RAW", SocketProtocol: 768}, nil},
		{"packet datagram socket", socketRec(afPacket, 2, 8),
			event.Event{Type: event.SocketCreate, SocketDomain: "AF_PACKET", SocketType: "SOCK_DGRAM", SocketProtocol: 8}, nil},
		{"obsolete SOCK_PACKET", socketRec(afPacket, 10, 768),
			event.Event{Type: event.SocketCreate, SocketDomain: "AF_PACKET", SocketType: "SOCK_PACKET", SocketProtocol: 768}, nil},
		{"raw icmp", socketRec(afInet, 3, 1), event.Event{Type: event.SocketCreate, SocketDomain: "AF_INET", SocketType: "SOCK_RAW", SocketProtocol: 1}, nil},
		{"raw icmpv6", socketRec(afInet6, 3, 58), event.Event{Type: event.SocketCreate, SocketDomain: "AF_INET6", SocketType: "SOCK_RAW", SocketProtocol: 58}, nil},
		{"unix family", socketRec(afUnix, 1, 0), event.Event{}, errBadField},
		{"unknown type", socketRec(afPacket, 7, 0), event.Event{}, errBadField},
		{"type out of range", socketRec(afPacket, 11, 0), event.Event{}, errBadField},
		{"socket cut short", socketRec(afPacket, 3, 768)[:socketSize-1], event.Event{}, errShortRecord},
		{"tcp onto stdout", dupRec(2, 1, afInet, protoTCP, 40000, 4444, v4lo, v4lo),
			event.Event{Type: event.FDDup, Operation: "dup2", FDNumber: 1, Protocol: "tcp",
				SourceIP: "127.0.0.1", SourcePort: 40000, DestIP: "127.0.0.1", DestPort: 4444}, nil},
		{"udp6 onto stdin by fcntl", dupRec(4, 0, afInet6, protoUDP, 5000, 53, v6lo, v4m),
			event.Event{Type: event.FDDup, Operation: "fcntl", Protocol: "udp",
				SourceIP: "::1", SourcePort: 5000, DestIP: "10.0.0.9", DestPort: 53}, nil},
		{"mptcp as tcp", dupRec(3, 2, afInet, protoMPTCP, 1, 2, v4lo, v4lo),
			event.Event{Type: event.FDDup, Operation: "dup3", FDNumber: 2, Protocol: "tcp",
				SourceIP: "127.0.0.1", SourcePort: 1, DestIP: "127.0.0.1", DestPort: 2}, nil},
		{"unix", dupRec(1, 0, afUnix, 0, 0, 0, nil, nil), event.Event{Type: event.FDDup, Operation: "dup", Protocol: "unix"}, nil},
		{"io_uring install", dupRec(5, 2, afInet, protoTCP, 0, 0, nil, nil),
			event.Event{Type: event.FDDup, Operation: "fixed_fd_install", FDNumber: 2, Protocol: "tcp"}, nil},
		{"descriptor 3", dupRec(2, 3, afInet, protoTCP, 1, 2, v4lo, v4lo), event.Event{}, errBadField},
		{"bad dup op", dupRec(6, 0, afInet, protoTCP, 1, 2, v4lo, v4lo), event.Event{}, errBadField},
		{"zero dup op", dupRec(0, 0, afInet, protoTCP, 1, 2, v4lo, v4lo), event.Event{}, errBadField},
		{"unix with a protocol", dupRec(1, 0, afUnix, protoTCP, 0, 0, nil, nil), event.Event{}, errBadField},
		{"raw protocol", dupRec(1, 0, afInet, 1, 0, 0, nil, nil), event.Event{}, errBadField},
		{"packet family", dupRec(1, 0, afPacket, 0, 0, 0, nil, nil), event.Event{}, errBadField},
		{"dup cut short", dupRec(2, 1, afInet, protoTCP, 1, 2, v4lo, v4lo)[:fdDupSize-1], event.Event{}, errShortRecord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, ok := decodeAndFill(t, tt.raw, tt.wantErr)
			if !ok {
				return
			}
			got := event.Event{Type: ev.Type, SocketDomain: ev.SocketDomain, SocketType: ev.SocketType, SocketProtocol: ev.SocketProtocol,
				Operation: ev.Operation, FDNumber: ev.FDNumber, Protocol: ev.Protocol, SourceIP: ev.SourceIP, SourcePort: ev.SourcePort,
				DestIP: ev.DestIP, DestPort: ev.DestPort}
			if !reflect.DeepEqual(got, tt.want) || ev.PID != 7 {
				t.Errorf("event\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestDecodeSocketsAllocs: these records decode without allocating.
func TestDecodeSocketsAllocs(t *testing.T) {
	for _, raw := range [][]byte{socketRec(afPacket, 3, 768), dupRec(2, 1, afInet, protoTCP, 1, 2, v4lo, v4lo)} {
		var r record
		if n := testing.AllocsPerRun(100, func() { _ = decodeRecord(raw, &r) }); n != 0 {
			t.Errorf("kind %d: %v allocations per decode, want 0", binary.LittleEndian.Uint32(raw), n)
		}
	}
}

func FuzzDecodeSocket(f *testing.F) {
	fuzzSystem(f, socketRec(afPacket, 3, 768), socketRec(afInet6, 3, 58))
}

// FuzzDecodeFDDup also checks what a decoded FD_DUP holds: a standard
// stream and a protocol it names.
func FuzzDecodeFDDup(f *testing.F) {
	for _, s := range [][]byte{dupRec(2, 1, afInet, protoTCP, 1, 2, v4lo, v4lo), dupRec(1, 0, afUnix, 0, 0, 0, nil, nil),
		dupRec(4, 2, afInet6, protoUDP, 1, 2, v6lo, v4m)} {
		f.Add(s)
	}
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
		if ev.Type != event.FDDup {
			return
		}
		if ev.FDNumber > 2 || ev.Operation == "" || (ev.Protocol != "tcp" && ev.Protocol != "udp" && ev.Protocol != "unix") ||
			(ev.Protocol == "unix" && (ev.SourceIP != "" || ev.DestIP != "" || ev.SourcePort != 0 || ev.DestPort != 0)) {
			t.Fatalf("FD_DUP %+v", ev)
		}
	})
}
