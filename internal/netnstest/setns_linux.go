package netnstest

import (
	"os"

	"golang.org/x/sys/unix"
)

// setnsFile moves the calling thread into the network namespace f names.
func setnsFile(f *os.File) error {
	return unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
}
