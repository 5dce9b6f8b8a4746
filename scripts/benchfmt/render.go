package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Header describes where and how the benchmarks ran.
type Header struct {
	Date   string // when they ran
	Go     string // `go version`
	CPU    string // CPU model and count
	Kernel string // `uname -srm`
	Count  int    // -count: runs per benchmark
	Module string // module path, stripped from package paths in headings
}

// Render writes the Markdown page for s.
func Render(w io.Writer, h Header, s *Set) error {
	var b strings.Builder
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("Written by `scripts/bench.sh` (`make bench`); regenerate it rather than editing it, " +
		"except for its end written by hand, if any, after the comment that says so, which the script keeps.\n\n")
	runs := "the runs of `-count`"
	if h.Count > 0 {
		runs = fmt.Sprintf("the %d runs of `-count %d`", h.Count, h.Count)
	}
	fmt.Fprintf(&b, "Every figure is the **median** over %s of each benchmark. ", runs)
	b.WriteString("The machine is a shared, noisy virtual machine: single runs of the same " +
		"benchmark differ by tens of percent, and absolute figures do not carry over to other " +
		"hardware. Quote medians, and ratios between benchmarks measured in the same run " +
		"(such as a storm with and without the sensor), never single runs. Loss counts " +
		"(drops) are the sum over the runs instead: a loss in any run counts.\n\n")

	b.WriteString("| | |\n|---|---|\n")
	for _, kv := range [][2]string{
		{"date", h.Date}, {"go", h.Go}, {"cpu", h.CPU}, {"kernel", h.Kernel},
	} {
		if kv[1] != "" {
			fmt.Fprintf(&b, "| %s | %s |\n", kv[0], cell(kv[1]))
		}
	}
	if h.Count > 0 {
		fmt.Fprintf(&b, "| runs per benchmark | %d |\n", h.Count)
	}

	if len(s.Packages) == 0 {
		b.WriteString("\nNo benchmark results.\n")
	}
	for _, p := range s.Packages {
		renderPackage(&b, h, p)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func renderPackage(b *strings.Builder, h Header, p *Package) {
	title := p.Path
	if title == "" {
		title = "(package not named in the output)"
	} else if h.Module != "" {
		if rel, ok := strings.CutPrefix(p.Path, h.Module+"/"); ok {
			title = rel
		} else if p.Path == h.Module {
			title = "(module root)"
		}
	}
	fmt.Fprintf(b, "\n## %s\n\n", title)

	units := orderUnits(p.Units)
	b.WriteString("| benchmark | runs |")
	for _, u := range units {
		if Summed(u) {
			u += " (sum)"
		}
		fmt.Fprintf(b, " %s |", cell(u))
	}
	b.WriteString("\n|---|--:|")
	for range units {
		b.WriteString("--:|")
	}
	b.WriteString("\n")
	for _, bm := range p.Benchmarks {
		fmt.Fprintf(b, "| %s | %d |", cell(bm.Name), bm.Runs)
		for _, u := range units {
			if m, ok := bm.Summary(u); ok {
				fmt.Fprintf(b, " %s |", FormatNumber(m))
			} else {
				b.WriteString(" – |")
			}
		}
		b.WriteString("\n")
	}

	if ratios := baselineRatios(p); len(ratios) > 0 {
		b.WriteString("\nThroughput relative to `baseline` (median over median):\n\n")
		for _, r := range ratios {
			fmt.Fprintf(b, "- `%s` %s: %s\n", r.name, r.unit, strconv.FormatFloat(r.ratio, 'f', 2, 64))
		}
	}

	cmd := p.Command
	if cmd == "" && p.Path != "" {
		count := ""
		if h.Count > 0 {
			count = fmt.Sprintf(" -count %d", h.Count)
		}
		cmd = fmt.Sprintf("go test -run '^$' -bench . -benchmem%s %s", count, p.Path)
	}
	if cmd != "" {
		fmt.Fprintf(b, "\nReproduce:\n\n```sh\n%s\n```\n", cmd)
	}
}

// orderUnits puts ns/op first and B/op, allocs/op last, the other units between them
// in order of appearance.
func orderUnits(units []string) []string {
	var head, mid, tail []string
	for _, u := range []string{"B/op", "allocs/op"} {
		if contains(units, u) {
			tail = append(tail, u)
		}
	}
	for _, u := range units {
		switch {
		case u == "ns/op":
			head = append(head, u)
		case !contains(tail, u):
			mid = append(mid, u)
		}
	}
	return append(append(head, mid...), tail...)
}

type ratio struct {
	name, unit string
	ratio      float64
}

// baselineRatios compares, for every benchmark with a "baseline" sub-benchmark, each
// sibling's throughput units (…/s) with the baseline's.
func baselineRatios(p *Package) []ratio {
	var out []ratio
	for _, base := range p.Benchmarks {
		parent, ok := strings.CutSuffix(base.Name, "/baseline")
		if !ok {
			continue
		}
		for _, sib := range p.Benchmarks {
			rest, ok := strings.CutPrefix(sib.Name, parent+"/")
			if !ok || sib == base || strings.Contains(rest, "/") {
				continue
			}
			for _, u := range p.Units {
				if !strings.HasSuffix(u, "/s") {
					continue
				}
				bv, ok1 := base.Median(u)
				sv, ok2 := sib.Median(u)
				if !ok1 || !ok2 || bv == 0 {
					continue
				}
				out = append(out, ratio{name: sib.Name, unit: u, ratio: sv / bv})
			}
		}
	}
	return out
}

// FormatNumber prints a median readably: integers and values of 1000 or more as
// integers with thousands separators, smaller values with 3 to 4 significant digits.
func FormatNumber(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return strconv.FormatFloat(v, 'g', -1, 64)
	case a >= 1000 || v == math.Trunc(v):
		return group(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

// group inserts a comma every three digits of an integer.
func group(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	if len(s) <= 3 {
		return sign + s
	}
	var b strings.Builder
	head := len(s) % 3
	if head > 0 {
		b.WriteString(s[:head])
	}
	for i := head; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return sign + b.String()
}

// cell escapes text for a Markdown table cell.
func cell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}
