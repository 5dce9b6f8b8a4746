package localrun

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/internal/version"
	"github.com/vigil-sec/vigil/sensor/agent"
	"github.com/vigil-sec/vigil/sensor/config"
	"github.com/vigil-sec/vigil/sensor/edge"
	srespond "github.com/vigil-sec/vigil/sensor/respond"
)

// Live runs the sensor into an in-process stream and processes every batch on
// it until ctx ends; the batches the sensor flushes as it stops are processed
// too. The sensor evaluates the App's rule set on each event as it is captured
// (sensor/edge) and puts its detections on the stream at once, where they are
// published ahead of their event's batch (see the package documentation). With
// Options.Enforce the sensor's task runner carries out this host's response
// tasks from the store and the edge actions.
func (a *App) Live(ctx context.Context) error {
	stream := local.NewStream(1024)
	detected := make(chan error, 1)
	go func() { detected <- a.consume(ctx, stream) }()
	eo := &edge.Options{Rules: a.eng.Rules(), Enforce: a.o.Enforce}
	if a.o.Enforce {
		r := &srespond.Runner{
			Source:    &srespond.StoreSource{Store: a.store.TaskStore(), SensorID: a.o.SensorID},
			SensorID:  a.o.SensorID,
			StatePath: filepath.Join(a.o.Data, "respond.json"),
			Lake:      &local.Lake{Dir: a.o.Lake},
			Isolation: srespond.Isolation{Allow: a.o.IsolateAllow},
			Log:       a.log,
		}
		eo.Executor = r
		if err := r.Restore(ctx); err != nil {
			return fmt.Errorf("local: restore isolation: %w", err)
		}
		go func() {
			if err := r.Run(ctx, 2*time.Second, 5*time.Minute); err != nil && ctx.Err() == nil {
				a.log.Error("response tasks stopped", "error", err)
			}
		}()
	}
	st, runErr := agent.Run(ctx, agent.Options{
		SensorID: a.o.SensorID, Tags: a.o.Tags, Stream: stream, Lake: &local.Lake{Dir: a.o.Lake},
		BatchInterval: a.o.BatchInterval, RollInterval: time.Minute, Log: a.log, Version: version.String(),
		Edge: eo, ReadDelay: config.EdgeReadDelay,
		Started: func(func() agent.Stats) {
			a.log.Info("vigil local running", "sensor", a.o.SensorID, "rules", len(a.eng.Rules()), "lake", a.o.Lake,
				"store", a.o.Data, "enforce", a.o.Enforce)
		},
	})
	stream.Close()
	detectErr := <-detected
	a.log.Info("vigil local stopped", "events", st.Shipper.Events, "records", st.Shipper.Records,
		"lake_files", st.Shipper.LakeFiles, "kernel_drops", st.Collector.Dropped)
	return errors.Join(runErr, detectErr)
}

// consume decodes every record on the stream until the stream is closed: an
// edge record's detections are published and its tasks stored, a batch is
// processed at the wall clock. A record that does not decode is logged and
// skipped.
func (a *App) consume(ctx context.Context, s *local.Stream) error {
	ctx = context.WithoutCancel(ctx) // the final flush after Ctrl-C is evaluated too
	var evs []event.Event
	var ds []detect.Detection
	for rec := range s.Records() {
		var err error
		if detect.IsEdgeRecord(rec.Data) {
			if err := a.publishEdge(ctx, rec); err != nil {
				return err
			}
			continue
		}
		evs, err = event.DecodeRecord(evs[:0], rec.Data, detect.MaxBatchRows)
		if err != nil {
			a.log.Error("batch refused", "sequence", rec.SequenceNumber, "error", err)
			continue
		}
		if ds, err = a.Process(ctx, ds[:0], evs, WallClock); err != nil {
			return err
		}
	}
	return nil
}

// publishEdge publishes the detections of an edge record the sensor put on the
// stream, as Process publishes its own (the store claims each id once, so the
// batch's evaluation of the same event publishes nothing new), and stores its
// finished tasks. A record that does not decode is logged and skipped; a
// publisher or store error is returned.
func (a *App) publishEdge(ctx context.Context, rec local.Record) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	r, err := a.det.EdgeRecord(rec.PartitionKey, rec.Data)
	if err != nil {
		a.log.Error("edge record refused", "sequence", rec.SequenceNumber, "error", err)
		return nil
	}
	if len(r.Detections) > 0 {
		if err := a.sinks.Publish(ctx, r.Detections); err != nil {
			return fmt.Errorf("publish edge detections: %w", err)
		}
	}
	if err := detect.StoreEdgeTasks(ctx, a.store.TaskStore(), r.Tasks); err != nil {
		return fmt.Errorf("local: %w", err)
	}
	return nil
}
