package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// nagTargets are the constructs cdk-nag findings are suppressed on.
type nagTargets struct {
	ingest  *Ingest
	detect  *Detect
	respond *Respond
	route   *Route
	api     *API
	sensors *Sensors
	train   *Train
	forward *Forward // nil when no SIEM is configured
}

// suppression is one accepted AwsSolutions finding: the rule, why, and (for the IAM
// rules) which findings exactly, as cdk-nag names them: a string or, for a resource
// whose logical id carries a hash, an ECMA-262 regular expression.
type suppression struct {
	id, reason string
	appliesTo  []any
}

// resourceRegex matches the cdk-nag finding for an ARN attribute of a resource whose
// logical id starts with logicalIDPrefix, followed by suffix (e.g. "/index/*").
func resourceRegex(logicalIDPrefix, suffix string) any {
	escaped := ""
	for _, r := range suffix {
		switch r {
		case '*', '/', '.', '+', '?', '(', ')', '[', ']', '{', '}', '^', '$', '|', '\\':
			escaped += `\`
		}
		escaped += string(r)
	}
	return &cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<` + logicalIDPrefix + `[0-9A-F]{8}\.Arn>` + escaped + `$/`)}
}

func suppress(construct any, ss ...suppression) {
	var out []*cdknag.NagPackSuppression
	for _, s := range ss {
		p := &cdknag.NagPackSuppression{Id: jsii.String(s.id), Reason: jsii.String(s.reason)}
		if len(s.appliesTo) > 0 {
			applies := s.appliesTo
			p.AppliesTo = &applies
		}
		out = append(out, p)
	}
	cdknag.NagSuppressions_AddResourceSuppressions(construct, &out, jsii.Bool(true))
}

// basicExecutionRole is the managed policy the functions' roles carry.
var basicExecutionRole = suppression{
	id: "AwsSolutions-IAM4",
	reason: "AWSLambdaBasicExecutionRole only lets the function create its log streams and put its log events " +
		"in CloudWatch Logs; it grants nothing else.",
	appliesTo: []any{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"},
}

// tableIndexes accepts the index/* resource of table grants on tables with GSIs.
func tableIndexes(tables ...string) suppression {
	var applies []any
	for _, t := range tables {
		applies = append(applies, resourceRegex(t, "/index/*"))
	}
	return suppression{
		id: "AwsSolutions-IAM5",
		reason: "The function queries the table's global secondary indexes (by_sensor, by_tag); the grant " +
			"covers the indexes of that one table and nothing else.",
		appliesTo: applies,
	}
}

// addNagSuppressions records, on the resources concerned, why the AwsSolutions
// findings that remain are accepted. Each one names the exact finding it accepts.
func addNagSuppressions(stack awscdk.Stack, t nagTargets) {
	suppress(t.ingest.Stream, suppression{
		id: "AwsSolutions-KDS3",
		reason: "The stream is encrypted with the stack's customer-managed key on purpose: the same key " +
			"encrypts the lake, rotates yearly, and its use is limited to Kinesis and S3 for the sensors.",
	})

	suppress(t.detect.Function, basicExecutionRole, tableIndexes("DetectionsTable", "TasksTable"), suppression{
		id:        "AwsSolutions-IAM5",
		reason:    "The detect function reads the anomaly models: s3:GetObject under the lake's models/ prefix only.",
		appliesTo: []any{resourceRegex("Lake", "/models/*")},
	})
	suppress(t.detect.DLQ, suppression{
		id: "AwsSolutions-SQS3",
		reason: "This queue is the dead-letter queue of the Kinesis event source mapping of the detect " +
			"function; it holds shard positions to replay, and an alarm watches its depth.",
	})

	suppress(t.respond.Function, basicExecutionRole, tableIndexes("TasksTable"))
	suppress(t.respond.StateMachine, suppression{
		id: "AwsSolutions-IAM5",
		reason: "Resource * is required by the X-Ray (tracing) and CloudWatch Logs delivery (logging) actions, " +
			"which support no resource-level permissions; <respond function ARN>:* lets the workflow invoke " +
			"the versions of that one function.",
		appliesTo: []any{"Resource::*", resourceRegex("RespondFunction", ":*")},
	})

	suppress(t.route.DLQ, suppression{
		id: "AwsSolutions-SQS3",
		reason: "This queue is the dead-letter queue of the PagerDuty targets of the paging rules; an alarm " +
			"watches its depth.",
	})
	if t.route.Created {
		suppress(t.route.PagerDutySecret, suppression{
			id: "AwsSolutions-SMG4",
			reason: "The secret holds a PagerDuty integration's routing key, which PagerDuty issues; it is " +
				"replaced by hand (in PagerDuty and here together), not by a rotation function.",
		})
	}

	suppress(t.api.Function, basicExecutionRole, tableIndexes("DetectionsTable", "TasksTable"), suppression{
		id: "AwsSolutions-IAM5",
		reason: "The api function's event search runs in Athena with the function's credentials: it reads the " +
			"lake's events/ prefix (s3:GetObject, the partitions a query names) and writes query results under " +
			"athena-results/ (the workgroup's output location), nothing else of the bucket.",
		appliesTo: []any{resourceRegex("Lake", "/events/*"), resourceRegex("Lake", "/athena-results/*")},
	})
	suppress(t.api.Authorizer, basicExecutionRole)

	suppress(t.train.Function, basicExecutionRole, suppression{
		id: "AwsSolutions-IAM5",
		reason: "The train function reads the events of the last days: s3:GetObject under the lake's events/ " +
			"prefix only (the day partitions it reads change daily); it writes the one model object.",
		appliesTo: []any{resourceRegex("Lake", "/events/*")},
	})

	suppress(t.train.SchedulerRole, suppression{
		id: "AwsSolutions-IAM5",
		reason: "The scheduler's role invokes the train function; <train function ARN>:* covers the versions " +
			"and aliases of that one function.",
		appliesTo: []any{resourceRegex("TrainFunction", ":*")},
	})

	if t.forward != nil {
		suppress(t.forward.Function, basicExecutionRole)
		suppress(t.forward.DLQ, suppression{
			id: "AwsSolutions-SQS3",
			reason: "This queue is the dead-letter queue of the forward rule's target and the forward " +
				"function's failed invocations; an alarm watches its depth.",
		})
	}

	suppress(t.sensors.Role, suppression{
		id: "AwsSolutions-IAM5",
		reason: "Sensors write new objects with generated keys under the lake's events/ and artifacts/ prefixes " +
			"(s3:PutObject and s3:AbortMultipartUpload only); per-sensor scoping is described in infra/doc.go.",
		appliesTo: []any{resourceRegex("Lake", "/events/*"), resourceRegex("Lake", "/artifacts/*")},
	}, suppression{
		id: "AwsSolutions-IAM5",
		reason: "Sensors read their configuration and API key at boot from SSM parameters the operator names " +
			"under " + sensorParameterPath + " (ssm:GetParameter only, that path of the stack's account and region).",
		appliesTo: []any{"Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter" + sensorParameterPath + "*"},
	})
}
