#!/usr/bin/env bash
# Measures the serving runtime against a bare net/http handler, with wrk,
# on this machine, in one run. Run by hand (not in CI):
#
#   apt-get install -y wrk                      # required
#   apt-get install -y python3-flask gunicorn   # optional reference
#   bench/serve.sh
#
# It trains the example model (and a 100-tree, 31-leaf gradient-boosted
# model of the same data), builds modelci-serve as the image does
# (CGO_ENABLED=0, -trimpath) and bench/barehttp (a handler that only reads
# the body and writes a constant answer), starts both on loopback and drives
# each case with wrk (POST bodies via a Lua script). It prints requests/s,
# p50, p99 and errors per case, and the ratios to the bare handler.
#
# With python3-flask, gunicorn and python3-sklearn (Debian) installed it also
# runs MLflow's classic stack as a reference: a Flask app under gunicorn that
# builds a pandas DataFrame from the request and predicts with a
# scikit-learn pipeline (same preprocessing, Ridge).
#
# Settings (environment): DURATION (default 10s), CONNECTIONS (default 50),
# THREADS (wrk threads, default 2), BATCH (rows in the batch case, 10000),
# REPEAT (interleaved runs of the single-row cases, default 3; the median
# is shown), NO_PYTHON=1 to skip the reference.
set -euo pipefail

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-50}
THREADS=${THREADS:-2}
BATCH=${BATCH:-10000}
PORT_RUNTIME=${PORT_RUNTIME:-18080}
PORT_BARE=${PORT_BARE:-18081}
PORT_FLASK=${PORT_FLASK:-18082}
PORT_TREES=${PORT_TREES:-18083}

cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "bench/serve.sh: wrk not found (apt-get install -y wrk)" >&2; exit 2; }

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "# building and training in $tmp" >&2
go run ./cmd/modelci train --config examples/house-prices/modelci.yaml --out "$tmp/model" >/dev/null
# A 100-tree, 31-leaf gradient-boosted model on the same data and features.
mkdir -p "$tmp/trees"
cp examples/house-prices/data.csv "$tmp/trees/"
cat >"$tmp/trees/modelci.yaml" <<'YAML'
name: house-prices
data:
  path: data.csv
  target: price
  categorical: [city]
model:
  type: gradient_boosting
  max_iter: 100
  max_leaf_nodes: 31
  min_samples_leaf: 2
  early_stopping: false
YAML
go run ./cmd/modelci train --config "$tmp/trees/modelci.yaml" --out "$tmp/trees/model" >"$tmp/trees/train.log"
echo "# tree model: $(head -1 "$tmp/trees/train.log")" >&2
CGO_ENABLED=0 go build -trimpath -o "$tmp/modelci-serve" ./cmd/modelci-serve
go build -o "$tmp/barehttp" ./bench/barehttp
echo "# modelci-serve binary: $(stat -c %s "$tmp/modelci-serve") bytes" >&2

"$tmp/modelci-serve" --model "$tmp/model" --addr "127.0.0.1:$PORT_RUNTIME" --max-rows 100000 --log-format json 2>"$tmp/serve.log" &
pids+=($!)
"$tmp/barehttp" -addr "127.0.0.1:$PORT_BARE" &
pids+=($!)
"$tmp/modelci-serve" --model "$tmp/trees/model" --addr "127.0.0.1:$PORT_TREES" --max-rows 100000 --log-format json 2>"$tmp/serve-trees.log" &
pids+=($!)

wait_up() { # url
	for _ in $(seq 1 100); do
		if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "bench/serve.sh: $1 did not come up" >&2
	exit 1
}
wait_up "http://127.0.0.1:$PORT_RUNTIME/v2/health/ready"
wait_up "http://127.0.0.1:$PORT_BARE/"
wait_up "http://127.0.0.1:$PORT_TREES/v2/health/ready"

