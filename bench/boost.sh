#!/usr/bin/env bash
# bench/boost.sh — modelci's boost.Fit versus scikit-learn's
# HistGradientBoosting and XGBoost (tree_method="hist") on the same generated
# 1,000,000 × 20 regression and binary classification data, on this machine,
# in one run. Each fit is a separate process measured with /usr/bin/time -v
# (wall time and peak RSS of the whole process: loading, binning, fitting and
# scoring the test rows). Each process also reports its own load_s (reading
# the raw float64 files) and fit_s (the fit call alone), and its test metric
# on 200,000 held-out rows, so quality is comparable.
#
# Parameters, the same for all three: 100 iterations, 31 leaves, learning
# rate 0.1, no depth bound, 255 bins, min_samples_leaf / min_child_weight as
# each tool's default (20 rows for modelci and scikit-learn; XGBoost's
# min_child_weight=1 on the hessian), L2 0 (XGBoost's reg_lambda=0), no
# early stopping. scikit-learn and modelci use both cores (OMP / GOMAXPROCS);
# XGBoost nthread=2, grow_policy="lossguide", max_leaves=31, max_depth=0.
#
# Needs: Go, /usr/bin/time, /usr/bin/python3 with numpy, scikit-learn and
# xgboost (Debian: python3-sklearn python3-xgboost).
#
# Environment: ROWS (default 1000000), FEATURES (default 20), BENCH_DIR
# (default: a temporary directory; set it to keep the generated data).
set -euo pipefail
cd "$(dirname "$0")/.."

rows=${ROWS:-1000000}
features=${FEATURES:-20}
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$work"' EXIT

for tool in /usr/bin/time /usr/bin/python3; do
	[ -x "$tool" ] || { echo "bench/boost.sh: $tool is missing" >&2; exit 1; }
done

echo "building the Go harness…" >&2
CGO_ENABLED=0 go build -trimpath -o "$work/boostbench" ./bench/boost

cat >"$work/gen.py" <<'PY'
import os, sys
import numpy as np
from sklearn.datasets import make_regression, make_classification
work, rows, p = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
test = 200000
for task in ("regression", "binary"):
    d = os.path.join(work, task)
    if os.path.exists(os.path.join(d, "meta.txt")):
        continue
    os.makedirs(d, exist_ok=True)
    if task == "regression":
        X, y = make_regression(n_samples=rows + test, n_features=p, n_informative=10, noise=10, random_state=0)
    else:
        X, y = make_classification(n_samples=rows + test, n_features=p, n_informative=10, random_state=0)
    y = y.astype(np.float64)
    # column-major raw float64
    np.asfortranarray(X[:rows]).T.astype("<f8").tofile(os.path.join(d, "train_x.f64"))
    y[:rows].astype("<f8").tofile(os.path.join(d, "train_y.f64"))
    np.asfortranarray(X[rows:]).T.astype("<f8").tofile(os.path.join(d, "test_x.f64"))
    y[rows:].astype("<f8").tofile(os.path.join(d, "test_y.f64"))
    with open(os.path.join(d, "meta.txt"), "w") as f:
        f.write("%d %d %d\n" % (rows, p, test))
    print("generated", d, file=sys.stderr)
PY

cat >"$work/py.py" <<'PY'
import sys, time
import numpy as np
tool, d, task = sys.argv[1], sys.argv[2], sys.argv[3]
n, p, nt = map(int, open(d + "/meta.txt").read().split())
t0 = time.perf_counter()
# Fortran-ordered (n, p) views of the column-major files: no copy.
X = np.fromfile(d + "/train_x.f64", dtype="<f8").reshape(p, n).T
y = np.fromfile(d + "/train_y.f64", dtype="<f8")
load = time.perf_counter() - t0
if tool == "sklearn":
    from sklearn.ensemble import HistGradientBoostingRegressor, HistGradientBoostingClassifier
    kw = dict(max_iter=100, max_leaf_nodes=31, learning_rate=0.1, early_stopping=False, random_state=0)
    est = HistGradientBoostingRegressor(**kw) if task == "regression" else HistGradientBoostingClassifier(**kw)
    t1 = time.perf_counter()
    est.fit(X, y)
    fit = time.perf_counter() - t1
    trees = sum(len(it) for it in est._predictors)
