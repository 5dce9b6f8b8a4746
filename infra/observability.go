package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Alarm thresholds.
const (
	// detectIteratorAgeMs: the detect function is more than a minute behind the stream.
	detectIteratorAgeMs = 60_000
	alarmPeriodMinutes  = 5
)

// datadogLayerAccount publishes the Datadog Lambda extension layers.
const datadogLayerAccount = "464622532012"

// Observability holds the alarms (without actions: subscribe them to what pages you).
type Observability struct {
	Alarms map[string]awscloudwatch.Alarm
}

// observed are the things alarms watch.
type observed struct {
	functions map[string]awslambda.Function // by function name: every function deployed
	detect    *Detect
	respond   *Respond
	route     *Route
	forward   *Forward // nil when no SIEM is configured
}

func newAlarm(scope constructs.Construct, id, description string, metric awscloudwatch.Metric, threshold float64) awscloudwatch.Alarm {
	return metric.CreateAlarm(scope, jsii.String(id), &awscloudwatch.CreateAlarmOptions{
		AlarmDescription:   jsii.String(description),
		Threshold:          jsii.Number(threshold),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
}

func newObservability(scope constructs.Construct, cfg Config, o observed) *Observability {
	obs := Observability{Alarms: map[string]awscloudwatch.Alarm{}}
	period := awscdk.Duration_Minutes(jsii.Number(alarmPeriodMinutes))
	maximum := jsii.String("Maximum")
	sum := jsii.String("Sum")

	obs.Alarms["DetectIteratorAgeAlarm"] = newAlarm(scope, "DetectIteratorAgeAlarm",
		"The detect function is more than 60 s behind the ingest stream",
		o.detect.Function.Metric(jsii.String("IteratorAge"), &awscloudwatch.MetricOptions{Statistic: maximum, Period: period}),
		detectIteratorAgeMs)
	obs.Alarms["DetectDLQAlarm"] = newAlarm(scope, "DetectDLQAlarm",
		"The detect function gave up on a batch: its shard position is in the dead-letter queue",
		o.detect.DLQ.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Statistic: maximum, Period: period}),
		0)
	obs.Alarms["PagingDLQAlarm"] = newAlarm(scope, "PagingDLQAlarm",
		"EventBridge could not deliver a detection to PagerDuty",
		o.route.DLQ.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Statistic: maximum, Period: period}),
		0)
	obs.Alarms["ResponseFailedAlarm"] = newAlarm(scope, "ResponseFailedAlarm",
		"A response workflow execution failed",
		o.respond.StateMachine.MetricFailed(&awscloudwatch.MetricOptions{Statistic: sum, Period: period}),
		0)
	if o.forward != nil {
		obs.Alarms["ForwardDLQAlarm"] = newAlarm(scope, "ForwardDLQAlarm",
			"A detection was not forwarded to the SIEM: it is in the forward dead-letter queue",
			o.forward.DLQ.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Statistic: maximum, Period: period}),
			0)
	}
	for _, name := range cfg.Functions() {
		id := functionID(name) + "ErrorsAlarm"
		obs.Alarms[id] = newAlarm(scope, id,
			fmt.Sprintf("The %s function returned errors", name),
			o.functions[name].MetricErrors(&awscloudwatch.MetricOptions{Statistic: sum, Period: period}),
			0)
	}

	if cfg.DatadogAPIKeySecretArn != "" {
		addDatadog(scope, cfg, o.functions)
	}
	return &obs
}

// addDatadog adds the Datadog Lambda extension to every function: the extension layer,
// its settings, and read access to the secret holding the API key. The functions'
// statsd metrics (datadog-go) go to the extension on localhost:8125.
func addDatadog(scope constructs.Construct, cfg Config, functions map[string]awslambda.Function) {
	layerArn := fmt.Sprintf("arn:%s:lambda:%s:%s:layer:Datadog-Extension-ARM:%d",
		*awscdk.Aws_PARTITION(), *awscdk.Stack_Of(scope).Region(), datadogLayerAccount, cfg.DatadogExtensionVersion)
	layer := awslambda.LayerVersion_FromLayerVersionArn(scope, jsii.String("DatadogExtension"), jsii.String(layerArn))
	for _, name := range cfg.Functions() {
		fn := functions[name]
		fn.AddLayers(layer)
		fn.AddEnvironment(jsii.String("DD_API_KEY_SECRET_ARN"), jsii.String(cfg.DatadogAPIKeySecretArn), nil)
		fn.AddEnvironment(jsii.String("DD_SITE"), jsii.String(cfg.DatadogSite), nil)
		fn.AddEnvironment(jsii.String("DD_SERVERLESS_LOGS_ENABLED"), jsii.String("false"), nil)
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
			Resources: jsii.Strings(cfg.DatadogAPIKeySecretArn),
		}))
	}
}
