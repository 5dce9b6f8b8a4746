package anomaly

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// smallModels is a valid model set with a global and one group model.
func smallModels(t testing.TB) *Models {
	t.Helper()
	ds, _ := blob(11, 300, 3, 3)
	g, err := FitModel(ds, Params{Trees: 4, MaxSamples: 16, Contamination: 0.01, Seed: 1}, ds.Rows)
	if err != nil {
		t.Fatal(err)
	}
	p, err := FitModel(ds, Params{Trees: 4, MaxSamples: 16, Contamination: 0.01, Seed: 2}, ds.Rows)
	if err != nil {
		t.Fatal(err)
	}
	return &Models{Kind: "test", TrainedAt: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC), Features: []string{"a", "b", "c"},
		Params: Params{Trees: 4, MaxSamples: 16, Contamination: 0.01, Seed: 1}, GroupBy: "env",
		Global: g, Groups: map[string]*Model{"prod": p}}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	m := smallModels(t)
	data, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != m.Kind || !got.TrainedAt.Equal(m.TrainedAt) || got.GroupBy != "env" || got.Params != m.Params {
		t.Errorf("metadata differs: %+v", got)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100 {
		x := []float64{r.NormFloat64() * 3, r.NormFloat64() * 3, r.NormFloat64() * 3}
		for _, g := range []string{"", "prod"} {
			a, _ := m.For(g)
			b, _ := got.For(g)
			if a.Score(x) != b.Score(x) || a.Threshold != b.Threshold {
				t.Fatalf("group %q: decoded model scores %v differently", g, x)
			}
		}
	}
	again, _ := got.Encode()
	if string(again) != string(data) {
		t.Error("re-encoding a decoded model changes it")
	}
}

// corrupt decodes m's encoding as generic JSON, lets edit change it, and
// returns the re-encoded bytes.
func corrupt(t *testing.T, m *Models, edit func(map[string]any)) []byte {
	t.Helper()
	data, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func tree0(doc map[string]any) map[string]any {
	return doc["global"].(map[string]any)["trees"].([]any)[0].(map[string]any)
}

func TestDecodeRejects(t *testing.T) {
	m := smallModels(t)
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", []byte(""), "not JSON"},
		{"truncated", func() []byte { d, _ := m.Encode(); return d[:len(d)/2] }(), "not JSON"},
		{"trailing garbage", func() []byte { d, _ := m.Encode(); return append(d, "}"...) }(), "not JSON"},
		{"no version", []byte(`{"kind":"x"}`), `no "version"`},
		{"future version", []byte(`{"version":2}`), "format version 2, this build reads version 1"},
		{"wrong type", corrupt(t, m, func(d map[string]any) { d["features"] = "a,b,c" }), "features"},
		{"no kind", corrupt(t, m, func(d map[string]any) { delete(d, "kind") }), `no "kind"`},
		{"no features", corrupt(t, m, func(d map[string]any) { d["features"] = []any{} }), "0 feature names"},
		{"duplicate feature", corrupt(t, m, func(d map[string]any) { d["features"] = []any{"a", "b", "a"} }), `feature "a" named twice`},
		{"bad params", corrupt(t, m, func(d map[string]any) { d["params"].(map[string]any)["contamination"] = 0.9 }), "params: contamination"},
		{"no global", corrupt(t, m, func(d map[string]any) { delete(d, "global") }), `no "global" model`},
		{"groups without group_by", corrupt(t, m, func(d map[string]any) { delete(d, "group_by") }), `without "group_by"`},
		{"null group", corrupt(t, m, func(d map[string]any) { d["groups"].(map[string]any)["dev"] = nil }), `group "dev": null model`},
		{"bad group model", corrupt(t, m, func(d map[string]any) {
			d["groups"].(map[string]any)["prod"].(map[string]any)["threshold"] = 1.5
		}), `group "prod": threshold = 1.5`},
		{"sample size", corrupt(t, m, func(d map[string]any) { d["global"].(map[string]any)["sample_size"] = 1 }), "global model: sample_size = 1"},
		{"no trees", corrupt(t, m, func(d map[string]any) { d["global"].(map[string]any)["trees"] = []any{} }), "0 trees"},
		{"ragged arrays", corrupt(t, m, func(d map[string]any) {
			tr := tree0(d)
			tr["size"] = tr["size"].([]any)[1:]
		}), `tree 0: "size" has`},
		{"feature out of range", corrupt(t, m, func(d map[string]any) { tree0(d)["feature"].([]any)[0] = 7 }), "tree 0: node 0: feature 7 out of range"},
		{"child before parent", corrupt(t, m, func(d map[string]any) { tree0(d)["left"].([]any)[0] = 0 }), "node 0: child 0 out of range"},
		{"orphan node", corrupt(t, m, func(d map[string]any) {
			tr := tree0(d)
			tr["left"].([]any)[0] = tr["right"].([]any)[0]
		}), "already has a parent"},
		{"leaf with child", corrupt(t, m, func(d map[string]any) {
			tr := tree0(d)
			f := tr["feature"].([]any)
			for i := range f {
				if f[i].(float64) == -1 {
					tr["left"].([]any)[i] = 1
					return
				}
			}
		}), "a leaf (feature -1) with children"},
		{"sizes do not add up", corrupt(t, m, func(d map[string]any) { tree0(d)["size"].([]any)[0] = 15 }), "node 0: size 15 ≠"},
		{"zero size", corrupt(t, m, func(d map[string]any) { tree0(d)["size"].([]any)[1] = 0 }), "node 1: size 0"},
		{"too many nodes", corrupt(t, m, func(d map[string]any) {
			tr := tree0(d)
			for _, k := range []string{"feature", "threshold", "left", "right", "size"} {
				a := tr[k].([]any)
				for len(a) < 40 {
					a = append(a, a[0])
				}
				tr[k] = a
			}
		}), "40 nodes, want 1..31"},
	}
	for _, c := range cases {
		_, err := Decode(c.data)
		if err == nil {
			t.Errorf("%s: decoded", c.name)
			continue
		}
		if !errors.Is(err, ErrBadModel) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q, want ErrBadModel mentioning %q", c.name, err, c.want)
		}
	}
}

