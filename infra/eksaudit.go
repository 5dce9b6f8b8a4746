package main

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// eksAuditFilterName names the subscription filter on each EKS log group.
const eksAuditFilterName = "vigil-eks-audit"

// eksAuditFilterPattern keeps the audit events of an EKS control plane's log
// group: a filter pattern matches a log event's message, not its stream, so it
// selects the JSON audit events (kind Event) and leaves out the API server's,
// the authenticator's and the scheduler's text lines. The detect function
// also passes over every stream but kube-apiserver-audit-*.
const eksAuditFilterPattern = `{ $.kind = "Event" }`

// EKSAudit is the subscription of EKS control-plane audit logs to the ingest
// stream: one filter per log group, and the role CloudWatch Logs assumes to put
// the records. Nil when no log group is configured.
type EKSAudit struct {
	Role    awsiam.Role
	Filters []awslogs.CfnSubscriptionFilter
}

// newEKSAudit subscribes the configured EKS log groups to the ingest stream.
// CloudWatch Logs puts gzip-compressed DATA_MESSAGE records there, which the
// detect function decodes (docs/kubernetes.md).
func newEKSAudit(scope constructs.Construct, cfg Config, in *Ingest) *EKSAudit {
	if len(cfg.EKSAuditLogGroups) == 0 {
		return nil
	}
	stack := awscdk.Stack_Of(scope)
	var e EKSAudit
	// CloudWatch Logs of this account and region only: the documented
	// aws:SourceArn of a subscription's delivery (the role puts on one stream).
	e.Role = awsiam.NewRole(scope, jsii.String("EksAuditSubscriptionRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("logs."+*stack.Region()+".amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{
				"StringLike": map[string]any{"aws:SourceArn": *stack.FormatArn(&awscdk.ArnComponents{
					Service: jsii.String("logs"), Resource: jsii.String("*"),
				})},
			},
		}),
		Description: jsii.String("Vigil: CloudWatch Logs puts EKS audit logs on the ingest stream"),
	})
	grantStreamPut(e.Role, in, "PutAuditLogRecords")
	for _, group := range cfg.EKSAuditLogGroups {
		cluster := strings.TrimSuffix(strings.TrimPrefix(group, "/aws/eks/"), "/cluster")
		f := awslogs.NewCfnSubscriptionFilter(scope, jsii.String("EksAudit-"+cluster), &awslogs.CfnSubscriptionFilterProps{
			LogGroupName:   jsii.String(group),
			FilterName:     jsii.String(eksAuditFilterName),
			FilterPattern:  jsii.String(eksAuditFilterPattern),
			DestinationArn: in.Stream.StreamArn(),
			RoleArn:        e.Role.RoleArn(),
		})
		// CloudWatch Logs tries the destination when the filter is made: the
		// role's policy must be in place by then.
		f.Node().AddDependency(e.Role)
		e.Filters = append(e.Filters, f)
	}
	return &e
}

// grantStreamPut lets p put records on the ingest stream, encrypting them with
// the ingest key through Kinesis only.
func grantStreamPut(p awsiam.IPrincipal, in *Ingest, sid string) {
	stack := awscdk.Stack_Of(in.Stream)
	p.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Actions:   jsii.Strings("kinesis:PutRecord", "kinesis:PutRecords"),
		Resources: jsii.Strings(*in.Stream.StreamArn()),
	}))
	p.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("UseIngestKeyThroughKinesis"),
		Actions:   jsii.Strings("kms:GenerateDataKey"),
		Resources: jsii.Strings(*in.Key.KeyArn()),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"kms:ViaService": "kinesis." + *stack.Region() + ".amazonaws.com"},
		},
	}))
}
