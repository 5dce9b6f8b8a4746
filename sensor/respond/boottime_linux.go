//go:build linux

package respond

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// sinceBoot is the time since boot, suspend included (CLOCK_BOOTTIME: the clock
// of /proc/PID/stat's start times).
func sinceBoot() (time.Duration, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0, fmt.Errorf("boot time clock: %w", err)
	}
	return time.Duration(ts.Nano()), nil
}
