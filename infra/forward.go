package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Settings of the SIEM forwarding.
const (
	forwardMemoryMB = 256
	// forwardSIEMTimeout bounds one HTTP attempt (SIEM_TIMEOUT); with the forwarder's
	// 5 attempts and backoff, one SIEM takes at most about a minute, so two fit in
	// forwardTimeoutSeconds.
	forwardSIEMTimeout    = "10s"
	forwardTimeoutSeconds = 180
	// forwardRetryAttempts and forwardMaxEventAgeHours: how long EventBridge keeps
	// trying to hand a detection to the function (as for the paging rules).
	forwardRetryAttempts    = 185
	forwardMaxEventAgeHours = 24
	// forwardAsyncRetries: how often Lambda runs the function again when forwarding
	// a detection failed, before the detection goes to the dead-letter queue.
	forwardAsyncRetries     = 2
	forwardAsyncMaxAgeHours = 6
)

// Forward sends every detection of the bus to the configured SIEMs (Splunk HEC,
// Elasticsearch); only deployed when one is configured.
type Forward struct {
	Function awslambda.Function
	// Rule delivers the bus's detections to Function.
	Rule awsevents.Rule
	// DLQ receives the detections that were not forwarded: those EventBridge could not
	// hand to the function, and those the function failed on after its retries.
	DLQ awssqs.Queue
}

// newForward adds the forward function and the rule feeding it, or nothing (nil)
// when no SIEM is configured.
func newForward(scope constructs.Construct, cfg Config, route *Route, codeDir string) *Forward {
	if !cfg.Forward() {
		return nil
	}
	var f Forward

	env := map[string]*string{"SIEM_TIMEOUT": jsii.String(forwardSIEMTimeout)}
	var secrets []string
	if cfg.SplunkHecURL != "" {
		env["SPLUNK_HEC_URL"] = jsii.String(cfg.SplunkHecURL)
		env["SPLUNK_HEC_TOKEN_SECRET"] = jsii.String(cfg.SplunkTokenSecretArn)
		secrets = append(secrets, cfg.SplunkTokenSecretArn)
	}
	if cfg.ElasticURL != "" {
		env["ELASTIC_URL"] = jsii.String(cfg.ElasticURL)
		env["ELASTIC_API_KEY_SECRET"] = jsii.String(cfg.ElasticAPIKeySecretArn)
		secrets = append(secrets, cfg.ElasticAPIKeySecretArn)
	}

	f.DLQ = awssqs.NewQueue(scope, jsii.String("ForwardDLQ"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})

	f.Function = newGoFunction(scope, functionSpec{
		name:        fnForward,
		description: "Vigil forward: bus detections → Splunk HEC / Elasticsearch",
		memoryMB:    forwardMemoryMB,
		timeout:     awscdk.Duration_Seconds(jsii.Number(forwardTimeoutSeconds)),
		env:         env,
	}, codeDir)
	f.Function.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
		Resources: jsii.Strings(secrets...),
	}))
	// EventBridge invokes the function asynchronously: a detection the function fails
	// on is retried by Lambda, then sent to the dead-letter queue with the error.
	f.Function.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
		RetryAttempts: jsii.Number(forwardAsyncRetries),
		MaxEventAge:   awscdk.Duration_Hours(jsii.Number(forwardAsyncMaxAgeHours)),
		OnFailure:     awslambdadestinations.NewSqsDestination(f.DLQ),
	})

	f.Rule = awsevents.NewRule(scope, jsii.String("ForwardDetections"), &awsevents.RuleProps{
		Description: jsii.String("Forward every detection to the SIEM"),
		EventBus:    route.Bus,
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(detectionSource),
			DetailType: jsii.Strings(detectionDetailType),
		},
	})
	f.Rule.AddTarget(awseventstargets.NewLambdaFunction(f.Function, &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: f.DLQ,
		RetryAttempts:   jsii.Number(forwardRetryAttempts),
		MaxEventAge:     awscdk.Duration_Hours(jsii.Number(forwardMaxEventAgeHours)),
	}))
	return &f
}
