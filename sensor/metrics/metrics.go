package metrics

import (
	"fmt"
	"sync"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"
)

// Metric names.
const (
	Events       = "vigil.sensor.events"
	Drops        = "vigil.sensor.drops"
	BatchBytes   = "vigil.sensor.batch_bytes"
	ShipLatency  = "vigil.sensor.ship_latency"
	SpoolBytes   = "vigil.sensor.spool_bytes"
	SpoolBatches = "vigil.sensor.spool_batches"
	BPFCPU       = "vigil.sensor.bpf_cpu"

	EdgeDetections   = "vigil.sensor.edge_detections"
	EdgeUnsent       = "vigil.sensor.edge_unsent"
	EdgeStateEvicted = "vigil.sensor.edge_state_evicted"
	EdgeActions      = "vigil.sensor.edge_actions"
)

// Metrics is a statsd client for the sensor's metrics; safe for concurrent use.
type Metrics struct {
	c statsd.ClientInterface

	mu       sync.Mutex
	last     Snapshot
	typeTags map[string][]string
	pathTags map[string][]string
	dropTags map[string][]string
}

// New returns a client sending to addr (host:port, or unix:///path). An empty addr
// returns nil: metrics disabled. tags are added to every metric.
func New(addr string, tags []string) (*Metrics, error) {
	if addr == "" {
		return nil, nil
	}
	c, err := statsd.New(addr,
		statsd.WithTags(tags),
		statsd.WithoutTelemetry(),
		statsd.WithoutOriginDetection(),
		statsd.WithClientSideAggregation(),
	)
	if err != nil {
		return nil, fmt.Errorf("metrics: statsd %s: %w", addr, err)
	}
	return NewWithClient(c), nil
}

// NewWithClient wraps an existing statsd client.
func NewWithClient(c statsd.ClientInterface) *Metrics {
	return &Metrics{c: c, typeTags: map[string][]string{}, pathTags: map[string][]string{}, dropTags: map[string][]string{}}
}

func tagFor(m map[string][]string, mu *sync.Mutex, key, v string) []string {
	mu.Lock()
	defer mu.Unlock()
	t, ok := m[v]
	if !ok {
		t = []string{key + ":" + v}
		m[v] = t
	}
	return t
}

// Event counts one event of type typ.
func (m *Metrics) Event(typ string) {
	if m == nil {
		return
	}
	_ = m.c.Count(Events, 1, tagFor(m.typeTags, &m.mu, "event_type", typ), 1)
}

// Shipped records one batch shipped on path ("stream" or "lake").
func (m *Metrics) Shipped(path string, bytes int, latency time.Duration) {
	if m == nil {
		return
	}
	tags := tagFor(m.pathTags, &m.mu, "path", path)
	_ = m.c.Distribution(BatchBytes, float64(bytes), tags, 1)
	_ = m.c.Timing(ShipLatency, latency, tags, 1)
}

// Snapshot is the cumulative state Report turns into drop counts and gauges.
type Snapshot struct {
	KernelDrops    uint64 // events the kernel could not queue
	DroppedRecords uint64 // stream batches evicted from the spool
	DroppedFiles   uint64 // lake files evicted from the spool
	SpoolErrors    uint64 // batches the spool could not write
	SpoolCorrupt   uint64 // spooled batches found unreadable and removed
	EncodeStream   uint64 // events left out of the stream: they could not be encoded
	EncodeLake     uint64 // events left out of the lake likewise
	SpoolBytes     int64
	SpoolRecords   int
	SpoolFiles     int
	KernelTime     time.Duration // run time of the eBPF programs so far (0 without BPF statistics)

	// Edge detection (package edge): detections made on the host, detections
	// and tasks never handed to the stream, live state entries dropped at the
	// state's bound, edge actions carried out, dry runs, and failed ones.
	EdgeDetections, EdgeUnsent, EdgeStateEvicted uint64
	EdgeActions, EdgeDryRuns, EdgeActionsFailed  uint64
}

// Report sends what changed since the previous Report: drops and eBPF run time
// as counts (the increase), the spool's depth as gauges.
func (m *Metrics) Report(s Snapshot) {
	if m == nil {
		return
	}
	m.mu.Lock()
	prev := m.last
	m.last = s
	m.mu.Unlock()
	drop := func(source string, now, before uint64) {
		if now > before {
			_ = m.c.Count(Drops, int64(now-before), tagFor(m.dropTags, &m.mu, "source", source), 1)
		}
	}
	drop("kernel", s.KernelDrops, prev.KernelDrops)
	drop("spool_records", s.DroppedRecords, prev.DroppedRecords)
	drop("spool_files", s.DroppedFiles, prev.DroppedFiles)
	drop("spool_write", s.SpoolErrors, prev.SpoolErrors)
	drop("spool_corrupt", s.SpoolCorrupt, prev.SpoolCorrupt)
	drop("encode_stream", s.EncodeStream, prev.EncodeStream)
	drop("encode_lake", s.EncodeLake, prev.EncodeLake)
	count := func(name string, now, before uint64, tags ...string) {
		if now > before {
			_ = m.c.Count(name, int64(now-before), tags, 1)
		}
	}
	count(EdgeDetections, s.EdgeDetections, prev.EdgeDetections)
	count(EdgeUnsent, s.EdgeUnsent, prev.EdgeUnsent)
	count(EdgeStateEvicted, s.EdgeStateEvicted, prev.EdgeStateEvicted)
	count(EdgeActions, s.EdgeActions, prev.EdgeActions, "result:done")
	count(EdgeActions, s.EdgeDryRuns, prev.EdgeDryRuns, "result:dry_run")
	count(EdgeActions, s.EdgeActionsFailed, prev.EdgeActionsFailed, "result:failed")
	if s.KernelTime > prev.KernelTime {
		_ = m.c.Count(BPFCPU, (s.KernelTime - prev.KernelTime).Microseconds(), nil, 1)
	}
	_ = m.c.Gauge(SpoolBytes, float64(s.SpoolBytes), nil, 1)
	_ = m.c.Gauge(SpoolBatches, float64(s.SpoolRecords), tagFor(m.pathTags, &m.mu, "path", "stream"), 1)
	_ = m.c.Gauge(SpoolBatches, float64(s.SpoolFiles), tagFor(m.pathTags, &m.mu, "path", "lake"), 1)
}

// Close flushes what is buffered and closes the client.
func (m *Metrics) Close() error {
	if m == nil {
		return nil
	}
	return m.c.Close()
}
