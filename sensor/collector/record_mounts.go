package collector

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
)

// Mount records (sensor/bpf/mounts.h).
const (
	kindMount = 33

	mountOpOff     = hdrSize
	mountFlagsOff  = hdrSize + 4
	mountFSTypeOff = hdrSize + 8
	mountFSTypeMax = 32
	mountDataOff   = mountFSTypeOff + mountFSTypeMax
	mountPathMax   = 1023 // each of the mount point and the source (FPATH_MAX - 1)

	mountOpMount  = 1
	mountOpMove   = 2
	mountOpUmount = 3
)

// mountOps names the mount operations by enum mount_op.
var mountOps = [...]string{mountOpMount: "mount", mountOpMove: "move_mount", mountOpUmount: "umount2"}

type flagName struct {
	bit  uint32
	name string
}

// msFlags names mount(2)'s MS_* flags (uapi linux/mount.h).
var msFlags = []flagName{
	{1, "ro"}, {2, "nosuid"}, {4, "nodev"}, {8, "noexec"}, {16, "sync"}, {32, "remount"},
	{64, "mand"}, {128, "dirsync"}, {256, "nosymfollow"}, {1024, "noatime"}, {2048, "nodiratime"},
	{4096, "bind"}, {8192, "move"}, {16384, "rec"}, {32768, "silent"}, {1 << 16, "posixacl"},
	{1 << 17, "unbindable"}, {1 << 18, "private"}, {1 << 19, "slave"}, {1 << 20, "shared"},
	{1 << 21, "relatime"}, {1 << 22, "kernmount"}, {1 << 23, "i_version"}, {1 << 24, "strictatime"},
	{1 << 25, "lazytime"},
}

// umountFlags names umount2(2)'s flags.
var umountFlags = []flagName{{1, "force"}, {2, "detach"}, {4, "expire"}, {8, "nofollow"}}

// moveMountFlags names move_mount(2)'s MOVE_MOUNT_* flags.
var moveMountFlags = []flagName{
	{0x01, "f_symlinks"}, {0x02, "f_automounts"}, {0x04, "f_empty_path"},
	{0x10, "t_symlinks"}, {0x20, "t_automounts"}, {0x40, "t_empty_path"},
	{0x100, "set_group"}, {0x200, "beneath"},
}

// flagNames names the bits of flags, comma-separated, in the table's order;
// bits the table does not know are shown as one hexadecimal number.
func flagNames(flags uint32, names []flagName) string {
	if flags == 0 {
		return ""
	}
	var b strings.Builder
	for _, f := range names {
		if flags&f.bit != 0 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(f.name)
			flags &^= f.bit
		}
	}
	if flags != 0 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%#x", flags)
	}
	return b.String()
}

func decodeMount(raw []byte, r *record, pathLen, argsLen int) error {
	if len(raw) < mountDataOff {
		return fmt.Errorf("%w: mount record has %d bytes, needs %d", errShortRecord, len(raw), mountDataOff)
	}
	le := binary.LittleEndian
	r.sysOp = le.Uint32(raw[mountOpOff:])
	if r.sysOp < 1 || int(r.sysOp) >= len(mountOps) {
		return fmt.Errorf("%w: mount operation %d", errBadField, r.sysOp)
	}
	if pathLen == 0 || pathLen > mountPathMax || argsLen > mountPathMax || (r.sysOp == mountOpUmount && argsLen != 0) {
		return fmt.Errorf("%w: mount record with path lengths %d and %d", errBadLength, pathLen, argsLen)
	}
	end := mountDataOff + pathLen + argsLen
	if len(raw) < end {
		return fmt.Errorf("%w: mount record has %d bytes, needs %d", errShortRecord, len(raw), end)
	}
	r.sysFlags = le.Uint32(raw[mountFlagsOff:])
	fs := raw[mountFSTypeOff:mountDataOff:mountDataOff]
	if i := bytes.IndexByte(fs, 0); i >= 0 {
		fs = fs[:i:i]
	}
	r.fsType = fs
	mid := mountDataOff + pathLen
	r.path = raw[mountDataOff:mid:mid]
	r.args = raw[mid:end:end]
	return nil
}

func (r *record) fillMount(ev *event.Event) {
	ev.Type = event.Mount
	ev.Operation = mountOps[r.sysOp]
	ev.MountPath = mountPath(r.path)
	ev.MountSource = string(r.args)
	ev.FSType = string(r.fsType)
	switch r.sysOp {
	case mountOpMount:
		ev.Flags = flagNames(r.sysFlags, msFlags)
	case mountOpMove:
		ev.Flags = flagNames(r.sysFlags, moveMountFlags)
	case mountOpUmount:
		ev.Type = event.Unmount
		ev.Flags = flagNames(r.sysFlags, umountFlags)
	}
}

// mountPath is the mount point as the kernel built it from the call's
// arguments, "." and ".." resolved; one that fills the record was cut and
// ends in cutMark.
func mountPath(b []byte) string {
	if len(b) == mountPathMax {
		return string(b) + cutMark
	}
	p := string(b)
	if strings.HasPrefix(p, "/") && (strings.Contains(p, "/.") || strings.Contains(p, "//")) {
		return path.Clean(p)
	}
	return p
}
