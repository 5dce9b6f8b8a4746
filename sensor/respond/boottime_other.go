//go:build !linux

package respond

import (
	"errors"
	"fmt"
	"runtime"
	"time"
)

// sinceBoot needs Linux's CLOCK_BOOTTIME.
func sinceBoot() (time.Duration, error) {
	return 0, fmt.Errorf("boot time clock: needs Linux, this is %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
