#!/usr/bin/python3
"""Golden files for internal/metrics, computed with the real sklearn.metrics.

Run from the repository root with the Debian Python (scikit-learn 1.2.1, numpy 1.24.2):

    /usr/bin/python3 scripts/goldens/metrics.py

It overwrites internal/metrics/testdata/regression.json and
internal/metrics/testdata/classification.json. The output is deterministic
(fixed numpy seeds, sorted keys). The Go tests only read the JSON.

Small cases store their inputs. Large cases store a recipe instead
("generate"), built only from numpy's legacy RandomState.random_sample and
randint and elementwise IEEE operations, which the Go test replays with
internal/split's RandomState; "input_sha256" (little-endian float64/int64
bytes of y_true, then y_pred, then proba) checks that the replay is exact
before the metrics are compared.

Every expected metric carries its own tolerance: "rtol" (relative) and
"atol" (absolute); 0/0 means bit-for-bit. A metric sklearn cannot compute
(raises, or returns NaN) is stored as {"skipped": "<sklearn's message>"}.
"""

import hashlib
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import goldenjson  # noqa: E402  (the shared writer next to this script)

import numpy as np
import sklearn
from sklearn import metrics as skm

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "internal", "metrics", "testdata")
MAX_INLINE = 2000  # larger inputs are stored as a recipe

warnings.simplefilter("ignore")  # UndefinedMetricWarning etc.; the values are what matter

# Tolerances. Sums reproduce numpy's pairwise order, so they are normally
# bit-identical; 1e-12 relative leaves room for a different libm. Counts are
# exact.
EXACT = {"rtol": 0.0, "atol": 0.0}
SUM = {"rtol": 1e-12, "atol": 0.0}
LOG = {"rtol": 1e-12, "atol": 1e-15}


def sha256_arrays(*arrays):
    h = hashlib.sha256()
    for a in arrays:
        a = np.asarray(a)
        h.update(a.astype("<f8" if a.dtype.kind == "f" else "<i8").tobytes())
    return h.hexdigest()


def expect(fn, tol):
    try:
        v = fn()
    except ValueError as e:
        return {"skipped": str(e)}
    v = float(v)
    if not np.isfinite(v):
        return {"skipped": "sklearn returned %r" % v}
    return dict(value=v, **tol)


# ---------------------------------------------------------------- regression

def gen_regression(seed, n):
    rs = np.random.RandomState(seed)
    u = rs.random_sample(n)
    v = rs.random_sample(n)
    y_true = u * 200.0 - 100.0
    y_pred = y_true + (v - 0.5) * 20.0
    return y_true, y_pred


def regression_case(name, y_true, y_pred, generate=None):
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    exp = {
        "mse": expect(lambda: skm.mean_squared_error(y_true, y_pred), SUM),
        "rmse": expect(lambda: skm.mean_squared_error(y_true, y_pred, squared=False), SUM),
        "mae": expect(lambda: skm.mean_absolute_error(y_true, y_pred), SUM),
        "r2": expect(lambda: skm.r2_score(y_true, y_pred), SUM),
        "mape": expect(lambda: skm.mean_absolute_percentage_error(y_true, y_pred), SUM),
        "max_error": expect(lambda: skm.max_error(y_true, y_pred), EXACT),
    }
    case = {"name": name, "n": len(y_true), "expected": exp,
            "input_sha256": sha256_arrays(y_true, y_pred)}
    if generate is not None:
        case["generate"] = generate
    else:
        assert len(y_true) <= MAX_INLINE
        case["y_true"] = [float(v) for v in y_true]
        case["y_pred"] = [float(v) for v in y_pred]
    return case


