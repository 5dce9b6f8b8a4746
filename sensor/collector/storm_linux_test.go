package collector_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/sensor/collector"
	"github.com/vigil-sec/vigil/sensor/enrich"

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

// stormRounds is how many times a storm benchmark alternates between running
// without and with the collector.
const stormRounds = 8

// alternate runs storm (n operations spread over GOMAXPROCS workers) without
// and with a collector, alternating stormRounds times, and reports the
// throughput of both, their ratio (with / without: 1 means no cost) and the
// records the kernel dropped.
func alternate(b *testing.B, opts collector.Options, unit string, op func() error) {
	per := b.N / stormRounds
	if per < 1 {
		per = 1
	}
	workers := runtime.GOMAXPROCS(0)
	run := func() time.Duration {
		var wg sync.WaitGroup
		start := time.Now()
		for w := range workers {
			n := per / workers
			if w < per%workers {
				n++
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range n {
					if err := op(); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	var without, with time.Duration
	var drops, received uint64
	b.ResetTimer()
	for range stormRounds {
		without += run()

		b.StopTimer()
		_, stop := benchCollector(b, opts)
		b.StartTimer()
		with += run()
		b.StopTimer()
		st := stop()
		drops += st.Dropped
		received += st.Received
		b.StartTimer()
	}
	ops := float64(per * stormRounds)
	b.ReportMetric(ops/without.Seconds(), unit+"/s-without")
	b.ReportMetric(ops/with.Seconds(), unit+"/s-with")
	b.ReportMetric(without.Seconds()/with.Seconds(), "ratio")
	b.ReportMetric(float64(drops), "drops")
	b.ReportMetric(float64(received)/ops, "records/op")
}

// benchCollector starts a collector with the real enricher whose events are
// consumed and discarded; stop drains what is queued, closes it and returns its
// final counters.
func benchCollector(b *testing.B, opts collector.Options) (*collector.Collector, func() collector.Stats) {
	b.Helper()
	if err := collector.Supported(); err != nil {
		b.Skipf("skipping: %v", err)
	}
	enr, err := enrich.New(enrich.Options{})
	if err != nil {
		b.Fatal(err)
	}
	opts.Enricher = enr
	c, err := collector.New(opts)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, func(*event.Event) {}) }()
	return c, func() collector.Stats {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
		c.Close()
		return c.Stats()
	}
}

// BenchmarkExecStorm runs /bin/true from every CPU, alternately without and
// with the collector (default options), and reports the throughput ratio.
func BenchmarkExecStorm(b *testing.B) {
	alternate(b, collector.Options{}, "execs", func() error { return exec.Command("/bin/true").Run() })
}

// BenchmarkOpenStorm opens and closes a file from every CPU, alternately
// without and with the collector, and reports the throughput ratio. "unwatched"
// opens a file outside the default prefixes (what most opens on a host are: the
// kernel filters them out); "watched" opens one under /tmp/, which is reported.
func BenchmarkOpenStorm(b *testing.B) {
	for _, c := range []struct{ name, dir string }{{"unwatched", "/var/tmp"}, {"watched", "/tmp"}} {
		b.Run(c.name, func(b *testing.B) {
			dir, err := os.MkdirTemp(c.dir, "vigil-bench-")
			if err != nil {
				b.Fatal(err)
			}
			defer os.RemoveAll(dir)
			path := filepath.Join(dir, "f")
			if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
				b.Fatal(err)
			}
			alternate(b, collector.Options{}, "opens", func() error {
				fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
				if err != nil {
					return err
				}
				return unix.Close(fd)
			})
		})
	}
}
