#!/bin/bash
# Runs every fuzz target of the packages that read untrusted input at the
# front door (Kinesis records, the HTTP API, the Kubernetes audit webhook), or
# of FUZZ_PKGS, each for FUZZTIME. Minimization is bounded
# (-fuzzminimizetime=100x): minimizing an input of a few KiB that way takes
# a moment, left unbounded it takes minutes for each new input. A target that
# fails leaves its input under the package's testdata/fuzz, where go test then
# runs it as a regression case.
set -euo pipefail
pkgs=${FUZZ_PKGS:-./internal/event ./internal/detect ./internal/api ./internal/k8saudit}
fuzztime=${FUZZTIME:-30s}
status=0
for pkg in $pkgs; do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz'); do
		echo "== $pkg $target ($fuzztime)"
		if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 100x "$pkg" 2>&1 | tail -3; then
			status=1
		fi
	done
done
exit $status
