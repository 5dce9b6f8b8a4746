package localrun

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/detect"
)

// timedStdout is vigil local's stdout in the benchmark: it notes when each
// detection line of the probe rules is written, from its exec (the
// NEW_PROCESS event's time, taken in the kernel), by rule and pid.
type timedStdout struct {
	mu    sync.Mutex
	after map[string]map[uint32]time.Duration
}

func (w *timedStdout) Write(p []byte) (int, error) {
	at := time.Now()
	var d detect.Detection
	if err := json.Unmarshal(bytes.TrimSpace(p), &d); err != nil {
		return 0, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if m := w.after[d.Rule]; m != nil {
		m[d.Event.PID] = at.Sub(time.Unix(0, d.Event.TimeNanos))
	}
	return len(p), nil
}

// BenchmarkLocalEdgeLatency runs vigil local live (eBPF, the pack and the rules
// of edge_test.go, the default 500 ms batch interval), execs b.N times, 25 a
// second, a program an edge rule reports (local_probe) and one a cloud-only
// rule reports from the batch (local_cloud), and measures from each exec (its
// NEW_PROCESS event's time) to its detection line written on stdout: edge-p50-ms
// and edge-p99-ms for the edge's, batch-p50-ms and batch-p99-ms for the batch's.
func BenchmarkLocalEdgeLatency(b *testing.B) {
	o := edgeOptions(b)
	o.BatchInterval = 500 * time.Millisecond
	out := &timedStdout{after: map[string]map[uint32]time.Duration{"local_probe": {}, "local_cloud": {}}}
	var stderr syncBuffer
	o.Stdout, o.Stderr = out, &stderr
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- Run(runCtx, o) }()
	stop := sync.OnceValue(func() error { cancel(); return <-done })
	b.Cleanup(func() { _ = stop() })
	waitFor(b, "vigil local running", func() bool { return bytes.Contains([]byte(stderr.String()), []byte("vigil local running")) }, &stderr)
	probe, cloud := program(b, "/bin/true", "vigil-local-probe"), program(b, "/bin/true", "vigil-local-cloud")

	const pace = 40 * time.Millisecond // 25 of each a second
	execs := func(n int) []uint32 {
		var pids []uint32
		next := time.Now()
		for range n {
			for _, p := range []string{probe, cloud} {
				cmd := exec.Command(p)
				if err := cmd.Run(); err != nil {
					b.Fatal(err)
				}
				pids = append(pids, uint32(cmd.Process.Pid))
			}
			next = next.Add(pace)
			time.Sleep(time.Until(next))
		}
		return pids
	}
	printed := func(pids []uint32) bool {
		out.mu.Lock()
		defer out.mu.Unlock()
		for i, p := range pids {
			if _, ok := out.after[[]string{"local_probe", "local_cloud"}[i%2]][p]; !ok {
				return false
			}
		}
		return true
	}
	warm := execs(10) // the first pages of the rule set, the encoders, the store's log
	waitFor(b, "the warm-up's detections", func() bool { return printed(warm) }, &stderr)

	b.ResetTimer()
	pids := execs(b.N)
	b.StopTimer()
	waitFor(b, "every exec's detection on stdout", func() bool { return printed(pids) }, &stderr)
	if err := stop(); err != nil {
		b.Fatal(err)
	}
	pick := func(rule string, parity int) []time.Duration {
		var ds []time.Duration
		for i, p := range pids {
			if i%2 == parity {
				ds = append(ds, out.after[rule][p])
			}
		}
		slices.Sort(ds)
		return ds
	}
	edge, batch := pick("local_probe", 0), pick("local_cloud", 1)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(quantile(edge, 0.50)), "edge-p50-ms")
	b.ReportMetric(ms(quantile(edge, 0.99)), "edge-p99-ms")
	b.ReportMetric(ms(quantile(batch, 0.50)), "batch-p50-ms")
	b.ReportMetric(ms(quantile(batch, 0.99)), "batch-p99-ms")
	b.ReportMetric(0, "ns/op")
}

// quantile is the q-quantile of sorted durations (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
