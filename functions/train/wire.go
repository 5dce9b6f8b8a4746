package main

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/vigil-sec/vigil/internal/anomaly"
	vaws "github.com/vigil-sec/vigil/internal/aws"
)

// newJob wires the training job from its environment (getenv): the lake bucket
// VIGIL_LAKE_BUCKET (required; addressed in the path when VIGIL_S3_PATH_STYLE is
// true) is both where the events are read and where the model set is written; the
// other settings are anomaly.JobFromEnv's. Every bad or missing variable is named.
func newJob(cfg aws.Config, getenv func(string) string) (*anomaly.Job, error) {
	var errs []error
	name := getenv("VIGIL_LAKE_BUCKET")
	if name == "" {
		errs = append(errs, errors.New("missing environment: VIGIL_LAKE_BUCKET"))
	}
	bucket, err := vaws.BucketFromEnv(cfg, name, getenv)
	job, jerr := anomaly.JobFromEnv(getenv)
	if err := errors.Join(append(errs, err, jerr)...); err != nil {
		return nil, err
	}
	job.Lake, job.Out = bucket, bucket
	return job, nil
}

// handler returns the function's handler: one run of job per invocation, its
// summary logged through logf (failed runs included) and returned.
func handler(job *anomaly.Job, logf func(format string, args ...any)) func(context.Context) (anomaly.Summary, error) {
	return func(ctx context.Context) (anomaly.Summary, error) {
		s, err := job.Run(ctx)
		logf("train: %d rows from %d files (%d unreadable, %v), groups %v, wrote %s (%d bytes)",
			s.Rows, s.Files, s.BadFiles, s.Errors, s.Groups, s.Key, s.Bytes)
		return s, err
	}
}
