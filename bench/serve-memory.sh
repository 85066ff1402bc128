#!/usr/bin/env bash
# Measures the serving runtime's resident memory under many concurrent large
# bodies: CONNECTIONS clients (50) each POSTing a BODY_MB (14) MiB MLflow body
# to /invocations for DURATION (20s), with wrk. Prints the peak VmRSS during
# the load, and VmRSS AFTER seconds (30) after it stopped. Run by hand:
#
#   apt-get install -y wrk
#   bench/serve-memory.sh                   # the runtime of this checkout
#   SERVE_BIN=/path/to/modelci-serve bench/serve-memory.sh   # another build
#
# EXTRA_FLAGS are passed to modelci-serve (e.g. --max-inflight-bytes 64MiB).
set -euo pipefail

DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-50}
BODY_MB=${BODY_MB:-14}
AFTER=${AFTER:-30}
PORT=${PORT:-18090}
EXTRA_FLAGS=${EXTRA_FLAGS:-}

cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "bench/serve-memory.sh: wrk not found (apt-get install -y wrk)" >&2; exit 2; }
tmp=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

go run ./cmd/modelci train --config examples/house-prices/modelci.yaml --out "$tmp/model" >/dev/null
bin=${SERVE_BIN:-}
if [ -z "$bin" ]; then
	CGO_ENABLED=0 go build -trimpath -o "$tmp/modelci-serve" ./cmd/modelci-serve
	bin=$tmp/modelci-serve
fi
python3 - "$tmp/body.json" "$BODY_MB" <<'PY'
import sys
path, mb = sys.argv[1], int(sys.argv[2])
row = '[2351,4,1.8,15.26,"lisbon"]'
n = (mb << 20) // (len(row) + 1)
with open(path, "w") as f:
    f.write('{"dataframe_split":{"columns":["sqft","bedrooms","age","distance_km","city"],"data":[')
    f.write(",".join([row] * n))
    f.write("]}}")
PY
cat >"$tmp/post.lua" <<LUA
local f = io.open("$tmp/body.json", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
LUA

# shellcheck disable=SC2086
"$bin" --model "$tmp/model" --addr "127.0.0.1:$PORT" --max-rows 10000000 --drift-window 0 $EXTRA_FLAGS 2>"$tmp/serve.log" &
pid=$!
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/ping" 2>/dev/null && break; sleep 0.1; done
rss() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
echo "# idle VmRSS: $(rss) kB; body $(stat -c %s "$tmp/body.json") bytes" >&2

peak=0
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --timeout 30s -s "$tmp/post.lua" "http://127.0.0.1:$PORT/invocations" >"$tmp/wrk.txt" &
wpid=$!
while kill -0 "$wpid" 2>/dev/null; do
	r=$(rss); [ "$r" -gt "$peak" ] && peak=$r
	sleep 0.2
done
wait "$wpid" || true
sleep "$AFTER"
echo "peak VmRSS under load: $peak kB"
echo "VmRSS ${AFTER}s after the load: $(rss) kB"
grep -E "Requests/sec|requests in|Non-2xx|Socket errors" "$tmp/wrk.txt" || true
