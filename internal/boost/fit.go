package boost

import (
	"context"
	"math"
	"runtime"
	"sync"

	"github.com/modelci/modelci/internal/model"
)

// fitter holds the state of one Fit.
type fitter struct {
	ctx     context.Context
	p       Params
	d       Data
	workers int

	k         int // outputs (trees per iteration)
	constHess bool
	train     []int // rows of d that train
	val       []int // validation rows (early stopping)
	y         []float64
	yVal      []float64
	bm        binMapper
	// bins[j][i] is the bin of feature j of training row i.
	bins    [][]uint8
	valBins [][]uint8
	// hasMissing[j]: feature j has a missing value in the training rows.
	hasMissing []bool
	base       []float64
	// acc[k][i] is the sum of output k's leaf values for training row i;
	// the raw score is base[k] + acc[k][i].
	acc    [][]float64
	accVal [][]float64
	// g[k] are output k's gradients for squared_error (constant
	// hessian), gh[k] its gradients and hessians for log_loss.
	g  [][]float32
	gh [][]gradPair

	// grower scratch, reused by every tree
	part, buf []uint32
	og        []float32
	ogh       []gradPair
	pool      [][]histBin
}

func (f *fitter) fit() (*Result, error) {
	d, p := f.d, f.p
	n := len(d.Y)
	f.k = 1
	link := model.LinkIdentity
	if p.Loss == LogLoss {
		link = model.LinkSigmoid
		if d.Classes > 2 {
			f.k = d.Classes
			link = model.LinkSoftmax
		}
	}
	f.constHess = p.Loss == SquaredError
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	f.train = all
	if p.EarlyStopping {
		var err error
		f.train, f.val, err = validationSplit(d, p)
		if err != nil {
			return nil, err
		}
	}
	f.y = d.Y // read only
	if len(f.train) < n {
		f.y = pick(d.Y, f.train)
	}
	f.yVal = pick(d.Y, f.val)
	if err := f.binData(); err != nil {
		return nil, err
	}
	if d.ReleaseColumns {
		// The columns are garbage now: collect them once, so the buffers
		// below reuse their memory instead of growing the heap.
		runtime.GC()
	}
	nt := len(f.train)
	f.base = baseline(p.Loss, f.y, d.Classes, f.k)
	f.acc = make([][]float64, f.k)
	f.accVal = make([][]float64, f.k)
	f.g = make([][]float32, f.k)
	f.gh = make([][]gradPair, f.k)
	for k := range f.k {
		f.acc[k] = make([]float64, nt)
		f.accVal[k] = make([]float64, len(f.val))
		if f.constHess {
			f.g[k] = make([]float32, nt)
		} else {
			f.gh[k] = make([]gradPair, nt)
		}
	}
	f.part = make([]uint32, nt)
	f.buf = make([]uint32, nt)
	if f.constHess {
		f.og = make([]float32, nt)
	} else {
		f.ogh = make([]gradPair, nt)
	}

	ens := &model.TreeEnsemble{
		Aggregation: model.AggregateSum,
		Comparison:  model.CompareLessEqual,
		Precision:   model.Float64,
		BaseScore:   f.base,
	}
	res := &Result{Ensemble: ens, Outputs: f.k, Link: link, TrainRows: f.train, ValidationRows: f.val}
	if p.EarlyStopping {
		res.TrainLoss = append(res.TrainLoss, f.loss(f.y, f.acc))
		res.ValidationLoss = append(res.ValidationLoss, f.loss(f.yVal, f.accVal))
	}
	for it := range p.MaxIter {
		if err := f.ctx.Err(); err != nil {
			return nil, err
		}
		f.gradients()
		for k := range f.k {
			t, bt, err := f.grow(k)
			if err != nil {
				return nil, err
			}
			t.Output = k
			ens.Trees = append(ens.Trees, *t)
			if len(f.val) > 0 {
				bt.predictBinned(f.valBins, f.accVal[k])
			}
		}
		res.Iterations = it + 1
		if p.EarlyStopping {
			res.TrainLoss = append(res.TrainLoss, f.loss(f.y, f.acc))
			res.ValidationLoss = append(res.ValidationLoss, f.loss(f.yVal, f.accVal))
			if shouldStop(res.ValidationLoss, p.NIterNoChange, p.Tol) {
				break
			}
		}
	}
	if f.k == 1 {
		// The raw scores replace the leaf sums in place.
		raw, base := f.acc[0], f.base[0]
		for i, a := range raw {
			raw[i] = base + a
		}
		res.TrainRaw = raw
		return res, nil
	}
	res.TrainRaw = make([]float64, nt*f.k)
	for k := range f.k {
		for i, a := range f.acc[k] {
			res.TrainRaw[i*f.k+k] = f.base[k] + a
		}
	}
	return res, nil
}

