package detect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/vigil-sec/vigil/internal/cadence"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/task"
)

// KinesisHandler is the detect function's core: one invocation of a Kinesis event
// source mapping, with ReportBatchItemFailures.
type KinesisHandler struct {
	Detector  *Detector
	Publisher Publisher
	Sensors   SensorRegistry // may be nil
	// SensorWriteInterval is the least time, by the heartbeats' own clock,
	// between two writes of a sensor's entry to Sensors: a heartbeat sooner than
	// that after the one last written is skipped unless the entry would change
	// otherwise (hostname, version, tags, drops, or a restart: the uptime went
	// back). Zero means cadence.RegistryWrite; negative, every heartbeat. The
	// last writes are remembered per handler, so per function instance: a new
	// instance writes each sensor's next heartbeat.
	SensorWriteInterval time.Duration
	Anomalies           *Anomalies // may be nil: rules only
	// Tasks keeps the tasks sensors carried out for their edge actions; nil
	// leaves them out (logged).
	Tasks   TaskRecorder
	Metrics Metrics // may be nil
	Log     *slog.Logger

	mu      sync.Mutex
	written map[string]sensorEntry // sensor id → the heartbeat last written
}

// sensorEntry is what a sensor's registry entry holds, from its heartbeat.
type sensorEntry struct {
	timeNanos int64
	hostname  string
	version   string
	tags      []string
	uptime    uint64
	drops     uint64
}

func entryOf(ev *event.Event) sensorEntry {
	return sensorEntry{timeNanos: ev.TimeNanos, hostname: ev.Hostname, version: ev.SensorVersion,
		tags: slices.Clone(ev.Tags), uptime: ev.UptimeSeconds, drops: ev.Drops}
}

// due reports whether next must be written after last: it is newer by at
// least every, or it says more than the time did.
func (last sensorEntry) due(next sensorEntry, every time.Duration) bool {
	switch {
	case next.timeNanos <= last.timeNanos:
		return false // the registry keeps the newest heartbeat: nothing to write
	case next.hostname != last.hostname || next.version != last.version || next.drops != last.drops ||
		!slices.Equal(next.tags, last.tags) || next.uptime < last.uptime:
		return true
	}
	return time.Duration(next.timeNanos-last.timeNanos) >= every
}

// TaskRecorder keeps sensor tasks: the tasks store (internal/aws.Tasks) takes
// the finished tasks of edge records.
type TaskRecorder interface {
	// Create stores t unless a task of its id exists, and returns the stored one.
	Create(ctx context.Context, t task.Task) (task.Task, error)
	// Update moves a task that has not ended to status with result.
	Update(ctx context.Context, id string, status task.Status, result string, now time.Time) (task.Task, error)
}

// Metrics the handler sends (internal/metrics delivers them to Datadog):
//
//	vigil.detect.records     count   Kinesis records handled, tagged result:ok|failed|poison
//	vigil.detect.events      count   events decoded
//	vigil.detect.detections  count   detections raised, tagged rule:<name>, severity:<level>
//	                                 (and source:edge for those of edge records)
//	vigil.detect.batch_time  timing  per record: decode, evaluate and publish
const (
	MetricRecords    = "vigil.detect.records"
	MetricEvents     = "vigil.detect.events"
	MetricDetections = "vigil.detect.detections"
	MetricBatchTime  = "vigil.detect.batch_time"
)

// Metrics receives the handler's counts and timings.
type Metrics interface {
	Count(name string, n int64, tags ...string)
	Timing(name string, d time.Duration, tags ...string)
	Flush() error
}

