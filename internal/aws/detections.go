package aws

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/detect"
)

// DynamoAPI is the part of the DynamoDB client the stores use.
type DynamoAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// AllTag is the index tag every detection carries, so that listing without a tag
// filter is one query on the by_tag index, newest first.
const AllTag = "*"

// Detections stores detections in the detections table (partition key id), with
// index items for the by_tag (tag, time_id) and by_sensor (sensor_id, time_id) GSIs.
//
// A detection item is written with the condition that it is absent or not yet
// published, then its index items; MarkPublished sets published once the bus and
// workflow have it. A replayed batch therefore neither duplicates a detection nor
// republishes it nor changes what was stored (the first document published, an
// edge detection's when a sensor sent it: the cloud's evaluation of the batch
// finds the same id), and a batch that failed between storing and publishing
// stores and publishes on retry.
type Detections struct {
	Client DynamoAPI
	Table  string
}

// timeID sorts by time, then id: fixed-width UTC so strings compare like times.
func timeID(t time.Time, id string) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000000Z") + "#" + id
}

// Claim stores ds and returns those that still need publishing.
func (d *Detections) Claim(ctx context.Context, ds []detect.Detection) ([]detect.Detection, error) {
	var out []detect.Detection
	for i := range ds {
		det := &ds[i]
		doc, err := json.Marshal(det)
		if err != nil {
			return out, fmt.Errorf("store detection %s: %w", det.ID, err)
		}
		tid := timeID(det.Time, det.ID)
		_, err = d.Client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(d.Table),
			Item: map[string]types.AttributeValue{
				"id": str(det.ID), "rule": str(det.Rule), "severity": str(det.Severity), "sensor_id": str(det.Event.SensorID),
				"time_id": str(tid), "doc": str(string(doc)), "published": &types.AttributeValueMemberBOOL{Value: false},
			},
			// a detection someone triaged keeps its item (and is not published again)
			ConditionExpression:       aws.String("attribute_not_exists(id) OR (published = :f AND attribute_not_exists(triage_version))"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":f": &types.AttributeValueMemberBOOL{Value: false}},
		})
		var cfe *types.ConditionalCheckFailedException
		switch {
		case errors.As(err, &cfe):
			continue // stored and published before: its index items are left as they are
		case err != nil:
			return out, fmt.Errorf("store detection %s: %w", det.ID, err)
		}
		// the index items follow the claim, so a detection published once keeps
		// the document it was published with (an edge detection's, when the
		// cloud's evaluation of the batch finds it again)
		for _, tag := range append([]string{AllTag}, det.Event.Tags...) {
			if _, err := d.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(d.Table), Item: map[string]types.AttributeValue{
				"id": str(det.ID + "#tag#" + tag), "tag": str(tag), "time_id": str(tid), "ref": str(det.ID), "doc": str(string(doc)),
			}}); err != nil {
				return out, fmt.Errorf("store detection %s tag %s: %w", det.ID, tag, err)
			}
		}
		out = append(out, *det)
	}
	return out, nil
}

// MarkPublished records that the detections reached the bus and the workflow.
func (d *Detections) MarkPublished(ctx context.Context, ids []string) error {
	for _, id := range ids {
		if _, err := d.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(d.Table),
			Key:                       map[string]types.AttributeValue{"id": str(id)},
			UpdateExpression:          aws.String("SET published = :t"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}},
		}); err != nil {
			return fmt.Errorf("mark detection %s published: %w", id, err)
		}
	}
	return nil
}

// ErrBadCursor is returned (wrapped) for a cursor this store did not issue.
var ErrBadCursor = api.ErrBadCursor

// List returns one page of detections as stored JSON documents and the cursor of
// the next page ("" at the end).
func (d *Detections) List(ctx context.Context, q api.DetectionQuery) ([]json.RawMessage, string, error) {
	in := &dynamodb.QueryInput{TableName: aws.String(d.Table), ScanIndexForward: aws.Bool(false)}
	key, val := "tag", q.Tag
	in.IndexName = aws.String("by_tag")
	if q.SensorID != "" {
		key, val = "sensor_id", q.SensorID
		in.IndexName = aws.String("by_sensor")
	} else if val == "" {
		val = AllTag
	}
	in.KeyConditionExpression = aws.String("#k = :k")
	in.ExpressionAttributeNames = map[string]string{"#k": key}
	in.ExpressionAttributeValues = map[string]types.AttributeValue{":k": str(val)}
	if !q.Since.IsZero() {
		in.KeyConditionExpression = aws.String("#k = :k AND time_id >= :since")
		in.ExpressionAttributeValues[":since"] = str(timeID(q.Since, ""))
	}
	statusFilter(in, q.Status)
	if q.Cursor != "" {
		start, err := decodeCursor(q.Cursor)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = start
	}
	// A filter applies after Limit: query on, each time for the detections the
	// page still lacks, until it is full or the index ends. The page then ends
	// at the last item evaluated, so LastEvaluatedKey is the next page's cursor.
	var docs []json.RawMessage
	for {
		if q.Limit > 0 {
			in.Limit = aws.Int32(q.Limit - int32(len(docs)))
		}
		out, err := d.Client.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("list detections: %w", err)
		}
		for _, it := range out.Items {
			if _, ok := it["doc"].(*types.AttributeValueMemberS); !ok {
				continue
			}
			doc, err := listed(it)
			if err != nil {
				return nil, "", fmt.Errorf("list detections: %s: %w", getS(it, "id"), err)
			}
			docs = append(docs, doc)
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
		if len(out.LastEvaluatedKey) == 0 || q.Status == "" || q.Limit > 0 && int32(len(docs)) >= q.Limit {
			break
		}
	}
	if docs == nil {
		docs = []json.RawMessage{}
	}
	next, err := encodeCursor(in.ExclusiveStartKey)
	return docs, next, err
}

// cursors are the LastEvaluatedKey's string attributes, as base64 JSON.
func encodeCursor(key map[string]types.AttributeValue) (string, error) {
	if len(key) == 0 {
		return "", nil
	}
	m := make(map[string]string, len(key))
	for k, v := range key {
		sv, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			return "", fmt.Errorf("encode cursor: key attribute %s is not a string", k)
		}
		m[k] = sv.Value
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode cursor: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func decodeCursor(c string) (map[string]types.AttributeValue, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCursor, err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil || len(m) == 0 || len(m) > 4 {
		return nil, fmt.Errorf("%w: not a cursor", ErrBadCursor)
	}
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		out[k] = str(v)
	}
	return out, nil
}
