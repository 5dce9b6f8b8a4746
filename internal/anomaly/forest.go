package anomaly

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"
)

// Params are an isolation forest's hyperparameters, with scikit-learn's meaning.
type Params struct {
	// Trees is the number of trees (sklearn n_estimators); 0 means 100.
	Trees int `json:"trees"`
	// MaxSamples is the subsample size ψ each tree is grown on (sklearn
	// max_samples as an int); 0 means min(256, rows). It is capped at the rows.
	MaxSamples int `json:"max_samples"`
	// Contamination is the expected share of outliers in the training data, in
	// (0, 0.5]: the threshold is the score exceeded by that share of the training
	// rows. 0 is sklearn's "auto": a fixed threshold of 0.5.
	Contamination float64 `json:"contamination"`
	// Seed makes training reproducible: the same rows, parameters and seed give
	// the same forest (sklearn random_state).
	Seed uint64 `json:"seed"`
}

// Limits on parameters and on what a model file may hold.
const (
	MaxTrees      = 10000
	MaxSampleSize = 1 << 16
	MaxFeatures   = 1024
)

func (p Params) withDefaults() Params {
	if p.Trees == 0 {
		p.Trees = 100
	}
	return p
}

// Validate reports the first parameter that is out of range.
func (p Params) Validate() error {
	switch {
	case p.Trees < 0 || p.Trees > MaxTrees:
		return fmt.Errorf("trees = %d, want 1..%d (0 for the default 100)", p.Trees, MaxTrees)
	case p.MaxSamples < 0 || p.MaxSamples > MaxSampleSize:
		return fmt.Errorf("max samples = %d, want 2..%d (0 for min(256, rows))", p.MaxSamples, MaxSampleSize)
	case p.MaxSamples == 1:
		return errors.New("max samples = 1: a tree needs at least 2 rows to split")
	case math.IsNaN(p.Contamination) || p.Contamination < 0 || p.Contamination > 0.5:
		return fmt.Errorf("contamination = %v, want (0, 0.5] (0 for auto: threshold 0.5)", p.Contamination)
	}
	return nil
}

// Forest is a trained isolation forest. It is read-only once built and safe for
// concurrent use.
type Forest struct {
	// NumFeatures is the length of the rows it scores.
	NumFeatures int
	// SampleSize is ψ, the rows each tree was grown on; c(ψ) normalises path lengths.
	SampleSize int
	Trees      []Tree
	cpsi       float64
	cn         []float64 // c(n) for n = 0..SampleSize
}

// Tree is one isolation tree, its nodes in pre-order (children after parents).
type Tree struct {
	Nodes []Node
}

// Node is a split (Feature ≥ 0: rows with x[Feature] ≤ Threshold go Left, the
// others Right) or a leaf (Feature = -1). Size is how many training rows reached it.
type Node struct {
	Feature   int32
	Left      int32
	Right     int32
	Size      int32
	Threshold float64
	// path is the leaf's path length: its depth plus c(Size), the average path
	// length of the unbuilt subtree below it. Derived, not stored.
	path float64
}

const eulerGamma = 0.5772156649015329

// AvgPathLength is c(n), the average path length of an unsuccessful search in a
// binary search tree of n items (Liu, Ting & Zhou 2008), as scikit-learn
// computes it: 0 for n ≤ 1, 1 for n = 2, else 2(ln(n−1)+γ) − 2(n−1)/n.
func AvgPathLength(n int) float64 {
	switch {
	case n <= 1:
		return 0
	case n == 2:
		return 1
	}
	f := float64(n)
	return 2*(math.Log(f-1)+eulerGamma) - 2*(f-1)/f
}

// Dataset is a row-major matrix of training rows.
type Dataset struct {
	Rows, Cols int
	X          []float64 // len Rows*Cols
}

// Row returns row i.
func (d *Dataset) Row(i int) []float64 { return d.X[i*d.Cols : (i+1)*d.Cols] }

