#!/usr/bin/python3
"""Golden values for histogram gradient boosting, computed with scikit-learn
1.2.1's HistGradientBoostingRegressor and HistGradientBoostingClassifier.

Run from the repository root (Debian's python3-sklearn):

    /usr/bin/python3 scripts/goldens/boost.py

It writes internal/boost/testdata/<case>_train.csv and <case>_test.csv
(columns x0..x{p-1}, then y: the target, or the class index 0..k-1; an
empty cell is a missing value) and internal/boost/testdata/golden.json,
which internal/boost's TestGoldenQuality and TestGoldenTinyTree read; the Go
test needs no Python.

Every case is split with train_test_split(test_size=0.2, random_state=42)
and fitted with the estimator's defaults except early_stopping=False and
random_state=0. The JSON records scikit-learn's test metrics: rmse for
regression, accuracy and log_loss for classifiers.

The "tiny" case is 40 rows of one feature whose one split scikit-learn can
be checked against by hand: max_iter=1, max_leaf_nodes=2,
min_samples_leaf=5. The JSON holds its fitted tree, read from
_predictors[0][0].nodes, and the baseline.
"""
import os
import sys

import numpy as np
from sklearn.datasets import (load_breast_cancer, load_diabetes, load_digits,
                              load_wine, make_hastie_10_2, make_regression)
from sklearn.ensemble import (HistGradientBoostingClassifier,
                              HistGradientBoostingRegressor)
from sklearn.metrics import accuracy_score, log_loss, mean_squared_error
from sklearn.model_selection import train_test_split

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import goldenjson  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "internal", "boost", "testdata")


def write_csv(path, X, y):
    p = X.shape[1]
    with open(path, "w") as f:
        f.write(",".join(["x%d" % j for j in range(p)] + ["y"]) + "\n")
        for row, t in zip(X, y):
            cells = ["" if np.isnan(v) else repr(float(v)) for v in row]
            f.write(",".join(cells + [repr(float(t))]) + "\n")


def with_missing(X, frac, seed):
    rng = np.random.RandomState(seed)
    X = X.copy()
    X[rng.uniform(size=X.shape) < frac] = np.nan
    return X


def cases():
    X, y = load_diabetes(return_X_y=True)
    yield "diabetes", "regression", X, y
    X, y = load_breast_cancer(return_X_y=True)
    yield "breast_cancer", "binary", X, y
    X, y = load_wine(return_X_y=True)
    yield "wine", "multiclass", X, y
    X, y = load_digits(return_X_y=True)
    yield "digits", "multiclass", X, y
    X, y = make_regression(n_samples=2000, n_features=10, noise=10, random_state=0)
    yield "regression_missing", "regression", with_missing(X, 0.2, 1), y
    X, y = make_hastie_10_2(n_samples=4000, random_state=0)
    yield "hastie_missing", "binary", with_missing(X, 0.2, 2), (y > 0).astype(float)


def main():
    os.makedirs(OUT, exist_ok=True)
    golden = {"cases": []}
    for name, task, X, y in cases():
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=42)
        write_csv(os.path.join(OUT, name + "_train.csv"), Xtr, ytr)
        write_csv(os.path.join(OUT, name + "_test.csv"), Xte, yte)
        case = {"name": name, "task": task, "rows_train": len(ytr), "rows_test": len(yte)}
        if task == "regression":
            est = HistGradientBoostingRegressor(early_stopping=False, random_state=0)
            est.fit(Xtr, ytr)
            case["rmse"] = float(np.sqrt(mean_squared_error(yte, est.predict(Xte))))
        else:
            est = HistGradientBoostingClassifier(early_stopping=False, random_state=0)
            est.fit(Xtr, ytr.astype(int))
            case["classes"] = int(len(est.classes_))
            case["accuracy"] = float(accuracy_score(yte, est.predict(Xte)))
            case["log_loss"] = float(log_loss(yte, est.predict_proba(Xte), labels=est.classes_))
        golden["cases"].append(case)
        print(case, file=sys.stderr)

    # The tiny case: y is a step in x plus a little noise.
    rng = np.random.RandomState(0)
    x = np.round(rng.uniform(0, 10, size=40), 2)
    y = np.where(x <= 4, 1.0, 3.0) + np.round(rng.normal(0, 0.1, size=40), 3)
    write_csv(os.path.join(OUT, "tiny_train.csv"), x.reshape(-1, 1), y)
    est = HistGradientBoostingRegressor(max_iter=1, max_leaf_nodes=2, min_samples_leaf=5,
                                        early_stopping=False, random_state=0)
    est.fit(x.reshape(-1, 1), y)
    nodes = est._predictors[0][0].nodes
    golden["tiny"] = {
        "baseline": float(est._baseline_prediction.ravel()[0]),
        "feature": [int(-1 if n["is_leaf"] else n["feature_idx"]) for n in nodes],
        "threshold": [float(n["num_threshold"]) for n in nodes],
        "left": [int(n["left"]) if not n["is_leaf"] else -1 for n in nodes],
        "right": [int(n["right"]) if not n["is_leaf"] else -1 for n in nodes],
        "missing_go_to_left": [bool(n["missing_go_to_left"]) for n in nodes],
        "value": [float(n["value"]) for n in nodes],
        "gain": [float(n["gain"]) for n in nodes],
        "count": [int(n["count"]) for n in nodes],
    }
    print(golden["tiny"], file=sys.stderr)
    goldenjson.write(ROOT, OUT, "golden.json", golden)


if __name__ == "__main__":
    main()
