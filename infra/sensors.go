package main

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// sensorLakePrefixes are the lake prefixes sensors write: rolled event files and the
// artifacts of response tasks (memory snapshots).
var sensorLakePrefixes = []string{lakeEventsPrefix, lakeArtifactsPrefix}

// sensorParameterPath is the SSM Parameter Store path sensors read at boot: the
// sensor.yaml of install-sensor.sh --ssm-parameter (/vigil/sensor.yaml in the docs)
// and the API key of user-data's VIGIL_API_KEY_PARAMETER (e.g. /vigil/api-key).
const sensorParameterPath = "/vigil/"

// Sensors is the identity of the EC2 instances running the sensor.
type Sensors struct {
	Role            awsiam.Role
	InstanceProfile awsiam.InstanceProfile
}

// newSensors adds the sensor role: put records on the stream, put objects under the
// lake's events/ and artifacts/ prefixes, use the ingest key only through Kinesis
// and S3, read the SSM parameters under sensorParameterPath (the configuration
// and the API key, at boot) and read the seq of an item of the task bells table
// (respond.task_bell_table). Nothing else: sensors read their tasks through the
// API with that API key. The scoping choices are described in doc.go.
func newSensors(scope constructs.Construct, in *Ingest, store *Store) *Sensors {
	var s Sensors
	stack := awscdk.Stack_Of(scope)

	s.Role = awsiam.NewRole(scope, jsii.String("SensorRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
		Description: jsii.String("Vigil sensor: ship events to the stream and the lake"),
	})

	s.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("PutEventBatches"),
		Actions:   jsii.Strings("kinesis:PutRecord", "kinesis:PutRecords"),
		Resources: jsii.Strings(*in.Stream.StreamArn()),
	}))

	var objects []*string
	for _, p := range sensorLakePrefixes {
		objects = append(objects, in.Lake.ArnForObjects(jsii.String(p+"*")))
	}
	s.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("PutLakeObjects"),
		// Multipart uploads (files over 5 MiB) need AbortMultipartUpload to clean up.
		Actions:   jsii.Strings("s3:PutObject", "s3:AbortMultipartUpload"),
		Resources: &objects,
	}))

	// Encrypting a Kinesis record or an S3 object with the ingest key takes a data key;
	// a multipart upload also decrypts it to complete. Only when Kinesis or S3 asks.
	s.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("UseIngestKeyThroughKinesisAndS3"),
		Actions:   jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
		Resources: jsii.Strings(*in.Key.KeyArn()),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{
				"kms:ViaService": []string{
					"kinesis." + *stack.Region() + ".amazonaws.com",
					"s3." + *stack.Region() + ".amazonaws.com",
				},
			},
		},
	}))

	// SecureString values under the default aws/ssm key need no kms:Decrypt here: that
	// key's policy lets every principal of the account decrypt through SSM.
	s.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:     jsii.String("ReadSensorParameters"),
		Actions: jsii.Strings("ssm:GetParameter"),
		Resources: jsii.Strings(*stack.FormatArn(&awscdk.ArnComponents{
			Service:      jsii.String("ssm"),
			Resource:     jsii.String("parameter"),
			ResourceName: jsii.String(strings.TrimPrefix(sensorParameterPath, "/") + "*"),
			ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
		})),
	}))

	// A bell holds a number: reading one, even another sensor's, tells when
	// tasks were created, not what they are. Only seq (and the key) may be read.
	s.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadTaskBells"),
		Actions:   jsii.Strings("dynamodb:GetItem"),
		Resources: jsii.Strings(*store.TaskBells.TableArn()),
		Conditions: &map[string]any{
			"ForAllValues:StringEquals": map[string]any{"dynamodb:Attributes": []string{"sensor_id", "seq"}},
			"StringEqualsIfExists":      map[string]any{"dynamodb:Select": "SPECIFIC_ATTRIBUTES"},
		},
	}))

	s.InstanceProfile = awsiam.NewInstanceProfile(scope, jsii.String("SensorInstanceProfile"), &awsiam.InstanceProfileProps{
		Role: s.Role,
	})
	return &s
}