// Fit grows an isolation forest on d. Trees are grown in parallel, each from its
// own generator seeded from p.Seed, so the result does not depend on scheduling.
func Fit(d *Dataset, p Params) (*Forest, error) {
	p = p.withDefaults()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if d.Cols < 1 || d.Cols > MaxFeatures {
		return nil, fmt.Errorf("rows have %d features, want 1..%d", d.Cols, MaxFeatures)
	}
	if d.Rows < 2 {
		return nil, fmt.Errorf("%d training rows, want at least 2", d.Rows)
	}
	if len(d.X) != d.Rows*d.Cols {
		return nil, fmt.Errorf("dataset holds %d values, want %d×%d", len(d.X), d.Rows, d.Cols)
	}
	for i, v := range d.X {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("row %d feature %d is %v: values must be finite", i/d.Cols, i%d.Cols, v)
		}
	}
	psi := p.MaxSamples
	if psi == 0 {
		psi = 256
	}
	psi = min(psi, d.Rows)
	maxDepth := int(math.Ceil(math.Log2(float64(max(psi, 2)))))

	seeds := rand.New(rand.NewPCG(p.Seed, 0x9e3779b97f4a7c15))
	treeSeeds := make([]uint64, p.Trees)
	for i := range treeSeeds {
		treeSeeds[i] = seeds.Uint64()
	}
	f := &Forest{NumFeatures: d.Cols, SampleSize: psi, Trees: make([]Tree, p.Trees)}
	workers := min(runtime.GOMAXPROCS(0), p.Trees)
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := &builder{d: d, maxDepth: maxDepth}
			for t := range next {
				b.rng = rand.New(rand.NewPCG(treeSeeds[t], uint64(t)))
				f.Trees[t] = b.grow(psi)
			}
		}()
	}
	for t := range p.Trees {
		next <- t
	}
	close(next)
	wg.Wait()
	f.prepare()
	return f, nil
}

// builder grows trees; one per goroutine, reusing its buffers.
type builder struct {
	d        *Dataset
	rng      *rand.Rand
	maxDepth int
	idx      []int
	feats    []int
	swaps    map[int]int
}

// sample draws k distinct row indices uniformly (a sparse Fisher–Yates shuffle).
func (b *builder) sample(k int) []int {
	n := b.d.Rows
	if b.swaps == nil {
		b.swaps = make(map[int]int, k)
	}
	clear(b.swaps)
	b.idx = b.idx[:0]
	for i := range k {
		j := i + b.rng.IntN(n-i)
		vj, ok := b.swaps[j]
		if !ok {
			vj = j
		}
		vi, ok := b.swaps[i]
		if !ok {
			vi = i
		}
		b.swaps[j] = vi
		b.idx = append(b.idx, vj)
	}
	return b.idx
}

type frame struct {
	lo, hi, depth int
	node          int32 // index of the node to fill
}

// grow builds one tree on a subsample of psi rows. Nodes are appended in
// pre-order: a node's children always come after it.
func (b *builder) grow(psi int) Tree {
	idx := b.sample(psi)
	if cap(b.feats) < b.d.Cols {
		b.feats = make([]int, b.d.Cols)
	}
	b.feats = b.feats[:b.d.Cols]
	nodes := make([]Node, 1, 2*psi)
	stack := []frame{{lo: 0, hi: psi, depth: 0, node: 0}}
	for len(stack) > 0 {
		fr := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		rows := idx[fr.lo:fr.hi]
		n := &nodes[fr.node]
		*n = Node{Feature: -1, Left: -1, Right: -1, Size: int32(len(rows))}
		if len(rows) < 2 || fr.depth >= b.maxDepth {
			continue
		}
		feat, lo, hi, ok := b.pickFeature(rows)
		if !ok {
			continue // every feature constant here: a leaf
		}
		thr := lo + b.rng.Float64()*(hi-lo)
		if thr >= hi || thr < lo {
			thr = lo
		}
		// Partition rows: x ≤ thr to the front.
		i, j := 0, len(rows)-1
		for i <= j {
			if b.d.X[rows[i]*b.d.Cols+feat] <= thr {
				i++
			} else {
				rows[i], rows[j] = rows[j], rows[i]
				j--
			}
		}
		left := int32(len(nodes))
		right := left + 1
		nodes = append(nodes, Node{}, Node{})
		n = &nodes[fr.node]
		n.Feature, n.Threshold, n.Left, n.Right = int32(feat), thr, left, right
		// Right pushed first so the left subtree is laid out first; indices are
		// assigned on append, so both children follow the parent either way.
		stack = append(stack,
			frame{lo: fr.lo + i, hi: fr.hi, depth: fr.depth + 1, node: right},
			frame{lo: fr.lo, hi: fr.lo + i, depth: fr.depth + 1, node: left})
	}
	return Tree{Nodes: nodes}
}

// constEps is the range below which a feature counts as constant in a node (as
// sklearn's FEATURE_THRESHOLD).
const constEps = 1e-7

