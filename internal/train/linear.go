package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/gonum"
	"gonum.org/v1/gonum/mat"
)

// blockRows is how many rows are encoded and folded into the factorization
// at a time, so the dense design matrix never exists in full.
const blockRows = 512

// segments is the fixed number of row ranges reduced in parallel. It does
// not depend on the number of cores, so results are bit-identical on every
// machine.
const segments = 8

// ctxEvery is how many iterations of an iterative solver run between checks
// of the context: often enough to stop well within a second, rarely enough
// to cost nothing next to an iteration.
const ctxEvery = 16

// blockEncoder writes the centered design rows of the given row positions
// and their centered targets into dst, p+1 values a row: the p columns, then
// the target.
type blockEncoder func(pos []int, dst []float64) error

// linearFit is the solution of a linear least-squares problem on centered
// data.
type linearFit struct {
	coef       []float64
	iterations int
	converged  bool
	loss       float64
	// nullspace holds a basis of the numerical null space of the design
	// (empty when it has full rank); the minimum-norm solution was used.
	nullspace [][]float64
}

// forSegments runs fn over fixed row segments in parallel and returns the
// per-segment results in order, or ctx's error alone once ctx is done.
func forSegments[T any](ctx context.Context, rows []int, workers int, fn func(rows []int) (T, error)) ([]T, error) {
	n := segments
	if len(rows) < n*blockRows {
		n = 1
	}
	out := make([]T, n)
	errs := make([]error, n)
	sem := make(chan struct{}, max(workers, 1))
	var wg sync.WaitGroup
	for s := 0; s < n; s++ {
		lo, hi := s*len(rows)/n, (s+1)*len(rows)/n
		wg.Add(1)
		sem <- struct{}{}
		go func(s int, part []int) {
			defer wg.Done()
			defer func() { <-sem }()
			out[s], errs[s] = fn(part)
		}(s, rows[lo:hi])
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, errors.Join(errs...)
}

// forBlocks encodes rows blockRows at a time (w values a row) and hands each
// encoded block to fold. It stops with ctx's error at the first block
// boundary after ctx is done.
func forBlocks(ctx context.Context, rows []int, w int, enc blockEncoder, fold func(block []float64)) error {
	block := make([]float64, blockRows*w)
	for lo := 0; lo < len(rows); lo += blockRows {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(lo+blockRows, len(rows))
		b := block[:(hi-lo)*w]
		if err := enc(rows[lo:hi], b); err != nil {
			return err
		}
		fold(b)
	}
	return nil
}

// qrReducer folds row blocks into the R factor of [X | y] with Householder
// QR (gonum's Dgeqrf) on the stack of the current R and the new block.
type qrReducer struct {
	w    int // columns: p features + 1 target
	buf  []float64
	tau  []float64
	work []float64
	r    []float64 // w×w upper triangular, row-major
	have bool
}

func newQRReducer(w int) *qrReducer {
	q := &qrReducer{w: w, r: make([]float64, w*w), tau: make([]float64, w)}
	q.buf = make([]float64, (w+blockRows)*w)
	work := make([]float64, 1)
	gonum.Implementation{}.Dgeqrf(w+blockRows, w, q.buf, w, q.tau, work, -1)
	q.work = make([]float64, int(work[0]))
	return q
}

// fold adds rows (row-major, len = k*w) to the factorization.
func (q *qrReducer) fold(rows []float64) {
	w := q.w
	k := len(rows) / w
	top := 0
	if q.have {
		copy(q.buf, q.r)
		top = w
	}
	copy(q.buf[top*w:], rows)
	m := top + k
	gonum.Implementation{}.Dgeqrf(m, w, q.buf[:m*w], w, q.tau[:min(m, w)], q.work, len(q.work))
	clear(q.r)
	for i := 0; i < min(m, w); i++ {
		copy(q.r[i*w+i:(i+1)*w], q.buf[i*w+i:(i+1)*w])
	}
	q.have = true
}

// tsqr computes the R factor of the centered [X | y] over the training rows,
// reducing fixed segments in parallel and combining them in order.
func tsqr(ctx context.Context, rows []int, p int, enc blockEncoder, workers int) ([]float64, error) {
	w := p + 1
	parts, err := forSegments(ctx, rows, workers, func(part []int) ([]float64, error) {
		q := newQRReducer(w)
		err := forBlocks(ctx, part, w, enc, q.fold)
		return q.r, err
	})
	if err != nil {
		return nil, err
	}
	q := newQRReducer(w)
	for _, r := range parts {
		q.fold(r)
	}
	return q.r, nil
}

// gram accumulates XᵀX (upper triangle), Xᵀy and yᵀy of the centered data.
func gram(ctx context.Context, rows []int, p int, enc blockEncoder, workers int) (g []float64, b []float64, yy float64, err error) {
	w := p + 1
	parts, err := forSegments(ctx, rows, workers, func(part []int) ([]float64, error) {
		acc := make([]float64, w*w)
		c := blas64.Symmetric{Uplo: blas.Upper, N: w, Stride: w, Data: acc}
		err := forBlocks(ctx, part, w, enc, func(block []float64) {
			a := blas64.General{Rows: len(block) / w, Cols: w, Stride: w, Data: block}
			blas64.Syrk(blas.Trans, 1, a, 1, c)
		})
		return acc, err
	})
	if err != nil {
		return nil, nil, 0, err
	}
	acc := make([]float64, w*w)
	for _, part := range parts {
		for i := range acc {
			acc[i] += part[i]
		}
	}
	g = make([]float64, p*p)
	b = make([]float64, p)
	for i := 0; i < p; i++ {
		for j := i; j < p; j++ {
			g[i*p+j] = acc[i*w+j]
			g[j*p+i] = acc[i*w+j]
		}
		b[i] = acc[i*w+p]
	}
	return g, b, acc[p*w+p], nil
}

// solveQR solves min ||Rβ − z|| (+ α||β||²) from the R factor of [X | y]
// with the SVD of the small R, which gives the minimum-norm solution when X
// is rank deficient, as LAPACK's gelsd does for scikit-learn.
func solveQR(raug []float64, p int, alpha float64, nrows int) (*linearFit, error) {
	w := p + 1
	rows := p
	if alpha > 0 {
		rows = 2 * p
	}
	a := mat.NewDense(rows, p, nil)
	z := make([]float64, rows)
	for i := 0; i < p; i++ {
		for j := i; j < p; j++ {
			a.Set(i, j, raug[i*w+j])
		}
		z[i] = raug[i*w+p]
	}
	if alpha > 0 {
		s := math.Sqrt(alpha)
		for i := 0; i < p; i++ {
			a.Set(p+i, i, s)
		}
	}
	coef, null, err := minNorm(a, z)
	if err != nil {
		return nil, err
	}
	// Residual: ||z − Rβ||² over the stacked system plus the part of y
	// orthogonal to X (R[p][p]²).
	var rss float64
	for i := 0; i < rows; i++ {
		s := z[i]
		for j := 0; j < p; j++ {
			s -= a.At(i, j) * coef[j]
		}
		rss += s * s
	}
	tail := raug[p*w+p]
	rss += tail * tail
	return &linearFit{coef: coef, converged: true, loss: rss / (2 * float64(nrows)), nullspace: null}, nil
}

// minNorm returns the minimum-norm least-squares solution of a·x ≈ z using
// the SVD, treating singular values below eps·max(m,n)·σmax as zero, and the
// null-space basis vectors.
func minNorm(a *mat.Dense, z []float64) ([]float64, [][]float64, error) {
	m, n := a.Dims()
	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDThin) {
		return nil, nil, errors.New("least squares: the SVD did not converge")
	}
	s := svd.Values(nil)
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	cut := 2.220446049250313e-16 * float64(max(m, n)) * s[0]
	x, null := spectralSolve(s, cut, &u, &v, z)
	return x, null, nil
}