// TestDecodeKeepsCauses checks Decode's errors wrap their causes: the JSON
// decoder's error, or the error naming the wrong part of the model.
func TestDecodeKeepsCauses(t *testing.T) {
	m := smallModels(t)
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	cases := []struct {
		name  string
		data  []byte
		as    any    // a target for errors.As, or nil
		cause string // the start of a wrapped error's message, or ""
	}{
		{"not JSON", []byte("{"), &syntaxErr, ""},
		{"wrong type", corrupt(t, m, func(d map[string]any) { d["features"] = "a,b,c" }), &typeErr, ""},
		{"bad params", corrupt(t, m, func(d map[string]any) { d["params"].(map[string]any)["contamination"] = 0.9 }), nil, "contamination = 0.9"},
		{"sample size", corrupt(t, m, func(d map[string]any) { d["global"].(map[string]any)["sample_size"] = 1 }), nil, "sample_size = 1"},
		{"bad group model", corrupt(t, m, func(d map[string]any) {
			d["groups"].(map[string]any)["prod"].(map[string]any)["threshold"] = 1.5
		}), nil, "threshold = 1.5"},
		{"feature out of range", corrupt(t, m, func(d map[string]any) { tree0(d)["feature"].([]any)[0] = 7 }), nil, "node 0: feature 7 out of range"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.data)
			if !errors.Is(err, ErrBadModel) {
				t.Fatalf("error %v, want ErrBadModel", err)
			}
			if c.as != nil && !errors.As(err, c.as) {
				t.Errorf("error %v does not wrap a %T", err, c.as)
			}
			if c.cause != "" && !slices.ContainsFunc(chain(err)[1:], func(e error) bool { return strings.HasPrefix(e.Error(), c.cause) }) {
				t.Errorf("error %v does not wrap the error starting %q", err, c.cause)
			}
		})
	}
}

// chain returns err and every error it wraps, depth first.
func chain(err error) []error {
	out := []error{err}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		if e := u.Unwrap(); e != nil {
			out = append(out, chain(e)...)
		}
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			out = append(out, chain(e)...)
		}
	}
	return out
}

func TestNonFiniteThresholdRejected(t *testing.T) {
	m := smallModels(t)
	data, _ := m.Encode()
	tr := m.Global.Trees[0].Nodes[0]
	// JSON has no NaN; a huge exponent overflows to an error in encoding/json,
	// so the only way in is a value out of float64 range.
	s := strings.Replace(string(data), `"threshold":[`+jsonNum(tr.Threshold), `"threshold":[1e999`, 1)
	if _, err := Decode([]byte(s)); err == nil {
		t.Error("threshold 1e999 accepted")
	}
}

func jsonNum(v float64) string { b, _ := json.Marshal(v); return string(b) }

func FuzzDecode(f *testing.F) {
	m := smallModels(f)
	good, _ := m.Encode()
	f.Add(good)
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":1,"kind":"k","features":["a"],"params":{"trees":1},"global":{"rows":2,"sample_size":2,"threshold":0.5,"trees":[{"feature":[0,-1,-1],"threshold":[1,0,0],"left":[1,-1,-1],"right":[2,-1,-1],"size":[2,1,1]}]}}`))
	f.Add([]byte(`{"version":1,"kind":"k","features":["a"],"params":{},"global":{"rows":2,"sample_size":2,"threshold":0.5,"trees":[{"feature":[0,-1,-1],"threshold":[1,0,0],"left":[2,-1,-1],"right":[1,-1,-1],"size":[2,1,1]}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrBadModel) {
				t.Fatalf("error %v does not wrap ErrBadModel", err)
			}
			return
		}
		// Whatever decodes must score and explain without panicking, in range.
		x := make([]float64, len(m.Features))
		for _, g := range append(m.GroupNames(), "") {
			md, _ := m.For(g)
			for _, v := range []float64{-1e300, 0, 0.5, 1e300} {
				for i := range x {
					x[i] = v
				}
				if s := md.Score(x); !(s >= 0 && s <= 1) {
					t.Fatalf("score %v outside [0, 1]", s)
				}
				md.Contributions(make([]float64, len(x)), x)
			}
		}
		again, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(again); err != nil {
			t.Fatalf("re-encoded model does not decode: %v", err)
		}
	})
}
