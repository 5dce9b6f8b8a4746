package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/sensor/agent"
	"github.com/vigil-sec/vigil/sensor/collector"
)

type tagList []string

func (t *tagList) String() string     { return strings.Join(*t, ",") }
func (t *tagList) Set(v string) error { *t = append(*t, v); return nil }

func main() {
	var o agent.Options
	var tags tagList
	stream := flag.String("stream", "", "Kinesis stream name for the hot path")
	lakeDir := flag.String("local", "", "write lake files to this directory instead of shipping to the cloud")
	flag.StringVar(&o.SensorID, "sensor-id", "", "sensor id (default: the host name)")
	flag.Var(&tags, "tag", "sensor tag K:V, repeatable")
	flag.Parse()
	o.Tags = tags
	o.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	if *stream == "" && *lakeDir == "" {
		fmt.Fprintln(os.Stderr, "vigil-sensor: give --stream NAME (Kinesis) and/or --local DIR")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *stream != "" {
		cfg, err := vaws.Config(ctx)
		if err != nil {
			fmt.Fprintf(os.Stderr, "vigil-sensor: %v\n", err)
			os.Exit(2)
		}
		o.Stream = &vaws.Kinesis{Client: kinesis.NewFromConfig(cfg), StreamName: *stream}
	}
	if *lakeDir != "" {
		o.Lake = &local.Lake{Dir: *lakeDir}
	}
	st, err := agent.Run(ctx, o)
	o.Log.Info("sensor stopped", "events", st.Shipper.Events, "records", st.Shipper.Records, "lake_files", st.Shipper.LakeFiles, "drops", st.Collector.Dropped)
	if errors.Is(err, collector.ErrUnsupported) {
		fmt.Fprintf(os.Stderr, "vigil-sensor: %v; run it as root\n", err)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "vigil-sensor: %v\n", err)
		os.Exit(1)
	}
}
