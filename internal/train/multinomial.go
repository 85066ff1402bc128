package train

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/optimize"

	"github.com/modelci/modelci/internal/config"
)

// multinomialProblem is L2-penalized multinomial (softmax) logistic
// regression on a dense design, the model `model.type: logistic` fits when
// the target has three or more classes. With z_i = W·x_i + b (W k×p, b k),
// it minimises
//
//	(1/n)·Σ_i −log softmax(z_i)[y_i] + (α/2n)·||W||²
//
// where ||W||² sums over all k rows of W, as scikit-learn's multinomial
// LogisticRegression penalises every class's coefficients, and the
// intercepts b are unpenalized. This is logisticProblem's scaling:
// multiplying by n·C (C = 1/α) gives scikit-learn's objective
// C·Σ_i −log softmax(z_i)[y_i] + ½||W||², so the minimiser is the same.
//
// Binary targets keep logisticProblem and fitLogistic. With k = 2 this
// problem is not scikit-learn's binary model: it penalises both rows of W,
// whose optimum is W = (−w/2, w/2), so ||W||² = ||w||²/2 and the fit is
// binary logistic regression with C doubled.
//
// The parameter vector theta is laid out as the k×p coefficients row-major
// (class c's coefficient of feature j at theta[c·p+j]) followed, when
// intercept is set, by the k intercepts (class c's at theta[k·p+c]).
type multinomialProblem struct {
	x         []float64 // n×p row-major
	y         []int     // class index of each row, 0..k-1
	n, p, k   int
	alpha     float64
	intercept bool
	// workers bounds how many row segments are evaluated at once (≤ 0
	// means one). The segments and their reduction order are fixed by n
	// alone, so the result is bit-identical for any number of workers.
	workers int
	// ctx stops an evaluation at a block boundary: eval then returns NaN
	// and the solver loop reports ctx's error.
	ctx context.Context
	// rows is 0..n-1, the index forSegments partitions.
	rows []int
	// cache of the last evaluation
	lastX []float64
	lastF float64
	lastG []float64
}

func (mp *multinomialProblem) dim() int {
	if mp.intercept {
		return mp.k*mp.p + mp.k
	}
	return mp.k * mp.p
}

// check reports a problem whose fields disagree with each other.
func (mp *multinomialProblem) check() error {
	switch {
	case mp.n < 1 || mp.p < 0:
		return fmt.Errorf("multinomial logistic regression: %d rows × %d columns: nothing to fit", mp.n, mp.p)
	case mp.k < 2:
		return fmt.Errorf("multinomial logistic regression: %d classes, need at least 2", mp.k)
	case len(mp.x) != mp.n*mp.p:
		return fmt.Errorf("multinomial logistic regression: design has %d values, want %d rows × %d columns", len(mp.x), mp.n, mp.p)
	case len(mp.y) != mp.n:
		return fmt.Errorf("multinomial logistic regression: %d targets for %d rows", len(mp.y), mp.n)
	case mp.alpha < 0 || math.IsNaN(mp.alpha) || math.IsInf(mp.alpha, 0):
		return fmt.Errorf("multinomial logistic regression: penalty %g is not a finite non-negative number", mp.alpha)
	}
	for i, c := range mp.y {
		if c < 0 || c >= mp.k {
			return fmt.Errorf("multinomial logistic regression: row %d has class index %d, outside 0..%d", i, c, mp.k-1)
		}
	}
	return nil
}

// multinomialPart is one row segment's share of an evaluation: the summed
// losses and the unscaled gradient (residuals times rows).
type multinomialPart struct {
	f float64
	g []float64
}

