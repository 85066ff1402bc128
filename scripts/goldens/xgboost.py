#!/usr/bin/python3
"""Golden XGBoost models and predictions, from Debian's python3-xgboost 1.7.4.

Run from the repository root:

    /usr/bin/python3 scripts/goldens/xgboost.py

For every case below it trains a small model (200 training rows, numeric
features with about 20% missing values) and writes, into
internal/xgboost/testdata/:

  <case>.json, <case>.ubj   the model, saved by Booster.save_model
  <case>.golden.json        {"case", "objective", "features", "rows"
                            (100 rows not used for training, null for a
                            missing value; a categorical column holds the
                            pandas category code), "margin" (n x K, from
                            predict(output_margin=True)), "prediction" (n or
                            n x K, from predict(output_margin=False)),
                            "iteration_range" (the trees scored)}

Hand-edited fixtures stand in for files that 1.7.4 cannot write (edited()
below makes them from the trained ones and says what it changed); each has
its own <name>.golden.json:

  bs_estimated.json   logistic.json with base_score "6.2E-1" (XGBoost 2.0 and
                      later estimate base_score from the labels and store it)
                      and version [2, 0, 3]; its golden is 1.7.4's prediction
                      of this very file, which 1.7.4 loads.
  bs_list.json        the same with base_score "[6.2E-1]", the ParamArray
                      string XGBoost 3.1 writes, and version [3, 1, 0].
  bs_array.json       the same with base_score the JSON array [0.62].
  bs_softprob.json    softprob.json with per-class base_score
                      "[1E-1,-2E-1,3E-1]" and version [3, 1, 0]; its golden
                      is 1.7.4's prediction of softprob.json with those values
                      as base_margin, which replaces base_score.
  v1_booleans.json    squarederror.json as XGBoost 1.0 wrote it: default_left
                      as true/false, no split_type and categories_* arrays,
                      version [1, 0, 0].
  indptr.json         early_stopping.json with the iteration_indptr that
                      XGBoost 2.0 and later write, version [2, 1, 0].

The early-stopping case predicts with iteration_range=(0, best_iteration+1),
as the scikit-learn wrapper does when best_iteration is set; every other case
scores all trees. internal/xgboost's Go test reads these files; it needs no
Python.
"""
import json
import os
import sys

# This script is named xgboost.py: keep its directory off the module path so
# "import xgboost" finds the library, not the script.
sys.path = [d for d in sys.path if os.path.abspath(d or ".") != os.path.dirname(os.path.abspath(__file__))]

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xgboost as xgb  # noqa: E402

OUT = "internal/xgboost/testdata"
N_TRAIN, N_TEST, P = 200, 100, 5


def data(seed, p=P):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N_TRAIN + N_TEST, max(p, 4)))
    z = x[:, 0] - 0.5 * x[:, 1] + 0.8 * x[:, 2] * x[:, 3] + 0.3 * rng.normal(size=len(x))
    x = x[:, :p]
    x[rng.random(size=x.shape) < 0.2] = np.nan
    return x, z, rng


def rows_json(x):
    return [[None if np.isnan(v) else float(v) for v in r] for r in x]


def save(case, bst, objective, features, xtest, dtest, iteration_range=(0, 0)):
    bst.save_model(os.path.join(OUT, case + ".json"))
    bst.save_model(os.path.join(OUT, case + ".ubj"))
    margin = bst.predict(dtest, output_margin=True, iteration_range=iteration_range)
    pred = bst.predict(dtest, output_margin=False, iteration_range=iteration_range)
    margin = np.asarray(margin, dtype=np.float64)
    if margin.ndim == 1:
        margin = margin[:, None]
    golden = {
        "case": case,
        "objective": objective,
        "xgboost": xgb.__version__,
        "features": features,
        "iteration_range": list(iteration_range),
        "rows": rows_json(xtest),
        "margin": margin.tolist(),
        "prediction": np.asarray(pred, dtype=np.float64).tolist(),
    }
    with open(os.path.join(OUT, case + ".golden.json"), "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")


