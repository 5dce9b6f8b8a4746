package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/vigil-sec/vigil/internal/anomaly"
)

// Settings of the detect function and its Kinesis event source mapping,
// chosen from BenchmarkHandleRecorded (docs/cost.md, "Sizing the detect
// function"): a whole shard of one-second records of 100 events takes about a
// half a vCPU; 1,024 MB gives an invocation 0.58 of one, and two batches
// of a shard run at once (each sensor's records still in order), so a shard
// that fell behind is caught up at several times its rate. Batches of 1,000
// records make one invocation a second of a busy shard, not ten.
const (
	detectMemoryMB        = 1024
	detectBatchSize       = 1000
	detectParallelBatches = 2
	detectRetryAttempts   = 3
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

// modelKey is the lake object holding the anomaly model set: the train function
// writes it and the detect function loads it (VIGIL_MODEL_KEY of both), under the
// models/ prefix. It is the key the training job writes by default.
const modelKey = anomaly.DefaultModelKey

// detectDeps are the resources the detect function reads and writes.
type detectDeps struct {
	ingest  *Ingest
	store   *Store
	route   *Route
	respond *Respond
}

func newDetect(scope constructs.Construct, deps detectDeps, codeDir string) *Detect {
	var d Detect
	in := deps.ingest

	d.DLQ = awssqs.NewQueue(scope, jsii.String("DetectDLQ"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})

	d.Function = newGoFunction(scope, functionSpec{
		name:        fnDetect,
		description: "Vigil detect: Kinesis Parquet batches → rules and anomaly scoring → detections",
		memoryMB:    detectMemoryMB,
		timeout:     awscdk.Duration_Seconds(jsii.Number(60)),
		env: map[string]*string{
			"VIGIL_DETECTIONS_TABLE":  deps.store.Detections.TableName(),
			"VIGIL_SENSORS_TABLE":     deps.store.Sensors.TableName(),
			"VIGIL_STATE_TABLE":       deps.store.RuleState.TableName(),
			"VIGIL_BUS_NAME":          deps.route.Bus.EventBusName(),
			"VIGIL_STATE_MACHINE_ARN": deps.respond.StateMachine.StateMachineArn(),
			"VIGIL_LAKE_BUCKET":       in.Lake.BucketName(),
			"VIGIL_MODEL_KEY":         jsii.String(modelKey),
			"VIGIL_TASKS_TABLE":       deps.store.Tasks.TableName(),
			// the garbage collector runs when the heap nears three quarters
			// of the function's memory, not each time it doubles: decoding
			// allocates a batch's strings, and collecting them as often
			// as the default would costs a third of the decode's time
			"GOGC":       jsii.String("off"),
			"GOMEMLIMIT": jsii.String(fmt.Sprintf("%dMiB", detectMemoryMB*3/4)),
		},
	}, codeDir)

	deps.store.Detections.GrantReadWriteData(d.Function)
	deps.store.Sensors.GrantReadWriteData(d.Function)
	deps.store.RuleState.GrantReadWriteData(d.Function)
	// the tasks sensors carried out for their edge actions (edge records)
	deps.store.Tasks.GrantReadWriteData(d.Function)
	deps.route.Bus.GrantPutEventsTo(d.Function, nil)
	deps.respond.StateMachine.GrantStartExecution(d.Function)
	// Only the models, not the events: s3:GetObject under models/ (the lake's key
	// decrypts them).
	d.Function.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("s3:GetObject"),
		Resources: jsii.Strings(*in.Lake.ArnForObjects(jsii.String(lakeModelsPrefix + "*"))),
	}))
	in.Key.GrantDecrypt(d.Function)

	// Read on the stream includes kms:Decrypt on its key.
	in.Stream.GrantRead(d.Function)

	d.Function.AddEventSource(awslambdaeventsources.NewKinesisEventSource(in.Stream,
		&awslambdaeventsources.KinesisEventSourceProps{
			StartingPosition:        awslambda.StartingPosition_LATEST,
			BatchSize:               jsii.Number(detectBatchSize),
			ParallelizationFactor:   jsii.Number(detectParallelBatches),
			ReportBatchItemFailures: jsii.Bool(true),
			BisectBatchOnError:      jsii.Bool(true),
			RetryAttempts:           jsii.Number(detectRetryAttempts),
			MaxRecordAge:            awscdk.Duration_Hours(jsii.Number(detectMaxRecordAgeHours)),
			OnFailure:               awslambdaeventsources.NewSqsDlq(d.DLQ),
		}))

	return &d
}
