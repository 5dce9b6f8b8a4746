package anomaly

import (
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/testcheck"
)

// cpuSeconds is the process's CPU time in seconds.
func cpuSeconds() float64 { return testcheck.ProcessCPU().Seconds() }

// BenchmarkTrain fits 100 trees (ψ = 256) on 100 000 rows of 10 features and
// sets the threshold from all training scores, as training does.
func BenchmarkTrain(b *testing.B) {
	ds, _ := blob(21, 100_000, 100, 10)
	b.ResetTimer()
	cpu := cpuSeconds()
	for b.Loop() {
		if _, err := FitModel(ds, Params{Trees: 100, MaxSamples: 256, Contamination: 0.001, Seed: 1}, ds.Rows); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(ds.Rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(ds.Rows)*float64(b.N)/(cpuSeconds()-cpu), "rows/cpu-s")
}

// BenchmarkScore scores single rows of 10 features with 100 trees on one core.
func BenchmarkScore(b *testing.B) {
	ds, _ := blob(22, 20_000, 20, 10)
	f, err := Fit(ds, Params{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu := cpuSeconds()
	i := 0
	for b.Loop() {
		f.Score(ds.Row(i % ds.Rows))
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(b.N)/(cpuSeconds()-cpu), "rows/cpu-s")
}

// BenchmarkScorerEvent scores HOST_STATS events as detection does: features,
// group model, score and the top three contributions.
func BenchmarkScorerEvent(b *testing.B) {
	sc := trainedScorer(b)
	evs := hostEvents(23, "prod", 10, 100, time.Now(), 1)
	b.ResetTimer()
	cpu := cpuSeconds()
	i := 0
	for b.Loop() {
		sc.Score(&evs[i%len(evs)])
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.N)/(cpuSeconds()-cpu), "events/cpu-s")
}
