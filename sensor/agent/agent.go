package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/vigil-sec/vigil/sensor/collector"
	"github.com/vigil-sec/vigil/sensor/enrich"
	"github.com/vigil-sec/vigil/sensor/shipper"
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
	// Grace bounds the final flush after the context ends; default 10s.
	Grace time.Duration
	Log   *slog.Logger
	// Started, if set, is called once the probes are attached.
	Started func()
}

// Stats reports a finished run.
type Stats struct {
	Collector collector.Stats
	Shipper   shipper.Stats
}

// Run captures and ships until ctx is done, then flushes what is queued. Errors
// from a host that cannot run the sensor wrap collector.ErrUnsupported.
func Run(ctx context.Context, o Options) (Stats, error) {
	if err := collector.Supported(); err != nil {
		return Stats{}, err
	}
	host, _ := os.Hostname()
	if o.SensorID == "" {
		o.SensorID = host
	}
	if o.Grace <= 0 {
		o.Grace = 10 * time.Second
	}
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	enr, err := enrich.New(enrich.Options{})
	if err != nil {
		return Stats{}, fmt.Errorf("sensor: %w", err)
	}
	col, err := collector.New(collector.Options{Enricher: enr, SensorID: o.SensorID, Hostname: host, Tags: o.Tags})
	if err != nil {
		return Stats{}, fmt.Errorf("sensor: %w", err)
	}
	defer col.Close()
	ship := shipper.New(shipper.Options{SensorID: o.SensorID, Stream: o.Stream, Lake: o.Lake,
		BatchInterval: o.BatchInterval, RollInterval: o.RollInterval, Log: log})

	shipCtx, stopShip := context.WithCancel(context.WithoutCancel(ctx))
	shipped := make(chan error, 1)
	go func() { shipped <- ship.Run(shipCtx, o.Grace) }()
	go sweep(ctx, enr)
	if o.Started != nil {
		o.Started()
	}
	runErr := col.Run(ctx, ship.Add)
	stopShip()
	shipErr := <-shipped
	return Stats{Collector: col.Stats(), Shipper: ship.Stats()}, errors.Join(runErr, shipErr)
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
