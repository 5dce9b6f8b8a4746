package agent

//go:generate clang-14 -O2 -g -Wall -Werror -target bpf -mcpu=v3 -I/usr/include/x86_64-linux-gnu -c testdata/empty_hook.bpf.c -o testdata/empty_hook.o
//go:generate llvm-strip-14 -g testdata/empty_hook.o

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/sensor/collector"
	"github.com/vigil-sec/vigil/sensor/shipper"
)

// stormEnv makes the test binary a storm process (see TestMain): "exec N" runs
// /bin/true N times, "open N PATH" opens and closes PATH N times, each spread
// over GOMAXPROCS workers; "inject N RATE" calls getppid N times at RATE a
// second (see injectCalls).
const stormEnv = "VIGIL_AGENT_STORM"

func TestMain(m *testing.M) {
	// The benchmarks measure the sensor as cmd/vigil-sensor runs it.
	if err := WithRuntimeSettings(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if os.Getenv(printGODEBUGEnv) != "" {
		fmt.Print(os.Getenv("GODEBUG"))
		os.Exit(0)
	}
	if spec := os.Getenv(stormEnv); spec != "" {
		if err := storm(spec); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func storm(spec string) error {
	var kind, path string
	var n int
	if _, err := fmt.Sscan(spec, &kind, &n); err != nil {
		return fmt.Errorf("storm %q: %w", spec, err)
	}
	var op func() error
	switch kind {
	case "inject":
		var rate float64
		if _, err := fmt.Sscan(spec, &kind, &n, &rate); err != nil {
			return fmt.Errorf("storm %q: %w", spec, err)
		}
		return injectCalls(n, rate)
	case "exec":
		op = func() error {
			pid, err := syscall.ForkExec("/bin/true", []string{"true"}, &syscall.ProcAttr{})
			if err != nil {
				return err
			}
			_, err = syscall.Wait4(pid, nil, 0, nil)
			return err
		}
	case "open":
		if _, err := fmt.Sscan(spec, &kind, &n, &path); err != nil {
			return fmt.Errorf("storm %q: %w", spec, err)
		}
		op = func() error {
			fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return err
			}
			return unix.Close(fd)
		}
	case "write":
		if _, err := fmt.Sscan(spec, &kind, &n, &path); err != nil {
			return fmt.Errorf("storm %q: %w", spec, err)
		}
		var err error
		if op, err = writeOp(path); err != nil {
			return fmt.Errorf("storm %q: %w", spec, err)
		}
	default:
		return fmt.Errorf("storm %q: unknown kind", spec)
	}
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	var failed atomic.Value
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				if err := op(); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		return err
	}
	return nil
}

// runStorm runs the storm in a child process and returns the CPU time it used
// (user + system, its own children included).
func runStorm(b *testing.B, spec string) time.Duration {
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), stormEnv+"="+spec)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("storm %q: %v: %s", spec, err, out)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return rusageTime(ru)
}

func rusageTime(ru *syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return rusageTime(&ru)
}

// countingSink takes the shipper's batches and counts their bytes: the
// benchmark measures the sensor, not a backend.
type countingSink struct{ bytes atomic.Int64 }

func (s *countingSink) Put(_ context.Context, _ string, records [][]byte) error {
	for _, r := range records {
		s.bytes.Add(int64(len(r)))
	}
	return nil
}

type lakeSink struct{ bytes atomic.Int64 }

func (s *lakeSink) Put(_ context.Context, _ string, data []byte) error {
	s.bytes.Add(int64(len(data)))
	return nil
}

// stormRounds is how many times each iteration of a storm benchmark
// alternates between running without and with the sensor.
const stormRounds = 5

// stormResult is what one storm with the sensor cost.
type stormResult struct {
	sensorCPU  time.Duration // the sensor process, storm start to final flush
	kernelCPU  time.Duration // its eBPF programs (in the storm's context)
	stormCPU   time.Duration // the storm process, eBPF programs included
	events     uint64
	drops      uint64
	wireBytes  int64 // the storm's
	lakeBytes  int64 // the run's, warm-up included
	lakeEvents uint64
}

