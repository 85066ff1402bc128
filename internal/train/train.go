// Package train provides the training pipeline: data selection and
// missing-value handling, the scikit-learn-compatible split, preprocessing
// learned from the training rows only, the solvers (QR, normal equations,
// gradient descent, ridge, L-BFGS logistic regression), evaluation on the
// held-out rows, the training-data profile and the model directory.
package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/modelci/modelci/internal/atomicfile"
	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/dataset"
	"github.com/modelci/modelci/internal/evaluate"
	"github.com/modelci/modelci/internal/metrics"
	"github.com/modelci/modelci/internal/model"
	"github.com/modelci/modelci/internal/profile"
)

// Options tune a training run.
type Options struct {
	// Workers bounds parallelism; 0 means GOMAXPROCS. Results do not depend
	// on it.
	Workers int
	// MemoryBudget bounds the working memory of the fit, in bytes, beyond
	// the loaded data: a fit estimated to need more is refused with
	// ErrMemoryBudget before anything is allocated. 0 means
	// DefaultMemoryBudget; a negative value means no limit.
	MemoryBudget int64
}

// Stage is the wall time of one stage of a run.
type Stage struct {
	Name     string
	Duration time.Duration
}

// Result is everything a training run produced.
type Result struct {
	Model   *model.Model
	Metrics *model.Metrics
	Profile *profile.Profile
	// Files are the encoded model directory: model.json, metrics.json and
	// profile.json.
	Files map[string][]byte
	// Frame is the data that was read; Selection's rows index it (test rows
	// in scikit-learn's order, training rows in file order).
	Frame     *dataset.Frame
	Selection *Selection
	// Test is the model's scores on the test rows.
	Test *evaluate.Result
	// Stages are the timings of the run.
	Stages []Stage
}

// LoadData reads the config's data file with the options the config implies.
func LoadData(ctx context.Context, cfg *config.Config, workers int) (*dataset.Frame, error) {
	opts := dataset.Options{
		Delimiter:    cfg.DelimiterRune(),
		Categorical:  append(slices.Clone(cfg.Data.Categorical), cfg.Data.Dates...),
		Workers:      workers,
		AllowFIFO:    cfg.Data.AllowFIFO,
		DecimalComma: cfg.DecimalComma(),
	}
	opts.MaxBytes, opts.MaxRows = cfg.Data.Limits()
	if cfg.Model.Type == config.TypeLogistic {
		// Class labels are labels, even when they look like numbers.
		opts.Categorical = append(opts.Categorical, cfg.Data.Target)
	}
	if len(cfg.Data.Features) > 0 {
		opts.Columns = append(slices.Clone(cfg.Data.Features), cfg.Data.Target)
	}
	f, err := dataset.Load(ctx, cfg.DataPath(), opts)
	if errors.Is(err, dataset.ErrUnknownColumn) {
		// data.features, data.target, data.categorical or data.dates names a column
		// the file lacks: a configuration error, like a wrong data.target
		// found later.
		return nil, fmt.Errorf("load data: %s: %w: %w", cfg.File, config.ErrInvalid, err)
	}
	if err != nil {
		return nil, fmt.Errorf("load data: %w", err)
	}
	return f, nil
}

// Train reads the data named by the config and fits the model.
func Train(ctx context.Context, cfg *config.Config, opts Options) (*Result, error) {
	start := time.Now()
	f, err := LoadData(ctx, cfg, opts.Workers)
	if err != nil {
		return nil, err
	}
	load := time.Since(start)
	res, err := Fit(ctx, cfg, f, opts)
	if err != nil {
		return nil, err
	}
	res.Stages = append([]Stage{{"load data", load}}, res.Stages...)
	return res, nil
}

