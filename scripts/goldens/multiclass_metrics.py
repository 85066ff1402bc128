#!/usr/bin/python3
"""Golden file for internal/metrics' multiclass metrics, computed with the
real sklearn.metrics.

Run from the repository root with the Debian Python (scikit-learn 1.2.1, numpy 1.24.2):

    /usr/bin/python3 scripts/goldens/multiclass_metrics.py

It overwrites internal/metrics/testdata/multiclass.json. The output is
deterministic (fixed seeds and random_state, sorted keys). The Go tests only
read the JSON.

Labels are class indices 0..k-1 and proba is stored flattened row-major
(n*k values). Every scikit-learn call that takes labels gets
labels=list(range(k)), which is how Multiclass treats classes that occur in
neither y_true nor y_pred: they count, with 0, in macro averages.
balanced_accuracy_score takes no labels and ignores classes absent from
y_true.

Real cases come from LogisticRegression fitted on the bundled iris, wine,
digits and breast-cancer data (no network) and on make_classification data,
scored on a held-out split. Small synthetic cases store their inputs. Large
ones store a recipe instead ("generate"), built only from numpy's legacy
RandomState.random_sample and randint and elementwise IEEE operations plus
row sums along the last axis (numpy's pairwise sum per row), which the Go
test replays with internal/split's RandomState; "input_sha256" (little-endian
int64 bytes of y_true, then y_pred, then float64 bytes of proba) checks that
the replay is exact before the metrics are compared.

Every expected metric carries its own tolerance: "rtol" (relative) and
"atol" (absolute); 0/0 means bit-for-bit. A metric sklearn cannot compute
(raises, or returns NaN) is stored as {"skipped": "<sklearn's message>"};
the binary names precision, recall and f1 are stored as skipped for k > 2,
where Multiclass refuses them. Cases with k = 2 also carry
"expected_binary": the same metrics from sklearn with the 1-D probability of
class 1, which the Go test compares with Classification.
"""

import hashlib
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import goldenjson  # noqa: E402  (the shared writer next to this script)

import numpy as np
import sklearn
from sklearn import datasets
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "internal", "metrics", "testdata")
MAX_INLINE = 20000  # proba values; larger inputs are stored as a recipe

warnings.simplefilter("ignore")  # UndefinedMetricWarning, ConvergenceWarning; the values are what matter

# Tolerances, per metric. Counts and ratios of counts, and their averages
# summed in numpy's pairwise order, are bit-identical. ROC AUC is a trapezoid
# sum reproduced in numpy's order, so it is normally bit-identical too; 1e-12
# relative leaves room. log_loss goes through libm's log, which may differ
# from Go's math.Log by an ulp per row.
EXACT = {"rtol": 0.0, "atol": 0.0}
AUC = {"rtol": 1e-12, "atol": 0.0}
LOG = {"rtol": 1e-12, "atol": 1e-15}

TOL = {
    "accuracy": EXACT,
    "balanced_accuracy": EXACT,
    "precision": EXACT,
    "recall": EXACT,
    "f1": EXACT,
    "precision_macro": EXACT,
    "precision_weighted": EXACT,
    "recall_macro": EXACT,
    "recall_weighted": EXACT,
    "f1_macro": EXACT,
    "f1_weighted": EXACT,
    "roc_auc": AUC,
    "log_loss": LOG,
}
PER_CLASS_TOL = EXACT  # one division (precision, recall) or one formula (F1) per class

BINARY_ONLY = "%s is the binary positive-class metric; Multiclass skips it for k > 2 (use the _macro or _weighted names)"


def sha256_arrays(*arrays):
    h = hashlib.sha256()
    for a in arrays:
        a = np.asarray(a)
        h.update(a.astype("<f8" if a.dtype.kind == "f" else "<i8").tobytes())
    return h.hexdigest()


def expect(name, fn):
    try:
        v = fn()
    except ValueError as e:
        return {"skipped": str(e)}
    v = float(v)
    if not np.isfinite(v):
        return {"skipped": "sklearn returned %r" % v}
    return dict(value=v, **TOL[name])


def label_metrics(y_true, y_pred, labels):
    """The metrics that depend on labels only, computed with labels=range(k)."""
    exp = {
        "accuracy": lambda: skm.accuracy_score(y_true, y_pred),
        "balanced_accuracy": lambda: skm.balanced_accuracy_score(y_true, y_pred),
    }
    for base, fn in [("precision", skm.precision_score), ("recall", skm.recall_score), ("f1", skm.f1_score)]:
        for avg in ("macro", "weighted"):
            exp["%s_%s" % (base, avg)] = (lambda fn=fn, avg=avg: fn(
                y_true, y_pred, labels=labels, average=avg, zero_division="warn"))
    return {name: expect(name, fn) for name, fn in exp.items()}


