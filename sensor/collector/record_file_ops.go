package collector

import (
	"encoding/binary"
	"fmt"

	"github.com/vigil-sec/vigil/internal/event"
)

// The file operations of sensor/bpf/file_ops.h: records laid out as the file
// records (struct file_event), numbered from 40 (enum file_op_kind).
const (
	kindFileLink     = 40
	kindDirCreate    = 41
	kindDirDelete    = 42
	kindFileMknod    = 43
	kindFileChown    = 44
	kindFileTruncate = 45

	// FILE_LINK flags (enum link_type)
	linkHard     = 1
	linkSymbolic = 2

	// mknodAt in a FILE_MKNOD's flags: made by mknodat (MKNOD_AT)
	mknodAt = 0x10000
)

// Node types of a mknod mode (S_IFMT bits).
const (
	sIFMT   = 0o170000
	sIFSOCK = 0o140000
	sIFREG  = 0o100000
	sIFBLK  = 0o060000
	sIFCHR  = 0o020000
	sIFIFO  = 0o010000
)

// isFileOp reports whether kind is one of the file operations of this file.
func isFileOp(kind uint32) bool { return kind >= kindFileLink && kind <= kindFileTruncate }

// decodeFileOp reads the flags and paths of a file operation record into r:
// one path, and for a link a second one (its target).
func (r *record) decodeFileOp(raw []byte, pathLen, argsLen int) error {
	link := r.kind == kindFileLink
	if pathLen == 0 || pathLen > filePathMax || argsLen > filePathMax || (argsLen == 0) == link {
		return fmt.Errorf("%w: file record kind %d with path lengths %d and %d", errBadLength, r.kind, pathLen, argsLen)
	}
	if len(raw) < filePathOff+pathLen+argsLen {
		return fmt.Errorf("%w: file record has %d bytes, needs %d", errShortRecord, len(raw), filePathOff+pathLen+argsLen)
	}
	r.flags = binary.LittleEndian.Uint32(raw[fileFlagsOff:])
	r.fmode = binary.LittleEndian.Uint32(raw[fileModeOff:])
	if link && r.flags != linkHard && r.flags != linkSymbolic {
		return fmt.Errorf("%w: link type %d", errBadField, r.flags)
	}
	end := filePathOff + pathLen
	r.path = raw[filePathOff:end:end]
	r.args = raw[end : end+argsLen : end+argsLen]
	return nil
}

// fillFileOp writes the file operation r into ev.
func (r *record) fillFileOp(ev *event.Event) {
	ev.TargetPath = changedPath(r.path)
	switch r.kind {
	case kindFileLink:
		ev.Type = event.FileLink
		ev.LinkTarget = changedPath(r.args)
		ev.LinkType = "hard"
		if r.flags == linkSymbolic {
			ev.LinkType = "symbolic"
		}
	case kindDirCreate:
		ev.Type = event.DirCreate
		ev.FileMode = r.flags & 0o7777
	case kindDirDelete:
		ev.Type = event.DirDelete
	case kindFileMknod:
		ev.Type = event.FileMknod
		ev.FileMode = r.flags & 0o7777
		ev.FileType = nodeType(r.flags)
		ev.Operation = "mknod"
		if r.flags&mknodAt != 0 {
			ev.Operation = "mknodat"
		}
	case kindFileChown:
		ev.Type = event.FileChown
		ev.OwnerUID = int64(int32(r.flags)) // -1: left as it was
		ev.OwnerGID = int64(int32(r.fmode))
	case kindFileTruncate:
		ev.Type = event.FileTruncate
		ev.FileSize = uint64(r.fmode)<<32 | uint64(r.flags)
	}
}

// nodeType names the type bits of a mknod mode; none (0) makes a regular file.
func nodeType(mode uint32) string {
	switch mode & sIFMT {
	case sIFIFO:
		return "fifo"
	case sIFCHR:
		return "char"
	case sIFBLK:
		return "block"
	case sIFSOCK:
		return "socket"
	case 0, sIFREG:
		return "file"
	}
	return "unknown"
}
