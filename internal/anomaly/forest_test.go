package anomaly

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
)

// blob returns n rows of d features from N(0, 1) followed by k outliers with
// every feature at ±(5..6), random signs: far from the blob on every split.
func blob(seed uint64, n, k, d int) (*Dataset, []bool) {
	r := rand.New(rand.NewPCG(seed, 7))
	ds := &Dataset{Rows: n + k, Cols: d, X: make([]float64, (n+k)*d)}
	lab := make([]bool, n+k)
	for i := range ds.X {
		ds.X[i] = r.NormFloat64()
	}
	for i := range k {
		row := ds.Row(n + i)
		for j := range row {
			sign := 1.0
			if r.IntN(2) == 1 {
				sign = -1
			}
			row[j] = sign * (5 + r.Float64())
		}
		lab[n+i] = true
	}
	return ds, lab
}

func TestAvgPathLength(t *testing.T) {
	for _, c := range []struct {
		n    int
		want float64
	}{
		{0, 0}, {1, 0}, {2, 1},
		{3, 2*(math.Log(2)+eulerGamma) - 4.0/3},
		{256, 10.244770920119917}, // sklearn _average_path_length([256])
	} {
		if got := AvgPathLength(c.n); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("c(%d) = %v, want %v", c.n, got, c.want)
		}
	}
}

