#!/usr/bin/python3
"""Golden predictions and drift scores for internal/serve.

Run from the repository root with the Debian Python (numpy 1.24):

    /usr/bin/python3 scripts/goldens/serve.py

It overwrites internal/serve/testdata/reference.json. The Go tests only read
the JSON: they seal the two models below into model directories, send the
rows through every request format of the runtime, and compare its answers
with the values computed here.

Everything is computed independently of the Go code, from the model
definitions and the contracts in docs/architecture.md:

* prediction: numeric value -> impute if missing -> (x - center) / scale ->
  times its coefficient; categorical -> one-hot over the sorted categories, a
  missing value replaced by impute_category, an unseen category all zeros;
  score = intercept + sum. Logistic: P(classes[1]) = sigmoid(score), label
  classes[1] when score > 0.
* profile: the interior bin edges are numpy's default (linear) quantiles at
  10%..90% with duplicates dropped; a value v is in bin i when
  edges[i-1] < v <= edges[i] (searchsorted side='left').
* PSI: buckets are the bins (or categories), one for unseen categories
  (categorical only) and one for missing values; the reference fraction of a
  bin is its training fraction times the share of non-missing values; both
  fractions are floored at 1e-4; PSI = sum((a - r) * ln(a / r)).
"""
import json
import math

import numpy as np

MISSING = {"", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"}
EPS = 1e-4

REGRESSION = {
    "schema_version": 1,
    "name": "houses",
    "task": "regression",
    "algorithm": "ridge",
    "target": "price",
    "features": [
        {"name": "sqft", "type": "numeric", "missing": "median", "impute": 1500.0, "center": 1600.0, "scale": 450.0},
        {"name": "bedrooms", "type": "numeric", "missing": "median", "impute": 3.0, "center": 0.0, "scale": 1.0},
        {"name": "age", "type": "numeric", "missing": "error", "center": 40.0, "scale": 23.0},
        {"name": "city", "type": "categorical", "missing": "most_frequent",
         "categories": ["berlin", "lisbon", "oslo", "paris"], "impute_category": "berlin"},
    ],
    "columns": ["sqft", "bedrooms", "age", "city=berlin", "city=lisbon", "city=oslo", "city=paris"],
    "intercept": 351131.84,
    "coefficients": [83875.39, 11913.43, -22002.25, 7859.51, -55207.26, -14208.39, 61556.15],
    "training": {"solver": "qr", "alpha": 1.0, "fit_intercept": True, "standardize": True,
                 "iterations": 0, "converged": True, "loss": 1.0, "train_rows": 400, "test_rows": 100,
                 "test_size": 0.2, "seed": 42, "data_sha256": "0" * 64},
}

CLASSIFIER = {
    "schema_version": 1,
    "name": "churn",
    "task": "classification",
    "algorithm": "logistic",
    "target": "churned",
    "classes": ["no", "yes"],
    "features": [
        {"name": "tenure", "type": "numeric", "missing": "mean", "impute": 20.5, "center": 24.0, "scale": 10.0},
        {"name": "plan", "type": "categorical", "missing": "drop", "categories": ["basic", "pro", "team"]},
        {"name": "monthly", "type": "numeric", "missing": "mean", "impute": 50.0, "center": 50.0, "scale": 15.0},
    ],
    "columns": ["tenure", "plan=basic", "plan=pro", "plan=team", "monthly"],
    "intercept": -0.35,
    "coefficients": [-1.2, 0.8, -0.4, -1.1, 0.65],
    "training": {"solver": "lbfgs", "alpha": 0.0, "fit_intercept": True, "standardize": True,
                 "iterations": 17, "converged": True, "loss": 0.4, "train_rows": 400, "test_rows": 100,
                 "test_size": 0.2, "seed": 42, "data_sha256": "1" * 64},
}

MODELS = {"regression": REGRESSION, "classifier": CLASSIFIER}


def missing(v):
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and v.strip() in MISSING)


