package train

import (
	"context"
	"fmt"
	"math"

	"github.com/modelci/modelci/internal/boost"
	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/model"
)

// boostingSkeleton makes m a tree model for the design's scorer: one leaf,
// so that it validates before the fit replaces its trees.
func boostingSkeleton(m *model.Model, k int) {
	m.SchemaVersion, m.Outputs = model.MaxSchemaVersion, 1
	m.Link = model.LinkIdentity
	switch {
	case k == 2:
		m.Link = model.LinkSigmoid
	case k > 2:
		m.Outputs, m.Link = k, model.LinkSoftmax
	}
	leaf := model.Tree{Output: -1, Feature: []int{-1}, Threshold: []float64{0}, Left: []int{-1}, Right: []int{-1}, MissingLeft: []bool{false}, Value: make([]float64, m.Outputs)}
	m.Predictor = &model.Block{Trees: &model.TreeEnsemble{
		Aggregation: model.AggregateSum, Comparison: model.CompareLessEqual, Precision: model.Float64,
		BaseScore: make([]float64, m.Outputs), Trees: []model.Tree{leaf},
	}}
}

// boostParams maps the settings onto the boosting library; early_stopping
// auto stops early above config.EarlyStoppingRows training rows, as
// scikit-learn's does.
func boostParams(mc ModelSettings, classes, rows, workers int) boost.Params {
	b := mc.Boosting
	p := boost.Params{
		Loss:               boost.SquaredError,
		LearningRate:       mc.LearningRate,
		MaxIter:            mc.MaxIter,
		MaxLeafNodes:       b.MaxLeafNodes,
		MaxDepth:           b.MaxDepth,
		MinSamplesLeaf:     b.MinSamplesLeaf,
		L2Regularization:   b.L2Regularization,
		MaxBins:            b.MaxBins,
		EarlyStopping:      b.EarlyStopping == config.EarlyStoppingTrue || (b.EarlyStopping == config.EarlyStoppingAuto && rows > config.EarlyStoppingRows),
		ValidationFraction: b.ValidationFraction,
		NIterNoChange:      b.NIterNoChange,
		Tol:                mc.Tol,
		Seed:               b.Seed,
		Workers:            workers,
	}
	if classes > 0 {
		p.Loss = boost.LogLoss
	}
	return p
}

// fitBoostingModel fits gradient-boosted trees on the encoded training
// columns: numeric features as they are (missing values as NaN under
// data.missing: keep), categories one-hot.
func fitBoostingModel(ctx context.Context, mc ModelSettings, d *design, t *table, trainSorted []int, workers int, m *model.Model, tr *model.Training) error {
	cols, y, err := denseColumns(ctx, d, t, trainSorted)
	if err != nil {
		return err
	}
	params := boostParams(mc, len(t.classes), len(y), workers)
	res, err := boost.Fit(ctx, boost.Data{Columns: cols, Y: y, Classes: len(t.classes), ReleaseColumns: true}, params)
	if err != nil {
		return fmt.Errorf("gradient boosting: %w", err)
	}
	m.Outputs, m.Link = res.Outputs, res.Link
	m.Predictor = &model.Block{Trees: res.Ensemble}
	tr.Iterations, tr.Converged = res.Iterations, true
	tr.Loss = trainLoss(res, y)
	tr.Solver, tr.Alpha, tr.FitIntercept = "", 0, false
	tr.MaxIter, tr.Tol, tr.LearningRate = mc.MaxIter, mc.Tol, mc.LearningRate
	b := mc.Boosting
	tr.Boosting = &model.BoostingTraining{
		Loss: string(params.Loss), MaxLeafNodes: b.MaxLeafNodes, MaxDepth: b.MaxDepth, MinSamplesLeaf: b.MinSamplesLeaf,
		L2Regularization: b.L2Regularization, MaxBins: b.MaxBins, EarlyStopping: params.EarlyStopping, Seed: b.Seed,
	}
	if params.EarlyStopping {
		tr.Boosting.ValidationFraction, tr.Boosting.NIterNoChange = b.ValidationFraction, b.NIterNoChange
	}
	return nil
}

// denseColumns encodes the training rows column by column, with their
// targets.
func denseColumns(ctx context.Context, d *design, t *table, trainSorted []int) ([][]float64, []float64, error) {
	p, n := d.p, len(trainSorted)
	cols := make([][]float64, p)
	for j := range cols {
		cols[j] = make([]float64, n)
	}
	y := make([]float64, n)
	block := make([]float64, blockRows*p)
	rows := make([]int, 0, blockRows)
	for lo := 0; lo < n; lo += blockRows {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		hi := min(lo+blockRows, n)
		rows = rows[:0]
		for _, pos := range trainSorted[lo:hi] {
			rows = append(rows, t.rows[pos])
		}
		if err := d.scorer.EncodeBlock(rows, block, p); err != nil {
			return nil, nil, err
		}
		for i := range hi - lo {
			row := block[i*p : (i+1)*p]
			for j, v := range row {
				cols[j][lo+i] = v
			}
			y[lo+i] = t.y[trainSorted[lo+i]]
		}
	}
	for i, v := range y {
		if math.IsNaN(v) {
			return nil, nil, fmt.Errorf("training row %d has no target", trainSorted[i]+1)
		}
	}
	return cols, y, nil
}

// trainLoss is the mean loss on the rows that trained the trees: half the
// squared error, or the log loss, as scikit-learn's train_score_ (negated).
func trainLoss(res *boost.Result, y []float64) float64 {
	if n := len(res.TrainLoss); n > 0 {
		return res.TrainLoss[n-1]
	}
	k := res.Outputs
	probs := make([]float64, max(k, 2))
	var sum float64
	for i, row := range res.TrainRows {
		raw := res.TrainRaw[i*k : (i+1)*k]
		switch res.Link {
		case model.LinkIdentity:
			d := y[row] - raw[0]
			sum += d * d / 2
		case model.LinkSigmoid:
			q := model.Sigmoid(raw[0])
			probs[0], probs[1] = 1-q, q
			sum -= math.Log(max(probs[int(y[row])], 1e-300))
		default:
			model.Softmax(raw, probs)
			sum -= math.Log(max(probs[int(y[row])], 1e-300))
		}
	}
	return sum / float64(len(res.TrainRows))
}
