package collector

import (
	"encoding/binary"
	"fmt"

	"github.com/vigil-sec/vigil/internal/event"
)

// userfaultfd records (sensor/bpf/userfaultfd.h).
const (
	kindUserfaultfd = 36

	uffdFlagsOff  = hdrSize
	uffdUnprivOff = hdrSize + 4
	uffdSize      = hdrSize + 8
)

// userfaultfdFlags names userfaultfd(2)'s flags: O_CLOEXEC, O_NONBLOCK,
// UFFD_USER_MODE_ONLY.
var userfaultfdFlags = []flagName{{0x1, "user_mode_only"}, {0o4000, "nonblock"}, {0o2000000, "cloexec"}}

func decodeUserfaultfd(raw []byte, r *record) error {
	if len(raw) < uffdSize {
		return fmt.Errorf("%w: userfaultfd record has %d bytes, needs %d", errShortRecord, len(raw), uffdSize)
	}
	le := binary.LittleEndian
	r.sysFlags = le.Uint32(raw[uffdFlagsOff:])
	switch u := le.Uint32(raw[uffdUnprivOff:]); u {
	case 0, 1:
		r.unpriv = u == 1
	default:
		return fmt.Errorf("%w: userfaultfd unprivileged %d", errBadField, u)
	}
	return nil
}

func (r *record) fillUserfaultfd(ev *event.Event) {
	ev.Type = event.Userfaultfd
	ev.Flags = flagNames(r.sysFlags, userfaultfdFlags)
	if r.unpriv {
		ev.Unprivileged = 1
	}
}
