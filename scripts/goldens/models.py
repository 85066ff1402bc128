#!/usr/bin/python3
"""Golden values for modelci's models, computed with scikit-learn.

Run from the repository root after `apt-get install python3-sklearn`:

    /usr/bin/python3 scripts/goldens/models.py

It writes the CSV inputs and internal/train/testdata/golden_models.json. The
Go tests (internal/train) read those files and need no Python. The
preprocessing mirrors modelci's: numeric features are imputed with
SimpleImputer and standardized with StandardScaler (population std), and
categorical features are imputed with the most frequent category and one-hot
encoded with OneHotEncoder(handle_unknown="ignore"); the rows are split with
train_test_split(test_size, random_state) after rows with a missing target
are dropped. Logistic goldens use solver="newton-cg" with tol=1e-12, so the
reference is the exact optimum of scikit-learn's objective, not an early
stop.
"""
import json
import os
import sys

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn import metrics as skm
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

OUT = "internal/train/testdata"


def write_csv(name, df):
    path = os.path.join(OUT, name)
    df.to_csv(path, index=False, float_format="%.10g", na_rep="")
    return name


def regression_data(seed, n, with_cat=False, with_missing=False, collinear=False):
    rng = np.random.RandomState(seed)
    x1 = rng.normal(50, 10, n)
    x2 = rng.normal(0, 1, n)
    x3 = rng.uniform(-5, 5, n)
    y = 3.0 + 0.8 * x1 - 2.5 * x2 + 1.2 * x3 + rng.normal(0, 2, n)
    df = pd.DataFrame({"x1": x1, "x2": x2, "x3": x3})
    if collinear:
        # Exactly collinear in decimal: x4 = 2·x1 − x2 on values rounded to
        # 6 decimals.
        df = df.round(6)
        df["x4"] = (2 * df["x1"] - df["x2"]).round(6)
    if with_cat:
        city = rng.choice(["berlin", "lisbon", "oslo", "paris"], n, p=[0.4, 0.3, 0.2, 0.1])
        y = y + np.select([city == "berlin", city == "lisbon", city == "oslo"], [5.0, -3.0, 1.0], 0.0)
        df["city"] = city
    df["y"] = y
    if with_missing:
        miss = rng.rand(n) < 0.05
        df.loc[miss, "x2"] = np.nan
        if with_cat:
            miss_c = rng.rand(n) < 0.04
            df.loc[miss_c, "city"] = np.nan
        miss_y = rng.rand(n) < 0.02
        df.loc[miss_y, "y"] = np.nan
    return df


def classification_data(seed, n, labels=("no", "yes")):
    rng = np.random.RandomState(seed)
    tenure = rng.uniform(0, 72, n)
    charges = rng.normal(70, 20, n)
    contract = rng.choice(["month", "one_year", "two_year"], n, p=[0.5, 0.3, 0.2])
    z = 0.5 - 0.05 * tenure + 0.02 * (charges - 70) + np.select(
        [contract == "month", contract == "one_year"], [1.0, -0.5], -1.5)
    p = 1 / (1 + np.exp(-z))
    y = np.where(rng.rand(n) < p, labels[1], labels[0])
    return pd.DataFrame({"tenure": tenure, "charges": charges, "contract": contract, "churn": y})


