package respond

import (
	"errors"
	"math"
	"os"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/sensor/kill"
)

// TestStartTimeBefore: a process is accepted for an event after it started and
// refused for an event before it started (what a reused pid looks like).
func TestStartTimeBefore(t *testing.T) {
	pid := os.Getpid()
	st, err := kill.ReadStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"event now", time.Now(), true},
		{"event an hour before the process started", time.Now().Add(-time.Hour), false},
	}
	for _, tc := range tests {
		got, err := startTimeBefore(pid, tc.at, time.Now())
		if tc.ok && (err != nil || got != st.StartTime) {
			t.Errorf("%s: %d, %v; want start time %d", tc.name, got, err, st.StartTime)
		}
		if !tc.ok && !errors.Is(err, kill.ErrNotSameProcess) {
			t.Errorf("%s: err = %v, want ErrNotSameProcess", tc.name, err)
		}
	}
}

func TestTickIsExact(t *testing.T) {
	if time.Second%userHZ != 0 {
		t.Fatalf("USER_HZ %d does not divide a second: start times would be rounded", userHZ)
	}
}

// TestStartedAt converts start times of processes started late in a long uptime:
// ticks × 1e9 overflows int64 beyond about 2.9 years at 100 ticks a second.
func TestStartedAt(t *testing.T) {
	const day = 24 * time.Hour
	const year = 365 * day
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name      string
		sinceBoot time.Duration
		ticks     uint64
		want      time.Time
		wantErr   bool
	}{
		{"at boot", time.Hour, 0, now.Add(-time.Hour), false},
		{"a second after boot", time.Hour, userHZ, now.Add(-time.Hour + time.Second), false},
		{"just now", time.Hour, uint64(time.Hour / tick), now, false},
		{"a tick is 10 ms", 0, 1, now.Add(10 * time.Millisecond), false},
		{"3 years of uptime", 3*year + time.Minute, uint64(3 * year / tick), now.Add(-time.Minute), false},
		{"10 years of uptime", 10*year + time.Second, uint64(10*year/tick) + 50, now.Add(-time.Second / 2), false},
		{"200 years of uptime", 200 * year, uint64(200 * year / tick), now, false},
		{"beyond int64 nanoseconds", 0, math.MaxInt64/uint64(tick) + 1, time.Time{}, true},
		{"largest field", 0, math.MaxUint64, time.Time{}, true},
	}
	for _, tc := range tests {
		got, err := startedAt(now, tc.sinceBoot, tc.ticks)
		if (err != nil) != tc.wantErr || !got.Equal(tc.want) {
			t.Errorf("%s: startedAt(%d ticks) = %s, %v; want %s (error %v)", tc.name, tc.ticks, got, err, tc.want, tc.wantErr)
		}
	}
}
