package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/sensor/collector"
	"github.com/vigil-sec/vigil/sensor/edge"
	"github.com/vigil-sec/vigil/sensor/enrich"
	"github.com/vigil-sec/vigil/sensor/hoststats"
	"github.com/vigil-sec/vigil/sensor/kube"
	"github.com/vigil-sec/vigil/sensor/metrics"
	"github.com/vigil-sec/vigil/sensor/pkgdb"
	"github.com/vigil-sec/vigil/sensor/shipper"
	"github.com/vigil-sec/vigil/sensor/spool"
)

// Options configures a sensor run.
type Options struct {
	// SensorID defaults to the host name.
	SensorID string
	Tags     []string
	// Stream and Lake are the shipper's destinations (either may be nil).
	Stream        shipper.Stream
	Lake          shipper.Lake
	BatchInterval time.Duration
	RollInterval  time.Duration
	// RollBytes bounds a lake file; default 64 MiB.
	RollBytes int
	// Spool holds batches the backends did not take (see package spool); nil
	// means an in-memory spool, lost at exit.
	Spool *spool.Spool
	// Grace bounds the final flush after the context ends; default 10s.
	Grace time.Duration
	Log   *slog.Logger
	// Started, if set, is called once the probes are attached, with a function
	// that returns the run's counters so far.
	Started func(stats func() Stats)

	// Metrics, if set, receives the sensor's metrics (see package metrics).
	Metrics *metrics.Metrics
	// Version is reported in SENSOR_HEARTBEAT.
	Version string
	// HeartbeatEvery and StatsEvery pace SENSOR_HEARTBEAT (default 30s) and
	// HOST_STATS (default 60s).
	HeartbeatEvery time.Duration
	StatsEvery     time.Duration
	// SysClassNet is the directory whose links tell the host's physical
	// network interfaces from virtual ones, for the outbound bytes of
	// HOST_STATS (hoststats.NetDev); default /sys/class/net.
	SysClassNet string
	// FilePathPrefixes selects the paths whose file events are reported; nil
	// keeps the collector's defaults, an empty non-nil slice reports none.
	FilePathPrefixes []string
	// FileChangePrefixes are watched for changes only (collector.Options).
	FileChangePrefixes []string
	// RingBuffer and ReadDelay size the kernel ring buffer and bound how long a
	// record waits in it (collector.Options); zero keeps the collector's
	// defaults.
	RingBuffer int
	ReadDelay  time.Duration
	// DisableCapabilities leaves the kernel hooks of these capabilities
	// unattached (collector.Options.Disable): the heartbeat lists them missing.
	DisableCapabilities []string
	// AncestryDepth is how many ancestors every process event lists: 0 keeps
	// the enricher's default (8), a negative value lists none.
	AncestryDepth int
	// Environment names the environment variables a NEW_PROCESS reports
	// (collector.Options.Environment): nil keeps the collector's defaults.
	Environment []string
	// PackageOwnership has every NEW_PROCESS say which installed package owns
	// its executable (event/EXE_PACKAGE, event/EXE_UNPACKAGED), from the
	// package database under PackageRoot (default "/"; see package pkgdb).
	PackageOwnership bool
	PackageRoot      string
	// Pods, if set, gives events of processes in Kubernetes pods their pod's
	// context; the run keeps it listing the node's pods (kube.Cache.Run).
	Pods *kube.Cache
	// Edge, if set, evaluates the rules on each captured event before it is
	// batched and puts its detections on the Stream at once (package edge);
	// SensorID, Sink and a nil Log are the run's.
	Edge *edge.Options
}

// Stats reports a finished run.
type Stats struct {
	Collector collector.Stats
	Shipper   shipper.Stats
	Edge      edge.Stats
}

// Drops is everything lost in a run: kernel drops, batches evicted from the spool,
// batches the spool could not write or found corrupt, events left out of a path
// because they could not be encoded.
func (s Stats) Drops() uint64 {
	sh := s.Shipper
	return s.Collector.Dropped + sh.DroppedRecords + sh.DroppedFiles + sh.SpoolErrors + sh.SpoolCorrupt +
		sh.DroppedStreamEvents + sh.DroppedLakeEvents
}

