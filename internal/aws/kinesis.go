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

// Put sends records in order with partitionKey, in calls within the service
// limits. When some are not accepted, the error is a *PutError naming them:
// the others are in the stream and must not be sent again.
func (k *Kinesis) Put(ctx context.Context, partitionKey string, records [][]byte) error {
	for from := 0; from < len(records); {
		n, size := 0, 0
		for from+n < len(records) && n < maxRecordsPerCall && size+len(records[from+n])+len(partitionKey) <= maxBytesPerCall {
			size += len(records[from+n]) + len(partitionKey)
			n++
		}
		if n == 0 {
			return &PutError{unaccepted: span(from, len(records)),
				err: fmt.Errorf("kinesis put: record of %d bytes exceeds the call limit", len(records[from]))}
		}
		if failed, err := k.putCall(ctx, partitionKey, records[from:from+n]); err != nil {
			for i := range failed {
				failed[i] += from
			}
			return &PutError{unaccepted: append(failed, span(from+n, len(records))...), err: err}
		}
		from += n
	}
	return nil
}

// PutError is a Put that left some records out of the stream.
type PutError struct {
	unaccepted []int
	err        error
}

func (e *PutError) Error() string {
	return fmt.Sprintf("%v (%d records not accepted)", e.err, len(e.unaccepted))
}

func (e *PutError) Unwrap() error { return e.err }

// Unaccepted lists the indexes of the records not accepted, ascending.
func (e *PutError) Unaccepted() []int { return e.unaccepted }

func span(from, to int) []int {
	out := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// putCall sends one PutRecords call's worth, retrying the records the service
// refused; on error it returns the indexes of records never accepted.
func (k *Kinesis) putCall(ctx context.Context, partitionKey string, records [][]byte) ([]int, error) {
	attempts := k.MaxAttempts
	if attempts <= 0 {
		attempts = 6
	}
	delay := k.Backoff
	if delay <= 0 {
		delay = 100 * time.Millisecond
	}
	entries := make([]types.PutRecordsRequestEntry, len(records))
	pending := make([]int, len(records)) // index in records of each entry
	for i, r := range records {
		entries[i] = types.PutRecordsRequestEntry{Data: r, PartitionKey: aws.String(partitionKey)}
		pending[i] = i
	}
	var lastErr error
	for attempt := 1; ; attempt++ {
		out, err := k.Client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(k.StreamName), Records: entries})
		switch {
		case err != nil:
			lastErr = err
		case aws.ToInt32(out.FailedRecordCount) == 0:
			return nil, nil
		default:
			var retry []types.PutRecordsRequestEntry
			var still []int
			for i, res := range out.Records {
				if res.ErrorCode != nil && i < len(entries) {
					retry = append(retry, entries[i])
					still = append(still, pending[i])
					lastErr = fmt.Errorf("%s: %s", aws.ToString(res.ErrorCode), aws.ToString(res.ErrorMessage))
				}
			}
			entries, pending = retry, still
		}
		if attempt >= attempts {
			return pending, fmt.Errorf("kinesis put to %s: %d records failed after %d attempts: %w", k.StreamName, len(entries), attempt, lastErr)
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return pending, fmt.Errorf("kinesis put to %s: %w (last error: %w)", k.StreamName, ctx.Err(), lastErr)
		}
		delay *= 2
	}
}
