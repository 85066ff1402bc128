// Package boost provides histogram gradient boosting: scikit-learn 1.2.1's
// HistGradientBoostingRegressor and HistGradientBoostingClassifier (itself
// LightGBM's algorithm) for numeric features with missing values, written
// as a model.TreeEnsemble.
//
// The algorithm follows scikit-learn's _hist_gradient_boosting closely:
//
//   - Binning (_BinMapper): each feature gets at most MaxBins bins for its
//     non-missing values plus bin MaxBins for missing values. The bin
//     thresholds are the midpoints of the distinct values when there are at
//     most MaxBins of them, else numpy's "midpoint" percentiles of the
//     values. Above 200,000 training rows the thresholds come from a
//     subsample of 200,000 rows drawn without replacement; scikit-learn
//     draws it with its own random_state, this package with a PCG
//     generator seeded from Params.Seed, so the rows differ (the binning of
//     smaller data sets is scikit-learn's exactly). Bins are uint8, stored
//     column by column.
//   - Gradients and hessians are float32 (scikit-learn's G_H_DTYPE), summed
//     into float64 histograms of (gradient, hessian, count) per bin. The
//     hessian of squared_error is the constant 1, so its histograms count
//     rows instead. A node's histogram is built from its rows only for the
//     smaller child; the sibling's is the parent's minus it.
//   - Trees grow best first (the node with the largest split gain splits
//     next, ties broken as Python's heapq breaks them) up to MaxLeafNodes
//     leaves and MaxDepth, with splitting.pyx's gain, node values,
//     min_samples_leaf, min_hessian_to_split = 1e-3 and min_gain_to_split
//     = 0. A feature with missing training values is scanned both ways, so
//     the missing values go to the side that gains more; otherwise they go
//     to the child with more training rows.
//   - Losses: squared_error (baseline: the mean), log_loss with the
//     sigmoid (two classes, baseline log-odds of the mean) or the softmax
//     with one tree per class per iteration (baseline: the symmetric
//     multinomial logit of the class priors, log p_k − mean_j log p_j).
//   - Early stopping on the loss of a validation split (stratified for
//     log_loss), stopping as scikit-learn's _should_stop does.
//
// Fit is deterministic: the same data and parameters give bit-identical
// trees whatever Params.Workers is, because every sum runs over rows in a
// fixed order and workers split the work by feature or by fixed row
// segments.
package boost

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"

	"github.com/modelci/modelci/internal/model"
)

// Loss is the loss that boosting minimises.
type Loss string

// Losses.
const (
	// SquaredError is scikit-learn's squared_error (half squared error).
	SquaredError Loss = "squared_error"
	// LogLoss is scikit-learn's log_loss: binomial for two classes,
	// multinomial for more.
	LogLoss Loss = "log_loss"
)

// scikit-learn's fixed splitting constants.
const (
	minHessianToSplit = 1e-3
	minGainToSplit    = 0
	// subsampleBins is _BinMapper's subsample.
	subsampleBins = 200000
	// almostInf clips the bin thresholds, as _binning does.
	almostInf = 1e300
	// nodeValueEps is compute_node_value's 1e-15.
	nodeValueEps = 1e-15
)

// Params are the boosting parameters, with scikit-learn's names in the
// errors of Validate. DefaultParams holds scikit-learn's defaults.
type Params struct {
	Loss Loss
	// LearningRate shrinks every leaf value (learning_rate).
	LearningRate float64
	// MaxIter is the number of boosting iterations (max_iter).
	MaxIter int
	// MaxLeafNodes bounds the leaves of a tree (max_leaf_nodes).
	MaxLeafNodes int
	// MaxDepth bounds the depth of a tree; 0 means no bound (max_depth).
	MaxDepth int
	// MinSamplesLeaf is the fewest training rows a leaf holds
	// (min_samples_leaf).
	MinSamplesLeaf int
	// L2Regularization penalises leaf values (l2_regularization).
	L2Regularization float64
	// MaxBins is the number of bins of non-missing values, 2 to 255
	// (max_bins).
	MaxBins int
	// EarlyStopping holds out ValidationFraction of the rows and stops when
	// the validation loss has not improved by more than Tol on the best of
	// the NIterNoChange iterations before (early_stopping; the caller
	// decides scikit-learn's "auto": on above 10,000 rows).
	EarlyStopping      bool
	ValidationFraction float64
	NIterNoChange      int
	Tol                float64
	// Seed seeds the binning subsample and the validation split.
	Seed uint32
	// Workers bounds the goroutines that build histograms; 0 means
	// GOMAXPROCS. The result does not depend on it.
	Workers int
}

// DefaultParams returns scikit-learn 1.2.1's defaults for loss (with
// early stopping off).
func DefaultParams(loss Loss) Params {
	return Params{
		Loss:               loss,
		LearningRate:       0.1,
		MaxIter:            100,
		MaxLeafNodes:       31,
		MinSamplesLeaf:     20,
		MaxBins:            255,
		ValidationFraction: 0.1,
		NIterNoChange:      10,
		Tol:                1e-7,
	}
}

// ErrInvalid marks invalid parameters or data; callers match it with
// errors.Is.
var ErrInvalid = errors.New("invalid")

