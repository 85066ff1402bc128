#!/usr/bin/python3
"""Golden paired-bootstrap intervals of multiclass (K >= 3) metrics for
internal/diff, computed with numpy and sklearn.metrics.

Run from the repository root with the Debian Python (scikit-learn 1.2.1,
numpy 1.24.2):

    /usr/bin/python3 scripts/goldens/bootstrap_multiclass.py

It overwrites internal/diff/testdata/bootstrap_multiclass.json (inputs stored
inline). The Go tests only read the JSON.

The reference is the textbook paired bootstrap of bootstrap.py, written
independently of the Go code (which weights per-row terms by draw counts):
for each of B resamples

    idx = rs.randint(0, n, size=n)          # rs = np.random.RandomState(seed)
    d_b = metric(y[idx], challenger[idx]) - metric(y[idx], champion[idx])

with the real sklearn.metrics functions on the resampled arrays, labels =
list(range(K)) for precision/recall/f1 (average macro or weighted, the
default zero_division="warn", which scores 0/0 as 0) and log_loss.
roc_auc_score(multi_class="ovr", average="macro") gets no labels, so it
raises when a class is missing from the resample's y_true: such a resample
is left out of roc_auc's interval. balanced_accuracy_score averages the
recall of the classes present in y_true. The interval is
np.quantile(d, [a, 1 - a]) with a = (1 - confidence) / 2; it is significant
when it excludes 0. "full" holds each model's metrics on the unresampled
rows.
"""

import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import goldenjson  # noqa: E402  (the shared writer next to this script)

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn import metrics as skm  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "internal", "diff", "testdata")

warnings.simplefilter("ignore")  # zero_division and balanced_accuracy warnings


def metric_functions(k):
    labels = list(range(k))

    def prf(fn, average):
        return lambda y, pred, probs: fn(y, pred, labels=labels, average=average)

    return {
        "accuracy": lambda y, pred, probs: skm.accuracy_score(y, pred),
        "balanced_accuracy": lambda y, pred, probs: skm.balanced_accuracy_score(y, pred),
        "precision_macro": prf(skm.precision_score, "macro"),
        "precision_weighted": prf(skm.precision_score, "weighted"),
        "recall_macro": prf(skm.recall_score, "macro"),
        "recall_weighted": prf(skm.recall_score, "weighted"),
        "f1_macro": prf(skm.f1_score, "macro"),
        "f1_weighted": prf(skm.f1_score, "weighted"),
        "roc_auc": lambda y, pred, probs: skm.roc_auc_score(y, probs, multi_class="ovr", average="macro"),
        "log_loss": lambda y, pred, probs: skm.log_loss(y, probs, labels=labels),
    }


def value(fn, *args):
    try:
        v = float(fn(*args))
    except ValueError:
        return None
    return v if np.isfinite(v) else None


def bootstrap(fns, y, champion, challenger, names, resamples, confidence, seed):
    n = len(y)
    rs = np.random.RandomState(seed)
    diffs = {name: [] for name in names}
    for _ in range(resamples):
        idx = rs.randint(0, n, size=n)
        yb = y[idx]
        for name in names:
            a = value(fns[name], yb, champion["pred"][idx], champion["probs"][idx])
            b = value(fns[name], yb, challenger["pred"][idx], challenger["probs"][idx])
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


def case(name, k, y, champion, challenger, resamples, confidence, seed):
    """One golden case: the inputs, the intervals of every multiclass metric
    and each model's metrics on the full rows."""
    fns = metric_functions(k)
    names = list(fns)
    assert all(np.allclose(1, s["probs"].sum(axis=1)) for s in (champion, challenger))
    full = {}
    for m in names:
        full[m] = {side: value(fns[m], y, s["pred"], s["probs"]) for side, s in
                   (("champion", champion), ("challenger", challenger))}
    return {
        "name": name,
        "classes": k,
        "resamples": resamples,
        "confidence": confidence,
        "seed": seed,
        "y_true": y.tolist(),
        "champion": {"pred": champion["pred"].tolist(), "probs": champion["probs"].ravel().tolist()},
        "challenger": {"pred": challenger["pred"].tolist(), "probs": challenger["probs"].ravel().tolist()},
        "metrics": names,
        "full": full,
        "expected": bootstrap(fns, y, champion, challenger, names, resamples, confidence, seed),
    }


def side(probs):
    probs = np.asarray(probs, dtype=np.float64)
    return {"pred": probs.argmax(axis=1).astype(np.int64), "probs": probs}


def logistic_case():
    """Two fitted LogisticRegression models on a 4-class problem, scored on
    300 held-out rows: the challenger sees all eight features, the champion
    six of them with a stronger penalty; close enough that some intervals
    contain 0."""
    x, y = make_classification(n_samples=900, n_features=8, n_informative=5, n_redundant=1,
                               n_classes=4, n_clusters_per_class=1, random_state=3)
    train, test = slice(0, 600), slice(600, 900)
    champ = LogisticRegression(C=0.05, max_iter=1000).fit(x[train, :6], y[train])
    chal = LogisticRegression(C=1.0, max_iter=1000).fit(x[train], y[train])
    return case("multiclass_4_logistic", 4, y[test].astype(np.int64),
                side(champ.predict_proba(x[test, :6])), side(chal.predict_proba(x[test])), 200, 0.95, 42)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def ties_case():
    """3 classes, logits rounded to integers in [-1, 2]: the few distinct
    probability vectors make long runs of equal scores in every column, and
    argmax ties go to the lowest class."""
    rs = np.random.RandomState(11)
    n, k = 250, 3
    y = rs.randint(0, k, size=n)
    sides = []
    for sharp in (1.1, 1.3):
        z = rs.normal(0, 1, (n, k))
        z[np.arange(n), y] += sharp
        sides.append(side(softmax(np.clip(np.round(z), -1, 2))))
    return case("multiclass_3_ties", k, y.astype(np.int64), sides[0], sides[1], 200, 0.95, 7)


def rare_case():
    """30 rows, 4 classes, class 3 on two rows: many resamples miss it, so
    roc_auc is defined in fewer than B resamples, balanced_accuracy averages
    fewer classes and the macro averages count the missing class as 0."""
    rs = np.random.RandomState(5)
    k = 4
    y = np.array([0] * 11 + [1] * 9 + [2] * 8 + [3] * 2)
    rs.shuffle(y)
    n = len(y)
    sides = []
    for sharp in (1.0, 2.0):
        z = rs.normal(0, 1, (n, k))
        z[np.arange(n), y] += sharp
        sides.append(side(softmax(z)))
    return case("multiclass_4_rare", k, y.astype(np.int64), sides[0], sides[1], 300, 0.9, 42)


def identical_case():
    """The same model on both sides: every difference is exactly 0."""
    rs = np.random.RandomState(9)
    n, k = 120, 5
    y = rs.randint(0, k, size=n)
    z = rs.normal(0, 1, (n, k))
    z[np.arange(n), y] += 1.5
    s = side(softmax(z))
    return case("multiclass_5_identical", k, y.astype(np.int64), s, s, 100, 0.95, 1)


def main():
    doc = {
        "numpy": np.__version__,
        "sklearn": sklearn.__version__,
        "cases": [logistic_case(), ties_case(), rare_case(), identical_case()],
    }
    goldenjson.write(ROOT, OUT, "bootstrap_multiclass.json", doc)


if __name__ == "__main__":
    main()
