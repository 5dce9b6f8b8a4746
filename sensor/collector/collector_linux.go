package collector

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/sensor/bpf"
)

const btfPath = "/sys/kernel/btf/vmlinux"

// Capability bits (linux/capability.h).
const (
	capSysAdmin = 21
	capPerfmon  = 38
	capBPF      = 39
)

// Supported returns nil if this host can run the collector, or an error (wrapping
// ErrUnsupported) that says in one line why not: not privileged, no kernel BTF,
// RLIMIT_MEMLOCK cannot be lifted, or the kernel refuses BPF ring buffers.
func Supported() error {
	if euid := os.Geteuid(); euid != 0 && !hasBPFCaps() {
		return fmt.Errorf("%w: needs root or CAP_BPF and CAP_PERFMON (running as uid %d without them)", ErrUnsupported, euid)
	}
	if _, err := os.Stat(btfPath); err != nil {
		return fmt.Errorf("%w: kernel has no BTF (%s: %w); needs CONFIG_DEBUG_INFO_BTF=y", ErrUnsupported, btfPath, err)
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return fmt.Errorf("%w: cannot lift RLIMIT_MEMLOCK for BPF maps: %w", ErrUnsupported, err)
	}
	if err := features.HaveMapType(ebpf.RingBuf); err != nil {
		return fmt.Errorf("%w: BPF ring buffers unavailable (kernel older than 5.8, or BPF not permitted here): %w", ErrUnsupported, err)
	}
	return nil
}

// hasBPFCaps reports whether the effective capability set allows loading tracing
// programs without root: CAP_SYS_ADMIN, or CAP_BPF with CAP_PERFMON.
func hasBPFCaps() bool {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		v, ok := strings.CutPrefix(s.Text(), "CapEff:")
		if !ok {
			continue
		}
		caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		if err != nil {
			return false
		}
		has := func(c uint) bool { return caps&(1<<c) != 0 }
		return has(capSysAdmin) || (has(capBPF) && has(capPerfmon))
	}
	return false
}

// Collector captures process exec and exit events from the kernel. Create it with
// New, consume it with Run and release it with Close.
type Collector struct {
	opts   Options
	objs   bpf.ProcessObjects
	links  []link.Link
	reader *ringbuf.Reader

	running   atomic.Bool
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error

	received atomic.Uint64
	invalid  atomic.Uint64
	dropped  atomic.Uint64 // last count read from the drops map
}

// New loads the process programs into the kernel and attaches them; events queue
// in the ring buffer from then on until Run reads them. The error says why when
// the host cannot run the collector (see Supported) or the kernel rejects the
// program (the verifier's log is included).
func New(opts Options) (*Collector, error) {
	if err := Supported(); err != nil {
		return nil, err
	}
	size := opts.RingBufferSize
	if size == 0 {
		size = DefaultRingBufferSize
	}
	if size < os.Getpagesize() || size&(size-1) != 0 {
		return nil, fmt.Errorf("collector: ring buffer size %d must be a power of two and at least the page size (%d)", size, os.Getpagesize())
	}

	spec, err := bpf.LoadProcess()
	if err != nil {
		return nil, fmt.Errorf("collector: read embedded eBPF object: %w", err)
	}
	spec.Maps[bpf.ProcessMapEvents].MaxEntries = uint32(size)

	c := &Collector{opts: opts}
	if err := spec.LoadAndAssign(&c.objs, nil); err != nil {
		var verr *ebpf.VerifierError
		if errors.As(err, &verr) {
			return nil, fmt.Errorf("collector: kernel verifier rejected the process program: %+v", verr)
		}
		return nil, fmt.Errorf("collector: load eBPF process program: %w", err)
	}
	for _, p := range []struct {
		name string
		prog *ebpf.Program
	}{
		{"sched_process_exec", c.objs.HandleExec},
		{"sched_process_exit", c.objs.HandleExit},
	} {
		l, err := link.AttachTracing(link.TracingOptions{Program: p.prog, AttachType: ebpf.AttachTraceRawTp})
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("collector: attach to tracepoint %s: %w", p.name, err)
		}
		c.links = append(c.links, l)
	}
	c.reader, err = ringbuf.NewReader(c.objs.Events)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("collector: open ring buffer: %w", err)
	}
	return c, nil
}

