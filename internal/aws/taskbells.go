package aws

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TaskBells is the task bells table (partition key sensor_id): one item per
// sensor whose number seq grows by one whenever a task is created for it.
// A sensor reads its own item (half a read unit, eventually consistent) at every
// respond.poll_interval and asks the API for its tasks only when seq changed,
// instead of calling the API at every interval. The item holds no more than the
// number and the time it last changed.
type TaskBells struct {
	Client TaskBellsAPI
	Table  string
}

// TaskBellsAPI is the part of the DynamoDB client TaskBells uses: a sensor,
// which only reads, needs no more.
type TaskBellsAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// NewTasks is the tasks store of table; when bells names the task bells table
// (VIGIL_TASK_BELLS_TABLE), creating a task rings its sensor's bell.
func NewTasks(c DynamoAPI, table, bells string) *Tasks {
	t := &Tasks{Client: c, Table: table}
	if bells != "" {
		t.Bells = &TaskBells{Client: c, Table: bells}
	}
	return t
}

// Ring adds one to sensorID's seq (creating its item at 1).
func (b *TaskBells) Ring(ctx context.Context, sensorID string, now time.Time) error {
	if sensorID == "" {
		return fmt.Errorf("ring task bell: no sensor id")
	}
	_, err := b.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(b.Table),
		Key:                       map[string]types.AttributeValue{"sensor_id": str(sensorID)},
		UpdateExpression:          aws.String("ADD seq :one SET rung = :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1), ":now": str(now.UTC().Format(time.RFC3339Nano))},
	})
	if err != nil {
		return fmt.Errorf("ring task bell of sensor %s in %s: %w", sensorID, b.Table, err)
	}
	return nil
}

// Seq returns sensorID's seq: 0 for a sensor no task was ever created for.
func (b *TaskBells) Seq(ctx context.Context, sensorID string) (int64, error) {
	out, err := b.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:            aws.String(b.Table),
		Key:                  map[string]types.AttributeValue{"sensor_id": str(sensorID)},
		ProjectionExpression: aws.String("seq"),
	})
	if err != nil {
		return 0, fmt.Errorf("task bell of sensor %s in %s: %w", sensorID, b.Table, err)
	}
	return getN(out.Item, "seq"), nil
}
