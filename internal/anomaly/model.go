package anomaly

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// Version is the model file format this build writes and reads. A change that an
// older reader would misread bumps it; added optional fields do not.
const Version = 1

// Kind names what a model set scores.
const KindHostActivity = "host_activity"

// MaxModelBytes bounds a model file Decode accepts.
const MaxModelBytes = 256 << 20

// ErrBadModel is wrapped by every error Decode returns.
var ErrBadModel = errors.New("invalid anomaly model")

// Model is one trained forest with its alerting threshold.
type Model struct {
	*Forest
	// Threshold is the score above which a row is an outlier (see Threshold).
	Threshold float64
	// Rows is how many rows it was trained on.
	Rows int
}

// Models is a set of models for one kind of row: one per group of sensors (the
// value of their GroupBy tag, e.g. env:prod → "prod") with a global model for
// sensors in no group or in a group too small to have its own.
type Models struct {
	Kind      string
	TrainedAt time.Time
	// Features names the columns, in the order models read them.
	Features []string
	Params   Params
	// GroupBy is the tag key groups are taken from ("env" for env:prod); empty
	// when there is only the global model.
	GroupBy string
	Global  *Model
	Groups  map[string]*Model
}

// For returns the model for a group: the group's own, else the global one.
func (m *Models) For(group string) (*Model, string) {
	if g, ok := m.Groups[group]; ok && group != "" {
		return g, group
	}
	return m.Global, ""
}

// GroupNames lists the groups with their own model, sorted.
func (m *Models) GroupNames() []string {
	out := make([]string, 0, len(m.Groups))
	for g := range m.Groups {
		out = append(out, g)
	}
	sort.Strings(out)
	return out
}

// Wire format: versioned JSON. Each tree is five parallel arrays indexed by node.

type wireModels struct {
	Version   int                   `json:"version"`
	Kind      string                `json:"kind"`
	TrainedAt time.Time             `json:"trained_at"`
	Features  []string              `json:"features"`
	Params    Params                `json:"params"`
	GroupBy   string                `json:"group_by,omitempty"`
	Global    *wireModel            `json:"global"`
	Groups    map[string]*wireModel `json:"groups,omitempty"`
}

type wireModel struct {
	Rows       int        `json:"rows"`
	SampleSize int        `json:"sample_size"`
	Threshold  float64    `json:"threshold"`
	Trees      []wireTree `json:"trees"`
}

type wireTree struct {
	Feature   []int32   `json:"feature"`
	Threshold []float64 `json:"threshold"`
	Left      []int32   `json:"left"`
	Right     []int32   `json:"right"`
	Size      []int32   `json:"size"`
}

// Encode writes m as versioned JSON.
func (m *Models) Encode() ([]byte, error) {
	w := wireModels{
		Version: Version, Kind: m.Kind, TrainedAt: m.TrainedAt.UTC(), Features: m.Features,
		Params: m.Params, GroupBy: m.GroupBy,
	}
	if m.Global == nil {
		return nil, errors.New("encode model: no global model")
	}
	w.Global = toWire(m.Global)
	if len(m.Groups) > 0 {
		w.Groups = make(map[string]*wireModel, len(m.Groups))
		for g, gm := range m.Groups {
			w.Groups[g] = toWire(gm)
		}
	}
	return json.Marshal(&w)
}

func toWire(m *Model) *wireModel {
	w := &wireModel{Rows: m.Rows, SampleSize: m.SampleSize, Threshold: m.Threshold, Trees: make([]wireTree, len(m.Trees))}
	for t, tr := range m.Trees {
		n := len(tr.Nodes)
		wt := wireTree{Feature: make([]int32, n), Threshold: make([]float64, n), Left: make([]int32, n),
			Right: make([]int32, n), Size: make([]int32, n)}
		for i, nd := range tr.Nodes {
			wt.Feature[i], wt.Threshold[i], wt.Left[i], wt.Right[i], wt.Size[i] =
				nd.Feature, nd.Threshold, nd.Left, nd.Right, nd.Size
		}
		w.Trees[t] = wt
	}
	return w
}

// Decode reads a model file, checking everything a scorer relies on: the
// version, the feature names, the parameters, and every tree's shape (children
// after their parent, each node reached once, features in range, finite
// thresholds, row counts adding up). Errors wrap ErrBadModel and say which
// group, tree and node is wrong.
func Decode(data []byte) (*Models, error) {
	if len(data) > MaxModelBytes {
		return nil, fmt.Errorf("%w: %d bytes exceeds the limit of %d", ErrBadModel, len(data), MaxModelBytes)
	}
	var probe struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("%w: not JSON: %w", ErrBadModel, err)
	}
	if probe.Version == nil {
		return nil, fmt.Errorf("%w: no \"version\" field", ErrBadModel)
	}
	if *probe.Version != Version {
		return nil, fmt.Errorf("%w: format version %d, this build reads version %d", ErrBadModel, *probe.Version, Version)
	}
	var w wireModels
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadModel, err)
	}
	m, err := fromWire(&w)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadModel, err)
	}
	return m, nil
}