def binary_metrics(y_true, y_pred, score):
    """The binary names for labels {0, 1} and the probability of class 1."""
    return {
        "precision": expect("precision", lambda: skm.precision_score(y_true, y_pred, zero_division="warn")),
        "recall": expect("recall", lambda: skm.recall_score(y_true, y_pred, zero_division="warn")),
        "f1": expect("f1", lambda: skm.f1_score(y_true, y_pred, zero_division="warn")),
        "roc_auc": expect("roc_auc", lambda: skm.roc_auc_score(y_true, score)),
    }


def case(name, y_true, y_pred, proba, k, generate=None, note=None):
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    proba = np.ascontiguousarray(proba, dtype=np.float64).reshape(len(y_true), k)
    labels = list(range(k))

    exp = label_metrics(y_true, y_pred, labels)
    if k == 2:
        exp.update(binary_metrics(y_true, y_pred, proba[:, 1]))
    else:
        for base in ("precision", "recall", "f1"):
            exp[base] = {"skipped": BINARY_ONLY % base}
        exp["roc_auc"] = expect("roc_auc", lambda: skm.roc_auc_score(
            y_true, proba, multi_class="ovr", average="macro", labels=labels))
    exp["log_loss"] = expect("log_loss", lambda: skm.log_loss(y_true, proba, labels=labels))

    p, r, f, s = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average=None, zero_division="warn")
    out = {
        "name": name, "n": len(y_true), "k": k, "expected": exp,
        "per_class": dict(precision=[float(v) for v in p], recall=[float(v) for v in r],
                          f1=[float(v) for v in f], support=[int(v) for v in s], **PER_CLASS_TOL),
        "confusion_matrix": skm.confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "input_sha256": sha256_arrays(y_true, y_pred, proba),
    }
    if note:
        out["note"] = note
    if k == 2:
        binary = {n: exp[n] for n in ("accuracy", "precision", "recall", "f1", "roc_auc")}
        binary["log_loss"] = expect("log_loss", lambda: skm.log_loss(y_true, proba[:, 1], labels=[0, 1]))
        for n in label_metrics(y_true, y_pred, labels):
            binary[n] = exp[n]
        out["expected_binary"] = binary
    if generate is not None:
        out["generate"] = generate
    else:
        assert proba.size <= MAX_INLINE, name
        out["y_true"] = [int(v) for v in y_true]
        out["y_pred"] = [int(v) for v in y_pred]
        out["proba"] = [float(v) for v in proba.ravel()]
    return out


# -------------------------------------------------------------- real models

