package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Settings of the Kinesis → detect event source mapping.
const (
	detectBatchSize     = 100
	detectRetryAttempts = 3
	// detectMaxRecordAgeHours bounds how far behind the function may fall before a
	// batch is skipped (its shard position goes to the DLQ). It is well inside the
	// stream's 24 h retention, so skipped batches can still be replayed from the stream.
	detectMaxRecordAgeHours = 6
)

// Detect is the detection function and where its failed batches go.
type Detect struct {
	Function awslambda.Function
	// DLQ receives, for each batch given up on, the shard and sequence number range
	// (not the records themselves) so the batch can be replayed from the stream.
	DLQ awssqs.Queue
}

// functionCodeDir returns lambdaDir/name after checking that it holds a bootstrap
// binary, so a missing build fails at synth time with what to do about it.
func functionCodeDir(lambdaDir, name string) (string, error) {
	dir := filepath.Join(lambdaDir, name)
	bootstrap := filepath.Join(dir, "bootstrap")
	fi, err := os.Stat(bootstrap)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("lambda %s: %s not found; run `make lambdas` first (or pass -c %s=DIR): %w",
				name, bootstrap, ctxLambdaDir, err)
		}
		return "", fmt.Errorf("lambda %s: %w", name, err)
	}
	if fi.IsDir() {
		return "", fmt.Errorf("lambda %s: %s is a directory, want the function binary; run `make lambdas`", name, bootstrap)
	}
	return dir, nil
}

func newDetect(scope constructs.Construct, in *Ingest, codeDir string) *Detect {
	var d Detect

	d.DLQ = awssqs.NewQueue(scope, jsii.String("DetectDLQ"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})

	d.Function = awslambda.NewFunction(scope, jsii.String("DetectFunction"), &awslambda.FunctionProps{
		Description:  jsii.String("Vigil detect: Kinesis Parquet batches → rules and anomaly scoring → detections"),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(codeDir), nil),
		MemorySize:   jsii.Number(512),
		Timeout:      awscdk.Duration_Seconds(jsii.Number(60)),
		Environment: &map[string]*string{
			"VIGIL_STREAM": in.Stream.StreamName(),
		},
	})

	// Read on the stream includes kms:Decrypt on its key.
	in.Stream.GrantRead(d.Function)

	d.Function.AddEventSource(awslambdaeventsources.NewKinesisEventSource(in.Stream,
		&awslambdaeventsources.KinesisEventSourceProps{
			StartingPosition:        awslambda.StartingPosition_LATEST,
			BatchSize:               jsii.Number(detectBatchSize),
			ReportBatchItemFailures: jsii.Bool(true),
			BisectBatchOnError:      jsii.Bool(true),
			RetryAttempts:           jsii.Number(detectRetryAttempts),
			MaxRecordAge:            awscdk.Duration_Hours(jsii.Number(detectMaxRecordAgeHours)),
			OnFailure:               awslambdaeventsources.NewSqsDlq(d.DLQ),
		}))

	return &d
}
