package main

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsschedulertargets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Settings of the daily training.
const (
	trainMemoryMB       = 1024
	trainTimeoutMinutes = 15
	// trainSchedule runs the training every day at 03:00 UTC (EventBridge Scheduler
	// cron: minutes hours day-of-month month day-of-week year).
	trainSchedule = "cron(0 3 * * ? *)"
	// trainScheduleRetries and trainScheduleMaxAgeHours bound how long Scheduler keeps
	// trying to invoke the function (throttling, service errors); a failed run itself is
	// retried by Lambda's asynchronous invocation (trainRetryAttempts) and counted by the errors alarm.
	trainScheduleRetries     = 10
	trainScheduleMaxAgeHours = 6
	// trainRetryAttempts: a failed run is tried once more (Lambda asynchronous
	// invocation), not the default twice: each try may take the whole timeout.
	trainRetryAttempts = 1
)

// Train is the scheduled training of the host activity anomaly models.
type Train struct {
	Function awslambda.Function
	// Schedule invokes Function once a day.
	Schedule awsscheduler.Schedule
	// SchedulerRole is the role Schedule invokes Function with.
	SchedulerRole awsiam.Role
}

// newTrain adds the train function, which reads the last cfg.TrainDays days of
// events from the lake and writes the model set to modelKey, where the detect
// function reads it; EventBridge Scheduler runs it daily.
//
// EventBridge Scheduler rather than a scheduled EventBridge rule: its Schedule
// construct is stable in aws-cdk-lib v2 (awsscheduler), it has its own retry policy
// and role (trusted by scheduler.amazonaws.com for this account only, allowed to
// invoke this one function), and schedules are not tied to an event bus.
func newTrain(scope constructs.Construct, cfg Config, in *Ingest, codeDir string) *Train {
	var t Train
	t.Function = newGoFunction(scope, functionSpec{
		name:        fnTrain,
		description: "Vigil train: lake HOST_STATS events → host activity anomaly models (daily)",
		memoryMB:    trainMemoryMB,
		timeout:     awscdk.Duration_Minutes(jsii.Number(trainTimeoutMinutes)),
		env: map[string]*string{
			"VIGIL_LAKE_BUCKET":      in.Lake.BucketName(),
			"VIGIL_MODEL_KEY":        jsii.String(modelKey),
			"VIGIL_TRAIN_DAYS":       jsii.String(strconv.Itoa(cfg.TrainDays)),
			"VIGIL_ANOMALY_GROUP_BY": jsii.String(cfg.AnomalyGroupBy),
		},
	}, codeDir)
	t.Function.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
		RetryAttempts: jsii.Number(trainRetryAttempts),
	})

	// Listing only under events/ (s3:prefix), reading only the events, writing only
	// the model object.
	t.Function.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("s3:ListBucket"),
		Resources: jsii.Strings(*in.Lake.BucketArn()),
		Conditions: &map[string]any{
			"StringLike": map[string]any{"s3:prefix": []string{lakeEventsPrefix + "*"}},
		},
	}))
	t.Function.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("s3:GetObject"),
		Resources: jsii.Strings(*in.Lake.ArnForObjects(jsii.String(lakeEventsPrefix + "*"))),
	}))
	t.Function.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("s3:PutObject"),
		Resources: jsii.Strings(*in.Lake.ArnForObjects(jsii.String(modelKey))),
	}))
	// The lake's key: decrypt what it reads, a data key for the model it writes.
	t.Function.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"),
		Resources: jsii.Strings(*in.Key.KeyArn()),
	}))

	// The role Scheduler assumes, for schedules of this account only; the target
	// allows it to invoke the function.
	t.SchedulerRole = awsiam.NewRole(scope, jsii.String("TrainSchedulerRole"), &awsiam.RoleProps{
		Description: jsii.String("Vigil: EventBridge Scheduler invokes the train function"),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Stack_Of(scope).Account()},
			},
		}),
	})
	t.Schedule = awsscheduler.NewSchedule(scope, jsii.String("TrainSchedule"), &awsscheduler.ScheduleProps{
		Description: jsii.String("Vigil: train the host activity anomaly models every day"),
		Schedule:    awsscheduler.ScheduleExpression_Expression(jsii.String(trainSchedule), awscdk.TimeZone_ETC_UTC()),
		Target: awsschedulertargets.NewLambdaInvoke(t.Function, &awsschedulertargets.ScheduleTargetBaseProps{
			Role:          t.SchedulerRole,
			RetryAttempts: jsii.Number(trainScheduleRetries),
			MaxEventAge:   awscdk.Duration_Hours(jsii.Number(trainScheduleMaxAgeHours)),
		}),
	})
	return &t
}
