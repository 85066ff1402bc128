package diff

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/modelci/modelci/internal/metrics"
	"github.com/modelci/modelci/internal/profile"
	"github.com/modelci/modelci/internal/split"
)

// Scores are one model's predictions on the shared rows, aligned with the
// true targets.
type Scores struct {
	// Pred is the prediction per row: the value for regression, the class
	// index for classification (0 or 1 when binary, 0..K-1 when
	// BootstrapOptions.Classes is K ≥ 3).
	Pred []float64
	// Proba is P(class 1) per row; binary classification only, and needed
	// only for roc_auc and log_loss.
	Proba []float64
	// Probs holds the class probabilities of a multiclass model
	// (BootstrapOptions.Classes = K ≥ 3), n×K row-major in class order:
	// Probs[i*K+k] is P(class k) for row i. Needed only for roc_auc and
	// log_loss; it must be empty for binary classification and regression.
	Probs []float64
}

// BootstrapOptions configure the paired bootstrap.
type BootstrapOptions struct {
	// Resamples is the number of bootstrap resamples (B).
	Resamples int
	// Confidence is the level of the percentile interval, e.g. 0.95.
	Confidence float64
	// Seed seeds numpy's legacy RandomState that draws the resamples.
	Seed uint32
	// Workers bounds parallelism; 0 means GOMAXPROCS. Results do not depend
	// on it.
	Workers int
	// Classes is the number of classes K of a classification task. 0 or 2
	// is binary classification (Scores.Pred in {0, 1}, Scores.Proba);
	// K ≥ 3 is multiclass (class indices 0..K-1, Scores.Probs) with the
	// metrics of multiclassMetrics. It is an option rather than a field of
	// Scores because both models must agree on it. It must be 0 for
	// regression.
	Classes int
}

// Interval is the paired bootstrap percentile interval of the change of one
// metric, challenger minus champion.
type Interval struct {
	Metric string  `json:"metric"`
	Low    float64 `json:"low"`
	High   float64 `json:"high"`
	// Significant is true when the interval excludes 0.
	Significant bool `json:"significant"`
	// Resamples counts the resamples where the metric was defined for both
	// models (e.g. roc_auc needs both classes in the resample). 0 means the
	// interval could not be computed and Low/High are meaningless.
	Resamples int `json:"resamples"`
}

// PairedBootstrap resamples the shared rows with replacement and returns,
// for every metric in names, the percentile interval of
// metric(challenger) − metric(champion) over the resamples.
//
// Resample b draws n row positions exactly as numpy's
//
//	rs = np.random.RandomState(seed)
//	for b in range(B): idx = rs.randint(0, n, size=n)
//
// does, and the interval is np.quantile(diffs, [a, 1-a]) with a =
// (1-confidence)/2 (linear interpolation) over the resamples where the metric
// is defined on both sides. Metrics are computed from per-row terms weighted
// by how often each row was drawn, so no resample is materialized or sorted:
// ROC AUC uses each model's score order, computed once. Values agree with
// scikit-learn on the resampled arrays to rounding.
//
// Classification is binary unless opt.Classes is K ≥ 3: then yTrue and Pred
// hold class indices 0..K-1, Scores.Probs the class probabilities, and names
// are validated against the multiclass metrics (see multiclassMetrics), not
// the binary precision, recall and f1.
func PairedBootstrap(ctx context.Context, task metrics.Task, yTrue []float64, champion, challenger Scores, names []string, opt BootstrapOptions) ([]Interval, error) {
	n := len(yTrue)
	if len(champion.Pred) != n || len(challenger.Pred) != n {
		return nil, fmt.Errorf("paired bootstrap: %d targets but %d and %d predictions", n, len(champion.Pred), len(challenger.Pred))
	}
	if n == 0 {
		return nil, fmt.Errorf("paired bootstrap: no rows")
	}
	if opt.Resamples < 1 {
		return nil, fmt.Errorf("paired bootstrap: want at least 1 resample, got %d", opt.Resamples)
	}
	if !(opt.Confidence > 0 && opt.Confidence < 1) {
		return nil, fmt.Errorf("paired bootstrap: confidence %g is not in (0, 1)", opt.Confidence)
	}
	ev, err := newEvaluator(task, yTrue, champion, challenger, names, opt.Classes)
	if err != nil {
		return nil, err
	}
	k := len(names)
	diffs := make([]float64, opt.Resamples*k)
	if err := runResamples(ctx, n, opt, func(b int, counts []int32) {
		ev.diffs(counts, diffs[b*k:(b+1)*k])
	}); err != nil {
		return nil, err
	}

	alpha := (1 - opt.Confidence) / 2
	out := make([]Interval, k)
	col := make([]float64, 0, opt.Resamples)
	for j, name := range names {
		col = col[:0]
		for b := 0; b < opt.Resamples; b++ {
			if v := diffs[b*k+j]; !math.IsNaN(v) {
				col = append(col, v)
			}
		}
		iv := Interval{Metric: name, Resamples: len(col)}
		if len(col) > 0 {
			sort.Float64s(col)
			iv.Low = profile.Quantile(col, alpha)
			iv.High = profile.Quantile(col, 1-alpha)
			iv.Significant = iv.Low > 0 || iv.High < 0
		}
		out[j] = iv
	}
	return out, nil
}

