package aws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/vigil-sec/vigil/internal/api"
)

// A detection's triage lives on its item in the detections table: triage (the
// api.Triage as JSON) and triage_version (its Version), written only over the
// version it was read at (a conditional write), and status and assignee, copied
// to its index items so that lists filter and show them.

// triageAttempts bounds how often UpdateTriage reads again after losing a race.
const triageAttempts = 25

// names of the triage attributes (status is a DynamoDB reserved word).
var triageNames = map[string]string{"#tr": "triage", "#tv": "triage_version", "#st": "status", "#as": "assignee"}

// GetDetection returns the stored document of the detection with id and its
// triage. It implements api.DetectionStore.
func (d *Detections) GetDetection(ctx context.Context, id string) (json.RawMessage, api.Triage, error) {
	doc, t, err := d.getTriage(ctx, id)
	t.Normalize()
	return doc, t, err
}

func (d *Detections) getTriage(ctx context.Context, id string) (json.RawMessage, api.Triage, error) {
	var t api.Triage
	out, err := d.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(d.Table),
		Key: map[string]types.AttributeValue{"id": str(id)}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, t, fmt.Errorf("get detection %s: %w", id, err)
	}
	// index items ("id#tag#…") are not detections
	if out.Item == nil || getS(out.Item, "ref") != "" {
		return nil, t, fmt.Errorf("detection %s: %w", id, api.ErrNotFound)
	}
	if raw := getS(out.Item, "triage"); raw != "" {
		if err := json.Unmarshal([]byte(raw), &t); err != nil {
			return nil, t, fmt.Errorf("detection %s: stored triage: %w", id, err)
		}
	}
	t.Version = getN(out.Item, "triage_version")
	return json.RawMessage(getS(out.Item, "doc")), t, nil
}

// UpdateTriage changes the triage of the detection with id with change and
// stores it with a conditional write on its version: when another update was
// stored in between, it reads the detection again and calls change again, so
// concurrent updates are all kept. It implements api.DetectionStore.
func (d *Detections) UpdateTriage(ctx context.Context, id string, change func(*api.Triage) error) (json.RawMessage, api.Triage, error) {
	for attempt := 0; attempt < triageAttempts; attempt++ {
		doc, t, err := d.getTriage(ctx, id)
		if err != nil {
			return nil, t, err
		}
		read := t.Version
		t.Normalize()
		if err := change(&t); err != nil {
			return nil, t, err
		}
		t.Version = read + 1
		raw, err := json.Marshal(t)
		if err != nil {
			return nil, t, fmt.Errorf("update detection %s: %w", id, err)
		}
		cond := "attribute_exists(id) AND #tv = :read"
		if read == 0 {
			cond = "attribute_exists(id) AND attribute_not_exists(#tv)"
		}
		vals := map[string]types.AttributeValue{":tr": str(string(raw)), ":tv": num(t.Version), ":st": str(string(t.Status)), ":as": str(t.Assignee)}
		if read != 0 {
			vals[":read"] = num(read)
		}
		_, err = d.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(d.Table), Key: map[string]types.AttributeValue{"id": str(id)},
			UpdateExpression:          aws.String("SET #tr = :tr, #tv = :tv, #st = :st, #as = :as"),
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeNames:  triageNames,
			ExpressionAttributeValues: vals,
		})
		var cfe *types.ConditionalCheckFailedException
		if errors.As(err, &cfe) {
			// another update was stored since the read: read it and change again
			if err := sleep(ctx, time.Duration(rand.N(10+5*attempt))*time.Millisecond); err != nil {
				return nil, t, err
			}
			continue
		}
		if err != nil {
			return nil, t, fmt.Errorf("update detection %s: %w", id, err)
		}
		if err := d.indexTriage(ctx, id, doc, t); err != nil {
			return nil, t, err
		}
		return doc, t, nil
	}
	return nil, api.Triage{}, fmt.Errorf("detection %s changed by %d other updates while this one was made: %w", id, triageAttempts, api.ErrConflict)
}

// indexTriage copies status and assignee to the detection's index items, each
// only over an older version, so that the latest update's values stay when two
// race to it.
func (d *Detections) indexTriage(ctx context.Context, id string, doc json.RawMessage, t api.Triage) error {
	var x struct {
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(doc, &x); err != nil {
		return fmt.Errorf("detection %s: stored document: %w", id, err)
	}
	for _, tag := range append([]string{AllTag}, x.Tags...) {
		_, err := d.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(d.Table), Key: map[string]types.AttributeValue{"id": str(id + "#tag#" + tag)},
			UpdateExpression:         aws.String("SET #st = :st, #as = :as, #tv = :tv"),
			ConditionExpression:      aws.String("attribute_exists(id) AND (attribute_not_exists(#tv) OR #tv < :tv)"),
			ExpressionAttributeNames: map[string]string{"#st": "status", "#as": "assignee", "#tv": "triage_version"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":st": str(string(t.Status)), ":as": str(t.Assignee), ":tv": num(t.Version)},
		})
		var cfe *types.ConditionalCheckFailedException
		if err != nil && !errors.As(err, &cfe) {
			return fmt.Errorf("update detection %s tag %s: %w", id, tag, err)
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// listed is an item's document as lists show it: with its status and assignee.
func listed(it map[string]types.AttributeValue) (json.RawMessage, error) {
	t := api.Triage{Status: api.Status(getS(it, "status")), Assignee: getS(it, "assignee")}
	return api.Listed(json.RawMessage(getS(it, "doc")), &t)
}

// statusFilter selects items of status st; items never triaged have none and
// are new.
func statusFilter(in *dynamodb.QueryInput, st api.Status) {
	if st == "" {
		return
	}
	in.FilterExpression = aws.String("#st = :st")
	if st == api.StatusNew {
		in.FilterExpression = aws.String("attribute_not_exists(#st) OR #st = :st")
	}
	if in.ExpressionAttributeNames == nil {
		in.ExpressionAttributeNames = map[string]string{}
	}
	in.ExpressionAttributeNames["#st"] = "status"
	in.ExpressionAttributeValues[":st"] = str(string(st))
}
