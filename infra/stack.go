package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// StackName is the construct id (and default CloudFormation stack name) of the stack.
const StackName = "Vigil"

// Output ids of the stack (CloudFormation output names).
const (
	outStreamName = "StreamName"
	outLakeBucket = "LakeBucketName"
	outDLQURL     = "DetectDeadLetterQueueUrl"
)

// NewVigilStack reads the configuration from scope's context, checks it, and adds the
// Vigil stack to scope. Nothing is added when the configuration is invalid.
func NewVigilStack(scope constructs.Construct, id string, props *awscdk.StackProps) (awscdk.Stack, error) {
	cfg, err := ConfigFromContext(func(key string) any {
		return scope.Node().TryGetContext(jsii.String(key))
	})
	if err != nil {
		return nil, err
	}
	detectDir, err := functionCodeDir(cfg.LambdaDir, "detect")
	if err != nil {
		return nil, err
	}

	stack := awscdk.NewStack(scope, jsii.String(id), props)
	in := newIngest(stack, cfg)
	det := newDetect(stack, in, detectDir)

	awscdk.NewCfnOutput(stack, jsii.String(outStreamName), &awscdk.CfnOutputProps{
		Description: jsii.String("Kinesis stream the sensors put Parquet batches on"),
		Value:       in.Stream.StreamName(),
	})
	awscdk.NewCfnOutput(stack, jsii.String(outLakeBucket), &awscdk.CfnOutputProps{
		Description: jsii.String("S3 bucket of the event lake (events/dt=…/hr=…/sensor=…/)"),
		Value:       in.Lake.BucketName(),
	})
	awscdk.NewCfnOutput(stack, jsii.String(outDLQURL), &awscdk.CfnOutputProps{
		Description: jsii.String("SQS queue receiving the shard positions of batches the detect function gave up on"),
		Value:       det.DLQ.QueueUrl(),
	})
	return stack, nil
}
