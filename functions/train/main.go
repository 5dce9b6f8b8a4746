package main

import (
	"context"
	"errors"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/vigil-sec/vigil/internal/anomaly"
	vaws "github.com/vigil-sec/vigil/internal/aws"
)

func main() {
	env, err := vaws.Env("VIGIL_LAKE_BUCKET")
	cfg, cerr := vaws.Config(context.Background())
	job, jerr := anomaly.JobFromEnv(os.Getenv)
	if err := errors.Join(err, cerr, jerr); err != nil {
		log.Fatal(err)
	}
	bucket := vaws.NewBucket(cfg, env["VIGIL_LAKE_BUCKET"], os.Getenv("VIGIL_S3_PATH_STYLE") == "true")
	job.Lake, job.Out = bucket, bucket
	lambda.Start(func(ctx context.Context) (anomaly.Summary, error) {
		s, err := job.Run(ctx)
		log.Printf("train: %d rows from %d files (%d unreadable, %v), groups %v, wrote %s (%d bytes)", s.Rows, s.Files, s.BadFiles, s.Errors, s.Groups, s.Key, s.Bytes)
		return s, err
	})
}
