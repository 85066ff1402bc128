#!/usr/bin/python3
"""Golden values for multinomial (softmax) logistic regression, computed with
scikit-learn's LogisticRegression.

Run from the repository root after `apt-get install python3-sklearn`:

    /usr/bin/python3 scripts/goldens/multiclass.py

It writes internal/train/testdata/multiclass/<case>.csv (the design matrix,
columns x1..xp, then y, the class index 0..k-1) and
internal/train/testdata/multiclass/golden.json, which internal/train's
TestGoldenMultinomial reads; the Go test needs no Python. Everything is
deterministic: the data sets are the ones bundled with scikit-learn (no
network) and make_classification has a fixed random_state.

Every case is LogisticRegression() with its defaults (lbfgs, multinomial,
C=1, fit_intercept=True, L2 on every class's coefficients, the intercepts
unpenalised) fitted on the CSV's X as written, without standardisation, so
the Go test can hand the same design matrix to fitMultinomial. Exceptions,
recorded per case in the JSON as max_iter and tol:

  * sklearn's default max_iter=100 stops wine and digits (raw features on
    very different scales) with a ConvergenceWarning, and an unconverged
    iterate cannot be matched by a different L-BFGS implementation. Every
    case here therefore uses max_iter=100000 and tol=1e-10 so that scipy's
    L-BFGS-B runs to its own stopping rule. scipy's default ftol (2.2e-9
    relative decrease of the objective) still stops it before the gradient
    is 1e-10 on the ill-conditioned raw cases; the JSON records the
    gradient's max-norm at sklearn's solution (grad_max) and the objective
    there (objective), so the Go test can check that modelci's objective is
    no larger than sklearn's and choose the coefficient tolerance per case.
  * wine_std is wine after StandardScaler() (population standard
    deviation), which is what modelci's default standardisation produces;
    its CSV holds the standardised values.
  * newton, per case, is the reference optimum of the same objective:
    Newton's method with the exact Hessian (polish()) started at sklearn's
    lbfgs solution and run until the gradient stops shrinking, so it is far
    closer to the exact minimiser than lbfgs's early stop. It holds the
    objective, gradient max-norm and max_dcoef_lbfgs, the largest |Δ|
    between its coefficients/intercepts and lbfgs's. (sklearn's own
    newton-cg stops with a ConvergenceWarning at tol 1e-12 on these data.)
    The Go test compares modelci with both: tightly with newton, and with
    lbfgs (the scikit-learn golden) to a tolerance that max_dcoef_lbfgs
    justifies.

make_classification's X is rounded to 6 decimals before fitting, so the
CSV's shortest decimal representation is exactly the matrix that was fitted.

Per case the JSON holds: classes (sklearn's classes_), n, p, k, n_iter
(sklearn's n_iter_), coef (k×p, sklearn's coef_), intercept (k, sklearn's
intercept_ minus its mean: softmax intercepts are defined only up to a
common constant, and modelci returns them centred), objective (sklearn's
objective C·Σ_i −log p_i[y_i] + ½·||W||² at its solution), grad_max, and
proba_rows / proba (predict_proba on a few fixed rows).
"""
import os
import sys
import warnings

import numpy as np
import scipy
import sklearn
from scipy.special import logsumexp
from sklearn.datasets import load_digits, load_iris, load_wine, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import goldenjson  # noqa: E402

ROOT = os.getcwd()
OUT = "internal/train/testdata/multiclass"
MAX_ITER = 100000
TOL = 1e-10
C = 1.0


def fmt(v):
    v = float(v)
    if v.is_integer() and abs(v) < 1e15:
        return "%d" % v
    return repr(v)


def write_csv(name, X, y):
    path = os.path.join(OUT, name)
    p = X.shape[1]
    with open(path, "w") as f:
        f.write(",".join(["x%d" % (j + 1) for j in range(p)] + ["y"]) + "\n")
        for row, label in zip(X, y):
            f.write(",".join([fmt(v) for v in row] + ["%d" % label]) + "\n")
    return name


def objective(X, y, coef, intercept):
    """C·Σ_i −log softmax(z_i)[y_i] + ½·||W||², and the max-norm of its
    gradient (coefficients and intercepts)."""
    Z = X @ coef.T + intercept
    lse = logsumexp(Z, axis=1)
    n = X.shape[0]
    f = C * np.sum(lse - Z[np.arange(n), y]) + 0.5 * np.sum(coef * coef)
    P = np.exp(Z - lse[:, None])
    P[np.arange(n), y] -= 1
    g_coef = C * P.T @ X + coef
    g_int = C * P.sum(axis=0)
    return float(f), float(max(np.abs(g_coef).max(), np.abs(g_int).max()))


