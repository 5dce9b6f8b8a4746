// Command benchfmt turns the output of `go test -bench` into docs/BENCHMARKS.md: one
// Markdown table per package, one row per benchmark, one column per unit (ns/op,
// B/op, allocs/op and custom units such as events/s), each cell the median over the
// runs of -count. scripts/bench.sh runs the benchmarks and this command:
//
//	go run ./scripts/benchfmt -count 5 -go "$(go version)" -o docs/BENCHMARKS.md bench.txt
//
// The input is the Go benchmark format: result lines ("BenchmarkName-P  iterations
// value unit value unit ...") and configuration lines ("key: value"). Of the
// configuration, "pkg:" (printed by go test) says which package the following results
// belong to and "command:" (written by scripts/bench.sh before each package) is the
// command that reproduces them; both apply until the next line with the same key.
// Other lines (PASS, ok, logs) are ignored. The -P suffix (GOMAXPROCS) is dropped
// from names so that runs of one benchmark are grouped together.
//
// A page written with -o keeps the end of the page it replaces from the line
// HandWrittenMark on: figures written by hand that no single run of the
// benchmarks makes (the storms of two commits compared, say).
//
// For a benchmark with a sub-benchmark named "baseline", each sibling's throughput
// units (those ending in "/s") are also given as a ratio to the baseline's median,
// the figure to quote for the cost of what the sibling adds.
package main
