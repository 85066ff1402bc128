package metrics

import (
	"fmt"
	"math"
)

// maxClasses bounds k, so that a wrong k cannot make Multiclass or PerClass
// allocate without limit.
const maxClasses = 1 << 20

// ClassScores are one class's scores, as scikit-learn 1.2's
// precision_recall_fscore_support(average=None, labels=range(k)) reports
// them with zero_division="warn" (a 0/0 ratio is 0).
type ClassScores struct {
	// Precision is TP / (TP + FP): the fraction of the rows predicted as the
	// class that are the class; 0 when the class is never predicted.
	Precision float64
	// Recall is TP / (TP + FN): the fraction of the class's rows predicted
	// as the class; 0 when the class never occurs in y_true.
	Recall float64
	// F1 is the harmonic mean of Precision and Recall; 0 when both are 0.
	F1 float64
	// Support is the number of rows of the class in y_true.
	Support int
}

// Multiclass computes the requested classification metrics (all of
// MulticlassDefaults when names is empty), in the order requested, for
// labels that are class indices 0..k-1 (k >= 2). proba is the n×k row-major
// matrix of class probabilities, row i holding the probabilities of every
// class for row i, or empty when no probabilities are available.
//
// The values match scikit-learn 1.2 called with labels=range(k), so every
// one of the k classes counts, including classes that occur in neither
// yTrue nor yPred:
//
//   - accuracy is accuracy_score;
//   - balanced_accuracy is balanced_accuracy_score: the mean recall over the
//     classes that occur in yTrue (classes absent from yTrue are left out,
//     as scikit-learn leaves them out);
//   - precision_macro, recall_macro and f1_macro are precision_score,
//     recall_score and f1_score with average="macro": the unweighted mean of
//     the k per-class scores of PerClass, a class never predicted having
//     precision 0, a class absent from yTrue recall 0, and F1 0 when both
//     are 0 (zero_division="warn"); a class absent from both counts as 0;
//   - the _weighted variants weight each class's score by its support, so
//     classes absent from yTrue do not count;
//   - precision, recall and f1 are the binary positive-class (label 1)
//     metrics of Classification for k == 2, and are Skipped for k > 2 (use
//     the _macro or _weighted names);
//   - roc_auc for k > 2 is roc_auc_score(yTrue, proba, multi_class="ovr",
//     average="macro"): the unweighted mean over the classes of the ROC AUC
//     of "class c against the rest" scored by proba's column c, ties
//     handled as in Classification. It is Skipped when a class never occurs
//     in yTrue (one-vs-rest AUC is undefined for it; scikit-learn raises) or
//     when a row of proba does not sum to 1 within np.allclose's tolerance
//     (scikit-learn raises "Target scores need to be probabilities"). For
//     k == 2 it is Classification's roc_auc of column 1, Skipped when yTrue
//     has a single class;
//   - log_loss is log_loss(yTrue, proba, labels=range(k)) with eps="auto":
//     proba clipped to [ε, 1-ε] with ε = 2^-52, each clipped row divided by
//     its sum (which is what makes rows that do not sum to 1 usable), and
//     the mean of -ln of the true class's renormalized probability.
//
// roc_auc and log_loss are Skipped when proba is empty.
//
// It fails for an unknown or non-classification metric name, k < 2 or k >
// 2^20, different lengths, empty inputs, labels outside [0, k), a proba of
// other than n×k values, and proba values that are NaN, Inf or outside
// [0, 1].
func Multiclass(yTrue, yPred []int, proba []float64, k int, names []string) ([]Value, []Skipped, error) {
	if len(names) == 0 {
		names = MulticlassDefaults()
	} else if err := Validate(TaskClassification, names); err != nil {
		return nil, nil, fmt.Errorf("multiclass metrics: %w", err)
	}
	if err := checkMulticlass(yTrue, yPred, proba, k); err != nil {
		return nil, nil, fmt.Errorf("multiclass metrics: %w", err)
	}
	cc := countClasses(yTrue, yPred, k)

	var res result
	for _, name := range names {
		switch name {
		case namePrecision, nameRecall, nameF1:
			if k > 2 {
				res.skip(name, fmt.Sprintf("%s is the binary metric of the positive class (label 1); with %d classes use %s_macro or %s_weighted", name, k, name, name))
				continue
			}
			s := cc.scores[1]
			switch name {
			case namePrecision:
				res.add(name, s.Precision)
			case nameRecall:
				res.add(name, s.Recall)
			default:
				res.add(name, s.F1)
			}
		case nameROCAUC:
			if len(proba) == 0 {
				res.skip(name, "needs predicted probabilities, and none were given")
				continue
			}
			v, reason := multiclassROCAUC(yTrue, proba, k, cc.support)
			if reason != "" {
				res.skip(name, reason)
				continue
			}
			res.add(name, v)
		case nameLogLoss:
			if len(proba) == 0 {
				res.skip(name, "needs predicted probabilities, and none were given")
				continue
			}
			res.add(name, multiclassLogLoss(yTrue, proba, k))
		default:
			v, ok := cc.metric(name)
			if !ok {
				res.skip(name, "not a metric Multiclass computes")
				continue
			}
			res.add(name, v)
		}
	}
	return res.values, res.skipped, nil
}

