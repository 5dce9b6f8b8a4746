package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/vigil-sec/vigil/sensor/agent"
	"github.com/vigil-sec/vigil/sensor/config"
	"github.com/vigil-sec/vigil/sensor/health"
)

// startHealth serves the health probes on health.listen (nil when it is
// empty): the monitor learns that the capture runs from o.Started. The address
// is bound before the capture starts, so a port taken fails the start.
func startHealth(ctx context.Context, cfg config.Config, o *agent.Options, log *slog.Logger) (*health.Monitor, error) {
	if cfg.HealthListen == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.HealthListen)
	if err != nil {
		return nil, fmt.Errorf("%s: health.listen: %w", cfg.Source("health.listen"), err)
	}
	m := health.New(health.Options{FailureThreshold: cfg.HealthFailureThreshold})
	o.Started = func(stats func() agent.Stats) {
		m.Started(func() health.Sample {
			st := stats()
			return health.Sample{StreamPuts: st.Shipper.Records, StreamFailures: st.Shipper.StreamFailures,
				LakePuts: st.Shipper.LakeFiles, LakeFailures: st.Shipper.LakeFailures,
				SpoolBytes: st.Shipper.SpoolBytes, Drops: st.Drops()}
		})
	}
	go m.Run(ctx, 10*time.Second)
	go func() {
		if err := health.Serve(ctx, ln, m.Handler()); err != nil {
			log.Error("health probes stopped", "error", err)
		}
	}()
	log.Info("health probes", "listen", ln.Addr().String(), "paths", "/livez /healthz")
	return m, nil
}