// spectralSolve returns Σ_k (u_kᵀz / s_k)·v_k over the k with s_k > cut, and
// the v_k of the others (the null space): the minimum-norm solution from an
// SVD (u, s, v) or, with u = v, from a symmetric eigendecomposition.
func spectralSolve(s []float64, cut float64, u, v *mat.Dense, z []float64) ([]float64, [][]float64) {
	n, _ := v.Dims()
	x := make([]float64, n)
	var null []int
	for k, sk := range s {
		if !(sk > cut) {
			null = append(null, k)
			continue
		}
		var uz float64
		for i, zi := range z {
			uz += u.At(i, k) * zi
		}
		c := uz / sk
		for j := range x {
			x[j] += c * v.At(j, k)
		}
	}
	return x, columnsOf(v, null)
}

// columnsOf returns columns ks of v as slices.
func columnsOf(v *mat.Dense, ks []int) [][]float64 {
	n, _ := v.Dims()
	out := make([][]float64, 0, len(ks))
	for _, k := range ks {
		col := make([]float64, n)
		for j := range col {
			col[j] = v.At(j, k)
		}
		out = append(out, col)
	}
	return out
}

// solveNormal solves (G + αI)β = b by Cholesky, or by the eigenvalue
// pseudo-inverse (minimum norm) when G is singular.
func solveNormal(g, b []float64, yy float64, p int, alpha float64, nrows int) (*linearFit, error) {
	sym := mat.NewSymDense(p, nil)
	for i := 0; i < p; i++ {
		for j := i; j < p; j++ {
			v := g[i*p+j]
			if i == j {
				v += alpha
			}
			sym.SetSym(i, j, v)
		}
	}
	fit := &linearFit{converged: true}
	var ch mat.Cholesky
	if ch.Factorize(sym) && ch.Cond() < 1e12 {
		x := mat.NewVecDense(p, nil)
		if err := ch.SolveVecTo(x, mat.NewVecDense(p, append([]float64(nil), b...))); err == nil {
			fit.coef = x.RawVector().Data
		}
	}
	if fit.coef == nil {
		var es mat.EigenSym
		if !es.Factorize(sym, true) {
			return nil, errors.New("normal equations: the eigen decomposition did not converge")
		}
		vals := es.Values(nil)
		var vecs mat.Dense
		es.VectorsTo(&vecs)
		cut := 1e-12 * vals[len(vals)-1]
		fit.coef, fit.nullspace = spectralSolve(vals, cut, &vecs, &vecs, b)
	}
	fit.loss = quadLoss(g, b, yy, fit.coef, alpha) / float64(nrows)
	return fit, nil
}

