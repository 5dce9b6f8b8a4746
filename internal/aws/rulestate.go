package aws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/vigil-sec/vigil/internal/explain"
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
// conditional writes, no transactions. It implements engine.EventKeeper too:
// the events kept behind a marker or counter key (for explanations) are an item
// of their own, key "e", NUL, the key, each event JSON in the list events.
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

// Reset deletes the counter key and the events kept under it.
func (s *RuleState) Reset(ctx context.Context, key string) error {
	for _, k := range []string{key, keptKey(key)} {
		if _, err := s.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.Table),
			Key: map[string]types.AttributeValue{"key": str(k)}}); err != nil {
			return fmt.Errorf("rule state: reset %s: %w", key, err)
		}
	}
	return nil
}

// keptKey is the item holding the events kept under a marker or counter key.
func keptKey(key string) string { return "e\x00" + key }

// keptItem is the item of refs kept under key until exp: each ref as JSON in
// the list events.
func keptItem(key string, refs []explain.EventRef, exp time.Time) (map[string]types.AttributeValue, error) {
	l, err := refList(refs)
	if err != nil {
		return nil, err
	}
	return map[string]types.AttributeValue{
		"key": str(keptKey(key)), "exp": num(exp.UnixNano()), "expires_at": num(exp.Unix() + 1), "events": l,
	}, nil
}

func refList(refs []explain.EventRef) (*types.AttributeValueMemberL, error) {
	l := &types.AttributeValueMemberL{Value: make([]types.AttributeValue, 0, len(refs))}
	for _, r := range refs {
		b, err := json.Marshal(r)
		if err != nil {
			return nil, fmt.Errorf("rule state: encode event %s: %w", r.ID, err)
		}
		l.Value = append(l.Value, str(string(b)))
	}
	return l, nil
}

// SetEvents implements engine.EventKeeper: the events kept under key, replaced,
// until now+ttl.
func (s *RuleState) SetEvents(ctx context.Context, key string, refs []explain.EventRef, now time.Time, ttl time.Duration) error {
	item, err := keptItem(key, refs, now.Add(ttl))
	if err != nil {
		return err
	}
	if _, err := s.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item}); err != nil {
		return fmt.Errorf("rule state: keep events %s: %w", key, err)
	}
	return nil
}

// AddEvent implements engine.EventKeeper: ref appended to the events kept under
// key in a window of ttl from the first, at most max of them (the oldest are
// removed), with conditional writes as Incr.
func (s *RuleState) AddEvent(ctx context.Context, key string, ref explain.EventRef, now time.Time, ttl time.Duration, max int) error {
	one, err := refList([]explain.EventRef{ref})
	if err != nil {
		return err
	}
	nowN := num(now.UnixNano())
	k := map[string]types.AttributeValue{"key": str(keptKey(key))}
	var cfe *types.ConditionalCheckFailedException
	for attempt := 0; attempt < 5; attempt++ {
		out, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(s.Table), Key: k,
			UpdateExpression:          aws.String("SET #ev = list_append(#ev, :one)"),
			ConditionExpression:       aws.String("#e > :now"),
			ExpressionAttributeNames:  map[string]string{"#ev": "events", "#e": "exp"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": one, ":now": nowN},
			ReturnValues:              types.ReturnValueUpdatedNew,
		})
		switch {
		case err == nil:
			l, _ := out.Attributes["events"].(*types.AttributeValueMemberL)
			if l == nil || max <= 0 || len(l.Value) <= max {
				return nil
			}
			return s.trim(ctx, key, len(l.Value)-max)
		case !errors.As(err, &cfe):
			return fmt.Errorf("rule state: keep event %s: %w", key, err)
		}
		// absent or expired: start a window, unless another writer just did
		item, err := keptItem(key, []explain.EventRef{ref}, now.Add(ttl))
		if err != nil {
			return err
		}
		_, err = s.Client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(s.Table), Item: item,
			ConditionExpression:       aws.String("attribute_not_exists(#k) OR #e <= :now"),
			ExpressionAttributeNames:  map[string]string{"#k": "key", "#e": "exp"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": nowN},
		})
		switch {
		case err == nil:
			return nil
		case !errors.As(err, &cfe):
			return fmt.Errorf("rule state: keep event %s: %w", key, err)
		}
	}
	return fmt.Errorf("rule state: keep event %s: too much contention", key)
}

// trim removes the n oldest events kept under key.
func (s *RuleState) trim(ctx context.Context, key string, n int) error {
	paths := make([]string, n)
	for i := range paths {
		paths[i] = "#ev[" + strconv.Itoa(i) + "]"
	}
	_, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.Table), Key: map[string]types.AttributeValue{"key": str(keptKey(key))},
		UpdateExpression:         aws.String("REMOVE " + strings.Join(paths, ", ")),
		ExpressionAttributeNames: map[string]string{"#ev": "events"},
	})
	if err != nil {
		return fmt.Errorf("rule state: trim events %s: %w", key, err)
	}
	return nil
}

// KeptEvents implements engine.EventKeeper: the events kept under key and live
// at now, oldest first.
func (s *RuleState) KeptEvents(ctx context.Context, key string, now time.Time) ([]explain.EventRef, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table),
		Key: map[string]types.AttributeValue{"key": str(keptKey(key))}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("rule state: kept events %s: %w", key, err)
	}
	if out.Item == nil || getN(out.Item, "exp") <= now.UnixNano() {
		return nil, nil
	}
	l, _ := out.Item["events"].(*types.AttributeValueMemberL)
	if l == nil {
		return nil, nil
	}
	refs := make([]explain.EventRef, 0, len(l.Value))
	for i, v := range l.Value {
		sv, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			return nil, fmt.Errorf("rule state: kept events %s: item %d is not a string", key, i)
		}
		var r explain.EventRef
		if err := json.Unmarshal([]byte(sv.Value), &r); err != nil {
			return nil, fmt.Errorf("rule state: kept events %s: item %d: %w", key, i, err)
		}
		refs = append(refs, r)
	}
	return refs, nil
}
