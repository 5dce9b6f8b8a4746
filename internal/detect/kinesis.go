package detect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/vigil-sec/vigil/internal/event"
)

// KinesisHandler is the detect function's core: one invocation of a Kinesis event
// source mapping, with ReportBatchItemFailures.
type KinesisHandler struct {
	Detector  *Detector
	Publisher Publisher
	Sensors   SensorRegistry // may be nil
	Anomalies *Anomalies     // may be nil: rules only
	Metrics   Metrics        // may be nil
	Log       *slog.Logger
}

// Metrics the handler sends (internal/metrics delivers them to Datadog):
//
//	vigil.detect.records     count   Kinesis records handled, tagged result:ok|failed|poison
//	vigil.detect.events      count   events decoded
//	vigil.detect.detections  count   detections raised, tagged rule:<name>, severity:<level>
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

// Handle evaluates each record (one Parquet batch) and publishes its detections.
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
		ds, n, err = h.Detector.Batch(ds[:0], rec.Kinesis.Data)
		if err == nil && h.Anomalies != nil {
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
		if err == nil && h.Sensors != nil {
			err = h.heartbeats(ctx)
		}
		h.measure(err, n, ds, time.Since(start))
		if err != nil {
			log.Error("record failed", "sequence", rec.Kinesis.SequenceNumber,
				"partition_key", rec.Kinesis.PartitionKey, "poison", errors.Is(err, event.ErrNotParquet), "error", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures,
				events.KinesisBatchItemFailure{ItemIdentifier: rec.Kinesis.SequenceNumber})
			continue
		}
		log.Debug("record evaluated", "sequence", rec.Kinesis.SequenceNumber, "events", n, "detections", len(ds))
	}
	return resp, nil
}

// heartbeats records the sensors of the batch's SENSOR_HEARTBEAT events.
func (h *KinesisHandler) heartbeats(ctx context.Context) error {
	evs := h.Detector.Events()
	for i := range evs {
		if evs[i].Type == event.SensorHeartbeat {
			if err := h.Sensors.Heartbeat(ctx, &evs[i]); err != nil {
				return fmt.Errorf("record heartbeat: %w", err)
			}
		}
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
	case errors.Is(err, event.ErrNotParquet):
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
		h.Metrics.Count(MetricDetections, 1, "rule:"+ds[i].Rule, "severity:"+ds[i].Severity)
	}
}
