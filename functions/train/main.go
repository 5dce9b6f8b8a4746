package main

import (
	"context"
	"errors"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/version"
)

func main() {
	log.Printf("vigil %s", version.String())
	cfg, cerr := vaws.Config(context.Background())
	job, err := newJob(cfg, os.Getenv)
	if err := errors.Join(cerr, err); err != nil {
		log.Fatal(err)
	}
	lambda.Start(handler(job, log.Printf))
}
