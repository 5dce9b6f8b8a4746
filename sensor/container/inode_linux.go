//go:build linux

package container

import (
	"io/fs"
	"syscall"
)

// inode is the inode number of a cgroup directory: its cgroup id.
func inode(info fs.FileInfo) (uint64, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return st.Ino, true
}
