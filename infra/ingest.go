package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// lakeEventsPrefix is where sensors write Parquet files in the lake
// (events/dt=YYYY-MM-DD/hr=HH/sensor=<id>/<ulid>.parquet).
const lakeEventsPrefix = "events/"

// Ingest is the entry point of telemetry: the hot-path stream and the cold-path lake.
type Ingest struct {
	// Key encrypts the stream and the lake; whoever writes or reads either needs it.
	Key awskms.Key
	// Stream carries one Parquet batch per record, partition key = sensor id.
	Stream awskinesis.Stream
	// Lake holds the rolled Parquet files for hunting (Glue/Athena) and training.
	Lake awss3.Bucket
	// AccessLogs receives the lake's server access logs.
	AccessLogs awss3.Bucket
}

func newIngest(scope constructs.Construct, cfg Config) *Ingest {
	var in Ingest

	in.Key = awskms.NewKey(scope, jsii.String("IngestKey"), &awskms.KeyProps{
		Description:       jsii.String("Vigil: encrypts the ingest stream and the event lake"),
		EnableKeyRotation: jsii.Bool(true),
	})

	streamProps := &awskinesis.StreamProps{
		Encryption:    awskinesis.StreamEncryption_KMS,
		EncryptionKey: in.Key,
		StreamMode:    cfg.StreamMode,
	}
	if cfg.StreamMode == awskinesis.StreamMode_PROVISIONED {
		streamProps.ShardCount = jsii.Number(cfg.ShardCount)
	}
	in.Stream = awskinesis.NewStream(scope, jsii.String("Events"), streamProps)

	// Target of server access logs: S3 delivers them with SSE-S3 only.
	in.AccessLogs = awss3.NewBucket(scope, jsii.String("LakeAccessLogs"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		EnforceSSL:        jsii.Bool(true),
		MinimumTLSVersion: jsii.Number(1.2),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})

	in.Lake = awss3.NewBucket(scope, jsii.String("Lake"), &awss3.BucketProps{
		Encryption:             awss3.BucketEncryption_KMS,
		EncryptionKey:          in.Key,
		BucketKeyEnabled:       jsii.Bool(true),
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		EnforceSSL:             jsii.Bool(true),
		MinimumTLSVersion:      jsii.Number(1.2),
		Versioned:              jsii.Bool(true),
		ServerAccessLogsBucket: in.AccessLogs,
		ServerAccessLogsPrefix: jsii.String("lake/"),
		RemovalPolicy:          awscdk.RemovalPolicy_RETAIN,
		LifecycleRules:         lakeLifecycleRules(cfg), // lake.go: one rule per prefix
	})

	return &in
}
