package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// grantRing lets fn ring the task bells: add to an item's seq, nothing else.
func (s *Store) grantRing(fn awsiam.IGrantable) {
	s.TaskBells.Grant(fn, jsii.String("dynamodb:UpdateItem"))
}

// Attribute names shared by the tables and the Go code that reads them.
const (
	ttlAttribute = "expires_at"
)

// Store holds the DynamoDB tables of the backend. All are on-demand (PAY_PER_REQUEST),
// with point-in-time recovery and encryption at rest (AWS-managed key; the task
// bells DynamoDB's own key), and are kept when the stack is deleted.
type Store struct {
	// Detections: one item per detection (id) plus sparse tag index items; GSIs
	// by_sensor (sensor_id, time_id) and by_tag (tag, time_id).
	Detections awsdynamodb.Table
	// Sensors: one item per sensor (sensor_id).
	Sensors awsdynamodb.Table
	// Tasks: sensor tasks (task_id); GSI by_sensor (sensor_id, created); expire at expires_at.
	Tasks awsdynamodb.Table
	// APIKeys: key_hash = hex SHA-256 of an API key.
	APIKeys awsdynamodb.Table
	// RuleState: state of stateful rules that outlives one batch (key); expires at expires_at.
	RuleState awsdynamodb.Table
	// TaskBells: one item per sensor (sensor_id) whose seq grows with each task
	// created for it; sensors read their own to know when to ask for tasks.
	TaskBells awsdynamodb.Table
}

func stringAttr(name string) *awsdynamodb.Attribute {
	return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
}

func newTable(scope constructs.Construct, id, partitionKey, ttl string) awsdynamodb.Table {
	return newTableEncrypted(scope, id, partitionKey, ttl, awsdynamodb.TableEncryption_AWS_MANAGED)
}

func newTableEncrypted(scope constructs.Construct, id, partitionKey, ttl string, enc awsdynamodb.TableEncryption) awsdynamodb.Table {
	props := &awsdynamodb.TableProps{
		PartitionKey: stringAttr(partitionKey),
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:   enc,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
	}
	if ttl != "" {
		props.TimeToLiveAttribute = jsii.String(ttl)
	}
	return awsdynamodb.NewTable(scope, jsii.String(id), props)
}

func addIndex(t awsdynamodb.Table, name, partitionKey, sortKey string) {
	t.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:      jsii.String(name),
		PartitionKey:   stringAttr(partitionKey),
		SortKey:        stringAttr(sortKey),
		ProjectionType: awsdynamodb.ProjectionType_ALL,
	})
}

func newStore(scope constructs.Construct) *Store {
	var s Store

	s.Detections = newTable(scope, "DetectionsTable", "id", "")
	addIndex(s.Detections, "by_sensor", "sensor_id", "time_id")
	addIndex(s.Detections, "by_tag", "tag", "time_id")

	s.Sensors = newTable(scope, "SensorsTable", "sensor_id", "")

	s.Tasks = newTable(scope, "TasksTable", "task_id", ttlAttribute)
	addIndex(s.Tasks, "by_sensor", "sensor_id", "created")

	s.APIKeys = newTable(scope, "ApiKeysTable", "key_hash", "")

	s.RuleState = newTable(scope, "RuleStateTable", "key", ttlAttribute)

	// A bell holds a number and is read by every sensor every poll interval:
	// encrypted with DynamoDB's own key, whose use costs no KMS requests.
	s.TaskBells = newTableEncrypted(scope, "TaskBellsTable", "sensor_id", "", awsdynamodb.TableEncryption_DEFAULT)

	return &s
}
