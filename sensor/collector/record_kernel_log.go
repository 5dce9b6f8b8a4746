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

// syslogActions names syslog(2)'s actions the sensor reports, by number
// (SYSLOG_ACTION_READ_CLEAR is 4).
var syslogActions = map[uint32]string{4: "read_clear", 5: "clear", 6: "console_off", 7: "console_on", 8: "console_level"}

func decodeKernelLog(raw []byte, r *record) error {
	if len(raw) < klogSize {
		return fmt.Errorf("%w: kernel log record has %d bytes, needs %d", errShortRecord, len(raw), klogSize)
	}
	le := binary.LittleEndian
	r.sysOp = le.Uint32(raw[klogActionOff:])
	if _, ok := syslogActions[r.sysOp]; !ok {
		return fmt.Errorf("%w: syslog action %d", errBadField, r.sysOp)
	}
	r.err = int32(le.Uint32(raw[klogErrOff:]))
	return nil
}

func (r *record) fillKernelLog(ev *event.Event) {
	ev.Type = event.KernelLogControl
	ev.Operation = syslogActions[r.sysOp]
	ev.ErrorCode = r.err
}
