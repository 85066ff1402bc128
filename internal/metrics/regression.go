package metrics

import (
	"fmt"
	"math"
)

// Regression computes the requested regression metrics (all of Defaults
// when names is empty) for targets yTrue and predictions yPred, in the order
// requested. Metrics that are undefined for the data are returned in Skipped
// with the reason instead of as values:
//
//   - r2 with fewer than two rows (scikit-learn warns and returns NaN);
//   - any metric whose value overflows float64.
//
// r2 follows scikit-learn 1.2's force_finite behaviour: 1 when the residual
// sum of squares is exactly 0, 0 when only the total sum of squares is 0
// (constant yTrue with imperfect predictions). Note that the mean of a
// constant column such as [0.1, 0.1, 0.1] is not always exactly 0.1 in
// floating point, in which case, as in scikit-learn, the total sum of squares
// is tiny but not 0 and r2 is a large negative number.
//
// It fails for an unknown or non-regression metric name, different lengths,
// empty inputs and NaN or Inf values.
func Regression(yTrue, yPred []float64, names []string) ([]Value, []Skipped, error) {
	names, err := resolve(TaskRegression, names)
	if err != nil {
		return nil, nil, fmt.Errorf("regression metrics: %w", err)
	}
	if err := checkRegression(yTrue, yPred); err != nil {
		return nil, nil, fmt.Errorf("regression metrics: %w", err)
	}
	n := len(yTrue)
	fn := float64(n)

	// One pass for the four sums and the maximum; the sums share numpy's
	// summation tree because it depends only on n.
	const (
		sSq  = iota // (y - p)^2
		sAbs        // |p - y|
		sAPE        // |p - y| / max(|y|, eps)
		sY          // y, for the mean
	)
	maxAbs := 0.0
	sums := npSums(n, maxSeries, func(lo, m int, buf *termBuf) {
		yt, yp := yTrue[lo:lo+m], yPred[lo:lo+m]
		sq, ab, ape, ys := buf[sSq][:m], buf[sAbs][:m], buf[sAPE][:m], buf[sY][:m]
		for i := range yt {
			y := yt[i]
			d := y - yp[i]
			a := math.Abs(d)
			sq[i] = float64(d * d) // the conversion forbids fusing into an FMA
			ab[i] = a
			ape[i] = APE(y, a)
			ys[i] = y
			if a > maxAbs {
				maxAbs = a
			}
		}
	})

	var res result
	for _, name := range names {
		switch name {
		case nameMSE:
			res.add(name, sums[sSq]/fn)
		case nameRMSE:
			res.add(name, math.Sqrt(sums[sSq]/fn))
		case nameMAE:
			res.add(name, sums[sAbs]/fn)
		case nameMAPE:
			res.add(name, sums[sAPE]/fn)
		case nameMaxError:
			res.add(name, maxAbs)
		case nameR2:
			if n < 2 {
				res.skip(name, "R² is not defined for fewer than two rows (scikit-learn returns NaN)")
				continue
			}
			res.add(name, r2(yTrue, sums[sSq], sums[sY]/fn))
		}
	}
	return res.values, res.skipped, nil
}

// r2 is scikit-learn's r2_score (force_finite=True) from the residual sum of
// squares and the mean of yTrue.
func r2(yTrue []float64, ssRes, mean float64) float64 {
	ssTot := npSums(len(yTrue), 1, func(lo, m int, buf *termBuf) {
		dst := buf[0][:m]
		for i, y := range yTrue[lo : lo+m] {
			d := y - mean
			dst[i] = float64(d * d)
		}
	})[0]
	switch {
	case ssRes == 0:
		return 1
	case ssTot == 0:
		return 0
	default:
		return 1 - ssRes/ssTot
	}
}

func checkRegression(yTrue, yPred []float64) error {
	if len(yTrue) != len(yPred) {
		return fmt.Errorf("%w: y_true has %d values but y_pred has %d", ErrInvalidInput, len(yTrue), len(yPred))
	}
	if len(yTrue) == 0 {
		return fmt.Errorf("%w: no rows to evaluate", ErrInvalidInput)
	}
	if err := checkFinite("y_true", yTrue); err != nil {
		return err
	}
	return checkFinite("y_pred", yPred)
}

func checkFinite(what string, a []float64) error {
	for i, v := range a {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: %s[%d] is %v; values must be finite", ErrInvalidInput, what, i, v)
		}
	}
	return nil
}

// APE is one row's absolute percentage error as sklearn's
// mean_absolute_percentage_error computes it: |error| / max(|y|, eps).
func APE(y, absErr float64) float64 {
	return absErr / math.Max(math.Abs(y), float64Eps)
}
