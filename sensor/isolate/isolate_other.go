//go:build !linux

package isolate

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime"
)

// errNotLinux is what every operation returns off Linux.
var errNotLinux = fmt.Errorf("isolate: network isolation needs Linux (eBPF cgroup programs), this is %s: %w", runtime.GOOS, errors.ErrUnsupported)

// Isolate needs Linux.
func Isolate(Options, []netip.Prefix) (State, error) { return State{}, errNotLinux }

// Update needs Linux.
func Update(Options, []netip.Prefix) error { return errNotLinux }

// Rejoin needs Linux.
func Rejoin(Options) (bool, error) { return false, errNotLinux }

// Current needs Linux.
func Current(Options) (State, error) { return State{}, errNotLinux }

// MountBPFFS needs Linux.
func MountBPFFS(string) error { return errNotLinux }

// CgroupRoot needs Linux.
func CgroupRoot() (string, error) { return "", errNotLinux }
