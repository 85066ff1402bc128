package metrics

import (
	"fmt"
	"math"
	"slices"
)

// logLossEps is scikit-learn 1.2's default log_loss clipping, eps="auto",
// which for float64 probabilities is np.finfo(np.float64).eps = 2^-52:
// probabilities are clipped to [2^-52, 1-2^-52]. (Before 1.2 the default was
// 1e-15; 1.2 changed it, 1.3 deprecated eps and 1.5 removed it.)
const logLossEps = float64Eps

// Classification computes the requested binary classification metrics (all
// of Defaults when names is empty), in the order requested. Labels are 0 and
// 1, 1 being the positive class; proba holds the predicted probability of
// class 1 for each row.
//
// The values match scikit-learn 1.2 with pos_label=1:
//
//   - precision, recall and f1 follow zero_division="warn": a 0/0 ratio is 0;
//   - roc_auc is the trapezoidal area under scikit-learn's ROC curve (ties in
//     proba form one threshold, so a tie counts half);
//   - log_loss clips proba to [ε, 1-ε] with ε = 2^-52 ≈ 2.22e-16 (the
//     eps="auto" default of scikit-learn 1.2, not the older 1e-15), so a
//     confidently wrong prediction costs -ln ε ≈ 36.04; it renormalizes the
//     two columns (1-p, p) and is computed with labels=[0, 1], so it is
//     defined even when yTrue has one class (where scikit-learn without
//     labels raises);
//   - balanced_accuracy and the _macro and _weighted averages are those of
//     Multiclass with k = 2, i.e. scikit-learn's with labels=[0, 1]: both
//     classes count in the macro averages even when one of them occurs in
//     neither yTrue nor yPred.
//
// roc_auc is Skipped, with the reason, when yTrue has a single class; roc_auc
// and log_loss are Skipped when proba is empty (no probabilities available).
//
// It fails for an unknown or non-classification metric name, different
// lengths, empty inputs, labels outside {0, 1}, and proba values that are
// NaN, Inf or outside [0, 1].
func Classification(yTrue, yPred []int, proba []float64, names []string) ([]Value, []Skipped, error) {
	names, err := resolve(TaskClassification, names)
	if err != nil {
		return nil, nil, fmt.Errorf("classification metrics: %w", err)
	}
	if err := checkClassification(yTrue, yPred, proba); err != nil {
		return nil, nil, fmt.Errorf("classification metrics: %w", err)
	}
	var tp, fp, fn, tn int
	for i, t := range yTrue {
		switch p := yPred[i]; {
		case t == 1 && p == 1:
			tp++
		case t == 0 && p == 1:
			fp++
		case t == 1:
			fn++
		default:
			tn++
		}
	}
	n := float64(len(yTrue))
	precision := prfDivide(tp, tp+fp)
	recall := prfDivide(tp, tp+fn)

	var res result
	var cc *classCounts // for the averaged metrics, counted when first needed
	for _, name := range names {
		switch name {
		case nameAccuracy:
			res.add(name, float64(tp+tn)/n)
		case namePrecision:
			res.add(name, precision)
		case nameRecall:
			res.add(name, recall)
		case nameF1:
			res.add(name, F1(precision, recall))
		case nameROCAUC:
			switch {
			case len(proba) == 0:
				res.skip(name, "needs predicted probabilities, and none were given")
			case tp+fn == 0:
				res.skip(name, "ROC AUC is undefined when y_true has only one class (no positives)")
			case fp+tn == 0:
				res.skip(name, "ROC AUC is undefined when y_true has only one class (no negatives)")
			default:
				res.add(name, rocAUC(yTrue, proba, tp+fn))
			}
		case nameLogLoss:
			if len(proba) == 0 {
				res.skip(name, "needs predicted probabilities, and none were given")
				continue
			}
			res.add(name, logLoss(yTrue, proba))
		default:
			if cc == nil {
				c := countClasses(yTrue, yPred, 2)
				cc = &c
			}
			v, ok := cc.metric(name)
			if !ok {
				res.skip(name, "not a metric Classification computes")
				continue
			}
			res.add(name, v)
		}
	}
	return res.values, res.skipped, nil
}

// prfDivide is sklearn's _prf_divide with zero_division="warn": 0 for 0/0.
func prfDivide(num, den int) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