// capture is what a run needs of the collector.
type capture interface {
	Run(ctx context.Context, emit func(*event.Event)) error
	Stats() collector.Stats
	Close() error
	SyscallHook() string
	OpenHook() string
	Unavailable() []string
	Missing() []string
}

// newCollector loads and attaches the eBPF collector.
func newCollector(o collector.Options) (capture, error) {
	c, err := collector.New(o)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Run captures and ships until ctx is done, then flushes what is queued. Errors
// from a host that cannot run the sensor wrap collector.ErrUnsupported.
func Run(ctx context.Context, o Options) (Stats, error) {
	if err := collector.Supported(); err != nil {
		return Stats{}, err
	}
	return run(ctx, o, newCollector)
}

// run is Run with the collector made by newCapture. Every goroutine it starts
// has ended when it returns.
func run(ctx context.Context, o Options, newCapture func(collector.Options) (capture, error)) (Stats, error) {
	host, _ := os.Hostname()
	if o.SensorID == "" {
		o.SensorID = host
	}
	if o.Grace <= 0 {
		o.Grace = 10 * time.Second
	}
	if o.SysClassNet == "" {
		o.SysClassNet = "/sys/class/net"
	}
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	eo := enrich.Options{AncestryDepth: o.AncestryDepth}
	if o.Pods != nil {
		eo.Pods = o.Pods
	}
	enr, err := enrich.New(eo)
	if err != nil {
		return Stats{}, fmt.Errorf("sensor: %w", err)
	}
	col, err := newCapture(collectorOptions(o, enr, host))
	if err != nil {
		return Stats{}, fmt.Errorf("sensor: %w", err)
	}
	defer col.Close()
	log.Info("kernel hooks attached", "syscall_exits", col.SyscallHook(), "file_opens", col.OpenHook())
	for _, u := range col.Unavailable() {
		log.Warn("kernel hook not attached: its events are not captured", "hook", u)
	}
	missing := col.Missing()
	owners := packageOwners(o, log)
	if owners != nil {
		defer owners.Wait()
	}
	if o.PackageOwnership && owners == nil {
		missing = append(missing, MissingPackageOwnership)
	}
	if len(missing) > 0 {
		log.Warn("capabilities missing on this host: each heartbeat lists them", "missing_capabilities", missing)
	}
	ship := shipper.New(shipper.Options{SensorID: o.SensorID, Stream: o.Stream, Lake: o.Lake,
		BatchInterval: o.BatchInterval, RollInterval: o.RollInterval, RollBytes: o.RollBytes,
		Spool: o.Spool, Observer: o.Metrics, Log: log})
	if st := ship.Stats(); st.SpoolRecords+st.SpoolFiles > 0 {
		log.Info("shipping what the spool kept from the last run first", "records", st.SpoolRecords,
			"lake_files", st.SpoolFiles, "bytes", st.SpoolBytes)
	}
	eval, err := newEdge(o, ship, log)
	if err != nil {
		return Stats{}, err
	}
	defer eval.Close()
	stats := func() Stats { return Stats{Collector: col.Stats(), Shipper: ship.Stats(), Edge: eval.Stats()} }
	gen := hoststats.New(hoststats.Options{SensorID: o.SensorID, Hostname: host, Tags: o.Tags, Version: o.Version,
		HeartbeatEvery: o.HeartbeatEvery, StatsEvery: o.StatsEvery,
		TxBytes: hoststats.NetDev("/proc/net/dev", o.SysClassNet),
		Health: func() hoststats.Health {
			st := stats()
			return hoststats.Health{Drops: st.Drops(), SpoolBytes: uint64(max(st.Shipper.SpoolBytes, 0)), Missing: missing}
		}})
	if err := gen.TxErr(); err != nil {
		log.Warn("outbound bytes of HOST_STATS are 0 until the interface counters can be read", "error", err)
	}
	add := func(ev *event.Event) {
		if owners != nil && ev.Type == event.NewProcess {
			setPackage(ev, owners)
		}
		o.Metrics.Event(ev.Type)
		gen.Observe(ev)
		eval.Observe(ev) // before Add: its record goes ahead of the event's batch
		ship.Add(ev)
	}

	// The shipper stops last, on its own context, so that its final flush
	// takes every event: the capture and the goroutines that add events
	// (heartbeats, host stats) end first, whether ctx ended or the capture
	// failed.
	shipCtx, stopShip := context.WithCancel(context.WithoutCancel(ctx))
	shipped := make(chan error, 1)
	go func() { shipped <- ship.Run(shipCtx, o.Grace) }()
	runCtx, stopRun := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { sweep(runCtx, enr) })
	if o.Pods != nil {
		wg.Go(func() { o.Pods.Run(runCtx) })
	}
	wg.Go(func() {
		gen.Run(runCtx, func(ev *event.Event) {
			o.Metrics.Event(ev.Type)
			ship.Add(ev)
		})
	})
	wg.Go(func() { report(runCtx, o.Metrics, stats) })
	if o.Started != nil {
		o.Started(stats)
	}
	runErr := col.Run(runCtx, add)
	stopRun()
	wg.Wait()
	eval.Close() // its last records and tasks go in the final flush
	stopShip()
	shipErr := <-shipped
	final := stats()
	o.Metrics.Report(snapshot(final))
	return final, errors.Join(runErr, shipErr)
}