// Fit trains the model on a loaded frame.
func Fit(ctx context.Context, cfg *config.Config, f *dataset.Frame, opts Options) (*Result, error) {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	task := metrics.TaskRegression
	if cfg.Task() == model.TaskClassification {
		task = metrics.TaskClassification
	}
	metricNames := cfg.Metrics
	if len(metricNames) == 0 {
		metricNames = metrics.Defaults(task)
	}
	if err := metrics.Validate(task, metricNames); err != nil {
		return nil, fmt.Errorf("%s: metrics: %w: %w", cfg.File, config.ErrInvalid, err)
	}
	var stages []Stage
	mark := time.Now()
	stage := func(name string) {
		now := time.Now()
		stages = append(stages, Stage{name, now.Sub(mark)})
		mark = now
	}

	t, sel, trainSorted, err := selectRows(cfg, f)
	if err != nil {
		return nil, err
	}
	testRows, trainRows := sel.Test, sel.Train
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	l, err := learnPreprocessing(cfg, t, trainRows, workers)
	if err != nil {
		return nil, err
	}
	m := &model.Model{
		SchemaVersion: model.SchemaVersion,
		Name:          cfg.Name,
		Task:          cfg.Task(),
		Algorithm:     cfg.Model.Type,
		Target:        cfg.Data.Target,
		Classes:       t.classes,
		Features:      l.features,
	}
	enc, err := model.NewEncoder(m.Features)
	if err != nil {
		return nil, err
	}
	p := enc.Width()
	var constCols []int
	for i, c := range l.constant {
		if c {
			constCols = append(constCols, enc.Offset(i))
		}
	}
	m.Columns = model.ColumnNames(m.Features)
	m.Coefficients = make([]float64, p)
	skeleton, err := model.NewPredictor(m)
	if err != nil {
		return nil, err
	}
	scorer, err := evaluate.NewScorer(skeleton, f)
	if err != nil {
		return nil, err
	}
	stage("prepare")

	warnings := append(slices.Clone(t.warnings), l.warnings...)
	mc := cfg.Model
	intercept := *mc.FitIntercept
	tr := model.Training{
		Solver:       mc.Solver,
		Alpha:        *mc.Alpha,
		FitIntercept: intercept,
		Standardize:  *mc.Standardize,
		TrainRows:    len(trainRows),
		TestRows:     len(testRows),
		TestSize:     *cfg.Split.TestSize,
		Seed:         *cfg.Split.Seed,
		Decimal:      decimalSetting(cfg),
		DataSHA256:   f.SHA256,
	}
	if mc.Solver == config.SolverGD || mc.Solver == config.SolverLBFGS {
		tr.MaxIter, tr.Tol = *mc.MaxIter, *mc.Tol
	}
	if mc.Solver == config.SolverGD {
		tr.LearningRate = *mc.LearningRate
	}
	if err := checkBudget(mc, len(trainSorted), p, workers, opts.MemoryBudget); err != nil {
		return nil, err
	}
	if mc.Type == config.TypeLogistic {
		x := make([]float64, len(trainRows)*p)
		y := make([]float64, len(trainRows))
		for i, pos := range trainSorted {
			if i%blockRows == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			if err := scorer.EncodeRow(t.rows[pos], x[i*p:(i+1)*p]); err != nil {
				return nil, err
			}
			y[i] = t.y[pos]
		}
		lf, err := fitLogistic(ctx, &logisticProblem{x: x, y: y, n: len(y), p: p, alpha: *mc.Alpha, intercept: intercept}, mc)
		if err != nil {
			return nil, err
		}
		m.Coefficients, m.Intercept = lf.coef, lf.intercept
		tr.Iterations, tr.Converged, tr.Loss = lf.iterations, lf.converged, lf.loss
	} else {
		xbar := make([]float64, p)
		ybar := 0.0
		if intercept {
			xbar = l.means(enc)
			for _, pos := range trainSorted {
				ybar += t.y[pos]
			}
			ybar /= float64(len(trainSorted))
		}
		encRow := func(pos []int, dst []float64) error {
			rows := make([]int, len(pos))
			for k, q := range pos {
				rows[k] = t.rows[q]
			}
			if err := scorer.EncodeBlock(rows, dst, p+1); err != nil {
				return err
			}
			for k, q := range pos {
				row := dst[k*(p+1) : (k+1)*(p+1)]
				for j, v := range xbar {
					row[j] -= v
				}
				row[p] = t.y[q] - ybar
			}
			return nil
		}
		alpha := 0.0
		if mc.Type == config.TypeRidge {
			alpha = *mc.Alpha
		}
		var lf *linearFit
		switch {
		case wide(len(trainSorted), p):
			d, err := denseDesign(ctx, trainSorted, p, encRow)
			if err != nil {
				return nil, err
			}
			lf, err = abandonOnCancel(ctx, func() (*linearFit, error) {
				return solveWide(ctx, newWideProblem(d, len(trainSorted), p), alpha, mc)
			})
			if err != nil {
				return nil, err
			}
			if alpha == 0 {
				warnings = append(warnings, fmt.Sprintf("the design has %d columns but only %d training rows, so least squares has many exact solutions; the minimum-norm one was used, as numpy's lstsq does; consider model.type: ridge or fewer columns", p, len(trainSorted)))
			}
		case mc.Solver == config.SolverQR:
			r, err := tsqr(ctx, trainSorted, p, encRow, workers)
			if err != nil {
				return nil, err
			}
			lf, err = abandonOnCancel(ctx, func() (*linearFit, error) { return solveQR(r, p, alpha, len(trainSorted)) })
			if err != nil {
				return nil, err
			}
		default:
			g, b, yy, err := gram(ctx, trainSorted, p, encRow, workers)
			if err != nil {
				return nil, err
			}
			if mc.Solver == config.SolverNormal {
				lf, err = abandonOnCancel(ctx, func() (*linearFit, error) { return solveNormal(g, b, yy, p, alpha, len(trainSorted)) })
			} else {
				lf, err = abandonOnCancel(ctx, func() (*linearFit, error) { return solveGD(ctx, g, b, yy, p, mc, len(trainSorted)) })
			}
			if err != nil {
				return nil, err
			}
		}
		m.Coefficients = lf.coef
		m.Intercept = ybar
		for j, c := range lf.coef {
			m.Intercept -= xbar[j] * c
		}
		tr.Iterations, tr.Converged, tr.Loss = lf.iterations, lf.converged, lf.loss
		warnings = append(warnings, describeNull(lf.nullspace, m.Columns, oneHotBlocks(enc, m.Features), intercept, constCols)...)
	}
	for _, j := range constCols {
		// Zero up to rounding already: the encoded column is all zeros.
		m.Coefficients[j] = 0
	}
	if !tr.Converged {
		warnings = append(warnings, fmt.Sprintf("%s solver did not converge in %d iterations (tol %g); raise model.max_iter or model.learning_rate", tr.Solver, tr.Iterations, tr.Tol))
	}
	m.Training = tr
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("fit %s model: %w", mc.Type, err)
	}
	pred, err := model.NewPredictor(m)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	stage("fit")

	test, err := evaluate.Evaluate(pred, f, testRows, metricNames)
	if err != nil {
		return nil, fmt.Errorf("evaluate on the test rows: %w", err)
	}
	stage("evaluate")

	prof, err := buildProfile(pred, f, trainRows, l)
	if err != nil {
		return nil, err
	}
	stage("profile")

	mf := &model.Metrics{
		SchemaVersion: model.SchemaVersion,
		Name:          m.Name,
		Task:          m.Task,
		Metrics:       map[string]float64{},
		Directions:    map[string]string{},
		Split: model.SplitInfo{
			TrainRows: len(trainRows),
			TestRows:  len(testRows),
			TestSize:  *cfg.Split.TestSize,
			Seed:      *cfg.Split.Seed,
		},
		Data: model.DataInfo{
			Path:                   cfg.Data.Path,
			SHA256:                 f.SHA256,
			Rows:                   f.Rows,
			Used:                   len(t.rows),
			DroppedMissingTarget:   t.droppedTarget,
			DroppedMissingFeatures: t.droppedFeatures,
			Columns:                map[string]string{},
		},
		Classes:         m.Classes,
		ConfusionMatrix: test.Confusion,
	}
	for _, v := range test.Metrics {
		mf.Metrics[v.Name] = v.Value
		mf.Directions[v.Name] = string(v.Direction)
	}
	for _, s := range test.Skipped {
		if mf.Skipped == nil {
			mf.Skipped = map[string]string{}
		}
		mf.Skipped[s.Name] = s.Reason
	}
	for i, c := range t.features {
		mf.Data.Columns[c.Name] = c.Kind.String()
		if m.Features[i].Type == model.Date {
			mf.Data.Columns[c.Name] = model.Date
		}
	}
	mf.Data.Columns[t.target.Name] = t.target.Kind.String()
	imputed := countImputed(t, m.Features, trainRows, testRows)
	if len(imputed) > 0 {
		mf.Data.Imputed = imputed
	}
	if len(test.Unseen) > 0 {
		mf.UnseenCategories = test.Unseen
		names := make([]string, 0, len(test.Unseen))
		for n := range test.Unseen {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			warnings = append(warnings, fmt.Sprintf("feature %q: %d test value(s) have a category never seen in the training rows; they were encoded as all zeros", n, test.Unseen[n]))
		}
	}
	mf.Warnings = warnings

	files, err := encodeFiles(m, mf, prof)
	if err != nil {
		return nil, err
	}
	stage("encode")
	return &Result{
		Model:     m,
		Metrics:   mf,
		Profile:   prof,
		Files:     files,
		Frame:     f,
		Selection: sel,
		Test:      test,
		Stages:    stages,
	}, nil
}

