package respond

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/sensor/kill"
)

// userHZ is the unit of /proc/PID/stat's start time (field 22): clock ticks, 100
// per second on Linux.
const userHZ = 100

// startSlack absorbs the tick rounding of field 22 and the clock readings.
const startSlack = 30 * time.Millisecond

// startTimeBefore returns the start time (field 22) of pid when that process started
// no later than at: the process that did what an event at time at saw. A pid reused
// after that process exited belongs to a process started later, and is refused,
// so a task made from a detection never kills or dumps an unrelated process.
func startTimeBefore(pid int, at time.Time, now time.Time) (uint64, error) {
	st, err := kill.ReadStat(pid)
	if err != nil {
		return 0, err
	}
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0, fmt.Errorf("boot time clock: %w", err)
	}
	sinceBoot := time.Duration(ts.Nano())
	started := now.Add(-sinceBoot + time.Duration(st.StartTime)*time.Second/userHZ)
	if started.After(at.Add(startSlack)) {
		return 0, fmt.Errorf("%w: pid %d started at %s, after the event at %s",
			kill.ErrNotSameProcess, pid, started.UTC().Format(time.RFC3339Nano), at.UTC().Format(time.RFC3339Nano))
	}
	return st.StartTime, nil
}
