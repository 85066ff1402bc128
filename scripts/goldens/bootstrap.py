#!/usr/bin/python3
"""Golden paired-bootstrap intervals for internal/diff, computed with numpy
and sklearn.metrics.

Run from the repository root with the Debian Python (scikit-learn 1.2.1,
numpy 1.24.2):

    /usr/bin/python3 scripts/goldens/bootstrap.py

It overwrites internal/diff/testdata/bootstrap.json. The Go tests only read
the JSON.

The reference is the textbook paired bootstrap, written independently of the
Go code (which weights per-row terms by draw counts instead of materializing
resamples): for each of B resamples

    idx = rs.randint(0, n, size=n)          # rs = np.random.RandomState(seed)
    d_b = metric(y[idx], challenger[idx]) - metric(y[idx], champion[idx])

with the real sklearn.metrics functions on the resampled arrays. A resample
where sklearn cannot compute a metric for either model (roc_auc with one
class) is left out of that metric's interval. The interval is
np.quantile(d, [a, 1 - a]) with a = (1 - confidence) / 2 (numpy's default
linear interpolation); it is significant when it excludes 0.
"""

import json
import os
import warnings

import numpy as np
import sklearn
from sklearn import metrics as skm

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "internal", "diff", "testdata", "bootstrap.json")

warnings.simplefilter("ignore")  # zero_division and similar warnings

REGRESSION = {
    "rmse": lambda y, p: skm.mean_squared_error(y, p, squared=False),
    "mae": skm.mean_absolute_error,
    "r2": skm.r2_score,
    "mse": skm.mean_squared_error,
    "mape": skm.mean_absolute_percentage_error,
    "max_error": skm.max_error,
}

CLASSIFICATION = {
    "accuracy": lambda y, pred, proba: skm.accuracy_score(y, pred),
    "precision": lambda y, pred, proba: skm.precision_score(y, pred, zero_division=0),
    "recall": lambda y, pred, proba: skm.recall_score(y, pred, zero_division=0),
    "f1": lambda y, pred, proba: skm.f1_score(y, pred, zero_division=0),
    "roc_auc": lambda y, pred, proba: skm.roc_auc_score(y, proba),
    "log_loss": lambda y, pred, proba: skm.log_loss(y, proba, labels=[0, 1]),
}


def value(fn, *args):
    try:
        v = float(fn(*args))
    except ValueError:
        return None
    return v if np.isfinite(v) else None


def bootstrap(task, y, champion, challenger, names, resamples, confidence, seed):
    n = len(y)
    rs = np.random.RandomState(seed)
    diffs = {name: [] for name in names}
    for _ in range(resamples):
        idx = rs.randint(0, n, size=n)
        yb = y[idx]
        for name in names:
            if task == "regression":
                fn = REGRESSION[name]
                a = value(fn, yb, champion["pred"][idx])
                b = value(fn, yb, challenger["pred"][idx])
            else:
                fn = CLASSIFICATION[name]
                a = value(fn, yb, champion["pred"][idx], champion["proba"][idx])
                b = value(fn, yb, challenger["pred"][idx], challenger["proba"][idx])
            if a is not None and b is not None:
                diffs[name].append(b - a)
    alpha = (1 - confidence) / 2
    out = {}
    for name in names:
        d = np.asarray(diffs[name], dtype=np.float64)
        if len(d) == 0:
            out[name] = {"resamples": 0}
            continue
        lo, hi = np.quantile(d, [alpha, 1 - alpha])
        out[name] = {
            "low": float(lo),
            "high": float(hi),
            "significant": bool(lo > 0 or hi < 0),
            "resamples": int(len(d)),
        }
    return out


def case(name, task, y, champion, challenger, resamples, confidence, seed):
    """One golden case: the inputs and the intervals of every metric."""
    names = list(REGRESSION if task == "regression" else CLASSIFICATION)
    return {
        "name": name,
        "task": task,
        "resamples": resamples,
        "confidence": confidence,
        "seed": seed,
        "y_true": y.tolist(),
        "champion": {k: v.tolist() for k, v in champion.items()},
        "challenger": {k: v.tolist() for k, v in challenger.items()},
        "metrics": names,
        "expected": bootstrap(task, y, champion, challenger, names, resamples, confidence, seed),
    }


def regression_case(name, seed, n, noise_a, noise_b, bias_b, resamples, confidence, bseed):
    rs = np.random.RandomState(seed)
    x = rs.normal(0, 1, n)
    y = 50 + 10 * x + rs.normal(0, 3, n)
    champion = {"pred": 50 + 10 * x + rs.normal(0, noise_a, n)}
    challenger = {"pred": 50 + 10 * x + bias_b + rs.normal(0, noise_b, n)}
    return case(name, "regression", y, champion, challenger, resamples, confidence, bseed)


def classification_case(name, seed, n, pos_rate, sharp_a, sharp_b, decimals, resamples, confidence, bseed):
    rs = np.random.RandomState(seed)
    y = (rs.random_sample(n) < pos_rate).astype(np.int64)
    z = np.where(y == 1, 1.0, -1.0)
    sides = []
    for sharp in (sharp_a, sharp_b):
        score = sharp * z + rs.normal(0, 1.5, n)
        proba = 1 / (1 + np.exp(-score))
        if decimals is not None:
            proba = np.round(proba, decimals)  # ties in the score order
        sides.append({"pred": (proba > 0.5).astype(np.int64), "proba": proba})
    return case(name, "classification", y, sides[0], sides[1], resamples, confidence, bseed)


def identical_case():
    rs = np.random.RandomState(5)
    y = rs.normal(0, 1, 200)
    side = {"pred": y + rs.normal(0, 0.5, 200)}
    return case("identical_models", "regression", y, side, side, 300, 0.95, 42)


def main():
    cases = [
        regression_case("regression_better", 1, 400, 4.0, 2.0, 0.0, 1000, 0.95, 42),
        regression_case("regression_noise", 2, 300, 3.0, 3.0, 0.1, 1000, 0.95, 42),
        regression_case("regression_biased_90", 3, 1500, 2.0, 2.0, 1.5, 400, 0.9, 7),
        classification_case("classification_ties", 4, 500, 0.4, 1.0, 1.4, 2, 1000, 0.95, 42),
        classification_case("classification_noise", 6, 300, 0.5, 1.2, 1.2, None, 1000, 0.95, 123),
        # 15 rows with ~3 positives: many resamples have no positives, so
        # roc_auc is undefined there and precision/recall hit 0/0.
        classification_case("classification_tiny", 8, 15, 0.2, 1.0, 2.0, 1, 500, 0.95, 42),
        identical_case(),
    ]
    doc = {
        "numpy": np.__version__,
        "sklearn": sklearn.__version__,
        "cases": cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