def regression_cases():
    cases = []
    rs = np.random.RandomState(0)
    y = rs.standard_normal(50) * 3 + 10
    cases.append(regression_case("random_n50", y, y + rs.standard_normal(50)))
    cases.append(regression_case("sklearn_doc_example", [3, -0.5, 2, 7], [2.5, 0.0, 2, 8]))
    cases.append(regression_case("n1", [2.5], [3.0]))
    cases.append(regression_case("n2", [1.0, 2.0], [1.5, 1.5]))
    rs = np.random.RandomState(1)
    y = rs.random_sample(30) * 10
    cases.append(regression_case("perfect", y, y.copy()))
    cases.append(regression_case("constant_y_true_imperfect", [3.0, 3.0, 3.0], [3.0, 3.0, 4.0]))
    cases.append(regression_case("constant_y_true_perfect", [3.0, 3.0, 3.0], [3.0, 3.0, 3.0]))
    # mean([0.1]*3) = 0.10000000000000002, so the total sum of squares is
    # tiny but not zero and sklearn's r2 is a huge negative number.
    cases.append(regression_case("constant_inexact_mean_imperfect", [0.1, 0.1, 0.1], [0.1, 0.1, 0.2]))
    cases.append(regression_case("constant_inexact_mean_perfect", [0.1, 0.1, 0.1], [0.1, 0.1, 0.1]))
    cases.append(regression_case("zeros_in_y_true_mape", [1.0, 0.0, 2.4, 7.0, 0.0, -3.0],
                                 [1.2, 0.1, 2.4, 8.0, 0.0, -2.5]))
    rs = np.random.RandomState(2)
    y = rs.standard_normal(200) * 1e10
    cases.append(regression_case("large_magnitude", y, y * (1 + rs.standard_normal(200) * 1e-3)))
    rs = np.random.RandomState(3)
    y = rs.standard_normal(200) * 1e-10
    cases.append(regression_case("tiny_magnitude", y, y + rs.standard_normal(200) * 1e-11))
    rs = np.random.RandomState(4)
    y = rs.randint(-50, 50, size=137).astype(np.float64)
    cases.append(regression_case("integers_n137", y, y + rs.randint(-3, 4, size=137)))
    rs = np.random.RandomState(5)
    y = rs.standard_normal(1000)
    cases.append(regression_case("random_n1000", y, 0.8 * y + 0.3 * rs.standard_normal(1000)))
    for name, seed, n in [("generated_n129", 11, 129), ("generated_n8193", 12, 8193),
                          ("generated_n100000", 13, 100000)]:
        y_true, y_pred = gen_regression(seed, n)
        cases.append(regression_case(name, y_true, y_pred,
                                     generate={"kind": "regression_uniform", "seed": seed, "n": n}))
    return cases


# ------------------------------------------------------------ classification

def gen_classification(seed, n, quantize):
    rs = np.random.RandomState(seed)
    y_true = rs.randint(0, 2, size=n)
    u = rs.random_sample(n)
    proba = 0.35 * y_true + 0.65 * u
    if quantize:
        proba = np.floor(proba * 20.0) / 20.0
    y_pred = (proba >= 0.5).astype(np.int64)
    return y_true, y_pred, proba


def classification_case(name, y_true, y_pred, proba, generate=None):
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    exp = {
        "accuracy": expect(lambda: skm.accuracy_score(y_true, y_pred), EXACT),
        "precision": expect(lambda: skm.precision_score(y_true, y_pred, zero_division="warn"), EXACT),
        "recall": expect(lambda: skm.recall_score(y_true, y_pred, zero_division="warn"), EXACT),
        "f1": expect(lambda: skm.f1_score(y_true, y_pred, zero_division="warn"), EXACT),
        "roc_auc": expect(lambda: skm.roc_auc_score(y_true, proba), SUM),
        "log_loss": expect(lambda: skm.log_loss(y_true, proba, labels=[0, 1]), LOG),
    }
    cm = skm.confusion_matrix(y_true, y_pred, labels=[0, 1])
    case = {"name": name, "n": len(y_true), "expected": exp,
            "confusion_matrix": cm.tolist(),
            "input_sha256": sha256_arrays(y_true, y_pred, proba)}
    if generate is not None:
        case["generate"] = generate
    else:
        assert len(y_true) <= MAX_INLINE
        case["y_true"] = [int(v) for v in y_true]
        case["y_pred"] = [int(v) for v in y_pred]
        case["proba"] = [float(v) for v in proba]
    return case