def score(model, row):
    s = model["intercept"]
    off = 0
    unseen = {}
    for f in model["features"]:
        v = row.get(f["name"])
        if f["type"] == "numeric":
            if missing(v):
                if "impute" not in f:
                    return None, unseen
                v = f["impute"]
            s += model["coefficients"][off] * (float(v) - f["center"]) / f["scale"]
            off += 1
            continue
        cats = f["categories"]
        if missing(v):
            if "impute_category" not in f:
                return None, unseen
            v = f["impute_category"]
        if v in cats:
            s += model["coefficients"][off + cats.index(v)]
        else:
            unseen[f["name"]] = unseen.get(f["name"], 0) + 1
        off += len(cats)
    return s, unseen


def sigmoid(z):
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def answer(model, rows):
    out = {"predictions": [], "unseen": {}}
    clf = model["task"] == "classification"
    if clf:
        out["labels"] = []
        out["probabilities"] = []
    for r in rows:
        s, unseen = score(model, r)
        assert s is not None
        for k, n in unseen.items():
            out["unseen"][k] = out["unseen"].get(k, 0) + n
        if clf:
            p = sigmoid(s)
            out["probabilities"].append(p)
            out["labels"].append(model["classes"][1] if s > 0 else model["classes"][0])
            out["predictions"].append(p)
        else:
            out["predictions"].append(s)
    return out


def numeric_profile(name, values):
    xs = np.array([v for v in values if not missing(v)], dtype=float)
    nmiss = len(values) - len(xs)
    edges = []
    for q in np.quantile(xs, [k / 10 for k in range(1, 10)]):
        if not edges or q > edges[-1]:
            edges.append(float(q))
    bins = np.searchsorted(edges, xs, side="left")
    counts = np.bincount(bins, minlength=len(edges) + 1)
    return {"name": name, "type": "numeric", "count": int(len(xs)), "missing": int(nmiss),
            "mean": float(xs.mean()), "std": float(xs.std()), "min": float(xs.min()), "max": float(xs.max()),
            "edges": edges, "fractions": [float(c) / len(xs) for c in counts]}


def categorical_profile(name, values):
    present = [v for v in values if not missing(v)]
    cats = sorted(set(present))
    return {"name": name, "type": "categorical", "count": len(present), "missing": len(values) - len(present),
            "categories": cats, "fractions": [present.count(c) / len(present) for c in cats]}


def profile_of(model, rows):
    feats = []
    for f in model["features"]:
        vals = [r.get(f["name"]) for r in rows]
        feats.append(numeric_profile(f["name"], vals) if f["type"] == "numeric" else categorical_profile(f["name"], vals))
    preds = answer(model, rows)["predictions"]
    return {"schema_version": 1, "rows": len(rows), "features": feats,
            "prediction": numeric_profile("prediction", preds)}


def bucket(prof, v):
    n = len(prof["edges"]) + 2 if prof["type"] == "numeric" else len(prof["categories"]) + 2
    if missing(v):
        return n - 1, n
    if prof["type"] == "numeric":
        return int(np.searchsorted(prof["edges"], float(v), side="left")), n
    if v in prof["categories"]:
        return prof["categories"].index(v), n
    return len(prof["categories"]), n


def psi(prof, values):
    counts = None
    for v in values:
        b, n = bucket(prof, v)
        if counts is None:
            counts = [0] * n
        counts[b] += 1
    total = prof["count"] + prof["missing"]
    present = prof["count"] / total
    ref = [fr * present for fr in prof["fractions"]]
    if prof["type"] == "categorical":
        ref.append(0.0)
    ref.append(prof["missing"] / total)
    tot = sum(counts)
    out = 0.0
    for c, r in zip(counts, ref):
        a = max(c / tot, EPS)
        r = max(r, EPS)
        out += (a - r) * math.log(a / r)
    return out


