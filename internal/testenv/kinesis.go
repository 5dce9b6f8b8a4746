package testenv

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// CreateStream creates a one-shard stream and waits until it is active.
func CreateStream(t testing.TB, c *kinesis.Client, name string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatalf("create stream %s: %v", name, err)
	}
	w := kinesis.NewStreamExistsWaiter(c, func(o *kinesis.StreamExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	if err := w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)}, 30*time.Second); err != nil {
		t.Fatalf("stream %s not active: %v", name, err)
	}
	t.Cleanup(func() {
		_, _ = c.DeleteStream(context.Background(), &kinesis.DeleteStreamInput{StreamName: aws.String(name)})
	})
}

// ReadRecords reads the stream's records from the start of its shards until want
// records have arrived or 30 seconds pass.
func ReadRecords(t testing.TB, c *kinesis.Client, name string, want int) []types.Record {
	t.Helper()
	ctx := context.Background()
	shards, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatalf("list shards: %v", err)
	}
	var out []types.Record
	deadline := time.Now().Add(30 * time.Second)
	for _, sh := range shards.Shards {
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: aws.String(name), ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatalf("shard iterator: %v", err)
		}
		iter := it.ShardIterator
		for iter != nil && len(out) < want && time.Now().Before(deadline) {
			res, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatalf("get records: %v", err)
			}
			out = append(out, res.Records...)
			iter = res.NextShardIterator
			if len(res.Records) == 0 {
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	if len(out) < want {
		t.Fatalf("read %d records from %s, want %d", len(out), name, want)
	}
	return out
}

// OutageStream starts a kinesalite the test can stop and start again on the
// same port and data (an outage of the stream), creates the stream name on
// it, and returns it with a client that does not retry, so that a put fails as
// soon as it is stopped. The test is skipped when AWS_ENDPOINT_URL points
// elsewhere: it needs an emulator of its own.
func OutageStream(t testing.TB, name string) (*Emulator, *kinesis.Client) {
	t.Helper()
	if os.Getenv("AWS_ENDPOINT_URL") != "" {
		t.Skip("the test stops and restarts its own kinesalite; AWS_ENDPOINT_URL points elsewhere")
	}
	kin := NewKinesalite(t, filepath.Join(t.TempDir(), "kinesis"))
	kin.Start(t)
	kc := kinesis.NewFromConfig(AWSConfig(t, kin.Endpoint), func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
	CreateStream(t, kc, name)
	return kin, kc
}