// newEvaluator validates the metric names and the scores for the task and
// prepares the per-row terms: regression, binary classification (classes 0
// or 2) or multiclass classification (classes ≥ 3).
func newEvaluator(task metrics.Task, yTrue []float64, champion, challenger Scores, names []string, classes int) (resampleEvaluator, error) {
	switch {
	case classes < 0 || classes == 1:
		return nil, fmt.Errorf("paired bootstrap: %d classes; want 0 or 2 for binary classification, K ≥ 3 for multiclass", classes)
	case classes != 0 && task != metrics.TaskClassification:
		return nil, fmt.Errorf("paired bootstrap: %d classes given for a %s task; classes are for classification", classes, task)
	case classes >= 3:
		return newMulticlassEvaluator(yTrue, champion, challenger, names, classes)
	}
	if err := metrics.Validate(task, names); err != nil {
		return nil, fmt.Errorf("paired bootstrap: %w", err)
	}
	if len(champion.Probs)+len(challenger.Probs) > 0 {
		return nil, fmt.Errorf("paired bootstrap: Probs is for multiclass classification (Classes ≥ 3); binary classification takes Proba, P(class 1)")
	}
	if task == metrics.TaskRegression {
		return newRegressionEvaluator(yTrue, champion, challenger, names), nil
	}
	return newClassificationEvaluator(yTrue, champion, challenger, names)
}

// runResamples draws the resamples' row counts in order from one generator
// (numpy's stream) and hands them to workers; fn(b, counts) must only write
// results for resample b, so the outcome does not depend on scheduling.
func runResamples(ctx context.Context, n int, opt BootstrapOptions, fn func(b int, counts []int32)) error {
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	rs := split.NewRandomState(opt.Seed)
	draw := func(counts []int32) {
		clear(counts)
		for i := 0; i < n; i++ {
			counts[rs.RandInt(n)]++
		}
	}
	if workers == 1 {
		counts := make([]int32, n)
		for b := 0; b < opt.Resamples; b++ {
			if b%64 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			draw(counts)
			fn(b, counts)
		}
		return nil
	}
	type job struct {
		b      int
		counts []int32
	}
	// The drawing goroutine is one of the workers' worth of CPU: with two
	// cores, drawing and evaluating overlap.
	free := make(chan []int32, 2*workers)
	for i := 0; i < 2*workers; i++ {
		free <- make([]int32, n)
	}
	jobs := make(chan job, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				fn(j.b, j.counts)
				free <- j.counts
			}
		}()
	}
	var err error
	for b := 0; b < opt.Resamples; b++ {
		if b%64 == 0 {
			if err = ctx.Err(); err != nil {
				break
			}
		}
		counts := <-free
		draw(counts)
		jobs <- job{b, counts}
	}
	close(jobs)
	wg.Wait()
	return err
}

// resampleEvaluator writes metric(challenger) − metric(champion) for each
// requested metric of one resample, NaN where a metric is undefined.
type resampleEvaluator interface {
	diffs(counts []int32, out []float64)
}

// ---------------------------------------------------------------- regression

type regressionModel struct {
	sq, abs, ape []float64
}

type regressionEvaluator struct {
	y      []float64
	models [2]regressionModel // champion, challenger
	names  []string
	needR2 bool
}

func newRegressionEvaluator(y []float64, champion, challenger Scores, names []string) *regressionEvaluator {
	e := &regressionEvaluator{y: y, names: names, needR2: slices.Contains(names, "r2")}
	for m, s := range []Scores{champion, challenger} {
		rm := regressionModel{sq: make([]float64, len(y)), abs: make([]float64, len(y)), ape: make([]float64, len(y))}
		for i, yi := range y {
			d := yi - s.Pred[i]
			a := math.Abs(d)
			rm.sq[i] = float64(d * d)
			rm.abs[i] = a
			rm.ape[i] = metrics.APE(yi, a)
		}
		e.models[m] = rm
	}
	return e
}