// eval computes the objective and its gradient at theta. Each of forSegments'
// fixed row segments is evaluated in blocks of blockRows rows, ctx checked
// between blocks, and the segments are added in order. An evaluation costs
// O(n·p·k) and holds k scores per segment, never an n×k matrix.
func (mp *multinomialProblem) eval(theta []float64) (float64, []float64) {
	if mp.lastX != nil && equal(mp.lastX, theta) {
		return mp.lastF, mp.lastG
	}
	ctx := mp.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if len(mp.rows) != mp.n {
		mp.rows = make([]int, mp.n)
		for i := range mp.rows {
			mp.rows[i] = i
		}
	}
	p, k := mp.p, mp.k
	w := theta[:k*p]
	var b []float64
	if mp.intercept {
		b = theta[k*p:]
	}
	grad := make([]float64, len(theta))
	parts, err := forSegments(ctx, mp.rows, mp.workers, func(rows []int) (multinomialPart, error) {
		part := multinomialPart{g: make([]float64, len(theta))}
		if len(rows) == 0 {
			return part, nil
		}
		gw, gb := part.g[:k*p], part.g[k*p:]
		z := make([]float64, k)
		lo, hi := rows[0], rows[0]+len(rows)
		for start := lo; start < hi; start += blockRows {
			if err := ctx.Err(); err != nil {
				return part, err
			}
			for i := start; i < min(start+blockRows, hi); i++ {
				row := mp.x[i*p : (i+1)*p]
				for c := range z {
					z[c] = floats.Dot(w[c*p:(c+1)*p], row)
					if b != nil {
						z[c] += b[c]
					}
				}
				yi := mp.y[i]
				zy := z[yi]
				part.f += softmaxLogSumExp(z) - zy
				// z now holds the probabilities; less the one-hot target
				// it is the gradient of the row's loss with respect to z.
				z[yi]--
				for c, r := range z {
					floats.AddScaled(gw[c*p:(c+1)*p], r, row)
				}
				if b != nil {
					floats.Add(gb, z)
				}
			}
		}
		return part, nil
	})
	if err != nil {
		return math.NaN(), grad
	}
	var f float64
	for _, part := range parts {
		f += part.f
		floats.Add(grad, part.g)
	}
	n := float64(mp.n)
	floats.AddScaled(grad[:k*p], mp.alpha, w)
	floats.Scale(1/n, grad)
	f = f/n + 0.5*mp.alpha*floats.Dot(w, w)/n
	mp.lastX = append(mp.lastX[:0], theta...)
	mp.lastF, mp.lastG = f, grad
	return f, grad
}

// softmaxLogSumExp replaces z by softmax(z) and returns log Σ_c exp(z_c),
// both computed after subtracting max(z) so that no exponential overflows.
func softmaxLogSumExp(z []float64) float64 {
	m := floats.Max(z)
	var s float64
	for c, v := range z {
		e := math.Exp(v - m)
		z[c] = e
		s += e
	}
	floats.Scale(1/s, z)
	return m + math.Log(s)
}

// multinomialFit is the result of fitting multinomial logistic regression.
type multinomialFit struct {
	coef       [][]float64 // k×p: class c's coefficients are coef[c]
	intercept  []float64   // k, summing to zero (all zero without an intercept)
	iterations int
	converged  bool
	loss       float64 // the problem's scaled objective at the solution
}

// proba writes the class probabilities of one encoded row into dst (len k).
func (f *multinomialFit) proba(row, dst []float64) {
	for c, w := range f.coef {
		dst[c] = f.intercept[c] + floats.Dot(w, row)
	}
	softmaxLogSumExp(dst)
}

