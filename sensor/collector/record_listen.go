package collector

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/vigil-sec/vigil/internal/event"
)

// Layout of a listen record (struct listen_event in sensor/bpf/listen.h).
const (
	kindListen = 20

	listenFamilyOff  = hdrSize
	listenProtoOff   = hdrSize + 2
	listenPortOff    = hdrSize + 4
	listenBacklogOff = hdrSize + 8
	listenAddrOff    = hdrSize + 16
	listenSize       = hdrSize + 32

	protoTCP   = 6
	protoSCTP  = 132
	protoMPTCP = 262
)

// decodeListen parses the body of a listen record whose header decodeRecord
// has read.
func (r *record) decodeListen(raw []byte) error {
	if len(raw) < listenSize {
		return fmt.Errorf("%w: listen record has %d bytes, needs %d", errShortRecord, len(raw), listenSize)
	}
	le := binary.LittleEndian
	r.family = le.Uint16(raw[listenFamilyOff:])
	r.protocol = le.Uint16(raw[listenProtoOff:])
	r.sport = le.Uint16(raw[listenPortOff:])
	r.backlog = le.Uint32(raw[listenBacklogOff:])
	copy(r.saddr[:], raw[listenAddrOff:listenAddrOff+16])
	if r.family != afInet && r.family != afInet6 {
		return fmt.Errorf("%w: address family %d", errBadField, r.family)
	}
	if r.protocol != protoTCP && r.protocol != protoSCTP && r.protocol != protoMPTCP {
		return fmt.Errorf("%w: protocol %d", errBadField, r.protocol)
	}
	return nil
}

// fillListen writes a listen record into ev: the address and port listened on
// are the destination of the connections the socket will accept, as in a
// NETWORK_ACCEPT. An unspecified address (every interface) is shown as such
// (0.0.0.0, ::), not left empty. Multipath TCP, which falls back to TCP with
// peers that do not speak it, is reported as tcp.
func (r *record) fillListen(ev *event.Event) {
	ev.Type = event.NetworkListen
	ev.Protocol = "tcp"
	if r.protocol == protoSCTP {
		ev.Protocol = "sctp"
	}
	if r.family == afInet {
		ev.DestIP = netip.AddrFrom4([4]byte(r.saddr[:4])).String()
	} else {
		ev.DestIP = netip.AddrFrom16(r.saddr).String()
	}
	ev.DestPort = r.sport
	ev.Backlog = r.backlog
}
