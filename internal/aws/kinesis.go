package aws

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// KinesisAPI is the part of the Kinesis client the stream uses.
type KinesisAPI interface {
	PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, opts ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
}

// PutRecords limits per call.
const (
	maxRecordsPerCall = 500
	maxBytesPerCall   = 5 << 20
)

// Kinesis puts Parquet batches on a Kinesis data stream with PutRecords. Records the
// service refuses (throttled, internal failure) are retried with exponential
// backoff; records it accepted are not sent again.
type Kinesis struct {
	Client      KinesisAPI
	StreamName  string
	MaxAttempts int           // default 6
	Backoff     time.Duration // first retry delay, doubled each time; default 100ms
}

// Put sends records in order with partitionKey, in calls within the service limits.
func (k *Kinesis) Put(ctx context.Context, partitionKey string, records [][]byte) error {
	for len(records) > 0 {
		n, size := 0, 0
		for n < len(records) && n < maxRecordsPerCall && size+len(records[n])+len(partitionKey) <= maxBytesPerCall {
			size += len(records[n]) + len(partitionKey)
			n++
		}
		if n == 0 {
			return fmt.Errorf("kinesis put: record of %d bytes exceeds the call limit", len(records[0]))
		}
		if err := k.putCall(ctx, partitionKey, records[:n]); err != nil {
			return err
		}
		records = records[n:]
	}
	return nil
}

func (k *Kinesis) putCall(ctx context.Context, partitionKey string, records [][]byte) error {
	attempts := k.MaxAttempts
	if attempts <= 0 {
		attempts = 6
	}
	delay := k.Backoff
	if delay <= 0 {
		delay = 100 * time.Millisecond
	}
	entries := make([]types.PutRecordsRequestEntry, len(records))
	for i, r := range records {
		entries[i] = types.PutRecordsRequestEntry{Data: r, PartitionKey: aws.String(partitionKey)}
	}
	var lastErr error
	for attempt := 1; ; attempt++ {
		out, err := k.Client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(k.StreamName), Records: entries})
		switch {
		case err != nil:
			lastErr = err
		case aws.ToInt32(out.FailedRecordCount) == 0:
			return nil
		default:
			var retry []types.PutRecordsRequestEntry
			for i, res := range out.Records {
				if res.ErrorCode != nil && i < len(entries) {
					retry = append(retry, entries[i])
					lastErr = fmt.Errorf("%s: %s", aws.ToString(res.ErrorCode), aws.ToString(res.ErrorMessage))
				}
			}
			entries = retry
		}
		if attempt >= attempts {
			return fmt.Errorf("kinesis put to %s: %d records failed after %d attempts: %w", k.StreamName, len(entries), attempt, lastErr)
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return fmt.Errorf("kinesis put to %s: %w (last error: %w)", k.StreamName, ctx.Err(), lastErr)
		}
		delay *= 2
	}
}
