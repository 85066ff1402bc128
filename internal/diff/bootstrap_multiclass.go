package diff

import (
	"fmt"
	"math"
	"strings"

	"github.com/modelci/modelci/internal/metrics"
)

// multiclassMetric identifies a multiclass metric in the per-resample loop.
type multiclassMetric int

const (
	mcAccuracy multiclassMetric = iota
	mcBalancedAccuracy
	mcPrecisionMacro
	mcPrecisionWeighted
	mcRecallMacro
	mcRecallWeighted
	mcF1Macro
	mcF1Weighted
	mcROCAUC
	mcLogLoss
	// mcCount is the number of multiclass metrics.
	mcCount
)

// multiclassNames are the metrics the paired bootstrap computes for a
// classifier with K ≥ 3 classes, in multiclassMetric order; their
// directions are internal/metrics' (metrics.Lookup).
func multiclassNames() []string {
	return []string{
		"accuracy", "balanced_accuracy", "precision_macro", "precision_weighted",
		"recall_macro", "recall_weighted", "f1_macro", "f1_weighted", "roc_auc", "log_loss",
	}
}

// binaryOnlyMetrics are the classification metrics that are defined only for
// two classes, each with its multiclass replacements.
func binaryOnlyMetrics() map[string]string {
	return map[string]string{
		"precision": "precision_macro or precision_weighted",
		"recall":    "recall_macro or recall_weighted",
		"f1":        "f1_macro or f1_weighted",
	}
}

