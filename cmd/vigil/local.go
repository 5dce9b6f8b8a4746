package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/rules"
	"github.com/vigil-sec/vigil/sensor/agent"
	"github.com/vigil-sec/vigil/sensor/collector"
)

type localOptions struct {
	json     bool
	lake     string
	rulesDir string
	sensorID string
	tags     []string
	batch    time.Duration
}

func newLocalCmd() *cobra.Command {
	var o localOptions
	cmd := &cobra.Command{
		Use:   "local",
		Short: "Run the whole pipeline on this machine: eBPF sensor, stream, rules, lake (needs root)",
		Long: `Runs the sensor, an in-process stream carrying the same Parquet batches Kinesis
would, and the detection core with the rule pack, all in one process. Detections
are printed on stdout (one JSON object per line with --json); events are written to
a local lake in the same Hive layout as the S3 lake. Stop with Ctrl-C: queued events
are flushed first.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runLocal(ctx, o, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.json, "json", false, "print each detection as one JSON object per line")
	f.StringVar(&o.lake, "lake", "var/lake", "directory of the local event lake")
	f.StringVar(&o.rulesDir, "rules", "", "directory of rules to use instead of the built-in pack")
	f.StringVar(&o.sensorID, "sensor-id", "", "sensor id (default: local-<hostname>)")
	f.StringArrayVar(&o.tags, "tag", nil, "sensor tag K:V, repeatable")
	f.DurationVar(&o.batch, "batch-interval", 500*time.Millisecond, "how often events are batched onto the stream")
	return cmd
}

func runLocal(ctx context.Context, o localOptions, stdout, stderr io.Writer) error {
	if err := collector.Supported(); err != nil {
		return usageError(fmt.Errorf("local: the sensor cannot capture here: %w; run it as root: sudo vigil local (or make run)", err))
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	eng, err := loadEngine(o.rulesDir)
	if err != nil {
		return usageError(err)
	}
	if o.sensorID == "" {
		host, _ := os.Hostname()
		o.sensorID = "local-" + host
	}
	stream := local.NewStream(1024)
	printer := &detect.Printer{W: stdout, JSON: o.json}
	detected := make(chan error, 1)
	go func() { detected <- consume(ctx, stream, detect.NewDetector(eng), printer, log) }()

	st, runErr := agent.Run(ctx, agent.Options{
		SensorID: o.sensorID, Tags: o.tags, Stream: stream, Lake: &local.Lake{Dir: o.lake},
		BatchInterval: o.batch, RollInterval: time.Minute, Log: log,
		Started: func() {
			log.Info("vigil local running", "sensor", o.sensorID, "rules", len(eng.Rules()), "lake", o.lake)
		},
	})
	stream.Close()
	detectErr := <-detected
	log.Info("vigil local stopped", "events", st.Shipper.Events, "records", st.Shipper.Records,
		"lake_files", st.Shipper.LakeFiles, "kernel_drops", st.Collector.Dropped)
	return errors.Join(runErr, detectErr)
}

// consume evaluates every batch on the stream until it is closed.
func consume(ctx context.Context, s *local.Stream, d *detect.Detector, p detect.Publisher, log *slog.Logger) error {
	var ds []detect.Detection
	for rec := range s.Records() {
		var err error
		ds, _, err = d.Batch(ds[:0], rec.Data)
		if err != nil {
			log.Error("batch refused", "sequence", rec.SequenceNumber, "error", err)
			continue
		}
		if len(ds) > 0 {
			if err := p.Publish(context.WithoutCancel(ctx), ds); err != nil {
				return fmt.Errorf("publish detections: %w", err)
			}
		}
	}
	return nil
}

func loadEngine(dir string) (*engine.Engine, error) {
	if dir == "" {
		return rules.Engine()
	}
	rs, err := engine.LoadDir(dir)
	if err != nil {
		return nil, err
	}
	return engine.New(rs)
}