func pick(y []float64, rows []int) []float64 {
	out := make([]float64, len(rows))
	for i, r := range rows {
		out[i] = y[r]
	}
	return out
}

// binData fits the bin thresholds on the training rows and bins the
// training and validation rows, feature by feature across the workers.
func (f *fitter) binData() error {
	cols := f.d.Columns
	p := len(cols)
	f.bm = binMapper{thresholds: make([][]float64, p), nonMissing: make([]int, p), missingBin: uint8(f.p.MaxBins)}
	f.bins = make([][]uint8, p)
	f.valBins = make([][]uint8, p)
	f.hasMissing = make([]bool, p)
	sub := subsampleRows(f.train, f.p.Seed)
	var mu sync.Mutex
	var firstErr error
	f.parallel(p, f.workers, func(_, lo, hi int) {
		buf := make([]float64, 0, len(sub))
		for j := lo; j < hi; j++ {
			if err := f.ctx.Err(); err != nil {
				mu.Lock()
				firstErr = err
				mu.Unlock()
				return
			}
			t := findThresholds(cols[j], sub, f.p.MaxBins, buf)
			f.bm.thresholds[j] = t
			f.bm.nonMissing[j] = len(t) + 1
			f.bins[j] = make([]uint8, len(f.train))
			binColumn(cols[j], f.train, t, f.bm.missingBin, f.bins[j])
			for _, b := range f.bins[j] {
				if b == f.bm.missingBin {
					f.hasMissing[j] = true
					break
				}
			}
			f.valBins[j] = make([]uint8, len(f.val))
			binColumn(cols[j], f.val, t, f.bm.missingBin, f.valBins[j])
			if f.d.ReleaseColumns {
				cols[j] = nil
			}
		}
	})
	if firstErr != nil {
		return firstErr
	}
	return nil
}

// parallel runs fn over [0, n) split into at most workers contiguous
// ranges, fixed by n and workers, and waits.
func (f *fitter) parallel(n, workers int, fn func(seg, lo, hi int)) {
	w := min(workers, n)
	if w <= 1 {
		if n > 0 {
			fn(0, 0, n)
		}
		return
	}
	var wg sync.WaitGroup
	for i := range w {
		lo, hi := i*n/w, (i+1)*n/w
		wg.Go(func() { fn(i, lo, hi) })
	}
	wg.Wait()
}

// segment is the row count below which work stays on one goroutine.
const segment = 1 << 14

// rowWorkers is how many workers a loop over n rows uses.
func (f *fitter) rowWorkers(n int) int {
	return max(1, min(f.workers, n/segment))
}

