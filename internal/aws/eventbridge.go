package aws

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/vigil-sec/vigil/internal/detect"
)

// EventBridgeAPI is the part of the EventBridge client the bus uses.
type EventBridgeAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Event source and detail type of detections on the bus.
const (
	BusSource           = "vigil"
	DetectionDetailType = "Detection"
)

// Bus publishes detections on an EventBridge bus, ten entries per call (the
// service's limit), retrying entries the service reports failed.
type Bus struct {
	Client  EventBridgeAPI
	BusName string
}

// Publish puts one event per detection: source "vigil", detail type "Detection",
// detail the detection's JSON.
func (b *Bus) Publish(ctx context.Context, ds []detect.Detection) error {
	for start := 0; start < len(ds); start += 10 {
		end := min(start+10, len(ds))
		entries := make([]types.PutEventsRequestEntry, 0, end-start)
		for i := start; i < end; i++ {
			detail, err := json.Marshal(ds[i])
			if err != nil {
				return fmt.Errorf("publish detection %s: %w", ds[i].ID, err)
			}
			entries = append(entries, types.PutEventsRequestEntry{
				EventBusName: aws.String(b.BusName), Source: aws.String(BusSource),
				DetailType: aws.String(DetectionDetailType), Detail: aws.String(string(detail)),
				Time: aws.Time(ds[i].Time), Resources: []string{},
			})
		}
		if err := b.put(ctx, entries); err != nil {
			return err
		}
	}
	return nil
}

func (b *Bus) put(ctx context.Context, entries []types.PutEventsRequestEntry) error {
	for attempt := 1; ; attempt++ {
		out, err := b.Client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
		if err != nil {
			return fmt.Errorf("put events on %s: %w", b.BusName, err)
		}
		if out.FailedEntryCount == 0 {
			return nil
		}
		var retry []types.PutEventsRequestEntry
		var last string
		for i, r := range out.Entries {
			if r.ErrorCode != nil && i < len(entries) {
				retry = append(retry, entries[i])
				last = aws.ToString(r.ErrorCode) + ": " + aws.ToString(r.ErrorMessage)
			}
		}
		if attempt == 3 {
			return fmt.Errorf("put events on %s: %d entries failed (%s)", b.BusName, len(retry), last)
		}
		entries = retry
	}
}