// Run reads records until ctx is done or Close is called, decodes each into an
// event, enriches it and passes it to emit. The *event.Event is reused after emit
// returns. When ctx is done Run drains the records already queued, then returns
// nil; it returns an error only if reading the ring buffer fails. Run may be called
// once at a time.
func (c *Collector) Run(ctx context.Context, emit func(*event.Event)) error {
	if c.closed.Load() {
		return fmt.Errorf("collector: Run after Close: %w", os.ErrClosed)
	}
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("collector: Run is already running")
	}
	defer c.running.Store(false)

	stop := context.AfterFunc(ctx, func() { _ = c.reader.Flush() })
	defer stop()

	var (
		rec     ringbuf.Record
		r       record
		ev      event.Event
		scratch = make([]byte, 0, argsMax)
		clock   bootClock
	)
	for {
		err := c.reader.ReadInto(&rec)
		if err != nil {
			switch {
			case errors.Is(err, ringbuf.ErrFlushed):
				if ctx.Err() != nil {
					return nil
				}
				continue // a flush we did not ask for
			case errors.Is(err, ringbuf.ErrClosed):
				return nil
			default:
				return fmt.Errorf("collector: read ring buffer: %w", err)
			}
		}
		c.received.Add(1)
		if err := decodeRecord(rec.RawSample, &r); err != nil {
			c.invalid.Add(1)
			continue
		}
		ev = event.Event{SensorID: c.opts.SensorID, Hostname: c.opts.Hostname, Tags: c.opts.Tags}
		scratch = r.fill(&ev, clock.offset(r.bootNs), scratch)
		ev.ID = event.NewID(time.Unix(0, ev.TimeNanos))
		if c.opts.Enricher != nil {
			c.opts.Enricher.Enrich(&ev)
		}
		emit(&ev)
		if c.opts.Enricher != nil {
			c.opts.Enricher.Forget(&ev)
		}
	}
}

// Stats returns the counters since New.
func (c *Collector) Stats() Stats {
	if !c.closed.Load() {
		c.readDrops()
	}
	return Stats{Received: c.received.Load(), Dropped: c.dropped.Load(), Invalid: c.invalid.Load()}
}

// readDrops sums the per-CPU drop counters into c.dropped.
func (c *Collector) readDrops() {
	if c.objs.Drops == nil {
		return
	}
	var perCPU []uint64
	if err := c.objs.Drops.Lookup(uint32(0), &perCPU); err != nil {
		return
	}
	var sum uint64
	for _, n := range perCPU {
		sum += n
	}
	c.dropped.Store(sum)
}

// Close detaches the programs and frees the kernel objects. A running Run returns
// nil; Stats keeps reporting the final counts. Close is safe to call more than once.
func (c *Collector) Close() error {
	c.closeOnce.Do(func() {
		c.readDrops()
		c.closed.Store(true)
		var errs []error
		if c.reader != nil {
			errs = append(errs, c.reader.Close())
		}
		for _, l := range c.links {
			errs = append(errs, l.Close())
		}
		errs = append(errs, c.objs.Close())
		if err := errors.Join(errs...); err != nil {
			c.closeErr = fmt.Errorf("collector: close: %w", err)
		}
	})
	return c.closeErr
}

// bootClock converts CLOCK_BOOTTIME nanoseconds (bpf_ktime_get_boot_ns) to Unix
// nanoseconds, re-measuring the offset when a second of boot time has passed.
type bootClock struct {
	last int64 // boot time of the last measurement; 0 = never
	off  int64
}

func (b *bootClock) offset(bootNs uint64) int64 {
	if b.last != 0 && int64(bootNs)-b.last < 1e9 && int64(bootNs) >= b.last {
		return b.off
	}
	var boot, wall unix.Timespec
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot) != nil || unix.ClockGettime(unix.CLOCK_REALTIME, &wall) != nil {
		return b.off
	}
	b.off = wall.Nano() - boot.Nano()
	b.last = int64(bootNs)
	return b.off
}
