package respond

import (
	"fmt"
	"math"
	"time"

	"github.com/vigil-sec/vigil/sensor/kill"
)

// userHZ is the unit of /proc/PID/stat's start time (field 22): clock ticks, 100
// per second on Linux.
const userHZ = 100

// tick is one clock tick of field 22. userHZ divides a second exactly, so no
// precision is lost (checked by TestTickIsExact).
const tick = time.Second / userHZ

// startSlack absorbs the tick rounding of field 22 and the clock readings.
const startSlack = 30 * time.Millisecond

// ticksSinceBoot converts a start time (field 22, clock ticks after boot) to a
// duration. Multiplying by the tick, not by a second and then dividing, keeps it
// within int64 for 292 years of uptime; beyond that it is an error.
func ticksSinceBoot(ticks uint64) (time.Duration, error) {
	if ticks > uint64(math.MaxInt64/int64(tick)) {
		return 0, fmt.Errorf("start time %d ticks after boot is out of range", ticks)
	}
	return time.Duration(ticks) * tick, nil
}

// startTimeBefore returns the start time (field 22) of pid when that process started
// no later than at: the process that did what an event at time at saw. A pid reused
// after that process exited belongs to a process started later, and is refused,
// so a task made from a detection never kills or dumps an unrelated process.
func startTimeBefore(pid int, at time.Time, now time.Time) (uint64, error) {
	st, err := kill.ReadStat(pid)
	if err != nil {
		return 0, err
	}
	boot, err := sinceBoot()
	if err != nil {
		return 0, err
	}
	started, err := startedAt(now, boot, st.StartTime)
	if err != nil {
		return 0, fmt.Errorf("pid %d: %w", pid, err)
	}
	if started.After(at.Add(startSlack)) {
		return 0, fmt.Errorf("%w: pid %d started at %s, after the event at %s",
			kill.ErrNotSameProcess, pid, started.UTC().Format(time.RFC3339Nano), at.UTC().Format(time.RFC3339Nano))
	}
	return st.StartTime, nil
}

// startedAt is the wall time a process started: now less the time since boot,
// plus its start time in ticks after boot.
func startedAt(now time.Time, sinceBoot time.Duration, ticks uint64) (time.Time, error) {
	d, err := ticksSinceBoot(ticks)
	if err != nil {
		return time.Time{}, err
	}
	return now.Add(-sinceBoot).Add(d), nil
}
