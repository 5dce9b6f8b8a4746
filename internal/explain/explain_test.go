package explain

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the .txt golden files under testdata from the current output")

// TestRender prints each testdata/*.json (an Explanation, or a Detection when its
// name starts with detection) and compares it with the .txt golden file beside it.
func TestRender(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			dec.UseNumber()
			var out bytes.Buffer
			if strings.HasPrefix(filepath.Base(file), "detection") {
				var d Detection
				if err := dec.Decode(&d); err != nil {
					t.Fatal(err)
				}
				err = WriteDetection(&out, &d)
			} else {
				var x Explanation
				if err := dec.Decode(&x); err != nil {
					t.Fatal(err)
				}
				err = Write(&out, &x)
			}
			if err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(file, ".json") + ".txt"
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != string(want) {
				t.Errorf("output differs from %s (go test -update rewrites it):\n%s", golden, out.String())
			}
		})
	}
}

func TestDecisiveAndBecause(t *testing.T) {
	leaf := func(path string, m bool) *Condition {
		return &Condition{Op: "is", Path: path, Value: "v", Matched: m, Actual: "a"}
	}
	tests := []struct {
		name string
		c    *Condition
		want []string // paths of the decisive comparisons
	}{
		{"nil", nil, nil},
		{"and failed: the failing ones", &Condition{Op: "and", Rules: []*Condition{leaf("a", true), leaf("b", false), leaf("c", false)}}, []string{"b", "c"}},
		{"and matched: all", &Condition{Op: "and", Matched: true, Rules: []*Condition{leaf("a", true), leaf("b", true)}}, []string{"a", "b"}},
		{"or matched: the matching ones", &Condition{Op: "or", Matched: true, Rules: []*Condition{leaf("a", false), leaf("b", true)}}, []string{"b"}},
		{"or failed: all", &Condition{Op: "or", Rules: []*Condition{leaf("a", false), leaf("b", false)}}, []string{"a", "b"}},
		{"not failed: what matched under it", &Condition{Op: "not", Rules: []*Condition{
			{Op: "and", Matched: true, Rules: []*Condition{leaf("a", true), leaf("b", true)}}}}, []string{"a", "b"}},
		{"leaf", leaf("x", false), []string{"x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, c := range tc.c.Decisive() {
				got = append(got, c.Path)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("decisive = %v, want %v", got, tc.want)
			}
		})
	}
	x := &Explanation{Detection: &Condition{Op: "and", Rules: []*Condition{leaf("a", true), leaf("b", false)}}}
	if got, want := Because(x), `✗ b is "v": actual "a"`; got != want {
		t.Errorf("Because = %q, want %q", got, want)
	}
	if got := Because(&Explanation{Note: "n"}); got != "n" {
		t.Errorf("Because without conditions = %q, want the note", got)
	}
}

func TestPaths(t *testing.T) {
	c := &Condition{Op: "and", Rules: []*Condition{{Op: "is", Path: "b"}, {Op: "not", Rules: []*Condition{{Op: "exists", Path: "a"}}}, {Op: "is", Path: "b"}}}
	if got := strings.Join(c.Paths(), ","); got != "b,a" {
		t.Errorf("Paths = %s, want b,a", got)
	}
}
