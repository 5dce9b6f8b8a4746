package main

import (
	"context"
	"errors"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/vigil-sec/vigil/internal/api"
	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/rulesource"
	"github.com/vigil-sec/vigil/rules"
)

// newServer wires the API from the environment: the tables, the rule set the
// detect function runs (the same VIGIL_BUILTIN_RULES and VIGIL_RULE_SOURCES),
// and the ingest stream the Kubernetes audit webhook puts its events on
// (VIGIL_INGEST_STREAM; without it the route answers 501).
func newServer(ctx context.Context) (*api.Server, error) {
	env, err := vaws.Env("VIGIL_SENSORS_TABLE", "VIGIL_DETECTIONS_TABLE", "VIGIL_TASKS_TABLE")
	cfg, cerr := vaws.Config(ctx)
	set, rerr := rulesource.FromEnv(os.Getenv, rules.FS)
	if err := errors.Join(err, cerr, rerr); err != nil {
		return nil, err
	}
	db := dynamodb.NewFromConfig(cfg)
	s := &api.Server{Sensors: &vaws.Sensors{Client: db, Table: env["VIGIL_SENSORS_TABLE"]},
		Detections: &vaws.Detections{Client: db, Table: env["VIGIL_DETECTIONS_TABLE"]},
		Tasks:      vaws.NewTasks(db, env["VIGIL_TASKS_TABLE"], os.Getenv("VIGIL_TASK_BELLS_TABLE")), Rules: set.Rules}
	if wg := os.Getenv("VIGIL_ATHENA_WORKGROUP"); wg != "" { // the search routes; without it they answer 501
		s.Events = &vaws.EventSearch{Client: athena.NewFromConfig(cfg), WorkGroup: wg,
			Database: os.Getenv("VIGIL_GLUE_DATABASE"), Table: os.Getenv("VIGIL_GLUE_TABLE"),
			AllSensorsTable: os.Getenv("VIGIL_GLUE_ALL_SENSORS_TABLE")}
	}
	if t := os.Getenv("VIGIL_API_KEYS_TABLE"); t != "" { // the keys routes; without it they answer 501
		s.KeyAdmin = &vaws.APIKeys{Client: db, Table: t}
	}
	if name := os.Getenv("VIGIL_INGEST_STREAM"); name != "" {
		s.Stream = &vaws.Kinesis{Client: kinesis.NewFromConfig(cfg), StreamName: name}
	}
	return s, nil
}