// rocAUC is sklearn's roc_auc_score for binary labels: the ROC curve from
// _binary_clf_curve (one point per distinct score, from the highest), with
// roc_curve's drop_intermediate and the leading (0, 0), integrated with
// np.trapz. Reproducing the same floating-point steps gives the same bits.
// Both classes must be present; nPos is the number of positives.
func rocAUC(yTrue []int, score []float64, nPos int) float64 {
	// Scores are sorted as order-preserving integer keys: faster to sort than
	// floats, and equal keys are exactly equal scores (-0 is folded into +0).
	pos := make([]uint64, 0, nPos)
	neg := make([]uint64, 0, len(yTrue)-nPos)
	for i, t := range yTrue {
		if t == 1 {
			pos = append(pos, sortKey(score[i]))
		} else {
			neg = append(neg, sortKey(score[i]))
		}
	}
	var s aucScratch
	return s.auc(pos, neg)
}

// aucScratch holds the sorting and curve buffers of auc, so that one-vs-rest
// ROC AUC reuses them for every class.
type aucScratch struct {
	tmp      []uint64
	fps, tps []int
}

// auc is the ROC AUC of positives with score keys pos and negatives with
// score keys neg (both non-empty), as rocAUC describes. It sorts pos and neg
// in place.
func (s *aucScratch) auc(pos, neg []uint64) float64 {
	n := len(pos) + len(neg)
	if cap(s.tmp) < max(len(pos), len(neg)) {
		s.tmp = make([]uint64, max(len(pos), len(neg)))
	}
	tmp := s.tmp[:max(len(pos), len(neg))]
	radixSort(pos, tmp)
	radixSort(neg, tmp)
	if cap(s.fps) < n+1 {
		s.fps = make([]int, 0, n+1)
		s.tps = make([]int, 0, n+1)
	}

	// Cumulative (fps, tps) after each distinct score, highest score first;
	// (0, 0) is prepended as in roc_curve.
	fps := append(s.fps[:0], 0)
	tps := append(s.tps[:0], 0)
	ip, in := len(pos)-1, len(neg)-1
	tp, fp := 0, 0
	for ip >= 0 || in >= 0 {
		var v uint64
		switch {
		case ip < 0:
			v = neg[in]
		case in < 0:
			v = pos[ip]
		default:
			v = max(pos[ip], neg[in])
		}
		for ip >= 0 && pos[ip] == v {
			tp++
			ip--
		}
		for in >= 0 && neg[in] == v {
			fp++
			in--
		}
		fps = append(fps, fp)
		tps = append(tps, tp)
	}

	// drop_intermediate on the curve without the leading (0, 0): keep the
	// first and last points and every point where either count sequence has
	// a non-zero second difference. Done in place.
	curveF, curveT := fps[1:], tps[1:]
	if m := len(curveF); m > 2 {
		k := 1                         // next write position; k <= i, so unread points are intact
		pf, pt := curveF[0], curveT[0] // original point i-1
		for i := 1; i < m-1; i++ {
			cf, ct := curveF[i], curveT[i]
			if curveF[i+1]-2*cf+pf != 0 || curveT[i+1]-2*ct+pt != 0 {
				curveF[k], curveT[k] = cf, ct
				k++
			}
			pf, pt = cf, ct
		}
		curveF[k], curveT[k] = curveF[m-1], curveT[m-1]
		fps, tps = fps[:k+2], tps[:k+2]
	}

	// fpr = fps / fps[-1], tpr = tps / tps[-1]; np.trapz(tpr, fpr) =
	// sum(diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0).
	nNeg := float64(fps[len(fps)-1])
	nP := float64(tps[len(tps)-1])
	return npSums(len(fps)-1, 1, func(lo, m int, buf *termBuf) {
		dst := buf[0][:m]
		for i := range dst {
			j := lo + i
			x0, x1 := float64(fps[j])/nNeg, float64(fps[j+1])/nNeg
			y0, y1 := float64(tps[j])/nP, float64(tps[j+1])/nP
			dst[i] = float64((x1-x0)*(y1+y0)) / 2.0
		}
	})[0]
}

// sortKey maps a non-NaN float64 to a uint64 with the same order; -0 and +0
// get the same key.
func sortKey(v float64) uint64 {
	if v == 0 {
		v = 0 // -0 -> +0
	}
	b := math.Float64bits(v)
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}

