#!/usr/bin/env bash
# Measures the serving runtime's memory under many large requests, for a
# base revision and for the work tree, in one run. Run by hand (not in CI):
#
#   bench/serve-memory.sh            # base ff49198 against the work tree
#   BASE=v0.3.0 bench/serve-memory.sh
#
# It trains the example model, builds modelci-serve from BASE (git archive
# into the temp dir) and from the work tree as the image does
# (CGO_ENABLED=0, -trimpath), and bench/bodyload. For each build it starts
# the server on loopback, has CLIENTS clients post BYTES-byte V2 bodies for
# DURATION (waiting Retry-After on 503), and prints the peak RSS (VmHWM from
# /proc/PID/status), the RSS when the load stops and SETTLE later, and the
# answers by status.
#
# Settings (environment): BASE (default ff49198), CLIENTS (50), BYTES
# (14680064), DURATION (20s), SETTLE (10, seconds), SERVE_ARGS (extra flags
# for both builds, e.g. --max-inflight-bytes=128MiB).
set -euo pipefail

BASE=${BASE:-ff49198}
CLIENTS=${CLIENTS:-50}
BYTES=${BYTES:-14680064}
DURATION=${DURATION:-20s}
SETTLE=${SETTLE:-10}
PORT=${PORT:-18090}
SERVE_ARGS=${SERVE_ARGS:-}

cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
pid=
cleanup() {
	if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; fi
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "# building and training in $tmp" >&2
go run ./cmd/modelci train --config examples/house-prices/modelci.yaml --out "$tmp/model" >/dev/null
mkdir "$tmp/base-src"
git archive "$BASE" | tar -x -C "$tmp/base-src"
(cd "$tmp/base-src" && CGO_ENABLED=0 go build -trimpath -o "$tmp/serve-base" ./cmd/modelci-serve)
CGO_ENABLED=0 go build -trimpath -o "$tmp/serve-new" ./cmd/modelci-serve
go build -o "$tmp/bodyload" ./bench/bodyload

kib() { awk -v k="$1" '/^'"$1"':/ {print $2}' "/proc/$2/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.0f MiB", k / 1024}'; }

printf '%-18s %12s %14s %16s  %s\n' "build" "peak RSS" "RSS at end" "RSS ${SETTLE}s after" "answers"
for build in base new; do
	# shellcheck disable=SC2086
	"$tmp/serve-$build" --model "$tmp/model" --addr "127.0.0.1:$PORT" --max-rows 1000000 --drift-window 0 --log-format json $SERVE_ARGS 2>"$tmp/$build.log" &
	pid=$!
	for _ in $(seq 1 100); do
		curl -fsS -o /dev/null "http://127.0.0.1:$PORT/v2/health/ready" 2>/dev/null && break
		sleep 0.1
	done
	answers=$("$tmp/bodyload" -url "http://127.0.0.1:$PORT/v2/models/house-prices/infer" -clients "$CLIENTS" -bytes "$BYTES" -duration "$DURATION")
	end=$(kib VmRSS "$pid")
	sleep "$SETTLE"
	after=$(kib VmRSS "$pid")
	peak=$(kib VmHWM "$pid")
	name=$build
	[[ $build == base ]] && name="base $BASE"
	printf '%-18s %12s %14s %16s  %s\n' "$name" "$(mib "$peak")" "$(mib "$end")" "$(mib "$after")" "$answers"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
done
echo "# $CLIENTS clients x $BYTES-byte bodies for $DURATION on $(nproc) cores, $(go env GOVERSION)"
