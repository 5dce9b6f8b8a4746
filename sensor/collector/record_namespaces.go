package collector

import (
	"encoding/binary"
	"fmt"

	"github.com/vigil-sec/vigil/internal/event"
)

// Namespace records (sensor/bpf/namespaces.h).
const (
	kindNamespace = 32

	nsOpOff     = hdrSize
	nsFlagsOff  = hdrSize + 4
	nsTargetOff = hdrSize + 8
	nsInoOff    = hdrSize + 16
	nsSize      = hdrSize + 24
)

// nsOps names the namespace operations by enum ns_op.
var nsOps = [...]string{1: "setns", "unshare", "clone", "clone3"}

// nsBits are the CLONE_NEW* flags by namespace, in the order NAMESPACES
// lists them (by flag value).
var nsBits = [...]struct {
	bit  uint32
	name string
}{
	{0x00000080, "time"},
	{0x00020000, "mnt"},
	{0x02000000, "cgroup"},
	{0x04000000, "uts"},
	{0x08000000, "ipc"},
	{0x10000000, "user"},
	{0x20000000, "pid"},
	{0x40000000, "net"},
}

// nsNames holds the NAMESPACES string of every combination of nsBits (bit i
// of the index standing for nsBits[i]), so that filling it does not allocate.
var nsNames = func() [1 << len(nsBits)]string {
	var t [1 << len(nsBits)]string
	for i := range t {
		s := ""
		for b, ns := range nsBits {
			if i&(1<<b) != 0 {
				if s != "" {
					s += ","
				}
				s += ns.name
			}
		}
		t[i] = s
	}
	return t
}()

// namespaceNames names the namespaces of a CLONE_NEW* mask, comma-separated;
// other bits are ignored.
func namespaceNames(flags uint32) string {
	i := 0
	for b, ns := range nsBits {
		if flags&ns.bit != 0 {
			i |= 1 << b
		}
	}
	return nsNames[i]
}

func decodeNamespace(raw []byte, r *record) error {
	if len(raw) < nsSize {
		return fmt.Errorf("%w: namespace record has %d bytes, needs %d", errShortRecord, len(raw), nsSize)
	}
	le := binary.LittleEndian
	r.sysOp = le.Uint32(raw[nsOpOff:])
	if r.sysOp < 1 || int(r.sysOp) >= len(nsOps) {
		return fmt.Errorf("%w: namespace operation %d", errBadField, r.sysOp)
	}
	r.sysFlags = le.Uint32(raw[nsFlagsOff:])
	r.target = le.Uint32(raw[nsTargetOff:])
	r.nsIno = le.Uint64(raw[nsInoOff:])
	return nil
}

func (r *record) fillNamespace(ev *event.Event) {
	ev.Type = event.NamespaceChange
	ev.Operation = nsOps[r.sysOp]
	ev.Namespaces = namespaceNames(r.sysFlags)
	ev.TargetPID = r.target
	ev.NamespaceInode = r.nsIno
}
