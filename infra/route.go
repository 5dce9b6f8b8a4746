package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// What detect publishes on the bus: Source "vigil", DetailType "Detection".
const (
	detectionSource     = "vigil"
	detectionDetailType = "Detection"
)

// PagerDuty Events v2.
const (
	pagerDutyEndpoint = "https://events.pagerduty.com/v2/enqueue"
	// pagerDutyRoutingKeyField is the field of the secret's JSON holding the routing key.
	pagerDutyRoutingKeyField = "routing_key"
	// pagerDutyHeader carries the connection's API key. PagerDuty Events v2 reads the
	// routing key from the body and ignores this header, but an EventBridge connection
	// needs some authorization; it is given the same secret.
	pagerDutyHeader = "X-Routing-Key"
	// pagerDutyRateLimit bounds the calls per second EventBridge makes to PagerDuty.
	pagerDutyRateLimit = 10
)

// pagingRoutes maps the detection severities that page to the PagerDuty severity they
// page with (PagerDuty knows critical, error, warning and info). One rule per entry;
// together their patterns are {"source":["vigil"],"detail-type":["Detection"],
// "detail":{"severity":["high","critical"]}}.
var pagingRoutes = []struct {
	id                string // construct id of the rule
	severity          string // detail.severity of the detection
	pagerDutySeverity string
}{
	{"PageCritical", "critical", "critical"},
	{"PageHigh", "high", "error"},
}

// archiveRetentionDays is how long the bus archive keeps events for replay.
const archiveRetentionDays = 30

// Route carries detections from the bus to PagerDuty.
type Route struct {
	// Bus receives every detection (Source "vigil", DetailType "Detection").
	Bus awsevents.EventBus
	// PagerDutySecret holds {"routing_key": "..."}; created by the stack (with a
	// placeholder to replace) unless context pagerDutySecretArn names one.
	PagerDutySecret awssecretsmanager.ISecret
	// Created is true when the stack created PagerDutySecret.
	Created bool
	// Rules are the paging rules, one per entry of pagingRoutes.
	Rules []awsevents.Rule
	// DLQ receives the events EventBridge could not deliver to PagerDuty.
	DLQ awssqs.Queue
	// Archive keeps every event of the bus for replay.
	Archive awsevents.Archive
}

// routingKeyRef is a CloudFormation dynamic reference to the routing key in the secret:
// the template holds only {{resolve:secretsmanager:ARN:SecretString:routing_key::}},
// never the key.
func routingKeyRef(secret awssecretsmanager.ISecret) awscdk.SecretValue {
	return awscdk.SecretValue_SecretsManager(secret.SecretArn(), &awscdk.SecretsManagerSecretOptions{
		JsonField: jsii.String(pagerDutyRoutingKeyField),
	})
}

func newRoute(scope constructs.Construct, cfg Config) *Route {
	var r Route

	r.Bus = awsevents.NewEventBus(scope, jsii.String("Bus"), &awsevents.EventBusProps{
		EventBusName: jsii.String(cfg.BusName),
		Description:  jsii.String("Vigil detections"),
	})

	r.Archive = r.Bus.Archive(jsii.String("Archive"), &awsevents.BaseArchiveProps{
		Description: jsii.String("Every event of the Vigil bus, for replay"),
		// Every event on the bus comes from this account.
		EventPattern: &awsevents.EventPattern{Account: jsii.Strings(*awscdk.Stack_Of(scope).Account())},
		Retention:    awscdk.Duration_Days(jsii.Number(archiveRetentionDays)),
	})

	if cfg.PagerDutySecretArn != "" {
		r.PagerDutySecret = awssecretsmanager.Secret_FromSecretCompleteArn(scope, jsii.String("PagerDutySecret"),
			jsii.String(cfg.PagerDutySecretArn))
	} else {
		// A random placeholder, so the routing_key field exists at deploy time; put the
		// integration's routing key in its place (docs/deploy.md) and redeploy.
		r.PagerDutySecret = awssecretsmanager.NewSecret(scope, jsii.String("PagerDutySecret"), &awssecretsmanager.SecretProps{
			Description: jsii.String(`Vigil: PagerDuty Events v2 integration, {"routing_key": "..."}`),
			GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
				SecretStringTemplate: jsii.String("{}"),
				GenerateStringKey:    jsii.String(pagerDutyRoutingKeyField),
				ExcludePunctuation:   jsii.Bool(true),
				PasswordLength:       jsii.Number(32),
			},
		})
		r.Created = true
	}

	connection := awsevents.NewConnection(scope, jsii.String("PagerDutyConnection"), &awsevents.ConnectionProps{
		Description:   jsii.String("Vigil → PagerDuty Events v2"),
		Authorization: awsevents.Authorization_ApiKey(jsii.String(pagerDutyHeader), routingKeyRef(r.PagerDutySecret)),
	})
	destination := awsevents.NewApiDestination(scope, jsii.String("PagerDutyDestination"), &awsevents.ApiDestinationProps{
		Description:        jsii.String("PagerDuty Events v2 enqueue"),
		Connection:         connection,
		Endpoint:           jsii.String(pagerDutyEndpoint),
		HttpMethod:         awsevents.HttpMethod_POST,
		RateLimitPerSecond: jsii.Number(pagerDutyRateLimit),
	})

	r.DLQ = awssqs.NewQueue(scope, jsii.String("PagingDLQ"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})

	for _, route := range pagingRoutes {
		rule := awsevents.NewRule(scope, jsii.String(route.id), &awsevents.RuleProps{
			Description: jsii.String("Page PagerDuty (" + route.pagerDutySeverity + ") for " + route.severity + " detections"),
			EventBus:    r.Bus,
			EventPattern: &awsevents.EventPattern{
				Source:     jsii.Strings(detectionSource),
				DetailType: jsii.Strings(detectionDetailType),
				Detail:     &map[string]any{"severity": []string{route.severity}},
			},
		})
		rule.AddTarget(awseventstargets.NewApiDestination(destination, &awseventstargets.ApiDestinationProps{
			Event:           pagerDutyEvent(r.PagerDutySecret, route.pagerDutySeverity),
			DeadLetterQueue: r.DLQ,
			RetryAttempts:   jsii.Number(185),
			MaxEventAge:     awscdk.Duration_Hours(jsii.Number(24)),
		}))
		r.Rules = append(r.Rules, rule)
	}
	return &r
}

// pagerDutyEvent is the body of the PagerDuty Events v2 call for a detection: the input
// transformer takes the detection's fields from the event, and the routing key is a
// dynamic reference CloudFormation resolves at deploy time.
func pagerDutyEvent(secret awssecretsmanager.ISecret, severity string) awsevents.RuleTargetInput {
	return awsevents.RuleTargetInput_FromObject(map[string]any{
		"routing_key":  routingKeyRef(secret).UnsafeUnwrap(),
		"event_action": "trigger",
		"dedup_key":    awsevents.EventField_FromPath(jsii.String("$.detail.id")),
		"payload": map[string]any{
			"summary": *awsevents.EventField_FromPath(jsii.String("$.detail.name")) + " on " +
				*awsevents.EventField_FromPath(jsii.String("$.detail.hostname")),
			"severity":       severity,
			"source":         awsevents.EventField_FromPath(jsii.String("$.detail.hostname")),
			"custom_details": awsevents.EventField_FromPath(jsii.String("$.detail")),
		},
	})
}
