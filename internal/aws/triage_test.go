package aws

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/detect"
)

// countingClient passes every call to the emulator's client and counts the
// conditional writes it refused.
type countingClient struct {
	DynamoAPI
	refused atomic.Int64
}

func (c *countingClient) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	out, err := c.DynamoAPI.UpdateItem(ctx, in, opts...)
	var cfe *types.ConditionalCheckFailedException
	if errors.As(err, &cfe) {
		c.refused.Add(1)
	}
	return out, err
}

// TestUpdateTriageRace: two updates that both read the detection before either
// writes are both kept: the conditional write refuses the second, which reads
// again and applies its change over the first.
func TestUpdateTriageRace(t *testing.T) {
	st := newDetections(t)
	cc := &countingClient{DynamoAPI: st.Client}
	st.Client = cc
	ctx := context.Background()
	if _, err := st.Claim(ctx, []detect.Detection{det(1, "s1", "env:prod")}); err != nil {
		t.Fatal(err)
	}
	var read sync.WaitGroup
	read.Add(2)
	var wg sync.WaitGroup
	for _, who := range []string{"alice", "bob"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first := true
			_, _, err := st.UpdateTriage(ctx, "d01", func(tr *api.Triage) error {
				if first { // both read version 0 before either writes
					first = false
					read.Done()
					read.Wait()
				}
				tr.History = append(tr.History, api.Change{By: who, Field: "status", To: who})
				tr.Status = api.StatusAcknowledged
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	_, tr, err := st.GetDetection(ctx, "d01")
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.History) != 2 || tr.Version != 2 || tr.History[0].By == tr.History[1].By {
		t.Fatalf("kept %+v", tr)
	}
	if n := cc.refused.Load(); n < 1 {
		t.Fatalf("%d conditional writes refused: the race did not happen", n)
	}
}

// TestTriagedDetectionKeepsItsItem: a detection replayed before it was marked
// published keeps the triage someone gave it.
func TestTriagedDetectionKeepsItsItem(t *testing.T) {
	st := newDetections(t)
	ctx := context.Background()
	d := det(1, "s1", "env:prod")
	if _, err := st.Claim(ctx, []detect.Detection{d}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.UpdateTriage(ctx, "d01", func(tr *api.Triage) error { tr.Status = api.StatusResolved; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Claim(ctx, []detect.Detection{d}); err != nil {
		t.Fatal(err)
	}
	_, tr, err := st.GetDetection(ctx, "d01")
	if err != nil || tr.Status != api.StatusResolved {
		t.Fatalf("%+v %v", tr, err)
	}
	docs, _, err := st.List(ctx, api.DetectionQuery{Tag: "env:prod", Status: api.StatusResolved})
	if err != nil || fmt.Sprint(ids(t, docs)) != "[d01]" {
		t.Fatalf("%v %v", ids(t, docs), err)
	}
	if _, _, err := st.GetDetection(ctx, "d99"); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("unknown detection: %v", err)
	}
	change := errors.New("refused")
	if _, _, err := st.UpdateTriage(ctx, "d01", func(*api.Triage) error { return change }); !errors.Is(err, change) {
		t.Fatalf("a change's error: %v", err)
	}
}