// pickFeature draws features at random without replacement until one is not
// constant over rows, as sklearn's random splitter with max_features=1 does.
func (b *builder) pickFeature(rows []int) (feat int, lo, hi float64, ok bool) {
	for i := range b.feats {
		b.feats[i] = i
	}
	X, cols := b.d.X, b.d.Cols
	for k := len(b.feats); k > 0; k-- {
		j := b.rng.IntN(k)
		f := b.feats[j]
		b.feats[j], b.feats[k-1] = b.feats[k-1], b.feats[j]
		lo, hi = math.Inf(1), math.Inf(-1)
		for _, r := range rows {
			v := X[r*cols+f]
			lo = min(lo, v)
			hi = max(hi, v)
		}
		if hi > lo+constEps {
			return f, lo, hi, true
		}
	}
	return 0, 0, 0, false
}

// prepare computes the derived fields: c(ψ) and every leaf's path length.
func (f *Forest) prepare() {
	f.cpsi = AvgPathLength(f.SampleSize)
	f.cn = make([]float64, f.SampleSize+1)
	for n := range f.cn {
		f.cn[n] = AvgPathLength(n)
	}
	for t := range f.Trees {
		nodes := f.Trees[t].Nodes
		depth := make([]int32, len(nodes))
		for i := range nodes {
			n := &nodes[i]
			if n.Feature < 0 {
				n.path = float64(depth[i]) + AvgPathLength(int(n.Size))
				continue
			}
			depth[n.Left] = depth[i] + 1
			depth[n.Right] = depth[i] + 1
		}
	}
}

// PathLength is E[h(x)]: the mean over trees of the depth x reaches plus c(n) of
// the leaf's training rows.
func (f *Forest) PathLength(x []float64) float64 {
	sum := 0.0
	for t := range f.Trees {
		nodes := f.Trees[t].Nodes
		i := int32(0)
		for nodes[i].Feature >= 0 {
			n := &nodes[i]
			if x[n.Feature] <= n.Threshold {
				i = n.Left
			} else {
				i = n.Right
			}
		}
		sum += nodes[i].path
	}
	return sum / float64(len(f.Trees))
}

// Score is 2^(−E[h(x)]/c(ψ)) in (0, 1]: near 1 for points isolated in few splits,
// about 0.5 or less for ordinary ones. It is the negation of sklearn's
// score_samples. x must have NumFeatures values.
func (f *Forest) Score(x []float64) float64 {
	if f.cpsi == 0 {
		return 1 // ψ = 1 cannot happen after Fit or Decode; guard the division
	}
	return math.Exp2(-f.PathLength(x) / f.cpsi)
}

// Contributions adds to dst (len NumFeatures) how much each feature's splits
// shortened x's path, averaged over trees, in path-length units. At a split
// on feature j sending x from a node of n training rows into a child of m, the
// expected remaining path drops from c(n) to 1 + c(m); the difference
// c(n) − 1 − c(m) is credited to j (negative when x follows the crowd). Along a
// path the credits telescope to c(ψ) − h(x), so over all features they sum to
// c(ψ) − E[h(x)]: positive for points shorter-pathed than average.
func (f *Forest) Contributions(dst, x []float64) {
	inv := 1 / float64(len(f.Trees))
	for t := range f.Trees {
		nodes := f.Trees[t].Nodes
		i := int32(0)
		for nodes[i].Feature >= 0 {
			n := &nodes[i]
			next := n.Right
			if x[n.Feature] <= n.Threshold {
				next = n.Left
			}
			gain := f.cn[n.Size] - 1 - f.cn[nodes[next].Size]
			dst[n.Feature] += gain * inv
			i = next
		}
	}
}

// Percentile is numpy's percentile with linear interpolation: q in [0, 100]. It
// sorts a copy of v.
func Percentile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	pos := q / 100 * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	frac := pos - float64(lo)
	return s[lo] + (s[hi]-s[lo])*frac
}

// Threshold is the score above which a row counts as an outlier: 0.5 when
// contamination is 0 (sklearn's "auto"), else the (1 − contamination) quantile of
// the training rows' scores — sklearn's offset_, which is the contamination
// percentile of score_samples = −Score.
func Threshold(trainScores []float64, contamination float64) float64 {
	if contamination == 0 {
		return 0.5
	}
	return Percentile(trainScores, 100*(1-contamination))
}

// ScoreAll scores every row of d, in parallel.
func (f *Forest) ScoreAll(d *Dataset) []float64 {
	out := make([]float64, d.Rows)
	workers := max(1, min(runtime.GOMAXPROCS(0), d.Rows/1024))
	var wg sync.WaitGroup
	chunk := (d.Rows + workers - 1) / workers
	for w := range workers {
		lo, hi := w*chunk, min((w+1)*chunk, d.Rows)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				out[i] = f.Score(d.Row(i))
			}
		}()
	}
	wg.Wait()
	return out
}
