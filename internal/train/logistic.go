package train

import (
	"context"
	"math"

	"gonum.org/v1/gonum/optimize"
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
	theta, iterations, converged, err := minimizeSmooth(ctx, "logistic regression", make([]float64, lp.dim()), lp.eval, m)
	if err != nil {
		return nil, err
	}
	fit := &logisticFit{iterations: iterations, converged: converged}
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
