package main

import (
	"context"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/siem"
	"github.com/vigil-sec/vigil/internal/version"
)

func main() {
	log.Printf("vigil %s", version.String())
	ctx := context.Background()
	cfg, err := vaws.Config(ctx)
	if err != nil {
		log.Fatal(err)
	}
	pubs, err := siem.FromEnv(ctx, os.Getenv, vaws.SecretString(secretsmanager.NewFromConfig(cfg)))
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(siem.Handler(pubs))
}
