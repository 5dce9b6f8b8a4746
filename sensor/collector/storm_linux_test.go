package collector_test

import (
	"os/exec"
	"sync"
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
)

// TestExecStormAllCaptured runs execs from several goroutines at once and checks
// that every one is reported (exec and exit) and nothing was dropped.
func TestExecStormAllCaptured(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping exec storm in -short mode")
	}
	c, events := startCollector(t)
	const workers, perWorker = 4, 75
	var (
		mu   sync.Mutex
		pids = make(map[uint32]int) // pid → events seen (want 2)
		wg   sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perWorker {
				cmd := exec.Command("/bin/true")
				if err := cmd.Run(); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				pids[uint32(cmd.Process.Pid)] = 0
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sentinel := exec.Command("/bin/true")
	if err := sentinel.Run(); err != nil {
		t.Fatal(err)
	}
	for {
		ev := recv(t, events)
		if ev.PID == uint32(sentinel.Process.Pid) && ev.Type == event.TerminateProcess {
			break
		}
		if _, ok := pids[ev.PID]; ok && ev.FilePath == "/bin/true" {
			pids[ev.PID]++
		}
	}
	missing := 0
	for pid, n := range pids {
		if n != 2 {
			missing++
			if missing <= 5 {
				t.Errorf("pid %d: %d of 2 events (exec, exit)", pid, n)
			}
		}
	}
	if len(pids) != workers*perWorker {
		t.Errorf("ran %d distinct pids, want %d", len(pids), workers*perWorker)
	}
	if st := c.Stats(); st.Dropped != 0 || st.Invalid != 0 {
		t.Errorf("Stats = %+v, want nothing dropped or invalid", st)
	}
}