// PerClass returns the precision, recall, F1 and support of each class
// 0..k-1, as scikit-learn 1.2's precision_recall_fscore_support(yTrue, yPred,
// average=None, labels=range(k)) with zero_division="warn": a class never
// predicted has precision 0, a class absent from yTrue recall 0 and support
// 0, and F1 is 0 when precision and recall are both 0. It fails for the
// inputs Multiclass rejects (proba aside).
func PerClass(yTrue, yPred []int, k int) ([]ClassScores, error) {
	if err := checkMulticlass(yTrue, yPred, nil, k); err != nil {
		return nil, fmt.Errorf("per-class scores: %w", err)
	}
	return countClasses(yTrue, yPred, k).scores, nil
}

// classCounts are the per-class counts every label metric derives from.
type classCounts struct {
	n, correct int
	support    []int
	scores     []ClassScores
}

// countClasses counts labels 0..k-1; the caller has checked them.
func countClasses(yTrue, yPred []int, k int) classCounts {
	tp := make([]int, k)
	pred := make([]int, k)
	cc := classCounts{n: len(yTrue), support: make([]int, k), scores: make([]ClassScores, k)}
	for i, t := range yTrue {
		p := yPred[i]
		cc.support[t]++
		pred[p]++
		if t == p {
			tp[t]++
			cc.correct++
		}
	}
	for c := range cc.scores {
		precision := prfDivide(tp[c], pred[c])
		recall := prfDivide(tp[c], cc.support[c])
		cc.scores[c] = ClassScores{Precision: precision, Recall: recall, F1: F1(precision, recall), Support: cc.support[c]}
	}
	return cc
}

// metric computes accuracy, balanced_accuracy or one of the macro and
// weighted averages from the counts; false for any other name.
func (cc *classCounts) metric(name string) (float64, bool) {
	precision := func(s ClassScores) float64 { return s.Precision }
	recall := func(s ClassScores) float64 { return s.Recall }
	f1 := func(s ClassScores) float64 { return s.F1 }
	switch name {
	case nameAccuracy:
		return float64(cc.correct) / float64(cc.n), true
	case nameBalancedAccuracy:
		// np.mean(diag(C) / C.sum(axis=1)) over the classes in y_true.
		var recalls []float64
		for _, s := range cc.scores {
			if s.Support > 0 {
				recalls = append(recalls, s.Recall)
			}
		}
		return npSum(recalls) / float64(len(recalls)), true
	case namePrecisionMacro:
		return cc.macro(precision), true
	case namePrecisionWeighted:
		return cc.weighted(precision), true
	case nameRecallMacro:
		return cc.macro(recall), true
	case nameRecallWeighted:
		return cc.weighted(recall), true
	case nameF1Macro:
		return cc.macro(f1), true
	case nameF1Weighted:
		return cc.weighted(f1), true
	}
	return 0, false
}

// macro is np.average(scores): their pairwise sum divided by k.
func (cc *classCounts) macro(score func(ClassScores) float64) float64 {
	vals := make([]float64, len(cc.scores))
	for c, s := range cc.scores {
		vals[c] = score(s)
	}
	return npSum(vals) / float64(len(vals))
}

// weighted is np.average(scores, weights=support): the pairwise sum of
// score·support divided by the sum of the supports (n, exactly).
func (cc *classCounts) weighted(score func(ClassScores) float64) float64 {
	vals := make([]float64, len(cc.scores))
	for c, s := range cc.scores {
		vals[c] = score(s) * float64(s.Support)
	}
	return npSum(vals) / float64(cc.n)
}

