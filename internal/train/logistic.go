package train

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/optimize"

	"github.com/modelci/modelci/internal/config"
)

// logisticProblem is L2-penalized binary logistic regression on a dense
// design: minimise (1/n)·Σ logloss + (α/2n)·||w||², the intercept
// unpenalized. Multiplying by n·C (C = 1/α) gives scikit-learn's objective
// C·Σ logloss + ½||w||², so the minimiser is the same.
type logisticProblem struct {
	x         []float64 // n×p row-major
	y         []float64 // 0/1
	n, p      int
	alpha     float64
	intercept bool
	// ctx stops an evaluation at a block boundary: eval then returns NaN
	// and the solver loop reports ctx's error.
	ctx context.Context
	// cache of the last evaluation
	lastX []float64
	lastF float64
	lastG []float64
}

func (lp *logisticProblem) dim() int {
	if lp.intercept {
		return lp.p + 1
	}
	return lp.p
}

// eval computes the objective and its gradient at theta.
func (lp *logisticProblem) eval(theta []float64) (float64, []float64) {
	if lp.lastX != nil && equal(lp.lastX, theta) {
		return lp.lastF, lp.lastG
	}
	p := lp.p
	w := theta[:p]
	b := 0.0
	if lp.intercept {
		b = theta[p]
	}
	grad := make([]float64, len(theta))
	var f, gb float64
	for i := 0; i < lp.n; i++ {
		if i%blockRows == 0 && lp.ctx != nil && lp.ctx.Err() != nil {
			return math.NaN(), grad
		}
		row := lp.x[i*p : (i+1)*p]
		z := b
		for j, v := range row {
			z += w[j] * v
		}
		f += logLoss(z, lp.y[i])
		r := sigmoid(z) - lp.y[i]
		for j, v := range row {
			grad[j] += r * v
		}
		gb += r
	}
	n := float64(lp.n)
	var nrm float64
	for j := 0; j < p; j++ {
		nrm += w[j] * w[j]
		grad[j] = grad[j]/n + lp.alpha*w[j]/n
	}
	if lp.intercept {
		grad[p] = gb / n
	}
	f = f/n + 0.5*lp.alpha*nrm/n
	lp.lastX = append(lp.lastX[:0], theta...)
	lp.lastF, lp.lastG = f, grad
	return f, grad
}

func equal(a, b []float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

// logLoss is log(1+e^z) − y·z, computed without overflow.
func logLoss(z, y float64) float64 {
	var l float64
	if z > 0 {
		l = z + math.Log1p(math.Exp(-z))
	} else {
		l = math.Log1p(math.Exp(z))
	}
	return l - y*z
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// logisticFit is the result of fitting logistic regression.
type logisticFit struct {
	coef       []float64
	intercept  float64
	iterations int
	converged  bool
	loss       float64
}

// fitLogistic minimises the logistic objective with L-BFGS (gonum/optimize)
// or batch gradient descent. Both check ctx between evaluations (and an
// evaluation checks it between row blocks) and return its error once it is
// done. An iteration costs O(n·p): no p×p matrix is ever formed.
func fitLogistic(ctx context.Context, lp *logisticProblem, m ModelSettings) (*logisticFit, error) {
	lp.ctx = ctx
	theta := make([]float64, lp.dim())
	fit := &logisticFit{}
	switch m.Solver {
	case config.SolverGD:
		lr := m.LearningRate
		prev := math.Inf(1)
		for it := 1; it <= m.MaxIter; it++ {
			f, g := lp.eval(theta)
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if f > prev*(1+1e-12)+1e-300 {
				return nil, fmt.Errorf("gradient descent diverged at iteration %d (loss rose from %g to %g); lower model.learning_rate (now %g)", it, prev, f, lr)
			}
			prev = f
			fit.iterations = it
			if maxAbs(g) <= m.Tol {
				fit.converged = true
				break
			}
			for j := range theta {
				theta[j] -= lr * g[j]
			}
		}
	default:
		prob := optimize.Problem{
			Func: func(x []float64) float64 { f, _ := lp.eval(x); return f },
			Grad: func(grad, x []float64) { _, g := lp.eval(x); copy(grad, g) },
		}
		settings := &optimize.Settings{
			GradientThreshold: m.Tol,
			MajorIterations:   m.MaxIter,
			Converger:         &optimize.FunctionConverge{Absolute: 1e-300, Relative: 1e-300, Iterations: 20},
			Recorder:          ctxRecorder{ctx},
		}
		res, err := optimize.Minimize(prob, theta, settings, &optimize.LBFGS{})
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		if res == nil {
			return nil, fmt.Errorf("logistic regression: L-BFGS: %w", err)
		}
		theta = res.X
		fit.iterations = res.Stats.MajorIterations
		_, g := lp.eval(theta)
		gmax := maxAbs(g)
		switch {
		case err == nil && res.Status == optimize.GradientThreshold:
			fit.converged = true
		case gmax <= math.Max(m.Tol, 1e-7):
			// The line search cannot improve further in floating point
			// although the gradient is already tiny: that is convergence.
			fit.converged = true
		case err != nil && !errors.Is(err, optimize.ErrLinesearcherFailure):
			return nil, fmt.Errorf("logistic regression: L-BFGS: %w", err)
		}
	}
	f, _ := lp.eval(theta)
	fit.loss = f
	fit.coef = append([]float64(nil), theta[:lp.p]...)
	if lp.intercept {
		fit.intercept = theta[lp.p]
	}
	return fit, nil
}

// ctxRecorder stops gonum's optimizer, which is called after every
// evaluation, once ctx is done.
type ctxRecorder struct{ ctx context.Context }

func (ctxRecorder) Init() error { return nil }

func (r ctxRecorder) Record(*optimize.Location, optimize.Operation, *optimize.Stats) error {
	return r.ctx.Err()
}

func maxAbs(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = math.Max(m, math.Abs(x))
	}
	return m
}