// withSensor runs the whole sensor (collector, enricher, host stats, shipper
// encoding both paths) around one storm, run, which returns the storm's CPU
// time. A warm-up storm runs first, outside the measurement: what the sensor
// does once (loading its programs, allocating its encoders' buffers and
// faulting in their pages) is not a cost of events.
func withSensor(b *testing.B, warm func(), run func() time.Duration) stormResult {
	stream, lake := &countingSink{}, &lakeSink{}
	stats, stop := startSensor(b, Options{SensorID: "bench", Tags: []string{"env:bench"}, Stream: stream, Lake: lake})
	// Loading the programs left garbage (the kernel's BTF, parsed): collect it
	// and hand the memory back before the warm-up, which faults in what the
	// sensor uses again.
	debug.FreeOSMemory()
	warm()
	// Let the warm-up's events be read and shipped (a read is at most
	// collector.DefaultMaxDelay away, a flush at most a batch interval).
	for prev := stats().Collector.Received; ; {
		time.Sleep(collector.DefaultMaxDelay + 50*time.Millisecond)
		cur := stats().Collector.Received
		if cur == prev {
			break
		}
		prev = cur
	}
	time.Sleep(shipper.DefaultBatchInterval + 100*time.Millisecond)
	st0, wire0 := stats(), stream.bytes.Load()
	cpu0, kernel0 := selfCPU(), st0.Collector.KernelTime
	stormCPU := run()
	st := stop()
	return stormResult{sensorCPU: selfCPU() - cpu0, kernelCPU: st.Collector.KernelTime - kernel0, stormCPU: stormCPU,
		events: st.Shipper.Events - st0.Shipper.Events, drops: st.Drops(), wireBytes: stream.bytes.Load() - wire0,
		lakeBytes: lake.bytes.Load(), lakeEvents: st.Shipper.Events}
}

// openSyscalls are the syscalls whose exits the sensor watches for file
// opens (syscallHooks in sensor/collector).
var openSyscalls = []string{"open", "openat", "openat2", "creat", "open_by_handle_at"}

// emptyHook is testdata/empty_hook.o's program attached to the exit
// tracepoints of syscalls.
type emptyHook struct {
	coll  *ebpf.Collection
	links []link.Link
}

func attachEmptyHook(b *testing.B, syscalls []string) *emptyHook {
	coll, err := ebpf.LoadCollection(filepath.Join("testdata", "empty_hook.o"))
	if err != nil {
		b.Fatalf("empty hook: %v", err)
	}
	h := &emptyHook{coll: coll}
	for _, name := range syscalls {
		l, err := link.Tracepoint("syscalls", "sys_exit_"+name, coll.Programs["empty_exit"], nil)
		if err != nil {
			h.Close()
			b.Fatalf("empty hook: attach sys_exit_%s: %v", name, err)
		}
		h.links = append(h.links, l)
	}
	return h
}

func (h *emptyHook) Close() {
	for _, l := range h.links {
		l.Close()
	}
	h.coll.Close()
}

