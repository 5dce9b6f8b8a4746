package aws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/task"
)

// Errors of the tasks store, wrapping the API's so it answers 404 and 409.
var (
	ErrTaskNotFound = fmt.Errorf("task %w", api.ErrNotFound)
	ErrTaskFinal    = fmt.Errorf("task already ended: %w", api.ErrConflict)
)

// Tasks keeps sensor tasks in the tasks table (partition key task_id; GSI by_sensor
// on sensor_id, created; TTL on expires_at, a week after the deadline).
type Tasks struct {
	Client DynamoAPI
	Table  string
	// Bells, when set, is rung for a task's sensor whenever Create stores or
	// finds its task, so that a sensor reading its bell asks for its tasks.
	Bells *TaskBells
}

const taskTTL = 7 * 24 * time.Hour

// createdKey is a task's creation time as the by_sensor index sorts it:
// fixed-width UTC, so that strings compare like times (RFC 3339 with trailing
// zeros dropped does not: "…:00.5Z" sorts before "…:00Z").
func createdKey(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// Create stores t unless a task with its id exists; either way it returns the
// stored task, so creating the same task twice (a retried workflow step) is safe.
// It then rings the sensor's bell (Bells); a bell that could not be rung is an
// error, so that the step is retried and rings it again.
func (s *Tasks) Create(ctx context.Context, t task.Task) (task.Task, error) {
	if err := t.Validate(); err != nil {
		return t, err
	}
	doc, err := json.Marshal(t)
	if err != nil {
		return t, fmt.Errorf("create task %s: %w", t.ID, err)
	}
	_, err = s.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.Table),
		Item: map[string]types.AttributeValue{
			"task_id": str(t.ID), "sensor_id": str(t.SensorID), "created": str(createdKey(t.Created)),
			"status": str(string(t.Status)), "doc": str(string(doc)), "expires_at": num(t.Deadline.Add(taskTTL).Unix()),
		},
		ConditionExpression: aws.String("attribute_not_exists(task_id)"),
	})
	var cfe *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &cfe):
		if t, err = s.Get(ctx, t.ID); err != nil {
			return t, err
		}
	case err != nil:
		return t, fmt.Errorf("create task %s: %w", t.ID, err)
	}
	if s.Bells != nil && !t.Status.Final() {
		if err := s.Bells.Ring(ctx, t.SensorID, t.Created); err != nil {
			return t, fmt.Errorf("create task %s: %w", t.ID, err)
		}
	}
	return t, nil
}

// Get returns the task with id.
func (s *Tasks) Get(ctx context.Context, id string) (task.Task, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table),
		Key: map[string]types.AttributeValue{"task_id": str(id)}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return task.Task{}, fmt.Errorf("get task %s: %w", id, err)
	}
	if out.Item == nil {
		return task.Task{}, fmt.Errorf("%w: %s", ErrTaskNotFound, id)
	}
	return taskFromItem(out.Item)
}

func taskFromItem(it map[string]types.AttributeValue) (task.Task, error) {
	var t task.Task
	if err := json.Unmarshal([]byte(getS(it, "doc")), &t); err != nil {
		return t, fmt.Errorf("task %s: %w", getS(it, "task_id"), err)
	}
	return t, nil
}

// Update moves a task to status with result, unless it already ended: a task's
// final status is written once.
func (s *Tasks) Update(ctx context.Context, id string, status task.Status, result string, now time.Time) (task.Task, error) {
	t, err := s.Get(ctx, id)
	if err != nil {
		return t, err
	}
	if t.Status.Final() {
		return t, fmt.Errorf("%w: %s is %s", ErrTaskFinal, id, t.Status)
	}
	prev := t.Status
	t.Status, t.Result, t.Updated = status, result, now.UTC()
	doc, err := json.Marshal(t)
	if err != nil {
		return t, fmt.Errorf("update task %s: %w", id, err)
	}
	_, err = s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.Table),
		Key:                       map[string]types.AttributeValue{"task_id": str(id)},
		UpdateExpression:          aws.String("SET #s = :s, doc = :d"),
		ConditionExpression:       aws.String("#s = :prev"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": str(string(status)), ":d": str(string(doc)), ":prev": str(string(prev))},
	})
	var cfe *types.ConditionalCheckFailedException
	if errors.As(err, &cfe) {
		return t, fmt.Errorf("%w: %s changed concurrently", ErrTaskFinal, id)
	}
	if err != nil {
		return t, fmt.Errorf("update task %s: %w", id, err)
	}
	return t, nil
}

// ForSensor returns a sensor's tasks created since the given time, oldest first.
func (s *Tasks) ForSensor(ctx context.Context, sensorID string, since time.Time) ([]task.Task, error) {
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.Table), IndexName: aws.String("by_sensor"),
		KeyConditionExpression:    aws.String("sensor_id = :id AND created >= :since"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(sensorID), ":since": str(createdKey(since))},
	}
	var out []task.Task
	for {
		page, err := s.Client.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("tasks of %s: %w", sensorID, err)
		}
		for _, it := range page.Items {
			t, err := taskFromItem(it)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}
