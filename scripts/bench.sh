#!/usr/bin/env bash
# Runs the project's Go benchmarks and writes docs/BENCHMARKS.md: one table per
# package of the median of every unit over BENCH_COUNT runs, with the machine it ran
# on and the command that reproduces each table.
#
#   bash scripts/bench.sh                  # from the repository root (make bench)
#   BENCH_COUNT=3 bash scripts/bench.sh    # fewer runs per benchmark (default 5)
#
# Environment:
#   BENCH_COUNT  runs per benchmark (go test -count), default 5
#   BENCH_PKGS   packages to run (e.g. "./internal/event/"), default: every package
#                with a Benchmark function
#   BENCH_OUT    page to write, default docs/BENCHMARKS.md
#   VIGIL_BENCH_RULES  Falco and Sigma rule files or directories, comma-separated,
#                that BenchmarkEvalRuleCorpus (internal/engine) converts and loads
#                with the pack; unset (the default), it is skipped
#
# Benchmarks that need root (they load eBPF programs) are left out when not run as
# root, and the page says which command was run for each package. A failing package
# fails the script and leaves the existing page untouched. The end of the page from
# the line "<!-- written by hand from here on: ... -->" (benchfmt.HandWrittenMark)
# is written by hand and kept as it is: update it by hand.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

count="${BENCH_COUNT:-5}"
out="${BENCH_OUT:-docs/BENCHMARKS.md}"
if ! [[ "$count" =~ ^[1-9][0-9]*$ ]]; then
	echo "bench: BENCH_COUNT must be a positive integer, got '$count'" >&2
	exit 2
fi

# Benchmarks that need root, as <package dir>:<function>.
root_only=(
	"sensor/agent:BenchmarkSensorExecStorm"
	"sensor/agent:BenchmarkSensorOpenStorm"
	"sensor/collector:BenchmarkHookCost"
	"sensor/collector:BenchmarkSocketHookCost"
	"sensor/collector:BenchmarkIoUringHookCost"
)

# Package directories (./dir/) holding a Benchmark function.
discover() {
	grep -rl --include='*_test.go' \
		--exclude-dir=.git --exclude-dir=tools --exclude-dir=node_modules \
		--exclude-dir=testdata --exclude-dir=cdk.out \
		-E '^func Benchmark[A-Z0-9_]' . |
		xargs -r -n1 dirname | sed -e 's#^\./##' | sort -u |
		sed -e 's#^\.$##' -e 's#^#./#' -e 's#/*$#/#'
}

# Benchmark functions declared in a package directory.
bench_funcs() {
	grep -ho -E '^func Benchmark[A-Za-z0-9_]*' "$1"*_test.go | sed 's/^func //' | sort -u
}

if [[ -n "${BENCH_PKGS:-}" ]]; then
	read -r -a pkgs <<<"$BENCH_PKGS"
else
	mapfile -t pkgs < <(discover)
fi
if [[ ${#pkgs[@]} -eq 0 ]]; then
	echo "bench: no package with benchmarks found" >&2
	exit 1
fi

is_root=false
[[ "$(id -u)" -eq 0 ]] && is_root=true

raw="$(mktemp)"
trap 'rm -f "$raw"' EXIT

failed=()
for pkg in "${pkgs[@]}"; do
	dir="${pkg#./}"
	dir="${dir%/}"
	[[ -n "$dir" ]] && dir="$dir/"
	bench="."
	shown="."
	if ! $is_root; then
		skip=()
		for entry in "${root_only[@]}"; do
			[[ "${entry%%:*}/" == "$dir" ]] && skip+=("${entry#*:}")
		done
		if [[ ${#skip[@]} -gt 0 ]]; then
			keep=()
			while read -r fn; do
				[[ -z "$fn" ]] && continue
				[[ " ${skip[*]} " == *" $fn "* ]] || keep+=("$fn")
			done < <(bench_funcs "$dir")
			if [[ ${#keep[@]} -eq 0 ]]; then
				echo "bench: skipping $pkg: its benchmarks need root (${skip[*]})" >&2
				continue
			fi
			echo "bench: $pkg: leaving out ${skip[*]}, which needs root" >&2
			bench="^($(IFS='|'; echo "${keep[*]}"))\$"
			shown="'$bench'"
		fi
	fi

	cmd="go test -run '^\$' -bench $shown -benchmem -count $count $pkg"
	echo "command: $cmd" >>"$raw"
	echo "bench: $cmd" >&2
	if ! go test -run '^$' -bench "$bench" -benchmem -count "$count" "$pkg" | tee -a "$raw" >&2; then
		failed+=("$pkg")
	fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
	echo "bench: benchmarks failed in: ${failed[*]}; $out not written" >&2
	exit 1
fi

cpu="$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)"
[[ -n "$cpu" ]] || cpu="$(uname -m)"
cpu="$cpu ($(getconf _NPROCESSORS_ONLN) CPUs)"

mkdir -p "$(dirname "$out")"
go run ./scripts/benchfmt \
	-count "$count" \
	-date "$(date -u '+%Y-%m-%d %H:%M UTC')" \
	-go "$(go version)" \
	-cpu "$cpu" \
	-kernel "$(uname -srm)" \
	-module "$(go list -m)" \
	-o "$out" "$raw"
echo "bench: wrote $out" >&2
