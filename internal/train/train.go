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
	if cfg.Task() == config.TaskClassification {
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

// Fit trains the model on a loaded frame: it selects the rows, learns the
// preprocessing, fits the estimator, evaluates it on the test rows, builds
// the training profile and encodes the model directory.
func Fit(ctx context.Context, cfg *config.Config, f *dataset.Frame, opts Options) (*Result, error) {
	s, err := Resolve(cfg)
	if err != nil {
		return nil, err
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	clock := newStageClock()

	t, sel, trainSorted, err := selectRows(cfg, f)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l, err := learnPreprocessing(&s, t, sel.Train, workers)
	if err != nil {
		return nil, err
	}
	d, err := newDesign(&s, t, l, f)
	if err != nil {
		return nil, err
	}
	clock.stage("prepare")

	m, warnings, err := fitModel(ctx, &s, d, t, l, f, sel, trainSorted, workers, opts.MemoryBudget)
	if err != nil {
		return nil, err
	}
	pred, err := model.NewPredictor(m)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	clock.stage("fit")

	test, err := evaluate.Evaluate(pred, f, sel.Test, s.Metrics)
	if err != nil {
		return nil, fmt.Errorf("evaluate on the test rows: %w", err)
	}
	clock.stage("evaluate")

	prof, err := buildProfile(pred, f, sel.Train, l)
	if err != nil {
		return nil, err
	}
	clock.stage("profile")

	mf := metricsFile(&s, m, t, f, sel, test, append(warnings, unseenWarnings(test.Unseen)...))
	files, err := encodeFiles(m, mf, prof)
	if err != nil {
		return nil, err
	}
	clock.stage("encode")
	return &Result{
		Model:     m,
		Metrics:   mf,
		Profile:   prof,
		Files:     files,
		Frame:     f,
		Selection: sel,
		Test:      test,
		Stages:    clock.stages,
	}, nil
}

// stageClock times the stages of a fit.
type stageClock struct {
	stages []Stage
	mark   time.Time
}

func newStageClock() *stageClock { return &stageClock{mark: time.Now()} }

// stage records the time since the previous stage under name.
func (c *stageClock) stage(name string) {
	now := time.Now()
	c.stages = append(c.stages, Stage{name, now.Sub(c.mark)})
	c.mark = now
}

// design is the model skeleton and the encoder of the learned
// preprocessing: the encoded columns the estimator fits.
type design struct {
	skeleton *model.Model
	enc      *model.Encoder
	scorer   *evaluate.Scorer
	// p is the number of encoded columns; constCols are the encoded
	// columns of constant numeric features, whose coefficients are 0.
	p         int
	constCols []int
}

// newDesign lays out the encoded columns of the learned preprocessing.
func newDesign(s *Settings, t *table, l *learned, f *dataset.Frame) (*design, error) {
	m := &model.Model{
		SchemaVersion: model.SchemaVersion,
		Name:          s.Name,
		Task:          s.Task,
		Algorithm:     s.Model.Type,
		Target:        s.Target,
		Classes:       t.classes,
		Features:      l.features,
	}
	enc, err := model.NewEncoder(m.Features)
	if err != nil {
		return nil, err
	}
	d := &design{skeleton: m, enc: enc, p: enc.Width()}
	for i, c := range l.constant {
		if c {
			d.constCols = append(d.constCols, enc.Offset(i))
		}
	}
	m.Columns = model.ColumnNames(m.Features)
	if s.Model.Type == config.TypeGradientBoosting {
		boostingSkeleton(m, len(t.classes))
	} else if k := len(t.classes); k > 2 {
		// Three or more classes: a multinomial model, schema version 2.
		m.SchemaVersion, m.Outputs, m.Link = model.MaxSchemaVersion, k, model.LinkSoftmax
		lin := &model.LinearBlock{Intercepts: make([]float64, k), Coefficients: make([][]float64, k)}
		for c := range lin.Coefficients {
			lin.Coefficients[c] = make([]float64, d.p)
		}
		m.Predictor = &model.Block{Linear: lin}
	} else {
		m.Coefficients = make([]float64, d.p)
	}
	pred, err := model.NewPredictor(m)
	if err != nil {
		return nil, err
	}
	if d.scorer, err = evaluate.NewScorer(pred, f); err != nil {
		return nil, err
	}
	return d, nil
}

// trainingRecord is what model.json records of the fit's settings, before
// the fit fills in its outcome.
func trainingRecord(s *Settings, sel *Selection, f *dataset.Frame) model.Training {
	mc := s.Model
	tr := model.Training{
		Solver:       mc.Solver,
		Alpha:        mc.Alpha,
		FitIntercept: mc.FitIntercept,
		Standardize:  mc.Standardize,
		TrainRows:    len(sel.Train),
		TestRows:     len(sel.Test),
		TestSize:     s.TestSize,
		Seed:         s.Seed,
		Decimal:      s.Decimal,
		DataSHA256:   f.SHA256,
	}
	if mc.Solver == config.SolverGD || mc.Solver == config.SolverLBFGS {
		tr.MaxIter, tr.Tol = mc.MaxIter, mc.Tol
	}
	if mc.Solver == config.SolverGD {
		tr.LearningRate = mc.LearningRate
	}
	return tr
}

// fitModel fits the estimator on the training rows and returns the model
// with its coefficients and training record, and the fit's warnings.
func fitModel(ctx context.Context, s *Settings, d *design, t *table, l *learned, f *dataset.Frame, sel *Selection, trainSorted []int, workers int, budget int64) (*model.Model, []string, error) {
	m := d.skeleton
	warnings := append(slices.Clone(t.warnings), l.warnings...)
	tr := trainingRecord(s, sel, f)
	if err := checkBudget(s.Model, len(trainSorted), d.p, m.Outputs, workers, budget); err != nil {
		return nil, nil, err
	}
	var err error
	switch {
	case s.Model.Type == config.TypeGradientBoosting:
		err = fitBoostingModel(ctx, s.Model, d, t, trainSorted, workers, m, &tr)
	case s.Model.Type == config.TypeLogistic && m.Predictor != nil:
		err = fitMultinomialModel(ctx, s.Model, d, t, trainSorted, workers, m, &tr)
	case s.Model.Type == config.TypeLogistic:
		err = fitLogisticModel(ctx, s.Model, d, t, trainSorted, m, &tr)
	default:
		var w []string
		w, err = fitLinearModel(ctx, s.Model, d, t, l, trainSorted, workers, m, &tr)
		warnings = append(warnings, w...)
	}
	if err != nil {
		return nil, nil, err
	}
	for _, j := range d.constCols {
		// Zero up to rounding already: the encoded column is all zeros.
		if m.Predictor != nil {
			if m.Predictor.Linear == nil {
				break // trees never split on a constant column
			}
			for _, row := range m.Predictor.Linear.Coefficients {
				row[j] = 0
			}
			continue
		}
		m.Coefficients[j] = 0
	}
	if !tr.Converged {
		warnings = append(warnings, fmt.Sprintf("%s solver did not converge in %d iterations (tol %g); raise model.max_iter or model.learning_rate", tr.Solver, tr.Iterations, tr.Tol))
	}
	m.Training = tr
	if err := m.Validate(); err != nil {
		return nil, nil, fmt.Errorf("fit %s model: %w", s.Model.Type, err)
	}
	return m, warnings, nil
}

// fitLogisticModel fits logistic regression on the dense encoded training
// rows.
func fitLogisticModel(ctx context.Context, mc ModelSettings, d *design, t *table, trainSorted []int, m *model.Model, tr *model.Training) error {
	x, y, err := denseRows(ctx, d, t, trainSorted)
	if err != nil {
		return err
	}
	lf, err := fitLogistic(ctx, &logisticProblem{x: x, y: y, n: len(y), p: d.p, alpha: mc.Alpha, intercept: mc.FitIntercept}, mc)
	if err != nil {
		return err
	}
	m.Coefficients, m.Intercept = lf.coef, lf.intercept
	tr.Iterations, tr.Converged, tr.Loss = lf.iterations, lf.converged, lf.loss
	return nil
}

// fitMultinomialModel fits multinomial (softmax) logistic regression on
// the dense encoded training rows, for a target with three or more
// classes.
func fitMultinomialModel(ctx context.Context, mc ModelSettings, d *design, t *table, trainSorted []int, workers int, m *model.Model, tr *model.Training) error {
	x, y, err := denseRows(ctx, d, t, trainSorted)
	if err != nil {
		return err
	}
	yc := make([]int, len(y))
	for i, v := range y {
		yc[i] = int(v)
	}
	mp := &multinomialProblem{x: x, y: yc, n: len(yc), p: d.p, k: len(t.classes), alpha: mc.Alpha, intercept: mc.FitIntercept, workers: workers}
	mf, err := fitMultinomial(ctx, mp, mc)
	if err != nil {
		return err
	}
	m.Predictor.Linear.Coefficients, m.Predictor.Linear.Intercepts = mf.coef, mf.intercept
	tr.Iterations, tr.Converged, tr.Loss = mf.iterations, mf.converged, mf.loss
	return nil
}

// denseRows encodes the training rows into one dense row-major matrix,
// with their targets.
func denseRows(ctx context.Context, d *design, t *table, trainSorted []int) (x, y []float64, err error) {
	p := d.p
	x = make([]float64, len(trainSorted)*p)
	y = make([]float64, len(trainSorted))
	for i, pos := range trainSorted {
		if i%blockRows == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
		if err := d.scorer.EncodeRow(t.rows[pos], x[i*p:(i+1)*p]); err != nil {
			return nil, nil, err
		}
		y[i] = t.y[pos]
	}
	return x, y, nil
}

// fitLinearModel fits least squares or ridge on the centred design, with
// the solver the problem's shape and model.solver choose, and returns the
// fit's warnings (minimum-norm solutions, null-space directions).
func fitLinearModel(ctx context.Context, mc ModelSettings, d *design, t *table, l *learned, trainSorted []int, workers int, m *model.Model, tr *model.Training) ([]string, error) {
	p := d.p
	xbar := make([]float64, p)
	ybar := 0.0
	if mc.FitIntercept {
		xbar = l.means(d.enc)
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
		if err := d.scorer.EncodeBlock(rows, dst, p+1); err != nil {
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
		alpha = mc.Alpha
	}
	lf, warnings, err := solveLinear(ctx, mc, trainSorted, p, alpha, encRow, workers)
	if err != nil {
		return nil, err
	}
	m.Coefficients = lf.coef
	m.Intercept = ybar
	for j, c := range lf.coef {
		m.Intercept -= xbar[j] * c
	}
	tr.Iterations, tr.Converged, tr.Loss = lf.iterations, lf.converged, lf.loss
	return append(warnings, describeNull(lf.nullspace, m.Columns, oneHotBlocks(d.enc, m.Features), mc.FitIntercept, d.constCols)...), nil
}

// solveLinear picks the solver: the n×n dual for a wide design, else QR,
// the normal equations or gradient descent as model.solver says.
func solveLinear(ctx context.Context, mc ModelSettings, trainSorted []int, p int, alpha float64, encRow func([]int, []float64) error, workers int) (*linearFit, []string, error) {
	n := len(trainSorted)
	switch {
	case wide(n, p):
		dd, err := denseDesign(ctx, trainSorted, p, encRow)
		if err != nil {
			return nil, nil, err
		}
		lf, err := abandonOnCancel(ctx, func() (*linearFit, error) {
			return solveWide(ctx, newWideProblem(dd, n, p), alpha, mc)
		})
		if err != nil {
			return nil, nil, err
		}
		var warnings []string
		if alpha == 0 {
			warnings = append(warnings, fmt.Sprintf("the design has %d columns but only %d training rows, so least squares has many exact solutions; the minimum-norm one was used, as numpy's lstsq does; consider model.type: ridge or fewer columns", p, n))
		}
		return lf, warnings, nil
	case mc.Solver == config.SolverQR:
		r, err := tsqr(ctx, trainSorted, p, encRow, workers)
		if err != nil {
			return nil, nil, err
		}
		lf, err := abandonOnCancel(ctx, func() (*linearFit, error) { return solveQR(r, p, alpha, n) })
		return lf, nil, err
	}
	g, b, yy, err := gram(ctx, trainSorted, p, encRow, workers)
	if err != nil {
		return nil, nil, err
	}
	var lf *linearFit
	if mc.Solver == config.SolverNormal {
		lf, err = abandonOnCancel(ctx, func() (*linearFit, error) { return solveNormal(g, b, yy, p, alpha, n) })
	} else {
		lf, err = abandonOnCancel(ctx, func() (*linearFit, error) { return solveGD(ctx, g, b, yy, p, mc, n) })
	}
	return lf, nil, err
}

// metricsFile is metrics.json: the test metrics and what the fit saw of the
// data.
func metricsFile(s *Settings, m *model.Model, t *table, f *dataset.Frame, sel *Selection, test *evaluate.Result, warnings []string) *model.Metrics {
	mf := &model.Metrics{
		SchemaVersion: model.SchemaVersion,
		Name:          m.Name,
		Task:          m.Task,
		Split: model.SplitInfo{
			TrainRows: len(sel.Train),
			TestRows:  len(sel.Test),
			TestSize:  s.TestSize,
			Seed:      s.Seed,
		},
		Data: model.DataInfo{
			Path:                   s.DataPath,
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
	mf.Metrics, mf.Directions, mf.Skipped = test.Maps()
	for i, c := range t.features {
		mf.Data.Columns[c.Name] = c.Kind.String()
		if m.Features[i].Type == model.Date {
			mf.Data.Columns[c.Name] = model.Date
		}
	}
	mf.Data.Columns[t.target.Name] = t.target.Kind.String()
	if imputed := countImputed(t, m.Features, sel.Train, sel.Test); len(imputed) > 0 {
		mf.Data.Imputed = imputed
	}
	if len(test.Unseen) > 0 {
		mf.UnseenCategories = test.Unseen
	}
	mf.Warnings = warnings
	return mf
}

// unseenWarnings names the features whose test rows had categories the
// training rows lacked, in name order.
func unseenWarnings(unseen map[string]int) []string {
	names := make([]string, 0, len(unseen))
	for n := range unseen {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []string
	for _, n := range names {
		out = append(out, fmt.Sprintf("feature %q: %d test value(s) have a category never seen in the training rows; they were encoded as all zeros", n, unseen[n]))
	}
	return out
}

// checkClasses explains a class that appears only in the test rows, or
// that a single row has, before decoding the labels of a classifier.
func (t *table) checkClasses(testPos, trainPos []int) error {
	tc := t.target
	count := t.classCounts()
	if err := t.tooManyClasses(count); err != nil {
		return err
	}
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
	if one := singleMembers(count); len(one) > 0 {
		return dataErr(t.frame.Name, tc.Name, "class label(s) %s have a single row each: a class needs rows to learn from and rows to test on; add rows with these labels, merge them into another class, or drop those rows", dataset.QuoteList(one))
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
		if fs[i].Missing == model.MissingKeep {
			continue // left to the trees, not imputed
		}
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
		pp := profile.NumericFeature("probability", sc.Monitored(), profile.DefaultBins)
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
