package edge_test

import (
	"context"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/testenv"
	"github.com/vigil-sec/vigil/sensor/agent"
	"github.com/vigil-sec/vigil/sensor/edge"
	"github.com/vigil-sec/vigil/sensor/shipper"
)

// timedStream is the benchmark sensor's stream: kinesalite through
// internal/aws, noting when each probe's edge detection is handed to the stream
// (Put called: the detection leaves the sensor) and when the stream accepted it.
type timedStream struct {
	next shipper.Stream

	mu       sync.Mutex
	handed   map[uint32]time.Duration // by the probe's pid: from its exec
	accepted map[uint32]time.Duration
}

func (s *timedStream) Put(ctx context.Context, key string, recs [][]byte) error {
	handed := time.Now()
	err := s.next.Put(ctx, key, recs)
	accepted := time.Now()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		if !detect.IsEdgeRecord(r) {
			continue
		}
		rec, derr := detect.DecodeEdgeRecord(r)
		if derr != nil {
			return derr
		}
		for _, d := range rec.Detections {
			if d.Rule == "edge_probe" {
				at := time.Unix(0, d.Event.TimeNanos)
				s.handed[d.Event.PID], s.accepted[d.Event.PID] = handed.Sub(at), accepted.Sub(at)
			}
		}
	}
	return nil
}

// BenchmarkEdgeLatency runs the live sensor (eBPF, the pack and a probe rule
// evaluated at the edge, read_delay as rules.edge sets it, the default batch
// interval) shipping to kinesalite, execs a probe b.N times, 50 a second, and
// measures from each exec (its NEW_PROCESS event's time, taken in the kernel)
// to its edge detection: handed to the stream (detect-p50-ms, detect-p99-ms)
// and accepted by kinesalite on loopback (stream-p99-ms).
func BenchmarkEdgeLatency(b *testing.B) {
	kc := kinesis.NewFromConfig(testenv.AWSConfig(b, testenv.Kinesis(b)))
	const stream = "vigil-edge-bench"
	testenv.CreateStream(b, kc, stream)
	ts := &timedStream{next: &vaws.Kinesis{Client: kc, StreamName: stream},
		handed: map[uint32]time.Duration{}, accepted: map[uint32]time.Duration{}}
	probe := program(b, "/bin/true", "vigil-edge-probe")
	_, stop := startSensor(b, agent.Options{SensorID: "edge-bench", Stream: ts, Edge: &edge.Options{Rules: liveRules(b)}})

	const pace = 20 * time.Millisecond // 50 execs a second
	execs := func(n int) []uint32 {
		var pids []uint32
		next := time.Now()
		for range n {
			cmd := exec.Command(probe)
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
			pids = append(pids, uint32(cmd.Process.Pid))
			next = next.Add(pace)
			time.Sleep(time.Until(next))
		}
		return pids
	}
	wait := func(pids []uint32) {
		waitFor(b, "every probe's edge detection on the stream", 30*time.Second, func() bool {
			ts.mu.Lock()
			defer ts.mu.Unlock()
			for _, p := range pids {
				if _, ok := ts.accepted[p]; !ok {
					return false
				}
			}
			return true
		})
	}
	wait(execs(10)) // warm-up: first pages of the rule set, the encoders, the stream's connection

	b.ResetTimer()
	pids := execs(b.N)
	b.StopTimer()
	wait(pids)
	st := stop()
	if st.Drops() != 0 || st.Edge.Unsent != 0 {
		b.Errorf("lost: %+v", st)
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	pick := func(m map[uint32]time.Duration) []time.Duration {
		out := make([]time.Duration, 0, len(pids))
		for _, p := range pids {
			out = append(out, m[p])
		}
		slices.Sort(out)
		return out
	}
	handed, accepted := pick(ts.handed), pick(ts.accepted)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(quantile(handed, 0.50)), "detect-p50-ms")
	b.ReportMetric(ms(quantile(handed, 0.99)), "detect-p99-ms")
	b.ReportMetric(ms(quantile(accepted, 0.99)), "stream-p99-ms")
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