// checkClasses explains a class that appears only in the test rows before
// decoding the labels of a classifier.
func (t *table) checkClasses(testPos, trainPos []int) error {
	tc := t.target
	inTrain := map[string]bool{}
	for _, p := range trainPos {
		inTrain[label(tc, t.rows[p])] = true
	}
	var only []string
	seen := map[string]bool{}
	for _, p := range testPos {
		l := label(tc, t.rows[p])
		if !inTrain[l] && !seen[l] {
			seen[l] = true
			only = append(only, l)
		}
	}
	if len(only) > 0 {
		sort.Strings(only)
		return dataErr(t.frame.Name, tc.Name, "class label(s) %s appear only in the test rows, so the model cannot learn them; add rows with these labels or change split.seed/split.test_size", dataset.QuoteList(only))
	}
	return t.decodeClasses(t.frame.Name)
}

// means returns the mean of every encoded column over the training rows,
// from the statistics learned in learnPreprocessing.
func (l *learned) means(enc *model.Encoder) []float64 {
	out := make([]float64, enc.Width())
	for i := range l.features {
		copy(out[enc.Offset(i):], l.encMeans[i])
	}
	return out
}

func oneHotBlocks(enc *model.Encoder, fs []model.Feature) [][2]int {
	var out [][2]int
	for i, f := range fs {
		if f.Type == model.Categorical {
			out = append(out, [2]int{enc.Offset(i), enc.Offset(i) + len(f.Categories)})
		}
	}
	return out
}