// resolveMulticlassNames maps names onto multiclass metrics. It fails for
// the binary-only precision, recall and f1 (naming them and their
// replacements), unknown names and duplicates.
func resolveMulticlassNames(names []string, classes int) ([]multiclassMetric, error) {
	valid := multiclassNames()
	binary := binaryOnlyMetrics()
	var binaryNames, replacements []string
	for _, name := range names {
		if r, ok := binary[name]; ok {
			binaryNames = append(binaryNames, name)
			replacements = append(replacements, r)
		}
	}
	if len(binaryNames) > 0 {
		return nil, fmt.Errorf("paired bootstrap: %w: %s %s defined for binary classification only, not for %d classes; use %s",
			metrics.ErrUnknownMetric, strings.Join(binaryNames, ", "), plural(len(binaryNames), "is", "are"), classes, strings.Join(replacements, "; "))
	}
	out := make([]multiclassMetric, len(names))
	seen := make(map[string]bool, len(names))
	for j, name := range names {
		i := indexOf(valid, name)
		switch {
		case i < 0:
			return nil, fmt.Errorf("paired bootstrap: %w %q for multiclass classification; valid metrics: %s", metrics.ErrUnknownMetric, name, strings.Join(valid, ", "))
		case seen[name]:
			return nil, fmt.Errorf("paired bootstrap: metric %q is listed more than once", name)
		}
		seen[name] = true
		out[j] = multiclassMetric(i)
	}
	return out, nil
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// multiclassModel holds one model's per-row terms.
type multiclassModel struct {
	// cell is y·K + pred per row: the row's cell of the confusion matrix.
	cell []int32
	// logLoss is each row's log-loss term; nil unless log_loss is requested.
	logLoss []float64
	// ranks is the score order of each class's probability column, labels 1
	// for that class and 0 for the rest; nil unless roc_auc is requested.
	ranks []rankedScores
}

// multiclassEvaluator computes the multiclass metrics of a resample from
// its draw counts: a K×K confusion matrix weighted by the counts (O(n +
// K²)), the weighted log-loss sum (O(n)) and per class the weighted
// one-vs-rest ROC AUC over the score order computed once (O(n·K)).
type multiclassEvaluator struct {
	k       int
	metrics []multiclassMetric
	models  [2]multiclassModel // champion, challenger
}

func newMulticlassEvaluator(yTrue []float64, champion, challenger Scores, names []string, k int) (*multiclassEvaluator, error) {
	ms, err := resolveMulticlassNames(names, k)
	if err != nil {
		return nil, err
	}
	n := len(yTrue)
	y := make([]int32, n)
	for i, v := range yTrue {
		c, ok := classIndex(v, k)
		if !ok {
			return nil, fmt.Errorf("paired bootstrap: y_true[%d] is %g; labels must be class indices 0..%d", i, v, k-1)
		}
		y[i] = c
	}
	e := &multiclassEvaluator{k: k, metrics: ms}
	var needLogLoss, needAUC bool
	for _, m := range ms {
		needLogLoss = needLogLoss || m == mcLogLoss
		needAUC = needAUC || m == mcROCAUC
	}
	var column []float64
	var labels []int64
	if needAUC {
		column = make([]float64, n)
		labels = make([]int64, n)
	}
	for m, s := range []Scores{champion, challenger} {
		side := [2]string{"champion", "challenger"}[m]
		if len(s.Proba) > 0 {
			return nil, fmt.Errorf("paired bootstrap: %s has Proba, P(class 1), which is for binary classification; %d classes take Probs", side, k)
		}
		mm := multiclassModel{cell: make([]int32, n)}
		for i, p := range s.Pred {
			c, ok := classIndex(p, k)
			if !ok {
				return nil, fmt.Errorf("paired bootstrap: %s y_pred[%d] is %g; predictions must be class indices 0..%d", side, i, p, k-1)
			}
			mm.cell[i] = y[i]*int32(k) + c
		}
		if needLogLoss || needAUC {
			if err := checkProbs(s.Probs, n, k, needAUC); err != nil {
				return nil, fmt.Errorf("paired bootstrap: %s: %w", side, err)
			}
		}
		if needLogLoss {
			mm.logLoss = make([]float64, n)
			scratch := make([]float64, k)
			for i := range mm.logLoss {
				mm.logLoss[i] = metrics.MulticlassLogLossTerm(int(y[i]), s.Probs[i*k:(i+1)*k], scratch)
			}
		}
		if needAUC {
			mm.ranks = make([]rankedScores, k)
			for c := range k {
				for i := range column {
					column[i] = s.Probs[i*k+c]
					labels[i] = 0
					if y[i] == int32(c) {
						labels[i] = 1
					}
				}
				mm.ranks[c] = newRankedScores(labels, column)
			}
		}
		e.models[m] = mm
	}
	return e, nil
}

// classIndex converts a label to a class index in [0, k).
func classIndex(v float64, k int) (int32, bool) {
	if !(v >= 0 && v < float64(k)) || v != math.Trunc(v) {
		return 0, false
	}
	return int32(v), true
}

// checkProbs checks the n×k class probabilities: every value in [0, 1] and,
// when forAUC, every row summing to 1 as scikit-learn's multiclass
// roc_auc_score demands (np.allclose(1, row sum): |1 - s| ≤ 1e-8 + 1e-5·|s|).
func checkProbs(probs []float64, n, k int, forAUC bool) error {
	if len(probs) != n*k {
		return fmt.Errorf("roc_auc and log_loss need %d×%d = %d class probabilities (Probs), got %d", n, k, n*k, len(probs))
	}
	for i := range n {
		row := probs[i*k : (i+1)*k]
		var s float64
		for c, p := range row {
			if math.IsNaN(p) || p < 0 || p > 1 {
				return fmt.Errorf("probs[%d][%d] is %v; probabilities must be in [0, 1]", i, c, p)
			}
			s += p
		}
		if forAUC && !(math.Abs(1-s) <= 1e-8+1e-5*math.Abs(s)) {
			return fmt.Errorf("row %d's class probabilities sum to %v; roc_auc needs probabilities that sum to 1 over the classes", i, s)
		}
	}
	return nil
}

// confusionScores fills v's accuracy, balanced accuracy and macro and
// weighted precision, recall and F1 from a K×K confusion matrix cf (rows:
// the true class) of n rows, the support of each class and the number of
// classes present; predSum (length K) is scratch.
func confusionScores(cf, support, predSum []int64, n int64, present int, v *[mcCount]float64) {
	k := len(support)
	clear(predSum)
	for t := range k {
		for p, c := range cf[t*k : (t+1)*k] {
			predSum[p] += c
		}
	}
	var correct int64
	var recallPresent, pMacro, pWeighted, rMacro, rWeighted, fMacro, fWeighted float64
	for c := range k {
		tp := cf[c*k+c]
		correct += tp
		precision := ratio(tp, predSum[c])
		recall := ratio(tp, support[c])
		f1 := metrics.F1(precision, recall)
		w := float64(support[c])
		if support[c] > 0 {
			recallPresent += recall
		}
		pMacro += precision
		rMacro += recall
		fMacro += f1
		pWeighted += precision * w
		rWeighted += recall * w
		fWeighted += f1 * w
	}
	fk, fn := float64(k), float64(n)
	v[mcAccuracy] = float64(correct) / fn
	v[mcBalancedAccuracy] = recallPresent / float64(present)
	v[mcPrecisionMacro] = pMacro / fk
	v[mcPrecisionWeighted] = pWeighted / fn
	v[mcRecallMacro] = rMacro / fk
	v[mcRecallWeighted] = rWeighted / fn
	v[mcF1Macro] = fMacro / fk
	v[mcF1Weighted] = fWeighted / fn
}

func (e *multiclassEvaluator) diffs(counts []int32, out []float64) {
	k := e.k
	// Per model the weighted confusion matrix, rows the true class: one
	// scatter pass over the rows.
	conf := make([]int64, 2*k*k)
	for m := range e.models {
		cf := conf[m*k*k : (m+1)*k*k]
		cell := e.models[m].cell[:len(counts)]
		for i, c := range counts {
			cf[cell[i]] += int64(c)
		}
	}
	// Support per class (the same for both models) and n.
	support := make([]int64, k)
	var n int64
	var present int
	for t := range k {
		var s int64
		for _, v := range conf[t*k : (t+1)*k] {
			s += v
		}
		support[t] = s
		n += s
		if s > 0 {
			present++
		}
	}
	fn := float64(n)
	predSum := make([]int64, k)
	var vals [2][mcCount]float64
	for m := range e.models {
		mm := &e.models[m]
		v := &vals[m]
		confusionScores(conf[m*k*k:(m+1)*k*k], support, predSum, n, present, v)
		if mm.logLoss != nil {
			var ll float64
			lls := mm.logLoss[:len(counts)]
			for i, c := range counts {
				ll += float64(c) * lls[i]
			}
			v[mcLogLoss] = ll / fn
		}
		v[mcROCAUC] = math.NaN()
		if mm.ranks != nil && present == k {
			// sklearn's ovr roc_auc raises unless every class is in y_true;
			// then each class has positives and negatives.
			var sum float64
			for c := range k {
				sum += mm.ranks[c].rocAUC(counts, support[c], n-support[c])
			}
			v[mcROCAUC] = sum / float64(k)
		}
	}
	for j, m := range e.metrics {
		out[j] = vals[1][m] - vals[0][m]
	}
}