// Validate reports the first out-of-range parameter by its scikit-learn
// name.
func (p Params) Validate() error {
	bad := func(name string, v any, want string) error {
		return fmt.Errorf("gradient boosting: %w parameter %s = %v: want %s", ErrInvalid, name, v, want)
	}
	switch {
	case p.Loss != SquaredError && p.Loss != LogLoss:
		return bad("loss", fmt.Sprintf("%q", p.Loss), `"squared_error" or "log_loss"`)
	case !(p.LearningRate > 0) || math.IsInf(p.LearningRate, 1):
		return bad("learning_rate", p.LearningRate, "a finite number above 0")
	case p.MaxIter < 1:
		return bad("max_iter", p.MaxIter, "at least 1")
	case p.MaxLeafNodes < 2:
		return bad("max_leaf_nodes", p.MaxLeafNodes, "at least 2")
	case p.MaxDepth < 0:
		return bad("max_depth", p.MaxDepth, "at least 1, or 0 for no bound")
	case p.MinSamplesLeaf < 1:
		return bad("min_samples_leaf", p.MinSamplesLeaf, "at least 1")
	case !(p.L2Regularization >= 0) || math.IsInf(p.L2Regularization, 1):
		return bad("l2_regularization", p.L2Regularization, "a finite number, at least 0")
	case p.MaxBins < 2 || p.MaxBins > 255:
		return bad("max_bins", p.MaxBins, "2 to 255")
	case !(p.ValidationFraction > 0 && p.ValidationFraction < 1):
		return bad("validation_fraction", p.ValidationFraction, "strictly between 0 and 1")
	case p.NIterNoChange < 1:
		return bad("n_iter_no_change", p.NIterNoChange, "at least 1")
	case !(p.Tol >= 0) || math.IsInf(p.Tol, 1):
		return bad("tol", p.Tol, "a finite number, at least 0")
	case p.Workers < 0:
		return bad("workers", p.Workers, "at least 0")
	}
	return nil
}

// Data is the training data, column-major: Columns[j][i] is feature j of
// row i, NaN when missing. Y is the target for regression, or the class
// index 0..Classes-1 for log_loss. Classes is 0 for regression, 2 for a
// binary and K for a multiclass target.
//
// ReleaseColumns lets Fit drop the float64 input as it goes: once feature
// j is binned, Fit sets Columns[j] to nil, in the caller's slice, so its
// memory is reused during the fit (the binned data is an eighth of its
// size); Fit runs the garbage collector once after binning. The caller
// must not use Columns after Fit; the result is the same either way.
type Data struct {
	Columns        [][]float64
	Y              []float64
	Classes        int
	ReleaseColumns bool
}

// Result is a fitted ensemble.
type Result struct {
	// Ensemble holds the trees: Comparison "<=", Precision float64,
	// Aggregation sum. Tree.Feature indexes Data.Columns; a value goes left
	// iff value <= Threshold and a missing value iff MissingLeft. Gain is
	// scikit-learn's split gain and Cover the number of training rows that
	// reached the node. Trees are in iteration order, and within an
	// iteration in class order (Tree.Output).
	Ensemble *model.TreeEnsemble
	// Outputs is K: 1 for regression and binary, Classes for multiclass.
	Outputs int
	// Link is model.LinkIdentity, LinkSigmoid or LinkSoftmax.
	Link string
	// Iterations is the number of boosting iterations fitted.
	Iterations int
	// TrainLoss and ValidationLoss are the mean loss (half squared error,
	// or log loss) before the first tree (index 0) and after each
	// iteration, computed only with early stopping (as scikit-learn's
	// train_score_ and validation_score_, with the sign flipped).
	TrainLoss, ValidationLoss []float64
	// TrainRows are the rows of Data that trained the trees, ascending:
	// all rows without early stopping, the rows outside the validation
	// split with it. ValidationRows are the others.
	TrainRows, ValidationRows []int
	// TrainRaw holds the raw scores of the training rows as fitting
	// computed them, row-major (len(TrainRows) × Outputs): BaseScore plus
	// the sum of the leaf values in tree order, as model.Program scores.
	TrainRaw []float64
}

// Fit fits gradient boosting to d. It returns ctx's error when ctx ends.
func Fit(ctx context.Context, d Data, p Params) (*Result, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := checkData(d, p.Loss); err != nil {
		return nil, fmt.Errorf("gradient boosting: %w", err)
	}
	workers := p.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	f := &fitter{ctx: ctx, p: p, d: d, workers: workers}
	res, err := f.fit()
	if err != nil {
		return nil, fmt.Errorf("gradient boosting: %w", err)
	}
	return res, nil
}

func checkData(d Data, loss Loss) error {
	n := len(d.Y)
	if len(d.Columns) == 0 {
		return fmt.Errorf("%w data: no feature columns", ErrInvalid)
	}
	if n == 0 {
		return fmt.Errorf("%w data: no rows", ErrInvalid)
	}
	if n > math.MaxUint32/2 {
		return fmt.Errorf("%w data: %d rows, at most %d", ErrInvalid, n, math.MaxUint32/2)
	}
	for j, c := range d.Columns {
		if len(c) != n {
			return fmt.Errorf("%w data: column %d has %d rows, the target %d", ErrInvalid, j, len(c), n)
		}
	}
	switch loss {
	case SquaredError:
		if d.Classes != 0 {
			return fmt.Errorf("%w data: squared_error is for regression, got %d classes", ErrInvalid, d.Classes)
		}
		for i, y := range d.Y {
			if math.IsNaN(y) || math.IsInf(y, 0) {
				return fmt.Errorf("%w data: the target of row %d is %v", ErrInvalid, i, y)
			}
		}
	case LogLoss:
		if d.Classes < 2 || d.Classes > model.MaxOutputs {
			return fmt.Errorf("%w data: log_loss needs 2 to %d classes, got %d", ErrInvalid, model.MaxOutputs, d.Classes)
		}
		for i, y := range d.Y {
			if !(y >= 0 && y < float64(d.Classes)) || y != math.Trunc(y) {
				return fmt.Errorf("%w data: the class index of row %d is %v, want an integer in [0, %d)", ErrInvalid, i, y, d.Classes)
			}
		}
	}
	return nil
}
