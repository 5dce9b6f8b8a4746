package main

import (
	"testing"

	"github.com/vigil-sec/vigil/internal/cost"
)

// TestCostModelMatchesStack checks that internal/cost models the functions as the
// stack deploys them: memory sizes, the detect function's batch size and the
// train function's timeout (which the model counts in full), the authorizer's cache.
func TestCostModelMatchesStack(t *testing.T) {
	p := cost.DefaultParams()
	fns := functionsByName(t, synthApp(t, nil).json)
	for _, c := range []struct {
		name   string
		memory float64
	}{
		{fnDetect, p.DetectMemoryMB},
		{fnAPI, p.APIMemoryMB},
		{fnAuthorizer, p.AuthorizerMemoryMB},
		{fnRespond, p.RespondMemoryMB},
		{fnTrain, p.TrainMemoryMB},
	} {
		f, ok := fns[c.name]
		if !ok {
			t.Fatalf("no %s function in the template", c.name)
		}
		if got, _ := f.props["MemorySize"].(float64); got != c.memory {
			t.Errorf("%s: the stack gives %v MB, the cost model %v", c.name, f.props["MemorySize"], c.memory)
		}
		if c.name == fnTrain {
			if got, _ := f.props["Timeout"].(float64); got != p.TrainSec {
				t.Errorf("train: timeout %v s in the stack, the cost model counts %v s", f.props["Timeout"], p.TrainSec)
			}
		}
	}
	if p.DetectBatchSize != detectBatchSize {
		t.Errorf("the detect function takes batches of %d records, the cost model %v", detectBatchSize, p.DetectBatchSize)
	}
	if p.AuthorizerCacheSec != authorizerCacheSeconds {
		t.Errorf("the authorizer's answers are cached %d s, the cost model says %v s", authorizerCacheSeconds, p.AuthorizerCacheSec)
	}
}
