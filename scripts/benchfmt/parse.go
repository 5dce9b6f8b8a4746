package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Set is every benchmark result read, grouped by package in order of appearance.
type Set struct {
	Packages []*Package
	byPath   map[string]*Package
}

// Package holds the benchmarks of one package.
type Package struct {
	// Path is the import path from the "pkg:" line; empty when there was none.
	Path string
	// Command reproduces the results: the "command:" configuration current at the
	// package's first result.
	Command string
	// Units in order of first appearance.
	Units      []string
	Benchmarks []*Benchmark
	byName     map[string]*Benchmark
}

// Benchmark holds the runs of one benchmark.
type Benchmark struct {
	// Name without the -P (GOMAXPROCS) suffix.
	Name string
	// Runs is the number of result lines read.
	Runs int
	// Samples are the values of each unit, one per run that reported it.
	Samples map[string][]float64
}

// Median returns the median of the benchmark's samples in unit and whether there
// were any.
func (b *Benchmark) Median(unit string) (float64, bool) {
	return median(b.Samples[unit])
}

// Summed reports whether a unit counts losses (drops): a loss in any run
// matters, so such units are summed over the runs instead of taking a median.
func Summed(unit string) bool { return unit == "drops" || strings.HasSuffix(unit, "-drops") }

// Summary returns what the page shows for the benchmark in unit: the sum over
// the runs for a Summed unit, the median otherwise.
func (b *Benchmark) Summary(unit string) (float64, bool) {
	xs := b.Samples[unit]
	if !Summed(unit) || len(xs) == 0 {
		return median(xs)
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	return sum, true
}

func median(xs []float64) (float64, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}

var (
	configLine = regexp.MustCompile(`^([a-z][^\s:]*):\s(.*)$`)
	procSuffix = regexp.MustCompile(`-[0-9]+$`)
)

// isBenchName reports whether s is a benchmark name: "Benchmark" followed by
// nothing or by a character that is not a lower-case letter (the rule go test uses).
func isBenchName(s string) bool {
	rest, ok := strings.CutPrefix(s, "Benchmark")
	if !ok {
		return false
	}
	return rest == "" || !(rest[0] >= 'a' && rest[0] <= 'z')
}

// Parse reads go test -bench output, adding its results to s. name is used in error
// messages.
func (s *Set) Parse(r io.Reader, name string) error {
	if s.byPath == nil {
		s.byPath = map[string]*Package{}
	}
	var (
		pkgPath, command string
		pending          string // a name whose results are on a later line
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := strings.TrimRight(sc.Text(), " \t\r")
		if m := configLine.FindStringSubmatch(line); m != nil {
			switch m[1] {
			case "pkg":
				pkgPath = strings.TrimSpace(m[2])
			case "command":
				command = strings.TrimSpace(m[2])
			}
			pending = ""
			continue
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		var benchName string
		var rest []string
		switch {
		case isBenchName(fields[0]):
			if len(fields) == 1 {
				// The benchmark printed something before its results.
				pending = fields[0]
				continue
			}
			if _, err := strconv.Atoi(fields[1]); err != nil {
				continue // a log line that happens to start with a benchmark's name
			}
			benchName, rest = fields[0], fields[1:]
		case pending != "" && isDigits(fields[0]):
			benchName, rest = pending, fields
		default:
			continue
		}
		pending = ""
		vals, err := parseValues(rest[1:])
		if err != nil {
			return fmt.Errorf("%s:%d: %s: %w", name, lineNo, benchName, err)
		}
		s.add(pkgPath, command, procSuffix.ReplaceAllString(benchName, ""), vals)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

type value struct {
	v    float64
	unit string
}

func parseValues(fields []string) ([]value, error) {
	if len(fields)%2 != 0 {
		return nil, fmt.Errorf("want value and unit pairs after the iterations, got %q", strings.Join(fields, " "))
	}
	out := make([]value, 0, len(fields)/2)
	for i := 0; i < len(fields); i += 2 {
		v, err := strconv.ParseFloat(fields[i], 64)
		if err != nil {
			return nil, fmt.Errorf("value %q of unit %q is not a number", fields[i], fields[i+1])
		}
		out = append(out, value{v, fields[i+1]})
	}
	return out, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (s *Set) add(pkgPath, command, name string, vals []value) {
	p := s.byPath[pkgPath]
	if p == nil {
		p = &Package{Path: pkgPath, Command: command, byName: map[string]*Benchmark{}}
		s.byPath[pkgPath] = p
		s.Packages = append(s.Packages, p)
	}
	b := p.byName[name]
	if b == nil {
		b = &Benchmark{Name: name, Samples: map[string][]float64{}}
		p.byName[name] = b
		p.Benchmarks = append(p.Benchmarks, b)
	}
	b.Runs++
	for _, v := range vals {
		if !contains(p.Units, v.unit) {
			p.Units = append(p.Units, v.unit)
		}
		b.Samples[v.unit] = append(b.Samples[v.unit], v.v)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
