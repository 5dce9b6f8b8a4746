//go:build !linux

package snapshot

import (
	"context"
	"errors"
	"fmt"
	"runtime"
)

// Take needs Linux (/proc): elsewhere it fails, wrapping errors.ErrUnsupported.
func Take(context.Context, Options) (*Snapshot, error) {
	return nil, fmt.Errorf("snapshot: capturing a process needs Linux (/proc), this is %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
