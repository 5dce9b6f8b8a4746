package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// Environment of the api function's event search (functions/api).
const (
	envAthenaWorkGroup = "VIGIL_ATHENA_WORKGROUP"
	envGlueDatabase    = "VIGIL_GLUE_DATABASE"
	envGlueTable       = "VIGIL_GLUE_TABLE"
	// envGlueAllSensorsTable is the table a search naming no sensor runs on.
	envGlueAllSensorsTable = "VIGIL_GLUE_ALL_SENSORS_TABLE"
)

// grantSearch lets the api function search the lake through Athena (the
// events/search and detections/{id}/context routes): run queries in the
// hunting workgroup, read the two Glue tables (their partitions are projected:
// no glue:GetPartitions), read the lake's events and write the query results
// under the workgroup's results prefix (Athena reads and writes S3 with the
// caller's credentials), with the lake key for both.
func grantSearch(a *API, h *Hunting, in *Ingest) {
	fn := a.Function
	fn.AddEnvironment(jsii.String(envAthenaWorkGroup), h.WorkGroup.Ref(), nil)
	fn.AddEnvironment(jsii.String(envGlueDatabase), jsii.String(glueDatabaseName), nil)
	fn.AddEnvironment(jsii.String(envGlueTable), jsii.String(glueTableName), nil)
	fn.AddEnvironment(jsii.String(envGlueAllSensorsTable), jsii.String(glueAllSensorsTableName), nil)
	stack := awscdk.Stack_Of(fn)
	arn := func(service, resource string) *string {
		return stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String(service), Resource: jsii.String(resource)})
	}
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:StopQueryExecution"),
		Resources: &[]*string{arn("athena", "workgroup/"+athenaWorkGroupName)},
	}))
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("glue:GetTable", "glue:GetDatabase"),
		Resources: &[]*string{arn("glue", "catalog"), arn("glue", "database/"+glueDatabaseName),
			arn("glue", "table/"+glueDatabaseName+"/"+glueTableName),
			arn("glue", "table/"+glueDatabaseName+"/"+glueAllSensorsTableName)},
	}))
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("s3:GetBucketLocation", "s3:ListBucket"),
		Resources: &[]*string{in.Lake.BucketArn()},
	}))
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("s3:GetObject"),
		Resources: &[]*string{in.Lake.ArnForObjects(jsii.String(lakeEventsPrefix + "*"))},
	}))
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"),
		Resources: &[]*string{in.Lake.ArnForObjects(jsii.String(athenaResultsPrefix + "*"))},
	}))
	// the lake key: read the events, write the results encrypted (SSE_KMS)
	in.Key.Grant(fn, jsii.String("kms:Decrypt"), jsii.String("kms:GenerateDataKey"))
}