func (e *regressionEvaluator) diffs(counts []int32, out []float64) {
	// One branch-free pass over the rows for both models: a row drawn 0
	// times contributes 0 to every sum, and random draw counts would make a
	// "skip zero" branch unpredictable.
	a, b := &e.models[0], &e.models[1]
	y := e.y[:len(counts)]
	aSq, aAbs, aApe := a.sq[:len(counts)], a.abs[:len(counts)], a.ape[:len(counts)]
	bSq, bAbs, bApe := b.sq[:len(counts)], b.abs[:len(counts)], b.ape[:len(counts)]
	var n int
	var sy float64
	var sums [2][3]float64 // per model: Σ c·sq, Σ c·abs, Σ c·ape
	var mx [2]float64
	for i, c := range counts {
		n += int(c)
		w := float64(c)
		present := float64(min(c, 1))
		sy += w * y[i]
		sums[0][0] += w * aSq[i]
		sums[0][1] += w * aAbs[i]
		sums[0][2] += w * aApe[i]
		sums[1][0] += w * bSq[i]
		sums[1][1] += w * bAbs[i]
		sums[1][2] += w * bApe[i]
		if v := present * aAbs[i]; v > mx[0] {
			mx[0] = v
		}
		if v := present * bAbs[i]; v > mx[1] {
			mx[1] = v
		}
	}
	fn := float64(n)
	var ssTot float64
	if e.needR2 {
		mean := sy / fn
		for i, c := range counts {
			d := y[i] - mean
			ssTot += float64(c) * float64(d*d)
		}
	}
	var vals [2][6]float64
	for m := range vals {
		ssq, sab, sap := sums[m][0], sums[m][1], sums[m][2]
		for j, name := range e.names {
			var v float64
			switch name {
			case "mse":
				v = ssq / fn
			case "rmse":
				v = math.Sqrt(ssq / fn)
			case "mae":
				v = sab / fn
			case "mape":
				v = sap / fn
			case "max_error":
				v = mx[m]
			case "r2":
				switch {
				case n < 2:
					v = math.NaN()
				case ssq == 0:
					v = 1
				case ssTot == 0:
					v = 0
				default:
					v = 1 - ssq/ssTot
				}
			}
			vals[m][j] = v
		}
	}
	for j := range e.names {
		out[j] = vals[1][j] - vals[0][j]
	}
}

// ------------------------------------------------------------ classification

type classificationModel struct {
	// pred is the predicted class and hit is y·pred (a true positive) per row.
	pred, hit []int64
	// logLoss is each row's log-loss term.
	logLoss []float64
	// rank is the score order of P(class 1).
	rank rankedScores
}

// rankedScores is one score column's order, computed once and shared by
// every resample's ROC AUC.
type rankedScores struct {
	// order lists the rows by descending score and ySorted their labels (1
	// positive, 0 negative) in that order; last[k] is true where a run of
	// equal scores ends. ties is false when every score is distinct.
	order   []int32
	ySorted []int64
	last    []bool
	ties    bool
}

// newRankedScores orders the rows by descending score, stably, and records
// the labels (0 or 1) in that order.
func newRankedScores(y []int64, score []float64) rankedScores {
	n := len(y)
	rs := rankedScores{order: make([]int32, n)}
	for i := range rs.order {
		rs.order[i] = int32(i)
	}
	slices.SortStableFunc(rs.order, func(a, b int32) int {
		pa, pb := score[a], score[b]
		switch {
		case pa > pb:
			return -1
		case pa < pb:
			return 1
		}
		return 0
	})
	rs.ySorted = make([]int64, n)
	rs.last = make([]bool, n)
	for k, r := range rs.order {
		rs.ySorted[k] = y[r]
		rs.last[k] = k == n-1 || score[rs.order[k+1]] != score[r]
		if !rs.last[k] {
			rs.ties = true
		}
	}
	return rs
}

type classificationEvaluator struct {
	y     []int64
	names []string
	// models are the champion and the challenger.
	models [2]classificationModel
}

func newClassificationEvaluator(y []float64, champion, challenger Scores, names []string) (*classificationEvaluator, error) {
	n := len(y)
	e := &classificationEvaluator{y: make([]int64, n), names: names}
	for i, v := range y {
		if v != 0 && v != 1 {
			return nil, fmt.Errorf("paired bootstrap: y_true[%d] is %g; labels must be 0 or 1", i, v)
		}
		e.y[i] = int64(v)
	}
	needProba := slices.Contains(names, "roc_auc") || slices.Contains(names, "log_loss")
	for m, s := range []Scores{champion, challenger} {
		cm := classificationModel{pred: make([]int64, n), hit: make([]int64, n)}
		for i, p := range s.Pred {
			if p != 0 && p != 1 {
				return nil, fmt.Errorf("paired bootstrap: y_pred[%d] is %g; labels must be 0 or 1", i, p)
			}
			cm.pred[i] = int64(p)
			cm.hit[i] = int64(p) * e.y[i]
		}
		if needProba {
			if err := cm.prepareProba(e.y, s.Proba); err != nil {
				return nil, err
			}
		}
		e.models[m] = cm
	}
	return e, nil
}

