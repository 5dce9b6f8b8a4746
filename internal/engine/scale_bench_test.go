package engine_test

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/engine"
)

// BenchmarkEvalRuleCount is the cost of evaluation as a function of the number of
// rules: the scaling mix (scaleMix) through Process against the pack alone, the
// pack and the rules converted from testdata/scale, and 250, 500 and 1000 rules
// (the same plus variants with other literal values). ns/op is per event.
func BenchmarkEvalRuleCount(b *testing.B) {
	sizes := []struct {
		name string
		n    int
	}{{"pack", -1}, {"converted", 0}, {"250", 250}, {"500", 500}, {"1000", 1000}}
	for _, s := range sizes {
		b.Run("rules="+s.name, func(b *testing.B) {
			var rules []*engine.Rule
			if s.n < 0 {
				rules = packRules(b)
			} else {
				rules = scaleRules(b, s.n)
			}
			benchEval(b, rules)
		})
	}
}

// BenchmarkEvalRuleCorpus is BenchmarkEvalRuleCount with the pack and every rule
// converted from the Falco and Sigma files named by VIGIL_BENCH_RULES (skipped
// when it is unset), e.g. real rule corpora (relative paths are read from the
// package directory):
//
//	VIGIL_BENCH_RULES=$PWD/../shared/corpora/falco,$PWD/../shared/corpora/sigma \
//	  go test -run '^$' -bench EvalRuleCorpus ./internal/engine/
func BenchmarkEvalRuleCorpus(b *testing.B) {
	rules, ok := corpusRules(b)
	if !ok {
		b.Skip(BenchRulesEnv + " is not set")
	}
	b.Run("rules="+strconv.Itoa(len(rules)), func(b *testing.B) { benchEval(b, rules) })
}

func benchEval(b *testing.B, rules []*engine.Rule) {
	eng, err := engine.New(rules)
	if err != nil {
		b.Fatal(err)
	}
	mix := scaleMix()
	st := engine.NewMemoryState()
	ctx := context.Background()
	now := time.Now()
	ms := make([]engine.Match, 0, 16)
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := engine.ThreadCPU()
	n := 0
	for b.Loop() {
		ms, _ = eng.Process(ctx, &mix[n%len(mix)], st, now, ms[:0])
		n++
	}
	b.ReportMetric(float64(len(rules)), "rules")
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
	if cpu := engine.ThreadCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), "events/cpu-s")
	}
}
