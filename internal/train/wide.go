package train

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/modelci/modelci/internal/config"
)

// denseDesign encodes the centered design rows and targets of rows into one
// n×(p+1) row-major array (the p columns, then the target), blockRows rows
// at a time, stopping with ctx's error at a block boundary.
func denseDesign(ctx context.Context, rows []int, p int, enc blockEncoder) ([]float64, error) {
	w := p + 1
	d := make([]float64, len(rows)*w)
	for lo := 0; lo < len(rows); lo += blockRows {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+blockRows, len(rows))
		if err := enc(rows[lo:hi], d[lo*w:hi*w]); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// wideProblem is a centered least-squares problem held as its dense n×p
// design X (a view of the denseDesign array, stride p+1) and targets y.
type wideProblem struct {
	x blas64.General
	y []float64
}

func newWideProblem(d []float64, n, p int) *wideProblem {
	w := p + 1
	y := make([]float64, n)
	for i := range y {
		y[i] = d[i*w+p]
	}
	return &wideProblem{x: blas64.General{Rows: n, Cols: p, Stride: w, Data: d}, y: y}
}

// loss is (||Xβ − y||² + α||β||²) / 2n, the objective every linear solver
// reports.
func (wp *wideProblem) loss(beta []float64, alpha float64) float64 {
	r := append([]float64(nil), wp.y...)
	blas64.Gemv(blas.NoTrans, 1, wp.x, blas64.Vector{N: len(beta), Inc: 1, Data: beta}, -1, blas64.Vector{N: len(r), Inc: 1, Data: r})
	var rss, nrm float64
	for _, v := range r {
		rss += v * v
	}
	for _, v := range beta {
		nrm += v * v
	}
	return (rss + alpha*nrm) / (2 * float64(wp.x.Rows))
}

// solveWide solves the linear or ridge problem through the thin SVD of the
// n×p design X = U·diag(s)·Vᵀ, which costs O(n²p) time and O(np) memory
// and never forms a p×p matrix: β = Σ_k f_k (u_kᵀy) v_k with f_k = 1/s_k
// (s_k above LAPACK's cut, the minimum-norm least-squares solution that
// numpy's lstsq and scikit-learn's LinearRegression give), or s_k/(s_k²+α)
// for ridge, which is exactly (XᵀX + αI)⁻¹Xᵀy = Xᵀ(XXᵀ + αI)⁻¹y. The
// gradient-descent solver iterates on X itself instead (solveWideGD).
func solveWide(ctx context.Context, wp *wideProblem, alpha float64, m ModelSettings) (*linearFit, error) {
	if m.Solver == config.SolverGD {
		return solveWideGD(ctx, wp, alpha, m)
	}
	n, p := wp.x.Rows, wp.x.Cols
	var a mat.Dense
	a.SetRawMatrix(wp.x)
	var svd mat.SVD
	if !svd.Factorize(&a, mat.SVDThin) {
		return nil, errors.New("least squares: the SVD did not converge")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := svd.Values(nil)
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	beta := make([]float64, p)
	cut := 2.220446049250313e-16 * float64(max(n, p)) * s[0]
	for k, sk := range s {
		var f float64
		switch {
		case alpha > 0:
			f = sk / (sk*sk + alpha)
		case sk > cut:
			f = 1 / sk
		default:
			continue
		}
		var uy float64
		for i, yi := range wp.y {
			uy += u.At(i, k) * yi
		}
		c := f * uy
		for j := range beta {
			beta[j] += c * v.At(j, k)
		}
	}
	return &linearFit{coef: beta, converged: true, loss: wp.loss(beta, alpha)}, nil
}

// solveWideGD is solveGD on the design instead of the Gram matrix: the
// gradient (1/n)(Xᵀ(Xβ − y) + αβ) costs O(np) an iteration. Started at 0,
// the iterates stay in the row space of X, so with α = 0 they converge to
// the minimum-norm solution.
func solveWideGD(ctx context.Context, wp *wideProblem, alpha float64, m ModelSettings) (*linearFit, error) {
	n, p := wp.x.Rows, wp.x.Cols
	fn := float64(n)
	lr := m.LearningRate
	// The iteration is stable only for lr < 2/λmax of (XᵀX + αI)/n, and
	// λmax(XᵀX) = s_max².
	var svd mat.SVD
	var a mat.Dense
	a.SetRawMatrix(wp.x)
	if svd.Factorize(&a, mat.SVDNone) {
		s := svd.Values(nil)
		if lmax := (s[0]*s[0] + alpha) / fn; lr >= 2/lmax {
			return nil, fmt.Errorf("model.learning_rate %g is too large: gradient descent diverges on this data for rates ≥ %.4g (2/λmax); try %.3g", lr, 2/lmax, 1/lmax)
		}
	}
	b := make([]float64, p)
	blas64.Gemv(blas.Trans, 1, wp.x, blas64.Vector{N: n, Inc: 1, Data: wp.y}, 0, blas64.Vector{N: p, Inc: 1, Data: b})
	scale := 0.0
	for _, v := range b {
		scale = math.Max(scale, math.Abs(v)/fn)
	}
	scale = math.Max(scale, 1)
	beta := make([]float64, p)
	grad := make([]float64, p)
	r := make([]float64, n)
	bv := blas64.Vector{N: p, Inc: 1, Data: beta}
	gv := blas64.Vector{N: p, Inc: 1, Data: grad}
	rv := blas64.Vector{N: n, Inc: 1, Data: r}
	fit := &linearFit{}
	for it := 1; it <= m.MaxIter; it++ {
		if it%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		// r = Xβ − y; grad = (Xᵀr + αβ)/n.
		copy(r, wp.y)
		blas64.Gemv(blas.NoTrans, 1, wp.x, bv, -1, rv)
		copy(grad, beta)
		blas64.Gemv(blas.Trans, 1/fn, wp.x, rv, alpha/fn, gv)
		fit.iterations = it
		if maxAbs(grad) <= m.Tol*scale {
			fit.converged = true
			break
		}
		blas64.Axpy(-lr, gv, bv)
	}
	fit.coef = beta
	fit.loss = wp.loss(beta, alpha)
	return fit, nil
}