def train(case, objective, y, x, params=None, rounds=20, names=True, seed=0):
    features = ["f%d" % j for j in range(x.shape[1])] if not names else [
        "x%d" % j for j in range(x.shape[1])]
    p = {"objective": objective, "max_depth": 3, "eta": 0.3, "seed": seed,
         "tree_method": "hist"}
    p.update(params or {})
    fn = features if names else None
    dtrain = xgb.DMatrix(x[:N_TRAIN], label=y[:N_TRAIN], missing=np.nan, feature_names=fn)
    dtest = xgb.DMatrix(x[N_TRAIN:], missing=np.nan, feature_names=fn)
    bst = xgb.train(p, dtrain, num_boost_round=rounds)
    save(case, bst, objective, features, x[N_TRAIN:], dtest)


def main():
    os.makedirs(OUT, exist_ok=True)
    x, z, rng = data(1)
    train("squarederror", "reg:squarederror", 3 + 2 * z, x)
    train("absoluteerror", "reg:absoluteerror", 3 + 2 * z + rng.standard_cauchy(len(z)) * 0.1, x)
    yb = (z + 0.5 * rng.normal(size=len(z)) > 0.2).astype(float)
    train("logistic", "binary:logistic", yb, x)
    train("logitraw", "binary:logitraw", yb, x, names=False)
    train("reglogistic", "reg:logistic", 1 / (1 + np.exp(-z)), x)
    y3 = np.digitize(z, [-0.5, 0.5]).astype(float)
    train("softprob", "multi:softprob", y3, x, {"num_class": 3})
    train("softmax", "multi:softmax", y3, x, {"num_class": 3}, names=False)
    lam = np.exp(0.5 * z)
    train("poisson", "count:poisson", rng.poisson(lam).astype(float), x)
    train("gamma", "reg:gamma", rng.gamma(2.0, lam / 2.0), x)
    yt = rng.poisson(lam) * rng.gamma(2.0, 0.5, size=len(z))
    train("tweedie", "reg:tweedie", yt, x, {"tweedie_variance_power": 1.3})
    train("dart", "binary:logistic", yb, x,
          {"booster": "dart", "rate_drop": 0.3, "skip_drop": 0.0, "sample_type": "weighted"})
    train("gblinear", "reg:squarederror", 3 + 2 * z, x,
          {"booster": "gblinear", "eta": 0.5, "updater": "coord_descent"}, rounds=30)
    train("gblinear_softprob", "multi:softprob", y3, x,
          {"booster": "gblinear", "num_class": 3, "eta": 0.5, "updater": "coord_descent"}, rounds=30)
    train("parallel", "reg:squarederror", 3 + 2 * z, x,
          {"num_parallel_tree": 3, "subsample": 0.7, "colsample_bynode": 0.7}, rounds=6)
    categorical()
    early_stopping()


def categorical():
    x, z, rng = data(2, p=3)
    levels = ["a", "b", "c", "d", "e", "f", "g"]
    c = rng.integers(0, len(levels), size=len(z))
    effect = np.array([1.5, -1.0, 0.3, 2.0, -2.0, 0.0, 0.8])
    y = z + effect[c]
    cat = pd.Categorical([levels[i] for i in c], categories=levels)
    cat[rng.random(len(z)) < 0.2] = np.nan
    df = pd.DataFrame({"x0": x[:, 0], "x1": x[:, 1], "x2": x[:, 2], "c": cat})
    codes = df["c"].cat.codes.to_numpy().astype(float)
    codes[codes < 0] = np.nan
    xnum = np.column_stack([x, codes])
    p = {"objective": "reg:squarederror", "max_depth": 3, "eta": 0.3, "seed": 0,
         "tree_method": "hist", "max_cat_to_onehot": 1}
    dtrain = xgb.DMatrix(df[:N_TRAIN], label=y[:N_TRAIN], enable_categorical=True)
    dtest = xgb.DMatrix(df[N_TRAIN:], enable_categorical=True)
    bst = xgb.train(p, dtrain, num_boost_round=20)
    save("categorical", bst, "reg:squarederror", list(df.columns), xnum[N_TRAIN:], dtest)