// quadLoss is ½(βᵀGβ − 2βᵀb + yᵀy + α||β||²).
func quadLoss(g, b []float64, yy float64, beta []float64, alpha float64) float64 {
	p := len(beta)
	var q, lin, nrm float64
	for i := 0; i < p; i++ {
		var gi float64
		for j := 0; j < p; j++ {
			gi += g[i*p+j] * beta[j]
		}
		q += beta[i] * gi
		lin += beta[i] * b[i]
		nrm += beta[i] * beta[i]
	}
	return 0.5 * (q - 2*lin + yy + alpha*nrm)
}

// solveGD runs batch gradient descent on J(β) = (1/2n)(||Xβ − y||² + α||β||²)
// with the update β_j := β_j − lr·∂J/∂β_j. The gradient (1/n)(Gβ − b + αβ)
// is exact batch gradient computed from the Gram matrix, so an iteration
// costs O(p²) instead of a pass over the data. It stops when the largest
// gradient component is below tol (relative to the scale of b).
func solveGD(ctx context.Context, g, b []float64, yy float64, p int, m ModelSettings, nrows int) (*linearFit, error) {
	alpha := m.Alpha
	lr := m.LearningRate
	n := float64(nrows)
	// The iteration is stable only for lr < 2/λmax of (G + αI)/n.
	sym := mat.NewSymDense(p, nil)
	for i := 0; i < p; i++ {
		for j := i; j < p; j++ {
			v := g[i*p+j]
			if i == j {
				v += alpha
			}
			sym.SetSym(i, j, v/n)
		}
	}
	var es mat.EigenSym
	if es.Factorize(sym, false) {
		vals := es.Values(nil)
		if lmax := vals[len(vals)-1]; lr >= 2/lmax {
			return nil, fmt.Errorf("model.learning_rate %g is too large: gradient descent diverges on this data for rates ≥ %.4g (2/λmax); try %.3g", lr, 2/lmax, 1/lmax)
		}
	}
	beta := make([]float64, p)
	grad := make([]float64, p)
	scale := 0.0
	for _, v := range b {
		scale = math.Max(scale, math.Abs(v)/n)
	}
	scale = math.Max(scale, 1)
	tol := m.Tol
	fit := &linearFit{}
	for it := 1; it <= m.MaxIter; it++ {
		if it%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		gmax := 0.0
		for i := 0; i < p; i++ {
			s := -b[i] + alpha*beta[i]
			row := g[i*p : (i+1)*p]
			for j, gij := range row {
				s += gij * beta[j]
			}
			grad[i] = s / n
			gmax = math.Max(gmax, math.Abs(grad[i]))
		}
		fit.iterations = it
		if gmax <= tol*scale {
			fit.converged = true
			break
		}
		for i := range beta {
			beta[i] -= lr * grad[i]
		}
	}
	fit.coef = beta
	fit.loss = quadLoss(g, b, yy, beta, alpha) / n
	return fit, nil
}

