#!/bin/bash
# Records a realistic lake with the real sensor and turns it into the fixture
# the detect function's benchmarks read (internal/detect/testdata/recorded-lake.parquet):
# the sensor captures this host for about a minute while a mixed workload runs
# on loopback only (shell tools, file reads and writes, HTTP to a local server,
# name lookups answered from /etc/hosts), on top of whatever else the host does.
# Run as root from the repository's root. Extra arguments go to lakefixture
# (e.g. -redact SUBSTRING for values that must not be committed).
set -euo pipefail
out=${OUT:-internal/detect/testdata/recorded-lake.parquet}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/vigil-sensor" ./cmd/vigil-sensor
"$dir/vigil-sensor" --local "$dir/lake" --imds=false --roll-interval 30s >"$dir/sensor.log" 2>&1 &
sensor=$!
sleep 5
python3 -m http.server 18089 --bind 127.0.0.1 >/dev/null 2>&1 &
srv=$!
sleep 1
end=$((SECONDS + 60))
i=0
while [ $SECONDS -lt $end ]; do
	i=$((i + 1))
	ls /etc >/dev/null
	cat /etc/hostname >/dev/null
	grep -c root /etc/passwd >/dev/null
	ps aux >/dev/null
	id >/dev/null
	uname -a >/dev/null
	date >/dev/null
	curl -s http://127.0.0.1:18089/ >/dev/null
	getent hosts localhost >/dev/null
	echo "job $i" >"$dir/wl.$((i % 20)).txt"
	sha256sum "$dir/wl.$((i % 20)).txt" >/dev/null
	find /usr/share/doc -maxdepth 1 -name 'lib*' | head -3 >/dev/null
	sh -c 'for f in /var/log/*.log; do wc -l "$f"; done' >/dev/null 2>&1
	sleep 0.05
done
kill "$srv"
kill -INT "$sensor"
wait "$sensor" || true
go run ./scripts/lakefixture -o "$out" "$@" "$dir/lake"