else:
    import xgboost as xgb
    params = dict(tree_method="hist", nthread=2, max_leaves=31, grow_policy="lossguide", max_depth=0,
                  learning_rate=0.1, max_bin=256, reg_lambda=0.0,
                  objective="reg:squarederror" if task == "regression" else "binary:logistic")
    t1 = time.perf_counter()
    dtrain = xgb.DMatrix(X, label=y, nthread=2)
    est = xgb.train(params, dtrain, num_boost_round=100)
    fit = time.perf_counter() - t1
    trees = 100
del X, y
Xt = np.fromfile(d + "/test_x.f64", dtype="<f8").reshape(p, nt).T
yt = np.fromfile(d + "/test_y.f64", dtype="<f8")
t2 = time.perf_counter()
if tool == "sklearn":
    pr = est.predict(Xt) if task == "regression" else est.predict_proba(Xt)[:, 1]
else:
    pr = est.predict(xgb.DMatrix(Xt, nthread=2))
pred = time.perf_counter() - t2
out = "tool=%s load_s=%.3f fit_s=%.3f predict_s=%.3f trees=%d" % (tool, load, fit, pred, trees)
if task == "regression":
    out += " rmse=%.5f" % np.sqrt(np.mean((pr - yt) ** 2))
else:
    q = np.clip(pr, 1e-15, 1 - 1e-15)
    out += " accuracy=%.5f log_loss=%.5f" % (np.mean((pr > 0.5) == (yt == 1)), -np.mean(yt * np.log(q) + (1 - yt) * np.log(1 - q)))
print(out)
PY

echo "generating $rows × $features data (once) in $work…" >&2
/usr/bin/python3 "$work/gen.py" "$work" "$rows" "$features"

# measure NAME CMD… runs CMD under /usr/bin/time -v and sets wall_NAME,
# rss_NAME (MB) and line_NAME.
measure() {
	local name=$1
	shift
	local log="$work/time-$name.txt"
	local line
	line=$(/usr/bin/time -v "$@" 2>"$log")
	local wall rss
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$log")
	rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$log")
	printf -v "wall_$name" '%s' "$wall"
	printf -v "rss_$name" '%s' "$rss"
	printf -v "line_$name" '%s' "$line"
	printf '%-8s wall %7.2fs  peak RSS %6s MB  %s\n' "$name" "$wall" "$rss" "$line"
}

for task in regression binary; do
	echo "== $task: $rows × $features, 100 iterations, 31 leaves =="
	measure modelci "$work/boostbench" -dir "$work/$task" -task "$task"
	measure sklearn /usr/bin/python3 "$work/py.py" sklearn "$work/$task" "$task"
	measure xgboost /usr/bin/python3 "$work/py.py" xgboost "$work/$task" "$task"
	fit() { sed -n 's/.*fit_s=\([0-9.]*\).*/\1/p' <<<"$1"; }
	fm=$(fit "$line_modelci") fs=$(fit "$line_sklearn") fx=$(fit "$line_xgboost")
	awk -v wm="$wall_modelci" -v ws="$wall_sklearn" -v wx="$wall_xgboost" \
		-v rm="$rss_modelci" -v rs="$rss_sklearn" -v rx="$rss_xgboost" \
		-v fm="$fm" -v fs="$fs" -v fx="$fx" 'BEGIN {
		printf "ratios: wall sklearn/modelci %.2f×, xgboost/modelci %.2f×; fit sklearn/modelci %.2f×, xgboost/modelci %.2f×\n", ws/wm, wx/wm, fs/fm, fx/fm
		printf "        peak RSS modelci/sklearn %.2f, modelci/xgboost %.2f\n", rm/rs, rm/rx
	}'
done