def early_stopping():
    x, z, rng = data(3)
    y = (z + 0.8 * rng.normal(size=len(z)) > 0).astype(float)
    clf = xgb.XGBClassifier(n_estimators=200, max_depth=3, learning_rate=0.3,
                            early_stopping_rounds=5, eval_metric="logloss",
                            random_state=0, tree_method="hist")
    clf.fit(x[:150], y[:150], eval_set=[(x[150:N_TRAIN], y[150:N_TRAIN])], verbose=False)
    bst = clf.get_booster()
    assert bst.num_boosted_rounds() > clf.best_iteration + 1, "no trees after best_iteration"
    dtest = xgb.DMatrix(x[N_TRAIN:], missing=np.nan)
    it = (0, clf.best_iteration + 1)
    # The wrapper's own predictions use the same range.
    assert np.allclose(clf.predict_proba(x[N_TRAIN:])[:, 1],
                       bst.predict(dtest, iteration_range=it))
    save("early_stopping", bst, "binary:logistic", ["f%d" % j for j in range(P)],
         x[N_TRAIN:], dtest, iteration_range=it)


def edited():
    def load(name):
        with open(os.path.join(OUT, name + ".json")) as f:
            return json.load(f)

    def golden(name):
        with open(os.path.join(OUT, name + ".golden.json")) as f:
            return json.load(f)

    def write(name, doc, g):
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(doc, f, separators=(",", ":"))
        g = dict(g, case=name)
        with open(os.path.join(OUT, name + ".golden.json"), "w") as f:
            json.dump(g, f, separators=(",", ":"))
            f.write("\n")

    def predict(bst, g, base_margin=None):
        x = np.array([[np.nan if v is None else v for v in r] for r in g["rows"]])
        d = xgb.DMatrix(x, missing=np.nan, feature_names=g["features"], base_margin=base_margin)
        margin = np.asarray(bst.predict(d, output_margin=True), dtype=np.float64)
        if margin.ndim == 1:
            margin = margin[:, None]
        pred = np.asarray(bst.predict(d), dtype=np.float64)
        return dict(g, margin=margin.tolist(), prediction=pred.tolist())

    doc = load("logistic")
    doc["learner"]["learner_model_param"]["base_score"] = "6.2E-1"
    doc["version"] = [2, 0, 3]
    path = os.path.join(OUT, "bs_estimated.json")
    write("bs_estimated", doc, golden("logistic"))
    bst = xgb.Booster(model_file=path)
    g = predict(bst, golden("logistic"))
    write("bs_estimated", doc, g)
    doc["learner"]["learner_model_param"]["base_score"] = "[6.2E-1]"
    doc["version"] = [3, 1, 0]
    write("bs_list", doc, g)
    doc["learner"]["learner_model_param"]["base_score"] = [0.62]
    write("bs_array", doc, g)

    doc = load("softprob")
    doc["learner"]["learner_model_param"]["base_score"] = "[1E-1,-2E-1,3E-1]"
    doc["version"] = [3, 1, 0]
    g = golden("softprob")
    bst = xgb.Booster(model_file=os.path.join(OUT, "softprob.json"))
    bm = np.tile(np.array([0.1, -0.2, 0.3], dtype=np.float32), (len(g["rows"]), 1))
    write("bs_softprob", doc, predict(bst, g, base_margin=bm))

    doc = load("squarederror")
    for t in doc["learner"]["gradient_booster"]["model"]["trees"]:
        t["default_left"] = [bool(v) for v in t["default_left"]]
        for k in ("split_type", "categories", "categories_nodes", "categories_segments",
                  "categories_sizes"):
            del t[k]
    doc["version"] = [1, 0, 0]
    write("v1_booleans", doc, golden("squarederror"))

    doc = load("early_stopping")
    model = doc["learner"]["gradient_booster"]["model"]
    model["iteration_indptr"] = list(range(len(model["trees"]) + 1))
    doc["version"] = [2, 1, 0]
    write("indptr", doc, golden("early_stopping"))


if __name__ == "__main__":
    main()
    edited()
