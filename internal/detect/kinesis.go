package detect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

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
	Log       *slog.Logger
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
	for _, rec := range in.Records {
		var n int
		var err error
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