def fitted(name, X, y, scale, test_size=0.3, seed=0, C=1.0):
    """LogisticRegression on a stratified split; predictions on the test rows.
    A small C regularizes iris and wine enough that some test rows are wrong."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=seed, stratify=y)
    steps = [StandardScaler()] if scale else []
    clf = make_pipeline(*steps, LogisticRegression(C=C, max_iter=5000))
    clf.fit(X_train, y_train)
    proba = clf.predict_proba(X_test)
    k = proba.shape[1]
    return case(name, y_test, clf.predict(X_test), proba, k)


def real_cases():
    out = []
    X, y = datasets.load_iris(return_X_y=True)
    out.append(fitted("iris_logistic", X, y, scale=False, C=0.05))
    X, y = datasets.load_wine(return_X_y=True)
    out.append(fitted("wine_logistic", X, y, scale=True, C=0.002))
    X, y = datasets.load_digits(return_X_y=True)
    out.append(fitted("digits_logistic", X, y, scale=True))
    X, y = datasets.make_classification(n_samples=1000, n_features=12, n_informative=6, n_redundant=2,
                                        n_classes=5, n_clusters_per_class=1, class_sep=0.8, random_state=7)
    out.append(fitted("make_classification_5_classes", X, y, scale=False, test_size=0.4))
    X, y = datasets.load_breast_cancer(return_X_y=True)
    out.append(fitted("breast_cancer_logistic_k2", X, y, scale=True))
    return out


# ---------------------------------------------------------------- synthetic

def gen_multiclass(seed, n, k, levels, bonus):
    """Scores u (or floor(u*levels)+1 when levels > 0, which makes many ties)
    plus bonus on the true class, divided by the row sum; y_pred is the first
    arg-max."""
    rs = np.random.RandomState(seed)
    y_true = rs.randint(0, k, size=n)
    u = rs.random_sample((n, k))
    s = np.floor(u * float(levels)) + 1.0 if levels > 0 else u
    s[np.arange(n), y_true] += bonus
    proba = s / s.sum(axis=1)[:, np.newaxis]
    y_pred = np.argmax(proba, axis=1).astype(np.int64)
    return y_true, y_pred, proba


def generated(name, seed, n, k, levels, bonus, inline=False):
    y, p, s = gen_multiclass(seed, n, k, levels, bonus)
    gen = None if inline else {"kind": "multiclass_scores", "seed": seed, "n": n, "k": k,
                               "levels": levels, "bonus": bonus}
    return case(name, y, p, s, k, generate=gen)


def synthetic_cases():
    out = []
    out.append(generated("random_k4_n200", 31, 200, 4, 0, 0.4, inline=True))
    out.append(generated("ties_integer_scores_k3_n300", 32, 300, 3, 3, 2.0, inline=True))

    # A class (2) that y_pred never predicts.
    y, p, s = gen_multiclass(33, 120, 3, 0, 0.5)
    p = np.where(p == 2, (y + 1) % 2, p)
    out.append(case("class_missing_from_y_pred", y, p, s, 3))

    # Class 3 never occurs in y_true but is predicted; class 4 occurs nowhere.
    rs = np.random.RandomState(34)
    y = rs.randint(0, 3, size=60)
    s = rs.random_sample((60, 5))
    s[np.arange(60), y] += 0.6
    s[:, 4] = 0.0
    s = s / s.sum(axis=1)[:, np.newaxis]
    p = np.argmax(s, axis=1)
    assert 3 in p and 4 not in p
    out.append(case("class_missing_from_y_true", y, p, s, 5,
                    note="labels=range(5): class 3 only in y_pred, class 4 nowhere"))

    # Every row predicts the same uniform probabilities: all scores tie.
    y = [0, 1, 2, 2, 1, 0, 1, 2]
    out.append(case("all_probabilities_tied", y, [0] * 8, np.full((8, 3), 1.0 / 3.0), 3))

    # Rows that do not sum to 1: ROC AUC is refused, log_loss renormalizes.
    out.append(case("rows_not_summing_to_one", [0, 1, 2, 1], [0, 1, 1, 1],
                    [[0.5, 0.5, 0.5], [0.0, 0.0, 0.0], [0.2, 0.9, 0.1], [0.1, 0.3, 0.2]], 3))

    # Probabilities exactly 0 and 1: clipping at eps = 2^-52.
    out.append(case("proba_extremes_log_loss", [0, 1, 2, 0, 1, 2], [0, 1, 2, 1, 0, 2],
                    [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0], [1, 0, 0], [1e-300, 1e-17, 1 - 1e-16]], 3))

    out.append(case("perfect_k3", [0, 1, 2, 0, 1, 2], [0, 1, 2, 0, 1, 2],
                    [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8],
                     [0.6, 0.3, 0.1], [0.3, 0.6, 0.1], [0.25, 0.25, 0.5]], 3))
    out.append(case("n1_k3", [1], [1], [[0.2, 0.7, 0.1]], 3))
    out.append(case("signed_zero_ties", [0, 1, 2, 0, 1, 2], [0, 0, 2, 1, 1, 2],
                    [[0.0, -0.0, 1.0], [-0.0, 0.0, 1.0], [0.5, 0.0, 0.5],
                     [0.0, 1.0, 0.0], [0.5, 0.5, -0.0], [0.0, 0.0, 1.0]], 3))

    # k = 2 through Multiclass, compared with Classification too.
    y, p, s = gen_multiclass(35, 300, 2, 0, 0.3)
    out.append(case("random_k2_n300", y, p, s, 2))
    out.append(case("k2_one_class_in_y_true", [1, 1, 1, 1], [1, 0, 1, 1],
                    [[0.1, 0.9], [0.6, 0.4], [0.3, 0.7], [0.01, 0.99]], 2))
    out.append(case("k2_nothing_predicted_positive", [0, 1, 1, 0, 1], [0, 0, 0, 0, 0],
                    [[0.9, 0.1], [0.6, 0.4], [0.7, 0.3], [0.8, 0.2], [0.55, 0.45]], 2))

    for name, seed, n, k, levels, bonus in [
        ("generated_k10_n100000", 41, 100000, 10, 0, 0.3),
        ("generated_ties_k4_n100000", 42, 100000, 4, 3, 1.0),
        ("generated_k3_n20000", 43, 20000, 3, 0, 0.5),
        ("generated_k2_n50000", 44, 50000, 2, 0, 0.4),
        ("generated_k12_n10000", 45, 10000, 12, 0, 0.2),
    ]:
        out.append(generated(name, seed, n, k, levels, bonus))
    return out


def confusion_cases():
    out = []
    for name, yt, yp, k in [
        ("five_class", [0, 1, 2, 3, 4, 4, 3, 2, 1, 0, 2, 2], [0, 2, 2, 3, 1, 4, 3, 0, 1, 0, 4, 2], 5),
        ("class_absent_everywhere", [0, 1, 1, 0], [1, 1, 0, 0], 4),
        ("ten_class_digits_like", [i % 10 for i in range(40)], [(i * 7) % 10 for i in range(40)], 10),
    ]:
        cm = skm.confusion_matrix(yt, yp, labels=list(range(k)))
        out.append({"name": name, "y_true": yt, "y_pred": yp, "k": k, "want": cm.tolist()})
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    doc = {"generator": "scripts/goldens/multiclass_metrics.py", "sklearn": sklearn.__version__,
           "numpy": np.__version__, "cases": real_cases() + synthetic_cases(), "confusion": confusion_cases()}
    goldenjson.write(ROOT, OUT, "multiclass.json", doc)


if __name__ == "__main__":
    main()