// multiclassROCAUC is roc_auc_score(yTrue, proba, multi_class="ovr",
// average="macro") for k > 2 and the binary ROC AUC of column 1 for k == 2.
// It returns the reason instead when the score is undefined.
func multiclassROCAUC(yTrue []int, proba []float64, k int, support []int) (float64, string) {
	n := len(yTrue)
	if k == 2 {
		if support[0] == 0 || support[1] == 0 {
			return 0, "ROC AUC is undefined when y_true has only one class"
		}
		pos := make([]uint64, 0, support[1])
		neg := make([]uint64, 0, support[0])
		for i, t := range yTrue {
			if key := sortKey(proba[2*i+1]); t == 1 {
				pos = append(pos, key)
			} else {
				neg = append(neg, key)
			}
		}
		var s aucScratch
		return s.auc(pos, neg), ""
	}
	for c, m := range support {
		if m == 0 {
			return 0, fmt.Sprintf("one-vs-rest ROC AUC is undefined: class %d never occurs in y_true", c)
		}
	}
	// np.allclose(1, proba.sum(axis=1)): |1 - s| <= 1e-8 + 1e-5·|s|.
	for i := range n {
		s := pairwiseSum(proba[i*k : (i+1)*k])
		if !(math.Abs(1-s) <= 1e-8+1e-5*math.Abs(s)) {
			return 0, fmt.Sprintf("one-vs-rest ROC AUC needs rows of probabilities that sum to 1, and row %d sums to %v", i, s)
		}
	}
	pos := make([]uint64, 0, n)
	neg := make([]uint64, 0, n)
	var scratch aucScratch
	aucs := make([]float64, k)
	for c := range k {
		pos, neg = pos[:0], neg[:0]
		for i, t := range yTrue {
			if key := sortKey(proba[i*k+c]); t == c {
				pos = append(pos, key)
			} else {
				neg = append(neg, key)
			}
		}
		aucs[c] = scratch.auc(pos, neg)
	}
	return npSum(aucs) / float64(k), ""
}

// multiclassLogLoss is sklearn 1.2's log_loss(yTrue, proba,
// labels=range(k)): clip to [eps, 1-eps], divide each row by its sum
// (numpy's pairwise sum along the row), and average -log of the true class's
// column.
func multiclassLogLoss(yTrue []int, proba []float64, k int) float64 {
	row := make([]float64, k)
	sum := npSums(len(yTrue), 1, func(lo, m int, buf *termBuf) {
		dst := buf[0][:m]
		for j := range dst {
			i := lo + j
			dst[j] = MulticlassLogLossTerm(yTrue[i], proba[i*k:(i+1)*k], row)
		}
	})[0]
	return sum / float64(len(yTrue))
}

// MulticlassLogLossTerm is one row's term of scikit-learn 1.2's
// log_loss(labels=range(K)): the row's probabilities clipped to
// [ε, 1-ε] (ε = 2^-52), renormalised by their sum, and −log of the true
// class's. scratch holds the clipped row (length K).
func MulticlassLogLossTerm(y int, probs, scratch []float64) float64 {
	for c, p := range probs {
		scratch[c] = min(max(p, logLossEps), 1-logLossEps)
	}
	return -math.Log(scratch[y] / pairwiseSum(scratch[:len(probs)]))
}

// npSum is numpy's add.reduce of a.
func npSum(a []float64) float64 {
	return npSums(len(a), 1, func(lo, m int, buf *termBuf) {
		copy(buf[0][:m], a[lo:lo+m])
	})[0]
}

// pairwiseSum is numpy's sum along the last axis of a C-contiguous 2-D
// array, for one row: the pairwise summation without npSums's chunks.
func pairwiseSum(a []float64) float64 {
	if len(a) <= pwBlock {
		return leafSum(a)
	}
	n2 := len(a) / 2
	n2 -= n2 % 8
	return pairwiseSum(a[:n2]) + pairwiseSum(a[n2:])
}

func checkMulticlass(yTrue, yPred []int, proba []float64, k int) error {
	if k < 2 || k > maxClasses {
		return fmt.Errorf("%w: k is %d; the number of classes must be in [2, %d]", ErrInvalidInput, k, maxClasses)
	}
	n := len(yTrue)
	if n != len(yPred) {
		return fmt.Errorf("%w: y_true has %d labels but y_pred has %d", ErrInvalidInput, n, len(yPred))
	}
	if n == 0 {
		return fmt.Errorf("%w: no rows to evaluate", ErrInvalidInput)
	}
	if len(proba) != 0 && (len(proba)%k != 0 || len(proba)/k != n) {
		return fmt.Errorf("%w: proba has %d probabilities, want n×k = %d×%d", ErrInvalidInput, len(proba), n, k)
	}
	for i := range yTrue {
		if t := yTrue[i]; t < 0 || t >= k {
			return fmt.Errorf("%w: y_true[%d] is %d; labels must be class indices in [0, %d)", ErrInvalidInput, i, t, k)
		}
		if p := yPred[i]; p < 0 || p >= k {
			return fmt.Errorf("%w: y_pred[%d] is %d; labels must be class indices in [0, %d)", ErrInvalidInput, i, p, k)
		}
	}
	for i, p := range proba {
		if math.IsNaN(p) || p < 0 || p > 1 {
			return fmt.Errorf("%w: proba[%d] (row %d, class %d) is %v; probabilities must be in [0, 1]", ErrInvalidInput, i, i/k, i%k, p)
		}
	}
	return nil
}
