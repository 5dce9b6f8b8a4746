package collector

import (
	"encoding/binary"
	"fmt"

	"github.com/vigil-sec/vigil/internal/event"
)

// kernel log records (sensor/bpf/kernel_log.h).
const (
	kindKernelLog = 52

	klogActionOff = hdrSize
	klogErrOff    = hdrSize + 4
	klogSize      = hdrSize + 8
)

func decodeKernelLog(raw []byte, r *record) error {
	if len(raw) < klogSize {
		return fmt.Errorf("%w: kernel log record has %d bytes, needs %d", errShortRecord, len(raw), klogSize)
	}
	le := binary.LittleEndian
	r.sysOp = le.Uint32(raw[klogActionOff:])
	if _, ok := event.KernelLogActions[r.sysOp]; !ok {
		return fmt.Errorf("%w: syslog action %d", errBadField, r.sysOp)
	}
	r.err = int32(le.Uint32(raw[klogErrOff:]))
	return nil
}

func (r *record) fillKernelLog(ev *event.Event) {
	ev.Type = event.KernelLogControl
	ev.Operation = event.KernelLogActions[r.sysOp]
	ev.ErrorCode = r.err
}