# Request bodies, from rows of the example data.
/usr/bin/python3 - "$tmp" "$BATCH" <<'EOF'
import csv, json, sys
tmp, batch = sys.argv[1], int(sys.argv[2])
rows = list(csv.DictReader(open("examples/house-prices/data.csv")))
feats = ["sqft", "bedrooms", "age", "distance_km", "city"]
def val(r, f):
    v = r[f]
    if f == "city":
        return v
    return None if v in ("", "NA") else float(v)
def take(n):
    return [[val(rows[i % len(rows)], f) for f in feats] for i in range(n)]
def v2(n):
    return {"id": "bench", "inputs": [{"name": "input-0", "shape": [n, len(feats)], "datatype": "BYTES",
                                       "data": [x for r in take(n) for x in r]}]}
def mlflow(n):
    return {"dataframe_split": {"columns": feats, "data": take(n)}}
for name, body in [("v2-1", v2(1)), ("mlflow-1", mlflow(1)), ("v2-batch", v2(batch)), ("mlflow-batch", mlflow(batch))]:
    with open(f"{tmp}/{name}.json", "w") as f:
        json.dump(body, f, separators=(",", ":"))
EOF

lua_for() { # body-file -> lua script path
	local lua="$1.lua"
	cat >"$lua" <<EOF
local f = assert(io.open("$1", "rb"))
wrk.body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
EOF
	echo "$lua"
}

# to_ms converts wrk's latency ("812.00us", "1.23ms", "2.00s") to ms.
to_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0
		if (v ~ /us$/) n = n / 1000; else if (v ~ /ms$/) n = n; else if (v ~ /m$/) n = n * 60000; else if (v ~ /s$/) n = n * 1000
		printf "%.3f", n }'
}

# measure prints "requests/s p50-ms p99-ms errors" of one wrk run.
measure() { # url body-file
	local out rps p50 p99 non2xx sockerr
	out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$(lua_for "$2")" "$1")
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
	p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
	non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
	sockerr=$(awk -F'[ ,]+' '/Socket errors:/ {print $4+$6+$8+$10}' <<<"$out")
	echo "$rps $p50 $p99 $(( ${non2xx:-0} + ${sockerr:-0} ))"
}

declare -A RPS RUNS ROWS
order=()
# record adds one run of a case.
record() { # name rows "rps p50 p99 errors"
	[[ -v "RUNS[$1]" ]] || order+=("$1")
	RUNS[$1]+="$3"$'\n'
	ROWS[$1]=$2
	echo "# $1: $3" >&2
}

RT=http://127.0.0.1:$PORT_RUNTIME
BARE=http://127.0.0.1:$PORT_BARE
TREES=http://127.0.0.1:$PORT_TREES
# The single-row cases are interleaved REPEAT times, so that the machine's
# other load affects them alike; the table shows each case's median run.
REPEAT=${REPEAT:-3}
for _ in $(seq 1 "$REPEAT"); do
	record "bare net/http, 1-row body" 1 "$(measure "$BARE/" "$tmp/v2-1.json")"
	record "V2 /infer, 1 row" 1 "$(measure "$RT/v2/models/house-prices/infer" "$tmp/v2-1.json")"
	record "MLflow /invocations, 1 row" 1 "$(measure "$RT/invocations" "$tmp/mlflow-1.json")"
	record "V2 /infer, 1 row, 100 trees" 1 "$(measure "$TREES/v2/models/house-prices/infer" "$tmp/v2-1.json")"
done
record "bare net/http, $BATCH-row body" "$BATCH" "$(measure "$BARE/" "$tmp/v2-batch.json")"
record "V2 /infer, $BATCH rows" "$BATCH" "$(measure "$RT/v2/models/house-prices/infer" "$tmp/v2-batch.json")"
record "MLflow /invocations, $BATCH rows" "$BATCH" "$(measure "$RT/invocations" "$tmp/mlflow-batch.json")"
record "V2 /infer, $BATCH rows, 100 trees" "$BATCH" "$(measure "$TREES/v2/models/house-prices/infer" "$tmp/v2-batch.json")"

have_python=0
if [[ -z "${NO_PYTHON:-}" ]] && command -v gunicorn >/dev/null && /usr/bin/python3 -c 'import flask, sklearn, pandas' 2>/dev/null; then
	have_python=1
	cat >"$tmp/flaskapp.py" <<'EOF'
