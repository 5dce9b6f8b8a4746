package respond

import (
	"errors"
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
