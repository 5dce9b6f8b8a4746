package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// StackName is the construct id (and default CloudFormation stack name) of the stack.
const StackName = "Vigil"

// Output ids of the stack (CloudFormation output names).
const (
	outStreamName         = "StreamName"
	outLakeBucket         = "LakeBucketName"
	outDLQURL             = "DetectDeadLetterQueueUrl"
	outInstanceProfile    = "SensorInstanceProfileName"
	outAPIURL             = "ApiUrl"
	outBusName            = "BusName"
	outStateMachineArn    = "StateMachineArn"
	outPagerDutySecretArn = "PagerDutySecretArn"
	outAthenaWorkGroup    = "AthenaWorkGroup"
	outTaskBellsTable     = "TaskBellsTableName"
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
	codeDirs := map[string]string{}
	for _, name := range cfg.Functions() {
		dir, err := functionCodeDir(cfg.LambdaDir, name)
		if err != nil {
			return nil, err
		}
		codeDirs[name] = dir
	}

	stage, ok := scope.(awscdk.Stage) // the app itself, or the stage around the stack
	if !ok {
		stage = awscdk.Stage_Of(scope)
	}
	rulesLayer, err := stageRuleSources(cfg, *stage.Outdir())
	if err != nil {
		return nil, err
	}

	stack := awscdk.NewStack(scope, jsii.String(id), props)
	in := newIngest(stack, cfg)
	store := newStore(stack)
	route := newRoute(stack, cfg)
	respond, err := newRespond(stack, cfg, respondDeps{store: store, route: route}, codeDirs[fnRespond])
	if err != nil {
		// Only a definition that cannot be marshalled, which is a bug: undo the stack.
		scope.Node().TryRemoveChild(jsii.String(id))
		return nil, err
	}
	det := newDetect(stack, detectDeps{ingest: in, store: store, route: route, respond: respond}, codeDirs[fnDetect])
	api := newAPI(stack, store, in, codeDirs[fnAPI], codeDirs[fnAuthorizer])
	newEKSAudit(stack, cfg, in)                          // EKS audit logs to the stream, when configured
	rulesLayer.attach(stack, det.Function, api.Function) // the rules detect runs and the API lists
	hunting := newHunting(stack, cfg, in)
	grantSearch(api, hunting, in) // the API's event search runs in the hunting workgroup
	sensors := newSensors(stack, in, store)
	train := newTrain(stack, cfg, in, codeDirs[fnTrain])
	forward := newForward(stack, cfg, route, codeDirs[fnForward]) // nil without a SIEM
	functions := map[string]awslambda.Function{
		fnDetect:     det.Function,
		fnRespond:    respond.Function,
		fnAPI:        api.Function,
		fnAuthorizer: api.Authorizer,
		fnTrain:      train.Function,
	}
	if forward != nil {
		functions[fnForward] = forward.Function
	}
	newObservability(stack, cfg, observed{
		functions: functions,
		detect:    det,
		respond:   respond,
		route:     route,
		forward:   forward,
	})
	addNagSuppressions(stack, nagTargets{ingest: in, detect: det, respond: respond, route: route, api: api,
		sensors: sensors, train: train, forward: forward})

	outputs := []struct {
		id, description string
		value           *string
	}{
		{outStreamName, "Kinesis stream the sensors put Parquet batches on", in.Stream.StreamName()},
		{outLakeBucket, "S3 bucket of the event lake (events/dt=…/hr=…/sensor=…/)", in.Lake.BucketName()},
		{outDLQURL, "SQS queue receiving the shard positions of batches the detect function gave up on", det.DLQ.QueueUrl()},
		{outInstanceProfile, "Instance profile of the EC2 instances running the sensor", sensors.InstanceProfile.InstanceProfileName()},
		{outAPIURL, "Base URL of the Vigil HTTP API (Authorization: Bearer <API key>)", api.HTTPAPI.ApiEndpoint()},
		{outBusName, "EventBridge bus detections are published on", route.Bus.EventBusName()},
		{outStateMachineArn, "Step Functions state machine of the response workflow", respond.StateMachine.StateMachineArn()},
		{outPagerDutySecretArn, `Secrets Manager secret holding {"routing_key": "..."} of the PagerDuty integration`, route.PagerDutySecret.SecretArn()},
		{outAthenaWorkGroup, "Athena workgroup for hunting in the lake (database vigil, table events)", hunting.WorkGroup.Ref()},
		{outTaskBellsTable, "DynamoDB table of task bells the sensors read (respond.task_bell_table)", store.TaskBells.TableName()},
	}
	for _, o := range outputs {
		awscdk.NewCfnOutput(stack, jsii.String(o.id), &awscdk.CfnOutputProps{
			Description: jsii.String(o.description),
			Value:       o.value,
		})
	}
	return stack, nil
}
