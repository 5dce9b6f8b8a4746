package main

import (
	"context"
	"errors"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/vigil-sec/vigil/internal/api"
	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/version"
)

func main() {
	log.Printf("vigil %s", version.String())
	env, err := vaws.Env("VIGIL_API_KEYS_TABLE")
	cfg, cerr := vaws.Config(context.Background())
	if err := errors.Join(err, cerr); err != nil {
		log.Fatal(err)
	}
	lambda.Start(api.Authorizer(&vaws.APIKeys{Client: dynamodb.NewFromConfig(cfg), Table: env["VIGIL_API_KEYS_TABLE"]}))
}