def drift(model, prof, rows):
    preds = answer(model, rows)["predictions"]
    return {"psi": {f["name"]: psi(f, [r.get(f["name"]) for r in rows]) for f in prof["features"]},
            "prediction_psi": psi(prof["prediction"], preds),
            "predictions": preds}


def house_rows(rs, n, shift=0.0, cities=("berlin", "lisbon", "oslo", "paris"), p_missing=0.0):
    rows = []
    for _ in range(n):
        r = {"sqft": float(round(rs.normal(1600 + shift * 400, 450))),
             "bedrooms": float(rs.choice([1, 2, 3, 4, 5])),
             "age": float(round(rs.uniform(0, 80), 1)),
             "city": str(rs.choice(cities))}
        if rs.rand() < p_missing:
            r["sqft"] = None
        rows.append(r)
    return rows


def churn_rows(rs, n, shift=0.0):
    return [{"tenure": float(round(rs.gamma(2.0, 12.0 + shift * 10), 1)),
             "plan": str(rs.choice(["basic", "pro", "team"], p=[0.5, 0.3, 0.2])),
             "monthly": float(round(rs.normal(50 + shift * 20, 15), 2))} for _ in range(n)]


def main():
    rs = np.random.RandomState(7)
    profiles = {"regression": profile_of(REGRESSION, house_rows(rs, 400, p_missing=0.02)),
                "classifier": profile_of(CLASSIFIER, churn_rows(rs, 400))}
    cases = [
        {"name": "one row", "model": "regression",
         "rows": [{"sqft": 2351.0, "bedrooms": 4.0, "age": 1.8, "city": "lisbon"}]},
        {"name": "several rows", "model": "regression",
         "rows": [{"sqft": 2351.0, "bedrooms": 4.0, "age": 1.8, "city": "lisbon"},
                  {"sqft": 1932.0, "bedrooms": 4.0, "age": 35.8, "city": "paris"},
                  {"sqft": 601.5, "bedrooms": 1.0, "age": 79.9, "city": "oslo"},
                  {"sqft": 1.25e3, "bedrooms": 2.0, "age": 0.0, "city": "berlin"}]},
        {"name": "missing values imputed", "model": "regression",
         "rows": [{"sqft": None, "bedrooms": None, "age": 10.0, "city": None},
                  {"sqft": 1800.0, "bedrooms": 3.0, "age": 12.5, "city": "NA"}]},
        {"name": "unseen category", "model": "regression",
         "rows": [{"sqft": 1700.0, "bedrooms": 3.0, "age": 20.0, "city": "tokyo"},
                  {"sqft": 1700.0, "bedrooms": 3.0, "age": 20.0, "city": "Paris"},
                  {"sqft": 1700.0, "bedrooms": 3.0, "age": 20.0, "city": "paris"}]},
        {"name": "classifier", "model": "classifier",
         "rows": [{"tenure": 2.0, "plan": "basic", "monthly": 80.0},
                  {"tenure": 60.0, "plan": "team", "monthly": 30.0},
                  {"tenure": None, "plan": "pro", "monthly": None},
                  {"tenure": 24.0, "plan": "enterprise", "monthly": 50.0}]},
    ]
    for c in cases:
        c.update(answer(MODELS[c["model"]], c["rows"]))
    windows = []
    for name, model, a, b in [
        ("regression", REGRESSION, house_rows(rs, 100), house_rows(rs, 100, shift=1.0, cities=("paris", "paris", "rome"), p_missing=0.2)),
        ("classifier", CLASSIFIER, churn_rows(rs, 100), churn_rows(rs, 100, shift=1.0)),
    ]:
        windows.append({"model": name, "stable": dict(rows=a, **drift(model, profiles[name], a)),
                        "shifted": dict(rows=b, **drift(model, profiles[name], b))})
    out = {"models": MODELS, "profiles": profiles, "cases": cases, "drift": windows}
    with open("internal/serve/testdata/reference.json", "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
