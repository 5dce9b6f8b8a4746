package collector

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/vigil-sec/vigil/internal/event"
)

// Layout of the records written by sensor/bpf/process.bpf.c (little endian). The
// layout test checks these against the bpf2go-generated types.
const (
	hdrSize  = 48
	pathMax  = 512
	argsMax  = 1024
	pathOff  = hdrSize
	argsOff  = pathOff + pathMax
	execSize = argsOff + argsMax
	exitSize = hdrSize

	kindExec = 1
	kindExit = 2
)

// Decoding errors. Wrapped with details by decodeRecord.
var (
	errShortRecord = errors.New("record too short")
	errBadKind     = errors.New("unknown record kind")
	errBadLength   = errors.New("string length out of bounds")
)

// record is one decoded ring buffer sample. path and args alias the sample's bytes
// and are valid only until the next read from the ring buffer.
type record struct {
	kind     uint32
	pid      uint32
	ppid     uint32
	uid      uint32
	gid      uint32
	exitCode int32 // raw wait-status encoding from task->exit_code
	bootNs   uint64
	cgroupID uint64
	path     []byte
	args     []byte // NUL-separated argv, possibly truncated
}

// decodeRecord parses raw into r without allocating on success. Any input that is
// not a well-formed record gives an error.
func decodeRecord(raw []byte, r *record) error {
	if len(raw) < hdrSize {
		return fmt.Errorf("%w: %d bytes, header needs %d", errShortRecord, len(raw), hdrSize)
	}
	le := binary.LittleEndian
	r.kind = le.Uint32(raw[0:])
	r.pid = le.Uint32(raw[4:])
	r.ppid = le.Uint32(raw[8:])
	r.uid = le.Uint32(raw[12:])
	r.gid = le.Uint32(raw[16:])
	r.exitCode = int32(le.Uint32(raw[20:]))
	r.bootNs = le.Uint64(raw[24:])
	r.cgroupID = le.Uint64(raw[32:])
	pathLen := int(le.Uint16(raw[40:]))
	argsLen := int(le.Uint16(raw[42:]))
	r.path, r.args = nil, nil

	switch r.kind {
	case kindExit:
		return nil
	case kindExec:
		if len(raw) < execSize {
			return fmt.Errorf("%w: exec record has %d bytes, needs %d", errShortRecord, len(raw), execSize)
		}
		if pathLen > pathMax || argsLen > argsMax {
			return fmt.Errorf("%w: path %d (max %d), args %d (max %d)", errBadLength, pathLen, pathMax, argsLen, argsMax)
		}
		r.path = raw[pathOff : pathOff+pathLen : pathOff+pathLen]
		r.args = raw[argsOff : argsOff+argsLen : argsOff+argsLen]
		return nil
	default:
		return fmt.Errorf("%w %d", errBadKind, r.kind)
	}
}

// fill writes r into ev (which the caller has reset). bootToWall converts the
// kernel's CLOCK_BOOTTIME nanoseconds to Unix nanoseconds; scratch is reused for
// building the command line and returned, possibly grown.
func (r *record) fill(ev *event.Event, bootToWall int64, scratch []byte) []byte {
	ev.TimeNanos = int64(r.bootNs) + bootToWall
	ev.PID = r.pid
	ev.PPID = r.ppid
	ev.UID = r.uid
	ev.GID = r.gid
	ev.CgroupID = r.cgroupID
	switch r.kind {
	case kindExec:
		ev.Type = event.NewProcess
		ev.FilePath = string(r.path)
		scratch = commandLine(scratch[:0], r.args)
		ev.CommandLine = string(scratch)
	case kindExit:
		ev.Type = event.TerminateProcess
		ev.ExitCode = exitStatus(r.exitCode)
	}
	return scratch
}

// commandLine appends argv (NUL-separated, as in /proc/<pid>/cmdline) to dst with
// the separators turned into spaces and trailing NULs dropped.
func commandLine(dst, argv []byte) []byte {
	for len(argv) > 0 && argv[len(argv)-1] == 0 {
		argv = argv[:len(argv)-1]
	}
	start := len(dst)
	dst = append(dst, argv...)
	for i := start; i < len(dst); i++ {
		if dst[i] == 0 {
			dst[i] = ' '
		}
	}
	return dst
}

// exitStatus converts the kernel's wait-status encoding to the value shells show:
// the exit status (0–255) of a normal exit, or -N for death by signal N.
func exitStatus(raw int32) int32 {
	if sig := raw & 0x7f; sig != 0 {
		return -sig
	}
	return (raw >> 8) & 0xff
}