func TestOutliersScoreAboveInliers(t *testing.T) {
	ds, lab := blob(1, 2000, 10, 5)
	f, err := Fit(ds, Params{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	scores := f.ScoreAll(ds)
	maxIn, minOut := 0.0, 1.0
	for i, s := range scores {
		if s <= 0 || s > 1 {
			t.Fatalf("row %d score %v outside (0, 1]", i, s)
		}
		if lab[i] {
			minOut = min(minOut, s)
		} else {
			maxIn = max(maxIn, s)
		}
	}
	if minOut <= maxIn {
		t.Errorf("lowest outlier score %.3f ≤ highest inlier score %.3f", minOut, maxIn)
	}
	if minOut < 0.6 {
		t.Errorf("lowest outlier score %.3f, want well above 0.5", minOut)
	}
	if auc := AUC(scores, lab); auc != 1 {
		t.Errorf("AUC = %v, want 1", auc)
	}
	// The centre of the blob is as ordinary as it gets.
	if s := f.Score(make([]float64, 5)); s > 0.45 {
		t.Errorf("score of the centre = %.3f, want < 0.45", s)
	}
}

func TestFitDeterministic(t *testing.T) {
	ds, _ := blob(2, 1000, 5, 4)
	enc := func(seed uint64) []byte {
		f, err := Fit(ds, Params{Trees: 20, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		m := &Models{Kind: "test", Features: []string{"a", "b", "c", "d"}, Global: &Model{Forest: f, Threshold: 0.5, Rows: ds.Rows}}
		b, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b, c := enc(42), enc(42), enc(43)
	if !bytes.Equal(a, b) {
		t.Error("two fits with seed 42 differ")
	}
	if bytes.Equal(a, c) {
		t.Error("fits with seeds 42 and 43 are identical")
	}
}

func TestTreeShape(t *testing.T) {
	ds, _ := blob(3, 5000, 0, 3)
	f, err := Fit(ds, Params{Trees: 10, MaxSamples: 64, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if f.SampleSize != 64 {
		t.Fatalf("sample size %d", f.SampleSize)
	}
	for ti, tr := range f.Trees {
		if tr.Nodes[0].Size != 64 {
			t.Errorf("tree %d: root size %d", ti, tr.Nodes[0].Size)
		}
		depth := make([]int, len(tr.Nodes))
		for i, n := range tr.Nodes {
			if n.Feature < 0 {
				continue
			}
			depth[n.Left], depth[n.Right] = depth[i]+1, depth[i]+1
			if depth[n.Left] > 6 { // ceil(log2 64)
				t.Fatalf("tree %d: depth %d beyond the limit 6", ti, depth[n.Left])
			}
			if tr.Nodes[n.Left].Size+tr.Nodes[n.Right].Size != n.Size {
				t.Fatalf("tree %d node %d: sizes do not add up", ti, i)
			}
		}
	}
}

func TestConstantFeaturesAndDuplicates(t *testing.T) {
	ds := &Dataset{Rows: 300, Cols: 3, X: make([]float64, 900)}
	for i := range 300 {
		ds.X[i*3] = 5                // constant
		ds.X[i*3+1] = float64(i % 2) // two values
		ds.X[i*3+2] = 7              // constant
	}
	f, err := Fit(ds, Params{Trees: 5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range f.Trees {
		for _, n := range tr.Nodes {
			if n.Feature == 0 || n.Feature == 2 {
				t.Fatal("split on a constant feature")
			}
		}
	}
	if s := f.Score([]float64{5, 0, 7}); math.IsNaN(s) {
		t.Fatal("NaN score")
	}
}

func TestContributions(t *testing.T) {
	ds, _ := blob(4, 2000, 0, 4)
	f, err := Fit(ds, Params{Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range [][]float64{{0, 0, 9, 0}, {0.1, -0.3, 0.2, 0.5}, {-7, 0, 0, 6}} {
		w := make([]float64, 4)
		f.Contributions(w, x)
		sum := 0.0
		for _, v := range w {
			sum += v
		}
		if want := AvgPathLength(f.SampleSize) - f.PathLength(x); math.Abs(sum-want) > 1e-9 {
			t.Errorf("%v: contributions sum to %v, want c(ψ) − E[h] = %v", x, sum, want)
		}
	}
	w := make([]float64, 4)
	f.Contributions(w, []float64{0, 0, 9, 0})
	for j, v := range w {
		if j != 2 && v >= w[2] {
			t.Errorf("feature %d weight %.3f ≥ the outlying feature's %.3f", j, v, w[2])
		}
	}
}

func TestThresholdContamination(t *testing.T) {
	ds, _ := blob(5, 4000, 0, 3)
	m, err := FitModel(ds, Params{Contamination: 0.05, Seed: 2}, ds.Rows)
	if err != nil {
		t.Fatal(err)
	}
	above := 0
	for _, s := range m.ScoreAll(ds) {
		if s > m.Threshold {
			above++
		}
	}
	if got := float64(above) / float64(ds.Rows); math.Abs(got-0.05) > 0.002 {
		t.Errorf("%.4f of training rows above the threshold, want 0.05", got)
	}
	auto, err := FitModel(ds, Params{Seed: 2}, ds.Rows)
	if err != nil {
		t.Fatal(err)
	}
	if auto.Threshold != 0.5 {
		t.Errorf("auto threshold %v, want 0.5", auto.Threshold)
	}
}

func TestPercentile(t *testing.T) {
	v := []float64{4, 1, 3, 2}
	for _, c := range []struct{ q, want float64 }{{0, 1}, {100, 4}, {50, 2.5}, {10, 1.3}, {95, 3.85}} {
		if got := Percentile(v, c.q); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("percentile %v = %v, want %v (numpy linear)", c.q, got, c.want)
		}
	}
}

func TestAUC(t *testing.T) {
	for _, c := range []struct {
		s    []float64
		l    []bool
		want float64
	}{
		{[]float64{0.1, 0.2, 0.8, 0.9}, []bool{false, false, true, true}, 1},
		{[]float64{0.9, 0.8, 0.2, 0.1}, []bool{false, false, true, true}, 0},
		{[]float64{0.5, 0.5, 0.5, 0.5}, []bool{false, true, false, true}, 0.5},
		{[]float64{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true}, 0.75}, // sklearn docs example
	} {
		if got := AUC(c.s, c.l); got != c.want {
			t.Errorf("AUC(%v, %v) = %v, want %v", c.s, c.l, got, c.want)
		}
	}
	if !math.IsNaN(AUC([]float64{1, 2}, []bool{true, true})) {
		t.Error("AUC with one class is not NaN")
	}
}

func TestFitRejects(t *testing.T) {
	ds, _ := blob(6, 10, 0, 2)
	for name, c := range map[string]struct {
		d *Dataset
		p Params
	}{
		"trees":         {ds, Params{Trees: -1}},
		"max samples 1": {ds, Params{MaxSamples: 1}},
		"contamination": {ds, Params{Contamination: 0.6}},
		"one row":       {&Dataset{Rows: 1, Cols: 2, X: []float64{1, 2}}, Params{}},
		"nan":           {&Dataset{Rows: 2, Cols: 1, X: []float64{1, math.NaN()}}, Params{}},
		"short":         {&Dataset{Rows: 3, Cols: 2, X: []float64{1, 2}}, Params{}},
	} {
		if _, err := Fit(c.d, c.p); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
