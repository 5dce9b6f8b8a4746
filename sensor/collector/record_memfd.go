package collector

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/vigil-sec/vigil/internal/event"
)

// memfd_create records (sensor/bpf/memfd.h).
const (
	kindMemfd = 35

	memfdFlagsOff = hdrSize
	memfdNameOff  = hdrSize + 8
	memfdNameMax  = 255 // the file's name, "memfd:" included (MEMFD_NAME_MAX - 1)
)

// memfdFlags names memfd_create(2)'s MFD_* flags.
var memfdFlags = []flagName{
	{0x1, "cloexec"}, {0x2, "allow_sealing"}, {0x4, "hugetlb"}, {0x8, "noexec_seal"}, {0x10, "exec"},
}

func decodeMemfd(raw []byte, r *record, pathLen int) error {
	if pathLen > memfdNameMax {
		return fmt.Errorf("%w: memfd name %d (max %d)", errBadLength, pathLen, memfdNameMax)
	}
	if end := memfdNameOff + pathLen; len(raw) < end {
		return fmt.Errorf("%w: memfd record has %d bytes, needs %d", errShortRecord, len(raw), end)
	}
	r.sysFlags = binary.LittleEndian.Uint32(raw[memfdFlagsOff:])
	name := raw[memfdNameOff : memfdNameOff+pathLen : memfdNameOff+pathLen]
	// The file is named "memfd:<name>" (hugetlb ones too).
	r.path = bytes.TrimPrefix(name, []byte("memfd:"))
	return nil
}

func (r *record) fillMemfd(ev *event.Event) {
	ev.Type = event.MemfdCreate
	ev.MemfdName = string(r.path)
	// MFD_HUGE_* (the page size) sit in the top 6 bits: not flags.
	ev.Flags = flagNames(r.sysFlags&^(0x3f<<26), memfdFlags)
}