// alternate runs the storm spec (ops operations) without and with the sensor,
// stormRounds times per b.N, and reports the median over the rounds of: the
// sensor's CPU time (its process plus its eBPF programs) per 1,000 events and
// per operation, the storm's own CPU time with the sensor over without, and
// the bytes per event on the wire and in the lake; drops are summed. With
// emptyHooks, each round also runs the storm with an empty program attached
// to the exit tracepoints of those syscalls, between the two, and reports its
// CPU time over without ("empty-hook-ratio") and the sensor's ratio less that
// one ("storm-over-empty", the median of the rounds' differences). It returns
// the medians of the sensor's CPU time per operation, and of its eBPF
// programs' part.
func alternate(b *testing.B, spec func(ops int) string, ops int, unit string, emptyHooks []string) (sensorPerOp, kernelPerOp time.Duration) {
	if err := collector.Supported(); err != nil {
		b.Skipf("skipping: %v", err)
	}
	kt, err := collector.EnableKernelTime()
	if err != nil {
		b.Skipf("skipping: %v", err)
	}
	defer kt.Close()
	var sensorK, bpfK, userK, perOp, kernelPerOps, evPerOp, ratio, emptyRatio, overEmpty, wire, lake []float64
	var drops uint64
	b.ResetTimer()
	for range b.N * stormRounds {
		without := runStorm(b, spec(ops))
		var empty time.Duration
		if emptyHooks != nil {
			h := attachEmptyHook(b, emptyHooks)
			empty = runStorm(b, spec(ops))
			h.Close()
		}
		r := withSensor(b, func() { runStorm(b, spec(ops/4)) }, func() time.Duration { return runStorm(b, spec(ops)) })
		events := float64(max(r.events, 1))
		sensor := r.sensorCPU + r.kernelCPU
		perK := func(d time.Duration) float64 { return d.Seconds() * 1000 / events * 1000 }
		sensorK = append(sensorK, perK(sensor))
		bpfK = append(bpfK, perK(r.kernelCPU))
		userK = append(userK, perK(r.sensorCPU))
		perOp = append(perOp, sensor.Seconds()*1e6/float64(ops))
		kernelPerOps = append(kernelPerOps, r.kernelCPU.Seconds()*1e6/float64(ops))
		evPerOp = append(evPerOp, events/float64(ops))
		ratio = append(ratio, float64(r.stormCPU)/float64(max(without, 1)))
		if emptyHooks != nil {
			e := float64(empty) / float64(max(without, 1))
			emptyRatio = append(emptyRatio, e)
			overEmpty = append(overEmpty, ratio[len(ratio)-1]-e)
		}
		wire = append(wire, float64(r.wireBytes)/events)
		lake = append(lake, float64(r.lakeBytes)/float64(max(r.lakeEvents, 1)))
		drops += r.drops
	}
	b.StopTimer()
	b.ReportMetric(median(sensorK), "sensor-ms/1k-events")
	b.ReportMetric(median(bpfK), "bpf-ms/1k-events")
	b.ReportMetric(median(userK), "user-ms/1k-events")
	b.ReportMetric(median(evPerOp), "events/"+unit)
	b.ReportMetric(median(perOp), "sensor-µs/"+unit)
	// The storm's own CPU with the sensor (eBPF programs included) over without.
	b.ReportMetric(median(ratio), "storm-cpu-ratio")
	if emptyHooks != nil {
		b.ReportMetric(median(emptyRatio), "empty-hook-ratio")
		b.ReportMetric(median(overEmpty), "storm-over-empty")
	}
	b.ReportMetric(float64(drops), "drops")
	b.ReportMetric(median(wire), "wire-B/event")
	b.ReportMetric(median(lake), "lake-B/event")
	µs := func(xs []float64) time.Duration { return time.Duration(median(xs) * float64(time.Microsecond)) }
	return µs(perOp), µs(kernelPerOps)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// BenchmarkSensorExecStorm runs /bin/true from every CPU in a separate process,
// alternately without and with the whole sensor, and reports the sensor's CPU
// time per 1,000 events and per exec.
//
// A small machine's storm reaches a few hundred execs a second, where what the
// sensor pays per read of the ring buffer and per flush is spread over few
// events. So the sensor is then also run at the goal's rate, 20,000 execs a
// second, with records injected into its ring buffer (testdata/inject.bpf.c:
// an exec and an exit record of a new /usr/bin/true per getppid call of a
// paced process; a real exec's records are those two). "user-ms/s@20k-exec/s"
// is the sensor process's CPU time per second of that, "drops@20k-exec/s" what
// was lost (summed over the runs), and "core-%@20k-exec/s" the share of one
// core the whole sensor takes at that rate: the process's CPU time plus its
// eBPF programs' cost per real exec (from the storm) times 20,000.
func BenchmarkSensorExecStorm(b *testing.B) {
	const execs = 2000
	_, kernelPerExec := alternate(b, func(n int) string { return "exec " + strconv.Itoa(n) }, execs, "exec", nil)

	const rate, seconds = 20000, 3
	var user []float64
	var drops uint64
	for range b.N * stormRounds {
		var queued, lost uint64
		// The warm-up runs as long as the measurement: the shipper's buffers
		// grow to what this rate's bursts need, once per sensor.
		r := withSensor(b, func() { inject(b, rate*seconds, rate) },
			func() time.Duration { queued, lost = inject(b, rate*seconds, rate); return 0 })
		if queued+lost != 2*rate*seconds {
			b.Fatalf("injector queued %d records and lost %d, want %d in all", queued, lost, 2*rate*seconds)
		}
		// The sensor's own events (heartbeat, host stats) are few.
		if r.events < queued {
			b.Fatalf("sensor shipped %d events of %d injected", r.events, queued)
		}
		user = append(user, r.sensorCPU.Seconds()*1000/seconds)
		drops += r.drops + lost
	}
	b.ReportMetric(median(user), "user-ms/s@20k-exec/s")
	b.ReportMetric(float64(drops), "drops@20k-exec/s")
	b.ReportMetric((median(user)/1000+kernelPerExec.Seconds()*rate)*100, "core-%@20k-exec/s")
}

// BenchmarkSensorOpenStorm opens and closes a file from every CPU in a separate
// process. "unwatched" opens a file outside the default prefixes (what most
// opens on a host are: the kernel filters them out); "watched" opens one under
// /tmp/, which is reported. Each round runs the storm bare, with an empty
// program at the opens' exit tracepoints, and with the sensor:
// "storm-over-empty" is what the sensor's open filter costs the storm beyond
// any program there.
func BenchmarkSensorOpenStorm(b *testing.B) {
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
			const opens = 200000
			_, _ = alternate(b, func(n int) string { return "open " + strconv.Itoa(n) + " " + path }, opens, "open", openSyscalls)
		})
	}
}