func fromWire(w *wireModels) (*Models, error) {
	if w.Kind == "" {
		return nil, errors.New("no \"kind\"")
	}
	nf := len(w.Features)
	if nf < 1 || nf > MaxFeatures {
		return nil, fmt.Errorf("%d feature names, want 1..%d", nf, MaxFeatures)
	}
	seen := make(map[string]bool, nf)
	for i, f := range w.Features {
		if f == "" {
			return nil, fmt.Errorf("feature %d has no name", i)
		}
		if seen[f] {
			return nil, fmt.Errorf("feature %q named twice", f)
		}
		seen[f] = true
	}
	if err := w.Params.Validate(); err != nil {
		return nil, fmt.Errorf("params: %w", err)
	}
	m := &Models{Kind: w.Kind, TrainedAt: w.TrainedAt, Features: w.Features, Params: w.Params, GroupBy: w.GroupBy}
	if w.Global == nil {
		return nil, errors.New("no \"global\" model")
	}
	var err error
	if m.Global, err = modelFromWire(w.Global, nf); err != nil {
		return nil, fmt.Errorf("global model: %w", err)
	}
	if len(w.Groups) > 0 {
		if w.GroupBy == "" {
			return nil, errors.New("group models without \"group_by\"")
		}
		m.Groups = make(map[string]*Model, len(w.Groups))
		for g, wm := range w.Groups {
			if g == "" {
				return nil, errors.New("a group model has an empty group name")
			}
			if wm == nil {
				return nil, fmt.Errorf("group %q: null model", g)
			}
			if m.Groups[g], err = modelFromWire(wm, nf); err != nil {
				return nil, fmt.Errorf("group %q: %w", g, err)
			}
		}
	}
	return m, nil
}

func modelFromWire(w *wireModel, nf int) (*Model, error) {
	if w.SampleSize < 2 || w.SampleSize > MaxSampleSize {
		return nil, fmt.Errorf("sample_size = %d, want 2..%d", w.SampleSize, MaxSampleSize)
	}
	if w.Rows < w.SampleSize {
		return nil, fmt.Errorf("rows = %d is fewer than sample_size %d", w.Rows, w.SampleSize)
	}
	if math.IsNaN(w.Threshold) || w.Threshold < 0 || w.Threshold > 1 {
		return nil, fmt.Errorf("threshold = %v, want a score in [0, 1]", w.Threshold)
	}
	if len(w.Trees) < 1 || len(w.Trees) > MaxTrees {
		return nil, fmt.Errorf("%d trees, want 1..%d", len(w.Trees), MaxTrees)
	}
	f := &Forest{NumFeatures: nf, SampleSize: w.SampleSize, Trees: make([]Tree, len(w.Trees))}
	for t := range w.Trees {
		tr, err := treeFromWire(&w.Trees[t], nf, w.SampleSize)
		if err != nil {
			return nil, fmt.Errorf("tree %d: %w", t, err)
		}
		f.Trees[t] = tr
	}
	f.prepare()
	return &Model{Forest: f, Threshold: w.Threshold, Rows: w.Rows}, nil
}

func treeFromWire(w *wireTree, nf, psi int) (Tree, error) {
	n := len(w.Feature)
	if n < 1 || n > 2*psi-1 {
		return Tree{}, fmt.Errorf("%d nodes, want 1..%d for sample_size %d", n, 2*psi-1, psi)
	}
	for name, l := range map[string]int{"threshold": len(w.Threshold), "left": len(w.Left), "right": len(w.Right), "size": len(w.Size)} {
		if l != n {
			return Tree{}, fmt.Errorf("%q has %d entries, \"feature\" has %d", name, l, n)
		}
	}
	nodes := make([]Node, n)
	parent := make([]bool, n) // reached from a parent
	for i := range n {
		nd := Node{Feature: w.Feature[i], Threshold: w.Threshold[i], Left: w.Left[i], Right: w.Right[i], Size: w.Size[i]}
		if nd.Size < 1 {
			return Tree{}, fmt.Errorf("node %d: size %d, want ≥ 1", i, nd.Size)
		}
		if i > 0 && !parent[i] {
			return Tree{}, fmt.Errorf("node %d: no parent points to it", i)
		}
		switch {
		case nd.Feature == -1:
			if nd.Left != -1 || nd.Right != -1 {
				return Tree{}, fmt.Errorf("node %d: a leaf (feature -1) with children %d, %d (want -1, -1)", i, nd.Left, nd.Right)
			}
		case nd.Feature < 0 || int(nd.Feature) >= nf:
			return Tree{}, fmt.Errorf("node %d: feature %d out of range (%d features; -1 for a leaf)", i, nd.Feature, nf)
		default:
			if math.IsNaN(nd.Threshold) || math.IsInf(nd.Threshold, 0) {
				return Tree{}, fmt.Errorf("node %d: threshold %v is not finite", i, nd.Threshold)
			}
			for _, c := range []int32{nd.Left, nd.Right} {
				if int(c) <= i || int(c) >= n {
					return Tree{}, fmt.Errorf("node %d: child %d out of range (children follow their parent, %d nodes)", i, c, n)
				}
				if parent[c] {
					return Tree{}, fmt.Errorf("node %d: child %d already has a parent", i, c)
				}
				parent[c] = true
			}
			if nd.Left == nd.Right {
				return Tree{}, fmt.Errorf("node %d: both children are node %d", i, nd.Left)
			}
		}
		nodes[i] = nd
	}
	if int(nodes[0].Size) > psi {
		return Tree{}, fmt.Errorf("root size %d exceeds sample_size %d", nodes[0].Size, psi)
	}
	for i := range nodes {
		nd := &nodes[i]
		if nd.Feature >= 0 && int64(nodes[nd.Left].Size)+int64(nodes[nd.Right].Size) != int64(nd.Size) {
			return Tree{}, fmt.Errorf("node %d: size %d ≠ %d + %d of its children", i, nd.Size, nodes[nd.Left].Size, nodes[nd.Right].Size)
		}
	}
	return Tree{Nodes: nodes}, nil
}
