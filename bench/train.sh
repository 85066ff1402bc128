#!/usr/bin/env bash
# bench/train.sh — `modelci train` versus pandas + scikit-learn on the same
# generated 1,000,000 × 20 numeric CSV (about 200 MB), on this machine, in one
# run. Prints wall time, peak RSS (/usr/bin/time -v) and the ratios, and checks
# that both report the same test MSE.
#
# Needs: Go, /usr/bin/time (Debian: time), /usr/bin/python3 with pandas and
# scikit-learn (Debian: python3-pandas python3-sklearn).
#   apt-get install -y time python3-pandas python3-sklearn
#
# Environment: ROWS (default 1000000), FEATURES (default 20), RUNS (default 3,
# the median is reported), BENCH_DIR (default: a temporary directory; set it to
# keep the generated file between runs).
set -euo pipefail
cd "$(dirname "$0")/.."

rows=${ROWS:-1000000}
features=${FEATURES:-20}
runs=${RUNS:-3}
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$work"' EXIT

for tool in /usr/bin/time /usr/bin/python3; do
	[ -x "$tool" ] || { echo "bench/train.sh: $tool is missing (apt-get install -y time python3-pandas python3-sklearn)" >&2; exit 1; }
done

echo "building modelci…" >&2
CGO_ENABLED=0 go build -trimpath -o "$work/modelci" ./cmd/modelci
csv="$work/big-$rows-$features.csv"
if [ ! -s "$csv" ]; then
	echo "generating $csv…" >&2
	go run ./bench/gencsv -rows "$rows" -features "$features" -seed 1 -out "$csv"
fi
cat > "$work/modelci.yaml" <<YAML
name: bench
data:
  path: $csv
  target: y
split:
  test_size: 0.2
  seed: 42
model:
  type: linear
metrics: [mse]
YAML
cat > "$work/reference.py" <<'PY'
import sys
import pandas as pd
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

df = pd.read_csv(sys.argv[1])
X, y = df.drop(columns=["y"]), df["y"]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
model = LinearRegression().fit(X_train, y_train)
print("mse %.17g" % mean_squared_error(y_test, model.predict(X_test)))
PY

# measure CMD... : runs it $runs times under /usr/bin/time -v; prints
# "<median wall seconds> <median peak RSS KiB>" and leaves the last stdout in
# $work/last.out.
measure() {
	local walls=() rsss=()
	for _ in $(seq "$runs"); do
		/usr/bin/time -v "$@" >"$work/last.out" 2>"$work/time.txt" || { cat "$work/time.txt" >&2; exit 1; }
		local wall rss
		wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/time.txt")
		rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
		walls+=("$wall"); rsss+=("$rss")
	done
	local mw mr
	mw=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	mr=$(printf '%s\n' "${rsss[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	echo "$mw $mr"
}

cat "$csv" >/dev/null # warm the page cache for both sides
size=$(du -m "$csv" | cut -f1)
echo "data: $rows rows × $features features + target, ${size} MB; $runs runs each, median; $(nproc) cores" >&2

read -r ref_wall ref_rss < <(measure /usr/bin/python3 "$work/reference.py" "$csv")
ref_mse=$(awk '/^mse/ {print $2}' "$work/last.out")
read -r our_wall our_rss < <(measure "$work/modelci" train --config "$work/modelci.yaml" --out "$work/model")
our_mse=$(/usr/bin/python3 -c 'import json,sys; print("%.17g" % json.load(open(sys.argv[1]))["metrics"]["mse"])' "$work/model/metrics.json")

awk -v rw="$ref_wall" -v rr="$ref_rss" -v ow="$our_wall" -v or="$our_rss" -v rm="$ref_mse" -v om="$our_mse" 'BEGIN {
	printf "%-34s %10s %14s %24s\n", "", "wall (s)", "peak RSS (MiB)", "test MSE"
	printf "%-34s %10.2f %14.0f %24s\n", "pandas + scikit-learn", rw, rr/1024, rm
	printf "%-34s %10.2f %14.0f %24s\n", "modelci train", ow, or/1024, om
	printf "\nspeed-up (wall): %.1fx   memory: %.2f of the reference (%.1fx less)\n", rw/ow, or/rr, rr/or
	d = rm - om; if (d < 0) d = -d
	printf "MSE relative difference: %.2g\n", d / rm
}'