// countImputed counts, per feature, the missing values of the training
// and test rows (for a date feature, also the values that are not dates).
func countImputed(t *table, fs []model.Feature, trainRows, testRows []int) map[string]int {
	out := map[string]int{}
	for i, c := range t.features {
		var notDate []bool
		if fs[i].Type == model.Date {
			notDate = make([]bool, len(c.Levels))
			for k, l := range c.Levels {
				_, ok := model.ParseDate(l)
				notDate[k] = !ok
			}
		} else if c.Missing == 0 {
			continue
		}
		n := 0
		for _, rows := range [][]int{trainRows, testRows} {
			for _, r := range rows {
				if isMissing(c, r) || (notDate != nil && notDate[c.Codes[r]]) {
					n++
				}
			}
		}
		if n > 0 {
			out[c.Name] = n
		}
	}
	return out
}

// buildProfile assembles profile.json: the feature profiles learned in
// preprocessing, plus the target and the model's predictions on the
// training rows (bins from sampleRows, like the features).
func buildProfile(pred *model.Predictor, f *dataset.Frame, trainRows []int, l *learned) (*profile.Profile, error) {
	prof := &profile.Profile{
		SchemaVersion: profile.SchemaVersion,
		Rows:          len(trainRows),
		Features:      profiled(l.profiles),
	}
	rows := sampleRows(trainRows)
	s, err := evaluate.NewScorer(pred, f)
	if err != nil {
		return nil, err
	}
	sc, err := s.Score(rows)
	if err != nil {
		return nil, err
	}
	m := pred.Model()
	y, _, err := evaluate.Targets(m, f, sc.Rows)
	if err != nil {
		return nil, err
	}
	if m.IsClassifier() {
		codes := make([]int32, len(y))
		for i, v := range y {
			codes[i] = int32(v)
		}
		tp := profile.CategoricalFeature(m.Target, codes, m.Classes)
		prof.Target = &tp
		pp := profile.NumericFeature("probability", sc.Proba, profile.DefaultBins)
		prof.Prediction = &pp
	} else {
		tp := profile.NumericFeature(m.Target, y, profile.DefaultBins)
		prof.Target = &tp
		pp := profile.NumericFeature("prediction", sc.Pred, profile.DefaultBins)
		prof.Prediction = &pp
	}
	return prof, nil
}

// encodeFiles renders the model directory deterministically.
func encodeFiles(m *model.Model, mf *model.Metrics, prof *profile.Profile) (map[string][]byte, error) {
	if err := finiteMetrics(mf); err != nil {
		return nil, err
	}
	mb, err := model.Marshal(mf)
	if err != nil {
		return nil, err
	}
	pb, err := model.Marshal(prof)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{model.FileMetrics: mb, model.FileProfile: pb}
	modelJSON, err := m.Seal(files)
	if err != nil {
		return nil, err
	}
	files[model.FileModel] = modelJSON
	return files, nil
}

func finiteMetrics(mf *model.Metrics) error {
	for name, v := range mf.Metrics {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			delete(mf.Metrics, name)
			delete(mf.Directions, name)
			if mf.Skipped == nil {
				mf.Skipped = map[string]string{}
			}
			mf.Skipped[name] = "not finite: " + strconv.FormatFloat(v, 'g', -1, 64)
		}
	}
	return nil
}

// Write writes the model directory atomically: all three files appear
// together or the previous directory stays as it was.
func Write(dir string, r *Result) error {
	return atomicfile.WriteDir(dir, r.Files)
}