def fit_case(case):
    df = pd.read_csv(os.path.join(OUT, case["csv"]), float_precision="round_trip")
    target = case["target"]
    features = [c for c in df.columns if c != target]
    cat_cols = [c for c in features if df[c].dtype == object]
    num_cols = [c for c in features if c not in cat_cols]
    df = df.dropna(subset=[target])
    X, y = df[features], df[target]
    if case["type"] == "logistic":
        y = y.astype(str)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=case.get("test_size", 0.2), random_state=case.get("seed", 42))
    strategy = case.get("missing", "mean")
    standardize = case.get("standardize", True)
    num_steps = [("impute", SimpleImputer(strategy=strategy))]
    if standardize:
        num_steps.append(("scale", StandardScaler()))
    transformers = [("num", Pipeline(num_steps), num_cols)]
    if cat_cols:
        transformers.append(("cat", Pipeline([
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]), cat_cols))
    ct = ColumnTransformer(transformers)
    fit_intercept = case.get("fit_intercept", True)
    if case["type"] == "linear":
        est = LinearRegression(fit_intercept=fit_intercept)
    elif case["type"] == "ridge":
        est = Ridge(alpha=case["alpha"], fit_intercept=fit_intercept, solver="cholesky")
    else:
        est = LogisticRegression(C=1.0 / case.get("alpha", 1.0), fit_intercept=fit_intercept,
                                 solver="newton-cg", tol=1e-12, max_iter=100000)
    pipe = Pipeline([("ct", ct), ("est", est)])
    pipe.fit(X_train, y_train)
    names = []
    for n in ct.get_feature_names_out():
        kind, col = n.split("__", 1)
        if kind == "cat":
            for c in cat_cols:
                if col.startswith(c + "_"):
                    col = c + "=" + col[len(c) + 1:]
                    break
        names.append(col)
    coef = np.ravel(est.coef_)
    intercept = float(np.ravel([est.intercept_])[0]) if fit_intercept else 0.0
    out = {
        "test_rows": [int(i) for i in X_test.index],
        "train_rows": len(X_train),
        "coefficients": {n: float(c) for n, c in zip(names, coef)},
        "intercept": intercept,
    }
    if case["type"] == "logistic":
        classes = [str(c) for c in est.classes_]
        proba = pipe.predict_proba(X_test)[:, 1]
        pred = pipe.predict(X_test)
        yt = (y_test == classes[1]).astype(int).to_numpy()
        yp = (pred == classes[1]).astype(int)
        out.update({
            "classes": classes,
            "proba_head": [float(p) for p in proba[:20]],
            "metrics": {
                "accuracy": skm.accuracy_score(yt, yp),
                "precision": skm.precision_score(yt, yp, zero_division=0),
                "recall": skm.recall_score(yt, yp, zero_division=0),
                "f1": skm.f1_score(yt, yp, zero_division=0),
                "roc_auc": skm.roc_auc_score(yt, proba),
                "log_loss": skm.log_loss(yt, proba),
            },
            "confusion_matrix": skm.confusion_matrix(yt, yp, labels=[0, 1]).tolist(),
        })
    else:
        pred = pipe.predict(X_test)
        out.update({
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


def snippet_mse(csv, target):
    """The plain snippet users run today: no preprocessing at all."""
    df = pd.read_csv(os.path.join(OUT, csv), float_precision="round_trip")
    X, y = df.drop(columns=[target]), df[target]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
    model = LinearRegression().fit(X_train, y_train)
    return skm.mean_squared_error(y_test, model.predict(X_test))


def main():
    os.makedirs(OUT, exist_ok=True)
    write_csv("reg_numeric.csv", regression_data(1, 400))
    write_csv("reg_mixed.csv", regression_data(2, 500, with_cat=True, with_missing=True))
    write_csv("reg_collinear.csv", regression_data(3, 300, collinear=True))
    write_csv("clf_strings.csv", classification_data(4, 600))
    write_csv("clf_numeric.csv", classification_data(5, 450, labels=("0", "1")))
    cases = [
        {"name": "linear_qr", "csv": "reg_numeric.csv", "target": "y", "type": "linear", "solver": "qr"},
        {"name": "linear_normal", "csv": "reg_numeric.csv", "target": "y", "type": "linear", "solver": "normal"},
        {"name": "linear_gd", "csv": "reg_numeric.csv", "target": "y", "type": "linear", "solver": "gd"},
        {"name": "linear_raw_no_intercept", "csv": "reg_numeric.csv", "target": "y", "type": "linear",
         "solver": "qr", "standardize": False, "fit_intercept": False},
        {"name": "linear_seed7_t33", "csv": "reg_numeric.csv", "target": "y", "type": "linear",
         "solver": "qr", "seed": 7, "test_size": 0.33},
        {"name": "linear_mixed_mean", "csv": "reg_mixed.csv", "target": "y", "type": "linear", "solver": "qr"},
        {"name": "linear_mixed_median", "csv": "reg_mixed.csv", "target": "y", "type": "linear",
         "solver": "qr", "missing": "median"},
        {"name": "linear_mixed_most_frequent", "csv": "reg_mixed.csv", "target": "y", "type": "linear",
         "solver": "normal", "missing": "most_frequent"},
        {"name": "ridge_qr", "csv": "reg_mixed.csv", "target": "y", "type": "ridge", "solver": "qr", "alpha": 1.5},
        {"name": "ridge_normal", "csv": "reg_mixed.csv", "target": "y", "type": "ridge", "solver": "normal", "alpha": 10.0},
        {"name": "ridge_gd", "csv": "reg_numeric.csv", "target": "y", "type": "ridge", "solver": "gd", "alpha": 3.0},
        {"name": "linear_collinear", "csv": "reg_collinear.csv", "target": "y", "type": "linear", "solver": "qr"},
        {"name": "logistic_strings", "csv": "clf_strings.csv", "target": "churn", "type": "logistic", "solver": "lbfgs"},
        {"name": "logistic_numeric_labels_c05", "csv": "clf_numeric.csv", "target": "churn", "type": "logistic",
         "solver": "lbfgs", "alpha": 2.0},
        {"name": "logistic_gd", "csv": "clf_numeric.csv", "target": "churn", "type": "logistic",
         "solver": "gd", "alpha": 1.0},
    ]
    for c in cases:
        c["expected"] = fit_case(c)
    golden = {
        "generator": "scripts/goldens/models.py",
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "cases": cases,
        "snippet": {"csv": "reg_numeric.csv", "target": "y", "mse": snippet_mse("reg_numeric.csv", "y")},
    }
    with open(os.path.join(OUT, "golden_models.json"), "w") as f:
        json.dump(golden, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", len(cases), "cases to", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
