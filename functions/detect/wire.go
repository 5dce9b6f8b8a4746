package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/vigil-sec/vigil/internal/anomaly"
	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/metrics"
	"github.com/vigil-sec/vigil/internal/rulesource"
	"github.com/vigil-sec/vigil/rules"
)

// newHandler wires the detect function from its environment: the rule set
// (loadEngine), the DynamoDB tables (the tasks table takes the tasks of edge
// records), the bus, the response state machine and the anomaly model in
// the lake bucket (VIGIL_S3_PATH_STYLE as for the train function).
func newHandler(ctx context.Context) (*detect.KinesisHandler, error) {
	env, err := vaws.Env("VIGIL_DETECTIONS_TABLE", "VIGIL_SENSORS_TABLE", "VIGIL_STATE_TABLE", "VIGIL_BUS_NAME",
		"VIGIL_STATE_MACHINE_ARN", "VIGIL_LAKE_BUCKET", "VIGIL_MODEL_KEY", "VIGIL_TASKS_TABLE")
	cfg, cerr := vaws.Config(ctx)
	eng, rerr := loadEngine(os.Getenv)
	lake, lerr := vaws.BucketFromEnv(cfg, env["VIGIL_LAKE_BUCKET"], os.Getenv)
	if err := errors.Join(err, cerr, rerr, lerr); err != nil {
		return nil, err
	}
	// the Datadog extension (added with the API key secret) listens for DogStatsD
	var statsd string
	if os.Getenv("DD_API_KEY_SECRET_ARN") != "" {
		statsd = "127.0.0.1:8125"
	}
	m, err := metrics.New(statsd, []string{"function:detect"})
	if err != nil {
		return nil, err
	}
	db := dynamodb.NewFromConfig(cfg)
	model := &anomaly.Live{Source: lake, Key: env["VIGIL_MODEL_KEY"]}
	return &detect.KinesisHandler{
		Detector: detect.NewDetectorState(eng, &vaws.RuleState{Client: db, Table: env["VIGIL_STATE_TABLE"]}),
		Publisher: &detect.Sinks{
			Store:    &vaws.Detections{Client: db, Table: env["VIGIL_DETECTIONS_TABLE"]},
			Bus:      &vaws.Bus{Client: eventbridge.NewFromConfig(cfg), BusName: env["VIGIL_BUS_NAME"]},
			Workflow: &vaws.Workflow{Client: sfn.NewFromConfig(cfg), StateMachineArn: env["VIGIL_STATE_MACHINE_ARN"]},
		},
		Sensors:   &vaws.Sensors{Client: db, Table: env["VIGIL_SENSORS_TABLE"]},
		Tasks:     &vaws.Tasks{Client: db, Table: env["VIGIL_TASKS_TABLE"]},
		Anomalies: &detect.Anomalies{Scorer: model.Scorer},
		Metrics:   metricsOrNil(m),
	}, nil
}

// loadEngine loads the rule set the environment names: the embedded pack unless
// VIGIL_BUILTIN_RULES is false, and the sources of VIGIL_RULE_SOURCES (the rules
// layer the stack deploys). Any error of any file fails the cold start, naming it.
func loadEngine(getenv func(string) string) (*engine.Engine, error) {
	set, err := rulesource.FromEnv(getenv, rules.FS)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	for _, s := range set.Sources {
		log.Printf("rules: %s", s.Summary())
	}
	for _, c := range set.Changes {
		log.Printf("rules: tuning %s", c)
	}
	return set.Engine()
}

// metricsOrNil keeps a disabled client from becoming a non-nil interface.
func metricsOrNil(m *metrics.Client) detect.Metrics {
	if m == nil {
		return nil
	}
	return m
}
