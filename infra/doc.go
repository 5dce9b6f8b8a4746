// Command infra is the AWS CDK app (Go, aws-cdk-lib v2) that defines the Vigil stack.
//
// It is run by the CDK CLI through cdk.json ({"app": "go run ./infra"}), from the
// repository root:
//
//	make lambdas   # builds bin/<function>/bootstrap (linux/arm64)
//	cdk synth --app "go run ./infra" -o cdk.out -c lambdaDir=bin
//
// The stack "Vigil" is built one file per concern:
//
//   - ingest.go: the customer-managed KMS key (rotation on) that encrypts both the
//     Kinesis stream and the lake; the stream sensors put one Parquet batch per record
//     on (partition key = sensor id); the lake bucket (SSE-KMS with a bucket key,
//     public access blocked, TLS ≥ 1.2 only, versioned, objects under events/ move to
//     Glacier after lakeGlacierDays) and its server-access-log bucket (SSE-S3, which is
//     all S3 log delivery supports; public access blocked, TLS only).
//   - detect.go: the detect function (provided.al2023, arm64, handler "bootstrap",
//     512 MB, 60 s) fed by a Kinesis event source mapping: LATEST, batches of 100,
//     partial batch responses (ReportBatchItemFailures), bisect on error, 3 retries,
//     records older than 6 h skipped. Batches given up on send their shard and
//     sequence-number range to an SQS dead-letter queue (SSE-SQS, TLS only, 14 days);
//     the stream keeps the records 24 h, so they can be replayed from there. The
//     parallelization factor stays 1, keeping each sensor's events in order.
//   - stack.go: wires the concerns together and exports the outputs StreamName,
//     LakeBucketName and DetectDeadLetterQueueUrl.
//   - config.go: the context keys below, checked before anything is built.
//
// Context keys (cdk.json "context" or -c key=value on the command line):
//
//	streamMode       "on-demand" (default) or "provisioned"
//	shardCount       shards of a provisioned stream (default 1; only with provisioned)
//	lakeGlacierDays  days before lake objects under events/ move to Glacier (default 90)
//	lambdaDir        directory holding <function>/bootstrap (default "bin")
//
// Synth fails with an error naming the missing file when lambdaDir/detect/bootstrap
// does not exist: run `make lambdas` first.
//
// Environment of the detect function: VIGIL_STREAM (the stream name).
//
// cdk.json carries the recommended feature flags of the aws-cdk-lib version in go.mod,
// turns off version reporting, notices and CLI telemetry so that synth never needs the
// network. The assembly it writes (schema 50) needs CDK CLI 2.1105.0 or newer.
//
// The tests (go test ./infra/) synthesize the stack with the same cdk.json context and
// a dummy bootstrap, and assert the template with the assertions module.
package main