// prepareProba computes the log-loss terms and the score order once.
func (cm *classificationModel) prepareProba(y []int64, proba []float64) error {
	n := len(y)
	if len(proba) != n {
		return fmt.Errorf("paired bootstrap: roc_auc and log_loss need %d probabilities, got %d", n, len(proba))
	}
	cm.logLoss = make([]float64, n)
	for i, p := range proba {
		if math.IsNaN(p) || p < 0 || p > 1 {
			return fmt.Errorf("paired bootstrap: proba[%d] is %v; probabilities must be in [0, 1]", i, p)
		}
		cm.logLoss[i] = metrics.LogLossTerm(int(y[i]), p)
	}
	cm.rank = newRankedScores(y, proba)
	return nil
}

func (e *classificationEvaluator) diffs(counts []int32, out []float64) {
	// Branch-free integer sums: n, positives, and per model the predicted
	// positives and the true positives.
	y := e.y[:len(counts)]
	var n, pos int64
	for i, c := range counts {
		n += int64(c)
		pos += int64(c) * y[i]
	}
	neg := n - pos
	vals := [2][]float64{make([]float64, len(e.names)), make([]float64, len(e.names))}
	for m := range e.models {
		cm := &e.models[m]
		pred, hit := cm.pred[:len(counts)], cm.hit[:len(counts)]
		var pp, tp int64
		var ll float64
		for i, c := range counts {
			w := int64(c)
			pp += w * pred[i]
			tp += w * hit[i]
		}
		if cm.logLoss != nil {
			lls := cm.logLoss[:len(counts)]
			for i, c := range counts {
				ll += float64(c) * lls[i]
			}
		}
		fp := pp - tp
		fn := pos - tp
		tn := neg - fp
		precision := ratio(tp, tp+fp)
		recall := ratio(tp, tp+fn)
		for j, name := range e.names {
			var v float64
			switch name {
			case "accuracy":
				v = float64(tp+tn) / float64(n)
			case "precision":
				v = precision
			case "recall":
				v = recall
			case "f1":
				v = metrics.F1(precision, recall)
			case "log_loss":
				v = ll / float64(n)
			case "roc_auc":
				v = cm.rank.rocAUC(counts, pos, neg)
			default:
				v = binaryAveraged(name, tp, fp, fn, tn)
			}
			vals[m][j] = v
		}
	}
	for j := range e.names {
		out[j] = vals[1][j] - vals[0][j]
	}
}

// binaryAveraged is one of the class-averaged metrics (balanced_accuracy,
// precision, recall and f1 as macro and weighted averages) of a binary
// resample's confusion counts, as scikit-learn computes them with
// labels=[0, 1]: the multiclass evaluator's confusionScores with K = 2.
func binaryAveraged(name string, tp, fp, fn, tn int64) float64 {
	cf := [4]int64{tn, fp, fn, tp}
	support := [2]int64{tn + fp, tp + fn}
	present := 0
	for _, s := range support {
		if s > 0 {
			present++
		}
	}
	var predSum [2]int64
	var v [mcCount]float64
	confusionScores(cf[:], support[:], predSum[:], tp+fp+fn+tn, present, &v)
	if m := indexOf(multiclassNames(), name); m >= 0 {
		return v[m]
	}
	return math.NaN()
}

// rocAUC is the area under the ROC curve of the resample: the trapezoids
// between consecutive distinct scores, highest first, which is
// Σ fp_g·(2·TP_before + tp_g) / (2·P·N) over runs g of equal scores, in
// exact integer arithmetic. NaN when the resample has one class.
func (rs *rankedScores) rocAUC(counts []int32, pos, neg int64) float64 {
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	var area, tpBefore int64
	ys := rs.ySorted[:len(rs.order)]
	if !rs.ties {
		// Every run is one row: a positive adds to TP, a negative adds
		// 2·c·TP_before.
		for k, r := range rs.order {
			c := int64(counts[r])
			yk := ys[k]
			area += (1 - yk) * c * 2 * tpBefore
			tpBefore += yk * c
		}
	} else {
		last := rs.last[:len(rs.order)]
		var tpG, fpG int64
		for k, r := range rs.order {
			c := int64(counts[r])
			yk := ys[k]
			tpG += yk * c
			fpG += (1 - yk) * c
			if last[k] {
				area += fpG * (2*tpBefore + tpG)
				tpBefore += tpG
				tpG, fpG = 0, 0
			}
		}
	}
	return float64(area) / (2 * float64(pos) * float64(neg))
}

func ratio(num, den int64) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}
