package main

import (
	"context"
	"errors"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/rules"
)

func main() {
	env, err := vaws.Env("VIGIL_DETECTIONS_TABLE", "VIGIL_SENSORS_TABLE", "VIGIL_STATE_TABLE", "VIGIL_BUS_NAME", "VIGIL_STATE_MACHINE_ARN")
	cfg, cerr := vaws.Config(context.Background())
	eng, rerr := rules.Engine()
	if err := errors.Join(err, cerr, rerr); err != nil {
		log.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	sinks := &detect.Sinks{Store: &vaws.Detections{Client: db, Table: env["VIGIL_DETECTIONS_TABLE"]},
		Bus:      &vaws.Bus{Client: eventbridge.NewFromConfig(cfg), BusName: env["VIGIL_BUS_NAME"]},
		Workflow: &vaws.Workflow{Client: sfn.NewFromConfig(cfg), StateMachineArn: env["VIGIL_STATE_MACHINE_ARN"]}}
	state := &vaws.RuleState{Client: db, Table: env["VIGIL_STATE_TABLE"]}
	lambda.Start((&detect.KinesisHandler{Detector: detect.NewDetectorState(eng, state), Publisher: sinks, Sensors: &vaws.Sensors{Client: db, Table: env["VIGIL_SENSORS_TABLE"]}}).Handle)
}
