package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/bench.md from the current output")

func parseFile(t *testing.T, name string) *Set {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var s Set
	if err := s.Parse(f, name); err != nil {
		t.Fatal(err)
	}
	return &s
}

func find(s *Set, pkg, name string) *Benchmark {
	for _, p := range s.Packages {
		if p.Path != pkg {
			continue
		}
		for _, b := range p.Benchmarks {
			if b.Name == name {
				return b
			}
		}
	}
	return nil
}

func TestParseSample(t *testing.T) {
	s := parseFile(t, "testdata/bench.txt")
	const (
		ev  = "github.com/vigil-sec/vigil/internal/event"
		col = "github.com/vigil-sec/vigil/sensor/collector"
	)
	tests := []struct {
		pkg, bench, unit string
		runs             int
		want             float64
	}{
		{ev, "BenchmarkEncode", "ns/op", 3, 871002},
		{ev, "BenchmarkEncode", "events/s", 3, 1148103},
		{ev, "BenchmarkEncode", "bytes/event", 3, 25.34},
		{ev, "BenchmarkEncode", "allocs/op", 3, 327},
		{ev, "BenchmarkDecode", "B/op", 3, 2281000},
		{col, "BenchmarkDecodeRecord", "MB/s", 3, 435169.40},
		{col, "BenchmarkExecStorm/baseline", "execs/s", 3, 425.5},
		// The first collector run has its results on the line after a log line.
		{col, "BenchmarkExecStorm/collector", "execs/s", 3, 387},
		{col, "BenchmarkExecStorm/collector", "drops", 3, 0},
		{col, "BenchmarkExecStorm/collector", "ns/op", 3, 2600000},
	}
	for _, tt := range tests {
		t.Run(tt.bench+" "+tt.unit, func(t *testing.T) {
			b := find(s, tt.pkg, tt.bench)
			if b == nil {
				t.Fatalf("%s %s not parsed", tt.pkg, tt.bench)
			}
			if b.Runs != tt.runs {
				t.Errorf("runs = %d, want %d", b.Runs, tt.runs)
			}
			got, ok := b.Median(tt.unit)
			if !ok || got != tt.want {
				t.Errorf("median %s = %v (%v), want %v", tt.unit, got, ok, tt.want)
			}
		})
	}
	// Drops are summed over the runs (0, 0 and 2), not a median.
	if got, ok := find(s, col, "BenchmarkExecStorm/collector").Summary("drops"); !ok || got != 2 {
		t.Errorf("summary of drops = %v (%v), want the sum 2", got, ok)
	}
	if got, ok := find(s, ev, "BenchmarkEncode").Summary("ns/op"); !ok || got != 871002 {
		t.Errorf("summary of ns/op = %v (%v), want the median 871002", got, ok)
	}
	if len(s.Packages) != 2 {
		t.Fatalf("got %d packages, want 2", len(s.Packages))
	}
	if got, want := s.Packages[1].Command, "go test -run '^$' -bench . -benchmem -count 3 ./sensor/collector/"; got != want {
		t.Errorf("command = %q, want %q", got, want)
	}
}

func TestParseLines(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		bench   string // "" when no result is expected
		unit    string
		want    float64
		runs    int
		wantErr string
	}{
		{name: "plain", input: "BenchmarkX-8 10 5 ns/op\n", bench: "BenchmarkX", unit: "ns/op", want: 5, runs: 1},
		{name: "no procs suffix", input: "BenchmarkX 10 5 ns/op\n", bench: "BenchmarkX", unit: "ns/op", want: 5, runs: 1},
		{name: "even count median", input: "BenchmarkX-2 1 4 ns/op\nBenchmarkX-2 1 6 ns/op\n", bench: "BenchmarkX", unit: "ns/op", want: 5, runs: 2},
		{name: "odd count median", input: "BenchmarkX 1 9 ns/op\nBenchmarkX 1 1 ns/op\nBenchmarkX 1 4 ns/op\n", bench: "BenchmarkX", unit: "ns/op", want: 4, runs: 3},
		{name: "sub-benchmark with dash number", input: "BenchmarkX/size-1024-4 1 7 ns/op\n", bench: "BenchmarkX/size-1024", unit: "ns/op", want: 7, runs: 1},
		{name: "custom unit", input: "BenchmarkX 1 7 ns/op 12.5 events/s\n", bench: "BenchmarkX", unit: "events/s", want: 12.5, runs: 1},
		{name: "name then result line", input: "BenchmarkX-2\nsome log\n  3 8 ns/op\n", bench: "BenchmarkX", unit: "ns/op", want: 8, runs: 1},
		{name: "lower-case after Benchmark is no benchmark", input: "Benchmarking 1 2 ns/op\n"},
		{name: "log line starting with a name", input: "BenchmarkX: took long\n"},
		{name: "not a benchmark", input: "PASS\nok  \tpkg\t1.0s\n"},
		{name: "odd value fields", input: "BenchmarkX 1 2 ns/op 3\n", wantErr: "value and unit pairs"},
		{name: "bad value", input: "BenchmarkX 1 fast ns/op\n", wantErr: "not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Set
			err := s.Parse(strings.NewReader(tt.input), "in")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.bench == "" {
				if len(s.Packages) != 0 {
					t.Fatalf("parsed results from %q", tt.input)
				}
				return
			}
			b := find(&s, "", tt.bench)
			if b == nil {
				t.Fatalf("%s not parsed", tt.bench)
			}
			got, ok := b.Median(tt.unit)
			if !ok || got != tt.want || b.Runs != tt.runs {
				t.Errorf("median %s = %v (%v), runs %d; want %v, runs %d", tt.unit, got, ok, b.Runs, tt.want, tt.runs)
			}
		})
	}
}

