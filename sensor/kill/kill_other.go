//go:build !linux

package kill

import (
	"context"
	"errors"
	"fmt"
	"runtime"
)

// Kill needs Linux (pidfds and /proc): elsewhere it fails, wrapping
// errors.ErrUnsupported.
func Kill(context.Context, Request) (Result, error) {
	return Result{}, fmt.Errorf("kill: killing a process needs Linux (pidfd_open and /proc), this is %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
