package aws

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/vigil-sec/vigil/internal/testenv"
)

// TestKinesisPut puts batches on a real Kinesis API (kinesalite, or AWS_ENDPOINT_URL)
// and reads them back in order with their partition key.
func TestKinesisPut(t *testing.T) {
	ep := testenv.Kinesis(t)
	client := kinesis.NewFromConfig(testenv.AWSConfig(t, ep))
	testenv.CreateStream(t, client, "vigil-put")

	big := bytes.Repeat([]byte{0xAB}, 900<<10)
	tests := []struct {
		name    string
		records [][]byte
	}{
		{"one", [][]byte{[]byte("first")}},
		{"several in order", [][]byte{[]byte("a"), []byte("b"), []byte("c")}},
		{"near the record limit, split across calls", [][]byte{big, big, big, big, big, big, []byte("tail")}},
	}
	k := &Kinesis{Client: client, StreamName: "vigil-put"}
	var want [][]byte
	for _, tc := range tests {
		if err := k.Put(context.Background(), "sensor-1", tc.records); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		want = append(want, tc.records...)
	}
	got := testenv.ReadRecords(t, client, "vigil-put", len(want))
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i].Data, want[i]) {
			t.Errorf("record %d: %d bytes differ from the %d put", i, len(got[i].Data), len(want[i]))
		}
		if aws.ToString(got[i].PartitionKey) != "sensor-1" {
			t.Errorf("record %d: partition key %q", i, aws.ToString(got[i].PartitionKey))
		}
	}
}

func TestKinesisPutMissingStream(t *testing.T) {
	ep := testenv.Kinesis(t)
	k := &Kinesis{Client: kinesis.NewFromConfig(testenv.AWSConfig(t, ep)), StreamName: "absent", MaxAttempts: 1}
	err := k.Put(context.Background(), "s", [][]byte{[]byte("x")})
	if err == nil || !strings.Contains(err.Error(), "absent") {
		t.Fatalf("err = %v, want an error naming the stream", err)
	}
}

// partialFailer answers like Kinesis under throttling: the first call fails the
// records at the given positions; it exists because no emulator can throttle on
// demand.
type partialFailer struct {
	failFirst map[int]bool
	calls     [][]string
}

func (p *partialFailer) PutRecords(_ context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	var sent []string
	out := &kinesis.PutRecordsOutput{}
	var failed int32
	for i, r := range in.Records {
		sent = append(sent, string(r.Data))
		res := types.PutRecordsResultEntry{SequenceNumber: aws.String("1")}
		if len(p.calls) == 0 && p.failFirst[i] {
			res = types.PutRecordsResultEntry{ErrorCode: aws.String("ProvisionedThroughputExceededException"), ErrorMessage: aws.String("slow down")}
			failed++
		}
		out.Records = append(out.Records, res)
	}
	out.FailedRecordCount = aws.Int32(failed)
	p.calls = append(p.calls, sent)
	if len(p.calls) > 10 {
		return nil, errors.New("too many calls")
	}
	return out, nil
}

func TestKinesisRetriesOnlyFailedRecords(t *testing.T) {
	p := &partialFailer{failFirst: map[int]bool{1: true, 3: true}}
	k := &Kinesis{Client: p, StreamName: "s", Backoff: 1}
	if err := k.Put(context.Background(), "k", [][]byte{[]byte("a"), []byte("b"), []byte("c"), []byte("d")}); err != nil {
		t.Fatal(err)
	}
	if len(p.calls) != 2 || strings.Join(p.calls[1], ",") != "b,d" {
		t.Fatalf("calls = %v, want a retry of b,d only", p.calls)
	}
}

// TestKinesisPutNamesUnaccepted: when retries run out, the error names the
// records the stream never took (refused ones and those of calls not made), so
// that the caller sends those again and no other.
func TestKinesisPutNamesUnaccepted(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		fail map[int]bool
		want []int
	}{
		{"one call", 4, map[int]bool{1: true, 3: true}, []int{1, 3}},
		{"later calls not made", maxRecordsPerCall + 2, map[int]bool{0: true}, []int{0, maxRecordsPerCall, maxRecordsPerCall + 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &partialFailer{failFirst: tc.fail}
			k := &Kinesis{Client: p, StreamName: "s", MaxAttempts: 1}
			recs := make([][]byte, tc.n)
			for i := range recs {
				recs[i] = []byte{byte(i)}
			}
			err := k.Put(context.Background(), "k", recs)
			var pe *PutError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *PutError", err)
			}
			if !slices.Equal(pe.Unaccepted(), tc.want) {
				t.Fatalf("unaccepted = %v, want %v", pe.Unaccepted(), tc.want)
			}
			if !strings.Contains(err.Error(), "ProvisionedThroughputExceeded") {
				t.Fatalf("err = %v, want the service's reason", err)
			}
		})
	}
}
