package localrun

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/local"
)

// auditStream is the stream the API puts the Kubernetes audit webhook's
// events on: each batch is written to the local lake (Options.Lake, when set)
// under the cluster's partition, sensor=k8s-<cluster>, then goes through
// Process at once, as a sensor's batch from the in-process stream does.
type auditStream struct{ a *App }

func (s auditStream) Put(ctx context.Context, partitionKey string, records [][]byte) error {
	for i, rec := range records {
		evs, err := event.DecodeRecord(nil, rec, detect.MaxBatchRows)
		if err != nil {
			return fmt.Errorf("local: audit batch %d: %w", i, err)
		}
		if err := s.toLake(ctx, partitionKey, evs); err != nil {
			return fmt.Errorf("local: audit batch %d: %w", i, err)
		}
		if _, err := s.a.Process(context.WithoutCancel(ctx), nil, evs, WallClock); err != nil {
			return fmt.Errorf("local: audit batch %d: %w", i, err)
		}
	}
	return nil
}

// toLake writes evs as one lake file of the sensor the partition key names
// (the cluster's k8s-<cluster>), in the hour of the first event, as the
// sensor's shipper rolls its files.
func (s auditStream) toLake(ctx context.Context, sensorID string, evs []event.Event) error {
	if s.a.o.Lake == "" || len(evs) == 0 {
		return nil
	}
	data, err := event.NewLakeEncoder().Encode(evs)
	if err != nil {
		return fmt.Errorf("encode lake file: %w", err)
	}
	first := time.Unix(0, evs[0].TimeNanos)
	lake := &local.Lake{Dir: s.a.o.Lake}
	return lake.Put(ctx, event.LakeKey(sensorID, first, event.NewID(first)), data)
}