func TestFormatNumber(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{7, "7"},
		{327, "327"},
		{328.5, "328.5"},
		{25.34, "25.34"},
		{3.64, "3.64"},
		{0.001234, "0.00123"},
		{1000, "1,000"},
		{871002, "871,002"},
		{1148103.4, "1,148,103"},
		{1234567890, "1,234,567,890"},
		{-4500.2, "-4,500"},
	}
	for _, tt := range tests {
		if got := FormatNumber(tt.in); got != tt.want {
			t.Errorf("FormatNumber(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestOrderUnits(t *testing.T) {
	got := strings.Join(orderUnits([]string{"ns/op", "MB/s", "B/op", "allocs/op", "execs/s", "drops"}), " ")
	if want := "ns/op MB/s execs/s drops B/op allocs/op"; got != want {
		t.Errorf("orderUnits = %q, want %q", got, want)
	}
}

// TestRenderGolden compares the page for testdata/bench.txt with testdata/bench.md
// (go test -update rewrites it).
func TestRenderGolden(t *testing.T) {
	s := parseFile(t, "testdata/bench.txt")
	var got bytes.Buffer
	h := Header{
		Date:   "2026-01-02 03:04 UTC",
		Go:     "go version go1.26.8 linux/amd64",
		CPU:    "AMD EPYC (2 CPUs)",
		Kernel: "Linux 6.18.44 x86_64",
		Count:  3,
		Module: "github.com/vigil-sec/vigil",
	}
	if err := Render(&got, h, s); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "bench.md")
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("rendered page differs from %s (go test -update rewrites it):\n%s", golden, got.String())
	}
	for _, must := range []string{
		"| BenchmarkExecStorm/collector | 3 | 2,600,000 | – | 387 | 2 | 290,114 | 319 |",
		"drops (sum)",
		"- `BenchmarkExecStorm/collector` execs/s: 0.91",
		"go test -run '^$' -bench . -benchmem -count 3 ./internal/event/",
		"**median**",
	} {
		if !strings.Contains(got.String(), must) {
			t.Errorf("page lacks %q", must)
		}
	}
}

func TestRunWritesFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	if err := run([]string{"-count", "3", "-o", out, "testdata/bench.txt"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "## github.com/vigil-sec/vigil/internal/event") {
		t.Errorf("page without -module should title packages by import path:\n%s", data)
	}
}

// TestRunKeepsHandWritten checks that a page written again keeps its
// hand-written end, from HandWrittenMark on, and that a page without one gets
// none.
func TestRunKeepsHandWritten(t *testing.T) {
	for _, tc := range []struct {
		name, old, want string
	}{
		{"no page", "", ""},
		{"no hand-written part", "# Benchmarks\n\nold tables\n", ""},
		{"hand-written part", "# Benchmarks\n\nold tables\n\n" + HandWrittenMark + "\n\n## by hand\n\n| a | b |\n",
			"\n" + HandWrittenMark + "\n\n## by hand\n\n| a | b |\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "BENCHMARKS.md")
			if tc.old != "" {
				if err := os.WriteFile(out, []byte(tc.old), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := run([]string{"-count", "3", "-o", out, "testdata/bench.txt"}, nil, nil); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			page := string(data)
			if strings.Contains(page, "old tables") {
				t.Errorf("the generated part of the old page was kept:\n%s", page)
			}
			if !strings.Contains(page, "## github.com/vigil-sec/vigil/internal/event") {
				t.Fatalf("page lacks the new tables:\n%s", page)
			}
			_, kept, _ := strings.Cut(page, "\n\n"+HandWrittenMark)
			if tc.want == "" && strings.Contains(page, HandWrittenMark) {
				t.Errorf("page has a hand-written part it was not given:\n%s", page)
			}
			if tc.want != "" && "\n"+HandWrittenMark+kept != tc.want {
				t.Errorf("hand-written part\n%q\nwant\n%q", "\n"+HandWrittenMark+kept, tc.want)
			}
		})
	}
}