// Handle evaluates each record (one Parquet batch) and publishes its detections;
// an edge record's detections are published as they are, and its tasks stored.
// A record that cannot be decoded or whose detections cannot be published is
// reported in BatchItemFailures by sequence number, so Lambda retries from it (and,
// with bisection and the on-failure destination, a poison record ends in the DLQ
// without stopping the shard); records before it are not retried.
func (h *KinesisHandler) Handle(ctx context.Context, in events.KinesisEvent) (events.KinesisEventResponse, error) {
	var resp events.KinesisEventResponse
	log := h.Log
	if log == nil {
		log = slog.Default()
	}
	var ds []Detection
	if h.Metrics != nil {
		defer func() {
			if err := h.Metrics.Flush(); err != nil {
				log.Warn("metrics not sent", "error", err)
			}
		}()
	}
	for _, rec := range in.Records {
		var n int
		var err error
		start := time.Now()
		edge := IsEdgeRecord(rec.Kinesis.Data)
		switch {
		case edge:
			ds, err = h.edge(ctx, ds[:0], rec.Kinesis.PartitionKey, rec.Kinesis.Data, log)
		case IsLogsRecord(rec.Kinesis.Data):
			ds, n, err = h.Detector.LogsRecord(ds[:0], rec.Kinesis.Data)
		default:
			ds, n, err = h.Detector.Batch(ds[:0], rec.Kinesis.Data)
		}
		if err == nil && !edge && h.Anomalies != nil {
			var aerr error
			if ds, aerr = h.Anomalies.Append(ctx, ds, h.Detector.Events()); aerr != nil {
				log.Warn("anomaly scoring skipped", "error", aerr)
			}
		}
		if err == nil && len(ds) > 0 {
			if perr := h.Publisher.Publish(ctx, ds); perr != nil {
				err = fmt.Errorf("publish %d detections: %w", len(ds), perr)
			}
		}
		if err == nil && !edge && h.Sensors != nil {
			err = h.heartbeats(ctx)
		}
		h.measure(err, n, ds, time.Since(start))
		if err != nil {
			log.Error("record failed", "sequence", rec.Kinesis.SequenceNumber,
				"partition_key", rec.Kinesis.PartitionKey, "poison", poison(err), "error", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures,
				events.KinesisBatchItemFailure{ItemIdentifier: rec.Kinesis.SequenceNumber})
			continue
		}
		log.Debug("record evaluated", "sequence", rec.Kinesis.SequenceNumber, "edge", edge, "events", n, "detections", len(ds))
	}
	return resp, nil
}

// poison reports whether err is a record that can never be read.
func poison(err error) bool {
	return errors.Is(err, event.ErrNotParquet) || errors.Is(err, ErrNotEdgeRecord) || errors.Is(err, ErrBadLogsPayload)
}

// edge appends an edge record's detections to dst, as the sensor with id
// sensorID (the record's partition key) made them, and stores its tasks.
func (h *KinesisHandler) edge(ctx context.Context, dst []Detection, sensorID string, data []byte, log *slog.Logger) ([]Detection, error) {
	r, err := h.Detector.EdgeRecord(sensorID, data)
	if err != nil {
		return dst, err
	}
	if len(r.Tasks) > 0 && h.Tasks == nil {
		log.Warn("edge tasks not stored: no tasks store", "sensor", sensorID, "tasks", len(r.Tasks))
	} else if err := StoreEdgeTasks(ctx, h.Tasks, r.Tasks); err != nil {
		return dst, err
	}
	return append(dst, r.Detections...), nil
}

// heartbeats records the sensors of the batch's SENSOR_HEARTBEAT events, each
// sensor at most once per SensorWriteInterval unless its entry changes.
func (h *KinesisHandler) heartbeats(ctx context.Context) error {
	every := h.SensorWriteInterval
	if every == 0 {
		every = cadence.RegistryWrite
	}
	evs := h.Detector.Events()
	for i := range evs {
		if evs[i].Type != event.SensorHeartbeat {
			continue
		}
		next := entryOf(&evs[i])
		h.mu.Lock()
		last, seen := h.written[evs[i].SensorID]
		h.mu.Unlock()
		if seen && every > 0 && !last.due(next, every) {
			continue
		}
		if err := h.Sensors.Heartbeat(ctx, &evs[i]); err != nil {
			return fmt.Errorf("record heartbeat: %w", err)
		}
		h.mu.Lock()
		if h.written == nil {
			h.written = map[string]sensorEntry{}
		}
		if cur, ok := h.written[evs[i].SensorID]; !ok || next.timeNanos > cur.timeNanos {
			h.written[evs[i].SensorID] = next
		}
		h.mu.Unlock()
	}
	return nil
}

// measure reports one record to Metrics.
func (h *KinesisHandler) measure(err error, events int, ds []Detection, took time.Duration) {
	if h.Metrics == nil {
		return
	}
	result := "ok"
	switch {
	case poison(err):
		result = "poison"
	case err != nil:
		result = "failed"
	}
	h.Metrics.Count(MetricRecords, 1, "result:"+result)
	h.Metrics.Count(MetricEvents, int64(events))
	h.Metrics.Timing(MetricBatchTime, took)
	if err != nil {
		return
	}
	for i := range ds {
		if ds[i].Edge {
			h.Metrics.Count(MetricDetections, 1, "rule:"+ds[i].Rule, "severity:"+ds[i].Severity, "source:edge")
			continue
		}
		h.Metrics.Count(MetricDetections, 1, "rule:"+ds[i].Rule, "severity:"+ds[i].Severity)
	}
}