// gradients computes the gradients (and hessians) of every output at the
// current raw scores, row by row, so the row segments do not matter.
func (f *fitter) gradients() {
	n := len(f.y)
	f.parallel(n, f.rowWorkers(n), func(_, lo, hi int) {
		switch {
		case f.p.Loss == SquaredError:
			g, acc, base := f.g[0][lo:hi], f.acc[0][lo:hi], f.base[0]
			for i, y := range f.y[lo:hi] {
				// HalfSquaredError: raw - y.
				g[i] = float32((base + acc[i]) - y)
			}
		case f.k == 1:
			gh, acc, base := f.gh[0][lo:hi], f.acc[0][lo:hi], f.base[0]
			for i, y := range f.y[lo:hi] {
				gi, hi := binomialGradHess(y, base+acc[i])
				gh[i] = gradPair{float32(gi), float32(hi)}
			}
		default:
			raw := make([]float64, f.k)
			for i := lo; i < hi; i++ {
				m := math.Inf(-1)
				for k := range f.k {
					raw[k] = f.base[k] + f.acc[k][i]
					m = max(m, raw[k])
				}
				var s float64
				for k := range f.k {
					raw[k] = math.Exp(raw[k] - m)
					s += raw[k]
				}
				y := int(f.y[i])
				for k := range f.k {
					pk := raw[k] / s
					gk := pk
					if k == y {
						gk--
					}
					f.gh[k][i] = gradPair{float32(gk), float32(pk * (1 - pk))}
				}
			}
		}
	})
}

// binomialGradHess is scikit-learn's cgrad_hess_half_binomial, with
// exp(raw) instead of exp(-raw) where that would overflow.
func binomialGradHess(y, raw float64) (g, h float64) {
	if raw < -30 {
		e := math.Exp(raw)
		return ((1-y)*e - y) / (1 + e), e / ((1 + e) * (1 + e))
	}
	e := math.Exp(-raw)
	return ((1 - y) - y*e) / (1 + e), e / ((1 + e) * (1 + e))
}

// baseline is the loss's fit_intercept_only.
func baseline(loss Loss, y []float64, classes, k int) []float64 {
	n := float64(len(y))
	if loss == SquaredError {
		var s float64
		for _, v := range y {
			s += v
		}
		return []float64{s / n}
	}
	counts := make([]float64, max(classes, 2))
	for _, v := range y {
		counts[int(v)]++
	}
	if k == 1 {
		eps := 10 * 0x1p-52
		p := min(max(counts[1]/n, eps), 1-eps)
		return []float64{math.Log(p / (1 - p))}
	}
	eps := 0x1p-52
	out := make([]float64, k)
	var mean float64
	for c := range k {
		out[c] = math.Log(min(max(counts[c]/n, eps), 1-eps))
		mean += out[c]
	}
	mean /= float64(k)
	for c := range out {
		out[c] -= mean
	}
	return out
}

// loss is the mean loss of raw scores base + acc against y.
func (f *fitter) loss(y []float64, acc [][]float64) float64 {
	if len(y) == 0 {
		return 0
	}
	var s float64
	switch {
	case f.p.Loss == SquaredError:
		for i, v := range y {
			r := f.base[0] + acc[0][i] - v
			s += 0.5 * r * r
		}
	case f.k == 1:
		for i, v := range y {
			raw := f.base[0] + acc[0][i]
			s += log1pExp(raw) - v*raw
		}
	default:
		for i, v := range y {
			m := math.Inf(-1)
			for k := range f.k {
				m = max(m, f.base[k]+acc[k][i])
			}
			var e float64
			for k := range f.k {
				e += math.Exp(f.base[k] + acc[k][i] - m)
			}
			s += m + math.Log(e) - (f.base[int(v)] + acc[int(v)][i])
		}
	}
	return s / float64(len(y))
}

// log1pExp is log(1 + exp(x)) without overflow, as scikit-learn's
// log1pexp.
func log1pExp(x float64) float64 {
	switch {
	case x <= -37:
		return math.Exp(x)
	case x <= -2:
		return math.Log1p(math.Exp(x))
	case x <= 18:
		return math.Log(1 + math.Exp(x))
	case x <= 33.3:
		return x + math.Exp(-x)
	}
	return x
}

// shouldStop is scikit-learn's _should_stop on scores = −losses: stop when
// none of the last n scores beats the one before them by more than tol.
func shouldStop(losses []float64, n int, tol float64) bool {
	ref := n + 1
	if len(losses) < ref {
		return false
	}
	refScore := -losses[len(losses)-ref] + tol
	for _, l := range losses[len(losses)-ref+1:] {
		if -l > refScore {
			return false
		}
	}
	return true
}
