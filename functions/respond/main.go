package main

import (
	"context"
	"errors"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/respond"
	"github.com/vigil-sec/vigil/internal/version"
)

func main() {
	log.Printf("vigil %s", version.String())
	env, err := vaws.Env("VIGIL_TASKS_TABLE", "VIGIL_PAGERDUTY_SECRET_ARN")
	cfg, cerr := vaws.Config(context.Background())
	if err := errors.Join(err, cerr); err != nil {
		log.Fatal(err)
	}
	pd := &respond.PagerDuty{RoutingKey: vaws.SecretField(secretsmanager.NewFromConfig(cfg), env["VIGIL_PAGERDUTY_SECRET_ARN"], "routing_key")}
	h := &respond.Handler{Tasks: vaws.NewTasks(dynamodb.NewFromConfig(cfg), env["VIGIL_TASKS_TABLE"], os.Getenv("VIGIL_TASK_BELLS_TABLE")), Notify: pd}
	lambda.Start(h.Handle)
}
