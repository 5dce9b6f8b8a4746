package collector

import (
	"encoding/binary"
	"fmt"

	"github.com/vigil-sec/vigil/internal/event"
)

// Socket records (sensor/bpf/sockets.h).
const (
	kindSocketCreate = 50
	kindFDDup        = 51

	socketFamilyOff = hdrSize
	socketTypeOff   = hdrSize + 2
	socketProtoOff  = hdrSize + 4
	socketSize      = hdrSize + 8

	// an FD_DUP record is a network record (its socket's ends), then these
	fdDupOpOff = netSize
	fdDupFDOff = netSize + 4
	fdDupSize  = netSize + 8

	afUnix     = 1
	afPacket   = 17
	protoUDP   = 17
	sockPacket = 10
)

// socketTypes names the socket types (SOCK_*) by number.
var socketTypes = [...]string{1: "SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "SOCK_RDM", "SOCK_SEQPACKET", "SOCK_DCCP", sockPacket: "SOCK_PACKET"}

// dupOps names how a descriptor was duplicated, by enum dup_op.
var dupOps = [...]string{1: "dup", "dup2", "dup3", "fcntl", "fixed_fd_install"}

// socketDomain names the address families a SOCKET_CREATE reports.
func socketDomain(family uint16) string {
	switch family {
	case afPacket:
		return "AF_PACKET"
	case afInet:
		return "AF_INET"
	case afInet6:
		return "AF_INET6"
	}
	return ""
}

func (r *record) decodeSocket(raw []byte) error {
	if len(raw) < socketSize {
		return fmt.Errorf("%w: socket record has %d bytes, needs %d", errShortRecord, len(raw), socketSize)
	}
	le := binary.LittleEndian
	r.family = le.Uint16(raw[socketFamilyOff:])
	r.sockType = le.Uint16(raw[socketTypeOff:])
	r.sockProto = le.Uint32(raw[socketProtoOff:])
	if socketDomain(r.family) == "" {
		return fmt.Errorf("%w: socket family %d", errBadField, r.family)
	}
	if int(r.sockType) >= len(socketTypes) || socketTypes[r.sockType] == "" {
		return fmt.Errorf("%w: socket type %d", errBadField, r.sockType)
	}
	return nil
}

func (r *record) fillSocket(ev *event.Event) {
	ev.Type = event.SocketCreate
	ev.SocketDomain = socketDomain(r.family)
	ev.SocketType = socketTypes[r.sockType]
	ev.SocketProtocol = r.sockProto
}

func (r *record) decodeFDDup(raw []byte) error {
	if len(raw) < fdDupSize {
		return fmt.Errorf("%w: descriptor dup record has %d bytes, needs %d", errShortRecord, len(raw), fdDupSize)
	}
	r.decodeNet(raw)
	le := binary.LittleEndian
	r.sysOp = le.Uint32(raw[fdDupOpOff:])
	r.fd = le.Uint32(raw[fdDupFDOff:])
	if r.sysOp < 1 || int(r.sysOp) >= len(dupOps) {
		return fmt.Errorf("%w: dup operation %d", errBadField, r.sysOp)
	}
	if r.fd > 2 {
		return fmt.Errorf("%w: descriptor %d is no standard stream", errBadField, r.fd)
	}
	switch {
	case r.family == afUnix && r.protocol == 0:
	case (r.family == afInet || r.family == afInet6) && (r.protocol == protoTCP || r.protocol == protoUDP || r.protocol == protoMPTCP):
	default:
		return fmt.Errorf("%w: family %d protocol %d", errBadField, r.family, r.protocol)
	}
	return nil
}

// fillFDDup writes an FD_DUP record into ev: the socket's local end is the
// source, its peer the destination, as in a NETWORK_CONNECT. Multipath TCP
// is reported as tcp, a Unix socket as unix without addresses.
func (r *record) fillFDDup(ev *event.Event) {
	ev.Type = event.FDDup
	ev.Operation = dupOps[r.sysOp]
	ev.FDNumber = r.fd
	switch {
	case r.family == afUnix:
		ev.Protocol = "unix"
		return
	case r.protocol == protoUDP:
		ev.Protocol = "udp"
	default:
		ev.Protocol = "tcp"
	}
	ev.SourceIP, ev.SourcePort = r.addr(r.saddr), r.sport
	ev.DestIP, ev.DestPort = r.addr(r.daddr), r.dport
}
