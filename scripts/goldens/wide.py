#!/usr/bin/python3
"""Golden values for wide data (more columns than training rows), computed
with scikit-learn the same way as models.py.

Run from the repository root after `apt-get install python3-sklearn`:

    /usr/bin/python3 scripts/goldens/wide.py

It writes internal/train/testdata/reg_wide.csv and golden_wide.json, which
internal/train's TestGoldenWide reads (modelci solves these in the n×n
dual). Ridge and logistic regression come from scikit-learn (newton-cg to
the optimum). For plain least squares the solution is not unique and the
reference is the minimum-norm one, numpy.linalg.lstsq(rcond=None) on the
same centered, standardized design: scikit-learn's LinearRegression calls
scipy's gelsd with rcond = eps, which on a centered wide design keeps the
direction of its ~1e-15 singular value and so returns a different, noise-
dependent solution (scipy's gelsy and numpy's lstsq agree with the
minimum-norm one to 1e-15).
"""
import json
import os
import sys

import numpy as np
import pandas as pd
import sklearn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import OUT, fit_case, write_csv  # noqa: E402
from sklearn import metrics as skm  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402


def min_norm_case(case):
    """fit_case for a numeric linear case, with numpy's minimum-norm
    least-squares solution in place of LinearRegression's."""
    out = fit_case(case)
    df = pd.read_csv(os.path.join(OUT, case["csv"]), float_precision="round_trip")
    target = case["target"]
    X, y = df.drop(columns=[target]), df[target]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
    sc = StandardScaler().fit(X_train)
    Z, Zt = sc.transform(X_train), sc.transform(X_test)
    zbar, ybar = Z.mean(axis=0), y_train.to_numpy().mean()
    coef = np.linalg.lstsq(Z - zbar, y_train.to_numpy() - ybar, rcond=None)[0]
    intercept = float(ybar - zbar @ coef)
    pred = Zt @ coef + intercept
    out.update({
        "coefficients": {n: float(c) for n, c in zip(X.columns, coef)},
        "intercept": intercept,
        "pred_head": [float(p) for p in pred[:20]],
        "metrics": {
            "mse": skm.mean_squared_error(y_test, pred),
            "rmse": float(np.sqrt(skm.mean_squared_error(y_test, pred))),
            "mae": skm.mean_absolute_error(y_test, pred),
            "r2": skm.r2_score(y_test, pred),
            "mape": skm.mean_absolute_percentage_error(y_test, pred),
            "max_error": skm.max_error(y_test, pred),
        },
    })
    return out


def wide_data(seed, n, p):
    rs = np.random.RandomState(seed)
    x = rs.normal(size=(n, p))
    beta = rs.normal(size=p) * (rs.uniform(size=p) < 0.1)
    y = 1.5 + x @ beta + 0.3 * rs.normal(size=n)
    df = pd.DataFrame(x, columns=["x%d" % (j + 1) for j in range(p)])
    df["y"] = y
    df["label"] = np.where(y > np.median(y), "hi", "lo")
    return df


def main():
    df = wide_data(11, 40, 150)
    write_csv("reg_wide.csv", df.drop(columns=["label"]))
    write_csv("clf_wide.csv", df.drop(columns=["y"]))
    cases = [
        {"name": "wide_linear_qr", "csv": "reg_wide.csv", "target": "y", "type": "linear", "solver": "qr"},
        {"name": "wide_linear_normal", "csv": "reg_wide.csv", "target": "y", "type": "linear", "solver": "normal"},
        {"name": "wide_ridge_qr", "csv": "reg_wide.csv", "target": "y", "type": "ridge", "solver": "qr", "alpha": 2.0},
        {"name": "wide_ridge_normal", "csv": "reg_wide.csv", "target": "y", "type": "ridge", "solver": "normal", "alpha": 0.5},
        {"name": "wide_logistic", "csv": "clf_wide.csv", "target": "label", "type": "logistic", "solver": "lbfgs", "alpha": 4.0},
    ]
    for c in cases:
        c["expected"] = min_norm_case(c) if c["type"] == "linear" else fit_case(c)
    golden = {
        "generator": "scripts/goldens/wide.py",
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "cases": cases,
    }
    with open(os.path.join(OUT, "golden_wide.json"), "w") as f:
        json.dump(golden, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", len(cases), "cases to", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