def polish(X, y, coef, intercept):
    """Newton's method with the exact Hessian on objective(), started at
    sklearn's lbfgs solution, until the gradient stops shrinking: the
    reference optimum. The Hessian is singular along a common shift of the
    intercepts, so each step is the least-squares (minimum-norm) solution,
    which keeps the intercepts centred. It stops when no step along the
    Newton direction lowers the objective or the gradient any more, or
    after 100 steps (wine and digits, whose gradient is then ~1e-12)."""
    n, p = X.shape
    k = coef.shape[0]
    Xt = np.hstack([X, np.ones((n, 1))])
    theta = np.hstack([coef, intercept[:, None]])  # k×(p+1)
    pen = np.ones(p + 1)
    pen[p] = 0.0
    best = objective(X, y, theta[:, :p], theta[:, p])
    it = 0
    for it in range(1, 101):
        Z = Xt @ theta.T
        P = np.exp(Z - logsumexp(Z, axis=1)[:, None])
        R = P.copy()
        R[np.arange(n), y] -= 1
        G = C * R.T @ Xt + theta * pen
        H = np.zeros((k * (p + 1), k * (p + 1)))
        for a in range(k):
            for b in range(k):
                w = P[:, a] * ((a == b) - P[:, b])
                H[a * (p + 1):(a + 1) * (p + 1), b * (p + 1):(b + 1) * (p + 1)] = C * Xt.T @ (w[:, None] * Xt)
            H[a * (p + 1):(a + 1) * (p + 1), a * (p + 1):(a + 1) * (p + 1)] += np.diag(pen)
        # Jacobi scaling, so that lstsq's cutoff sees the problem's
        # conditioning rather than the features' units (wine's proline is
        # ~1000, its hue ~1).
        d = np.sqrt(np.maximum(np.diag(H), 1e-300))
        d[np.diag(H) == 0] = 1.0
        step = (np.linalg.lstsq(H / d[:, None] / d[None, :], G.ravel() / d, rcond=None)[0] / d).reshape(k, p + 1)
        t = 1.0
        ok = False
        while t > 1e-10:
            cand = theta - t * step
            cand[:, p] -= cand[:, p].mean()
            f, g = objective(X, y, cand[:, :p], cand[:, p])
            # Near the optimum f changes below its rounding error; a step
            # is still taken if it shrinks the gradient without raising f
            # beyond that.
            if f < best[0] or (f <= best[0] * (1 + 1e-14) and g < best[1]):
                ok = True
                break
            t /= 2
        if not ok:
            break
        theta, best = cand, (f, g)
    return theta[:, :p], theta[:, p], it


def fit_case(name, X, y, proba_rows):
    classes, y = np.unique(y, return_inverse=True)
    csv = write_csv(name + ".csv", X, y)
    est = LogisticRegression(max_iter=MAX_ITER, tol=TOL)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, y)
    coef = est.coef_
    intercept = est.intercept_ - est.intercept_.mean()
    f, g = objective(X, y, coef, intercept)
    proba = est.predict_proba(X[proba_rows])
    ref_coef, ref_intercept, ref_iter = polish(X, y, coef, intercept)
    ref_f, ref_g = objective(X, y, ref_coef, ref_intercept)
    return {
        "name": name,
        "csv": csv,
        "n": int(X.shape[0]),
        "p": int(X.shape[1]),
        "k": int(len(classes)),
        "classes": [int(c) for c in classes],
        "C": C,
        "max_iter": MAX_ITER,
        "tol": TOL,
        "n_iter": int(est.n_iter_[0]),
        "objective": f,
        "grad_max": g,
        "coef": [[float(v) for v in row] for row in coef],
        "intercept": [float(v) for v in intercept],
        "proba_rows": [int(i) for i in proba_rows],
        "newton": {
            "n_iter": ref_iter,
            "objective": ref_f,
            "grad_max": ref_g,
            "coef": [[float(v) for v in row] for row in ref_coef],
            "intercept": [float(v) for v in ref_intercept],
            "max_dcoef_lbfgs": float(max(np.abs(ref_coef - coef).max(), np.abs(ref_intercept - intercept).max())),
        },
        "proba": [[float(v) for v in row] for row in proba],
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = []
    X, y = load_iris(return_X_y=True)
    cases.append(fit_case("iris", X, y, [0, 1, 50, 51, 100, 101, 70, 83]))
    X, y = load_wine(return_X_y=True)
    cases.append(fit_case("wine", X, y, [0, 1, 59, 60, 130, 131, 70, 83]))
    cases.append(fit_case("wine_std", StandardScaler().fit_transform(X), y, [0, 1, 59, 60, 130, 131, 70, 83]))
    X, y = load_digits(return_X_y=True)
    cases.append(fit_case("digits", X, y, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1000, 1796]))
    X, y = make_classification(n_samples=2000, n_features=10, n_informative=6, n_redundant=2,
                               n_classes=4, n_clusters_per_class=1, class_sep=0.8, random_state=12)
    cases.append(fit_case("make_classification", np.round(X, 6), y, [0, 1, 2, 3, 500, 1000, 1500, 1999]))
    goldenjson.write(ROOT, OUT, "golden.json", {
        "generator": "scripts/goldens/multiclass.py",
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "cases": cases,
    })
    for c in cases:
        r = c["newton"]
        print("%-20s lbfgs n_iter=%5d objective=%.17g grad_max=%.3g | newton n_iter=%3d objective=%.17g "
              "grad_max=%.3g | max|dcoef|=%.3g" % (c["name"], c["n_iter"], c["objective"], c["grad_max"],
                                                  r["n_iter"], r["objective"], r["grad_max"], r["max_dcoef_lbfgs"]),
              file=sys.stderr)


if __name__ == "__main__":
    main()