// describeNull explains an unexpected rank deficiency by naming the
// columns involved. With an intercept, every complete one-hot block (blocks
// holds their [start, end) column ranges) is collinear with it; that is
// expected and handled by the minimum-norm solution, so those directions are
// projected out first. The columns of constant features (all zero, and
// reported by their own warning) are expected null directions too.
func describeNull(null [][]float64, columns []string, blocks [][2]int, intercept bool, constant []int) []string {
	expected := len(constant)
	if intercept {
		expected += len(blocks)
	}
	if len(null) <= expected {
		return nil
	}
	involved := map[int]bool{}
	for _, v := range null {
		r := append([]float64(nil), v...)
		if intercept {
			for _, b := range blocks {
				// Remove the component along the block's normalized
				// indicator vector.
				var dot float64
				for j := b[0]; j < b[1]; j++ {
					dot += r[j]
				}
				k := float64(b[1] - b[0])
				for j := b[0]; j < b[1]; j++ {
					r[j] -= dot / k
				}
			}
		}
		for _, j := range constant {
			r[j] = 0
		}
		for j, x := range r {
			if math.Abs(x) > 1e-6 {
				involved[j] = true
			}
		}
	}
	names := make([]string, 0, len(involved))
	for j := range involved {
		names = append(names, columns[j])
	}
	sort.Strings(names)
	return []string{fmt.Sprintf("the design is rank deficient (%d collinear direction(s) among columns %s), so the minimum-norm least-squares solution was used, as numpy's lstsq does; consider removing a redundant column", len(null)-expected, strings.Join(names, ", "))}
}

// abandonOnCancel runs solve, whose dense factorizations (SVD, eigen
// decomposition: O(p³) in one LAPACK call) cannot check ctx, in its own
// goroutine, and returns ctx's error as soon as ctx is done instead of
// waiting. The abandoned call finishes in the background and its result is
// dropped; the process that was signalled exits meanwhile.
func abandonOnCancel(ctx context.Context, solve func() (*linearFit, error)) (*linearFit, error) {
	type result struct {
		fit *linearFit
		err error
	}
	done := make(chan result, 1)
	go func() {
		fit, err := solve()
		done <- result{fit, err}
	}()
	select {
	case r := <-done:
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return r.fit, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