// fitMultinomial minimises the multinomial objective from zero with L-BFGS
// (gonum/optimize) or batch gradient descent, as fitLogistic does for binary
// targets, and returns the coefficients and centred intercepts. Both solvers
// check ctx between evaluations (and an evaluation checks it between row
// blocks) and return its error once it is done.
func fitMultinomial(ctx context.Context, mp *multinomialProblem, m ModelSettings) (*multinomialFit, error) {
	if err := mp.check(); err != nil {
		return nil, err
	}
	mp.ctx = ctx
	theta, iterations, converged, err := minimizeSmooth(ctx, "multinomial logistic regression", make([]float64, mp.dim()), mp.eval, m)
	if err != nil {
		return nil, err
	}
	p, k := mp.p, mp.k
	fit := &multinomialFit{coef: make([][]float64, k), intercept: make([]float64, k), iterations: iterations, converged: converged}
	for c := range fit.coef {
		fit.coef[c] = append([]float64(nil), theta[c*p:(c+1)*p]...)
	}
	if mp.intercept {
		// softmax(z + t·1) = softmax(z), and the intercepts are not
		// penalized, so they are determined only up to a common constant
		// t. Started from zero, both solvers keep Σ_c b_c = 0 in exact
		// arithmetic (each gradient's intercept part is Σ_i (p_i − e_{y_i})
		// /n, whose entries sum to zero); centring removes the rounding
		// drift and returns the one representative, which is also what
		// the goldens compare. The coefficients need no such step: the
		// penalty makes them unique (and Σ_c W_c = 0 at the optimum).
		b := theta[k*p:]
		floats.AddConst(-floats.Sum(b)/float64(k), b)
		copy(fit.intercept, b)
	}
	f, _ := mp.eval(theta)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fit.loss = f
	return fit, nil
}

// minimizeSmooth minimises a smooth objective from theta with model.solver
// (gradient descent or L-BFGS) under m's max_iter and tol, with the same
// stopping and convergence rules as fitLogistic's solver loop: converged
// means the gradient's largest entry reached tol, or reached max(tol, 1e-7)
// when L-BFGS's line search can make no further progress in floating
// point. eval must return NaN once ctx is done; minimizeSmooth then returns
// ctx's error. what names the model in errors.
func minimizeSmooth(ctx context.Context, what string, theta []float64, eval func([]float64) (float64, []float64), m ModelSettings) (x []float64, iterations int, converged bool, err error) {
	switch m.Solver {
	case config.SolverGD:
		lr := m.LearningRate
		prev := math.Inf(1)
		for it := 1; it <= m.MaxIter; it++ {
			f, g := eval(theta)
			if err := ctx.Err(); err != nil {
				return nil, 0, false, err
			}
			if f > prev*(1+1e-12)+1e-300 {
				return nil, 0, false, fmt.Errorf("%s: gradient descent diverged at iteration %d (loss rose from %g to %g); lower model.learning_rate (now %g)", what, it, prev, f, lr)
			}
			prev = f
			iterations = it
			if maxAbs(g) <= m.Tol {
				converged = true
				break
			}
			floats.AddScaled(theta, -lr, g)
		}
		return theta, iterations, converged, nil
	default:
		prob := optimize.Problem{
			Func: func(x []float64) float64 { f, _ := eval(x); return f },
			Grad: func(grad, x []float64) { _, g := eval(x); copy(grad, g) },
		}
		settings := &optimize.Settings{
			GradientThreshold: m.Tol,
			MajorIterations:   m.MaxIter,
			Converger:         &optimize.FunctionConverge{Absolute: 1e-300, Relative: 1e-300, Iterations: 20},
			Recorder:          ctxRecorder{ctx},
		}
		res, err := optimize.Minimize(prob, theta, settings, &optimize.LBFGS{})
		if cerr := ctx.Err(); cerr != nil {
			return nil, 0, false, cerr
		}
		if res == nil {
			return nil, 0, false, fmt.Errorf("%s: L-BFGS: %w", what, err)
		}
		_, g := eval(res.X)
		if cerr := ctx.Err(); cerr != nil {
			return nil, 0, false, cerr
		}
		gmax := maxAbs(g)
		switch {
		case err == nil && res.Status == optimize.GradientThreshold:
			converged = true
		case gmax <= math.Max(m.Tol, 1e-7):
			// The line search cannot improve further in floating point
			// although the gradient is already tiny: that is convergence.
			converged = true
		case err != nil && !errors.Is(err, optimize.ErrLinesearcherFailure):
			return nil, 0, false, fmt.Errorf("%s: L-BFGS: %w", what, err)
		}
		return res.X, res.Stats.MajorIterations, converged, nil
	}
}