def classification_cases():
    cases = []
    y, p, s = gen_classification(21, 200, False)
    cases.append(classification_case("random_n200", y, p, s))
    y, p, s = gen_classification(22, 300, True)
    cases.append(classification_case("ties_quantized_n300", y, p, s))
    cases.append(classification_case("sklearn_doc_example", [0, 0, 1, 1], [0, 0, 0, 1], [0.1, 0.4, 0.35, 0.8]))
    rs = np.random.RandomState(23)
    y = rs.randint(0, 2, size=40)
    s = np.where(y == 1, 0.6 + 0.4 * rs.random_sample(40), 0.4 * rs.random_sample(40))
    cases.append(classification_case("perfect", y, y.copy(), s))
    cases.append(classification_case("inverted_scores", [0, 0, 1, 1, 1], [1, 1, 0, 0, 0], [0.9, 0.8, 0.3, 0.2, 0.1]))
    cases.append(classification_case("all_scores_tied", [0, 1, 0, 1, 1, 0], [1, 1, 1, 1, 1, 1], [0.5] * 6))
    cases.append(classification_case("all_one_class_positive", [1, 1, 1, 1], [1, 0, 1, 1], [0.9, 0.4, 0.7, 0.99]))
    cases.append(classification_case("all_negative_predicted_negative", [0, 0, 0], [0, 0, 0], [0.1, 0.2, 0.3]))
    cases.append(classification_case("no_predicted_positive", [0, 1, 1, 0, 1], [0, 0, 0, 0, 0], [0.1, 0.4, 0.3, 0.2, 0.45]))
    cases.append(classification_case("proba_extremes_log_loss", [1, 0, 1, 0, 1, 0], [1, 0, 0, 1, 1, 0],
                                     [1.0, 0.0, 0.0, 1.0, 1.0 - 1e-17, 1e-300]))
    cases.append(classification_case("n1", [1], [1], [0.9]))
    cases.append(classification_case("signed_zero_ties", [0, 1, 0, 1, 0], [0, 0, 0, 1, 1], [0.0, -0.0, -0.0, 0.7, 0.7]))
    y, p, s = gen_classification(24, 1500, False)
    cases.append(classification_case("random_n1500", y, p, s))
    for name, seed, n, q in [("generated_n100000", 25, 100000, False),
                             ("generated_ties_n100000", 26, 100000, True),
                             ("generated_n20000", 27, 20000, False)]:
        y, p, s = gen_classification(seed, n, q)
        cases.append(classification_case(name, y, p, s, generate={
            "kind": "classification_mixture", "seed": seed, "n": n, "quantize": q}))
    return cases


def confusion_cases():
    out = []
    for name, yt, yp, k in [
        ("three_class", [0, 1, 2, 2, 1, 0, 2], [0, 2, 2, 1, 1, 0, 0], 3),
        ("labels_outside_range_ignored", [0, 1, 2, 5, -1, 1], [0, 2, 1, 1, 0, 7], 3),
        ("binary", [0, 1, 1, 0], [1, 1, 0, 0], 2),
        ("single_label", [0, 0], [0, 0], 1),
    ]:
        cm = skm.confusion_matrix(yt, yp, labels=list(range(k)))
        out.append({"name": name, "y_true": yt, "y_pred": yp, "k": k, "want": cm.tolist()})
    return out


def write(name, obj):
    goldenjson.write(ROOT, OUT, name, obj)


def main():
    os.makedirs(OUT, exist_ok=True)
    versions = {"generator": "scripts/goldens/metrics.py", "sklearn": sklearn.__version__, "numpy": np.__version__}
    write("regression.json", dict(versions, cases=regression_cases()))
    write("classification.json", dict(versions, cases=classification_cases(), confusion=confusion_cases()))


if __name__ == "__main__":
    main()