// radixSort sorts a ascending with an LSD radix sort on bytes, skipping the
// byte positions where all keys agree (e.g. the exponent of probabilities).
// tmp must be at least as long as a.
func radixSort(a, tmp []uint64) {
	if len(a) < 256 {
		slices.Sort(a)
		return
	}
	var counts [8][256]int
	for _, v := range a {
		for d := range 8 {
			counts[d][byte(v>>(8*d))]++
		}
	}
	src, dst := a, tmp[:len(a)]
	for d := range 8 {
		c := &counts[d]
		shift := 8 * d
		if c[byte(src[0]>>shift)] == len(a) {
			continue // every key has the same byte here
		}
		sum := 0
		for i, n := range c {
			c[i] = sum
			sum += n
		}
		for _, v := range src {
			k := byte(v >> shift)
			dst[c[k]] = v
			c[k]++
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
}

// logLoss is sklearn 1.2's log_loss(y_true, proba, labels=[0, 1]): clip to
// [eps, 1-eps], form the two columns (1-p, p), renormalize each row by its
// sum, and average -log of the true class's column.
func logLoss(yTrue []int, proba []float64) float64 {
	sum := npSums(len(yTrue), 1, func(lo, m int, buf *termBuf) {
		dst := buf[0][:m]
		for i := range dst {
			dst[i] = LogLossTerm(yTrue[lo+i], proba[lo+i])
		}
	})[0]
	return sum / float64(len(yTrue))
}

// LogLossTerm is one row's term of sklearn 1.2's log_loss(labels=[0, 1]):
// the probability clipped to [eps, 1-eps], the two columns (1-p, p)
// renormalized by their sum, and -log of the true class's column.
func LogLossTerm(y int, p float64) float64 {
	c := min(max(p, logLossEps), 1-logLossEps)
	q := 1 - c
	s := q + c
	if y == 1 {
		return -math.Log(c / s)
	}
	return -math.Log(q / s)
}

// F1 is sklearn's F1 from precision and recall: 2·p·r / (p + r), with a zero
// denominator replaced by 1 (so 0 when both are 0).
func F1(precision, recall float64) float64 {
	denom := precision + recall
	if denom == 0 {
		denom = 1
	}
	return float64(float64(2*precision)*recall) / denom
}

// ConfusionMatrix returns the k×k confusion matrix of labels 0..k-1, rows
// indexed by the true label and columns by the predicted one, as
// sklearn.metrics.confusion_matrix(yTrue, yPred, labels=range(k)). Pairs
// with a label outside [0, k) are ignored (as scikit-learn ignores labels
// not listed), as are trailing elements of the longer slice if the lengths
// differ. It returns an empty matrix for k <= 0.
func ConfusionMatrix(yTrue, yPred []int, k int) [][]int {
	if k <= 0 {
		return [][]int{}
	}
	cells := make([]int, k*k)
	m := make([][]int, k)
	for i := range m {
		m[i] = cells[i*k : (i+1)*k : (i+1)*k]
	}
	for i := range min(len(yTrue), len(yPred)) {
		t, p := yTrue[i], yPred[i]
		if t >= 0 && t < k && p >= 0 && p < k {
			m[t][p]++
		}
	}
	return m
}

func checkClassification(yTrue, yPred []int, proba []float64) error {
	if len(yTrue) != len(yPred) {
		return fmt.Errorf("%w: y_true has %d labels but y_pred has %d", ErrInvalidInput, len(yTrue), len(yPred))
	}
	if len(yTrue) == 0 {
		return fmt.Errorf("%w: no rows to evaluate", ErrInvalidInput)
	}
	if len(proba) != 0 && len(proba) != len(yTrue) {
		return fmt.Errorf("%w: y_true has %d labels but proba has %d probabilities", ErrInvalidInput, len(yTrue), len(proba))
	}
	for i := range yTrue {
		if t := yTrue[i]; t != 0 && t != 1 {
			return fmt.Errorf("%w: y_true[%d] is %d; labels must be 0 or 1 (1 = positive class)", ErrInvalidInput, i, t)
		}
		if p := yPred[i]; p != 0 && p != 1 {
			return fmt.Errorf("%w: y_pred[%d] is %d; labels must be 0 or 1 (1 = positive class)", ErrInvalidInput, i, p)
		}
	}
	for i, p := range proba {
		if math.IsNaN(p) || p < 0 || p > 1 {
			return fmt.Errorf("%w: proba[%d] is %v; probabilities must be in [0, 1]", ErrInvalidInput, i, p)
		}
	}
	return nil
}