// MissingPackageOwnership is the missing capability a heartbeat lists when
// package ownership is on and the host has no package database the sensor
// reads.
const MissingPackageOwnership = "package_ownership"

// packageOwners reads the package database when o asks for package ownership;
// nil when it does not, or when the host has none (logged).
func packageOwners(o Options, log *slog.Logger) *pkgdb.Tracker {
	if !o.PackageOwnership {
		return nil
	}
	root := o.PackageRoot
	if root == "" {
		root = "/"
	}
	tr, err := pkgdb.NewTracker(root)
	if err != nil {
		log.Warn("package ownership is on but cannot be told: NEW_PROCESS events carry no package", "error", err)
		return nil
	}
	tr.Errorf = func(err error) { log.Warn("package database reload failed; the last one read is kept", "error", err) }
	return tr
}

// setPackage fills the executable's package of a NEW_PROCESS.
func setPackage(ev *event.Event, owners *pkgdb.Tracker) {
	if p, ok := owners.Owner(ev.FilePath); ok {
		ev.ExePackage = p
	} else {
		ev.ExeUnpackaged = 1
	}
}

func snapshot(st Stats) metrics.Snapshot {
	return metrics.Snapshot{KernelDrops: st.Collector.Dropped, DroppedRecords: st.Shipper.DroppedRecords,
		DroppedFiles: st.Shipper.DroppedFiles, SpoolErrors: st.Shipper.SpoolErrors, SpoolCorrupt: st.Shipper.SpoolCorrupt,
		EncodeStream: st.Shipper.DroppedStreamEvents, EncodeLake: st.Shipper.DroppedLakeEvents, SpoolBytes: st.Shipper.SpoolBytes,
		SpoolRecords: st.Shipper.SpoolRecords, SpoolFiles: st.Shipper.SpoolFiles, KernelTime: st.Collector.KernelTime,
		EdgeDetections: st.Edge.Detections, EdgeUnsent: st.Edge.Unsent, EdgeStateEvicted: st.Edge.StateEvicted,
		EdgeActions: st.Edge.Actions, EdgeDryRuns: st.Edge.DryRuns, EdgeActionsFailed: st.Edge.ActionsFailed}
}

// report sends drops and spool depth every 10 seconds.
func report(ctx context.Context, m *metrics.Metrics, stats func() Stats) {
	if m == nil {
		return
	}
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.Report(snapshot(stats()))
		}
	}
}

// sweep drops processes that exited without an exit event reaching the table.
func sweep(ctx context.Context, enr *enrich.Enricher) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			enr.Sweep()
		}
	}
}
