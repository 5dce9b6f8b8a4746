package aws

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// StateAPI is the part of the DynamoDB client RuleState uses.
type StateAPI interface {
	DynamoAPI
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// RuleState keeps the engine's state for stateful rules and suppression (markers
// and windowed counters) in the rule_state table (partition key `key`), so it
// outlives one Lambda invocation and is shared by concurrent ones. Entries carry
// their expiry in nanoseconds (exp) for exact windows and in seconds (expires_at)
// for DynamoDB's TTL to delete them. It implements engine.State; counters use
// conditional writes, no transactions.
type RuleState struct {
	Client StateAPI
	Table  string
}

func (s *RuleState) item(key string, exp time.Time, count int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"key": str(key), "exp": num(exp.UnixNano()), "expires_at": num(exp.Unix() + 1), "count": num(count),
	}
}

// Mark sets the marker key until now+ttl.
func (s *RuleState) Mark(ctx context.Context, key string, now time.Time, ttl time.Duration) error {
	if _, err := s.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: s.item(key, now.Add(ttl), 0)}); err != nil {
		return fmt.Errorf("rule state: mark %s: %w", key, err)
	}
	return nil
}

// Marker returns the marker's expiry when it is live at now.
func (s *RuleState) Marker(ctx context.Context, key string, now time.Time) (time.Time, bool, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table),
		Key: map[string]types.AttributeValue{"key": str(key)}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("rule state: marker %s: %w", key, err)
	}
	if out.Item == nil {
		return time.Time{}, false, nil
	}
	exp := time.Unix(0, getN(out.Item, "exp"))
	return exp, exp.After(now), nil
}

// Incr adds one to the counter key, starting a fresh window of ttl when the counter
// is absent or expired.
func (s *RuleState) Incr(ctx context.Context, key string, now time.Time, ttl time.Duration) (int64, error) {
	nowN := num(now.UnixNano())
	for attempt := 0; attempt < 5; attempt++ {
		out, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(s.Table), Key: map[string]types.AttributeValue{"key": str(key)},
			UpdateExpression:          aws.String("ADD #c :one"),
			ConditionExpression:       aws.String("#e > :now"),
			ExpressionAttributeNames:  map[string]string{"#c": "count", "#e": "exp"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1), ":now": nowN},
			ReturnValues:              types.ReturnValueUpdatedNew,
		})
		var cfe *types.ConditionalCheckFailedException
		switch {
		case err == nil:
			n, _ := strconv.ParseInt(out.Attributes["count"].(*types.AttributeValueMemberN).Value, 10, 64)
			return n, nil
		case !errors.As(err, &cfe):
			return 0, fmt.Errorf("rule state: count %s: %w", key, err)
		}
		// absent or expired: start a window, unless another writer just did
		_, err = s.Client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(s.Table), Item: s.item(key, now.Add(ttl), 1),
			ConditionExpression:       aws.String("attribute_not_exists(#k) OR #e <= :now"),
			ExpressionAttributeNames:  map[string]string{"#k": "key", "#e": "exp"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": nowN},
		})
		switch {
		case err == nil:
			return 1, nil
		case !errors.As(err, &cfe):
			return 0, fmt.Errorf("rule state: count %s: %w", key, err)
		}
	}
	return 0, fmt.Errorf("rule state: count %s: too much contention", key)
}

// Reset deletes the counter key.
func (s *RuleState) Reset(ctx context.Context, key string) error {
	if _, err := s.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.Table),
		Key: map[string]types.AttributeValue{"key": str(key)}}); err != nil {
		return fmt.Errorf("rule state: reset %s: %w", key, err)
	}
	return nil
}