# MLflow's classic scoring stack in miniature: Flask, pandas, scikit-learn.
import pandas as pd
from flask import Flask, jsonify, request
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUM = ["sqft", "bedrooms", "age", "distance_km"]
df = pd.read_csv("examples/house-prices/data.csv").dropna(subset=["price"])
pre = ColumnTransformer([
    ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUM),
    ("cat", OneHotEncoder(handle_unknown="ignore"), ["city"]),
])
model = make_pipeline(pre, Ridge(alpha=1.0)).fit(df[NUM + ["city"]], df["price"])
app = Flask(__name__)

@app.post("/invocations")
def invocations():
    split = request.get_json()["dataframe_split"]
    frame = pd.DataFrame(split["data"], columns=split["columns"])
    return jsonify({"predictions": model.predict(frame).tolist()})
EOF
	PYTHONPATH="$tmp" gunicorn -w 2 -b "127.0.0.1:$PORT_FLASK" flaskapp:app >"$tmp/gunicorn.log" 2>&1 &
	pids+=($!) # the gunicorn master: on SIGTERM it stops its workers
	for _ in $(seq 1 200); do
		if curl -fsS -o /dev/null -H 'Content-Type: application/json' --data-binary @"$tmp/mlflow-1.json" "http://127.0.0.1:$PORT_FLASK/invocations" 2>/dev/null; then break; fi
		sleep 0.1
	done
	record "Flask+gunicorn+sklearn, 1 row" 1 "$(measure "http://127.0.0.1:$PORT_FLASK/invocations" "$tmp/mlflow-1.json")"
fi

# The median run of each case (by requests/s); errors summed over runs.
results=()
for name in "${order[@]}"; do
	runs=$(printf '%s' "${RUNS[$name]}" | sed '/^$/d')
	n=$(wc -l <<<"$runs")
	median=$(sort -n -k1,1 <<<"$runs" | sed -n "$(( (n + 1) / 2 ))p")
	errors=$(awk '{s += $4} END {print s}' <<<"$runs")
	read -r rps p50 p99 _ <<<"$median"
	RPS[$name]=$rps
	rowsps=$(awk -v r="$rps" -v k="${ROWS[$name]}" 'BEGIN {printf "%.0f", r * k}')
	results+=("$(printf '%-34s %5s %12s %12s %9s %9s %7s' "$name" "$n" "$rps" "$rowsps" "$p50" "$p99" "$errors")")
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION on $(nproc) cores, $(go env GOVERSION)"
printf '%-34s %5s %12s %12s %9s %9s %7s\n' "case (median run)" "runs" "requests/s" "rows/s" "p50 ms" "p99 ms" "errors"
printf '%s\n' "${results[@]}"
echo
echo "V2 1 row / bare:                $(ratio "${RPS[V2 /infer, 1 row]}" "${RPS[bare net/http, 1-row body]}")   (target >= 0.8)"
echo "/invocations 1 row / bare:      $(ratio "${RPS[MLflow /invocations, 1 row]}" "${RPS[bare net/http, 1-row body]}")   (target >= 0.8)"
echo "V2 $BATCH rows: rows/s          $(awk -v r="${RPS[V2 /infer, $BATCH rows]}" -v n="$BATCH" 'BEGIN {printf "%.0f", r * n}')   (target >= 1000000)"
echo "V2 1 row, 100 trees / bare:     $(ratio "${RPS[V2 /infer, 1 row, 100 trees]}" "${RPS[bare net/http, 1-row body]}")   (target >= 0.8)"
echo "V2 $BATCH rows, 100 trees: rows/s $(awk -v r="${RPS[V2 /infer, $BATCH rows, 100 trees]}" -v n="$BATCH" 'BEGIN {printf "%.0f", r * n}')   (target >= 1000000)"
if [[ $have_python == 1 ]]; then
	echo "/invocations 1 row / Flask:     $(ratio "${RPS[MLflow /invocations, 1 row]}" "${RPS[Flask+gunicorn+sklearn, 1 row]}")"
fi
