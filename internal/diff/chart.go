package diff

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/modelci/modelci/internal/evaluate"
	"github.com/modelci/modelci/internal/model"
)

// Chart kinds.
const (
	ChartResidualDeciles = "residual_deciles"
	ChartPerClass        = "per_class"
)

// chart builds the report's chart: for regression the mean residual
// (actual − predicted) in each decile of a model's predictions, for
// classification precision, recall and F1 of each class. champEval is nil
// when there is no comparable champion.
func chart(m, champ *model.Model, champEval, chalEval *evaluate.Result) *Chart {
	if m.IsClassifier() {
		return classChart(m.Classes, champEval, chalEval)
	}
	k := min(10, len(chalEval.Rows))
	if k == 0 {
		return nil
	}
	c := &Chart{
		Kind:   ChartResidualDeciles,
		Title:  "Mean residual (actual − predicted) by decile of the prediction",
		YLabel: "mean residual",
	}
	for g := 1; g <= k; g++ {
		c.Labels = append(c.Labels, fmt.Sprintf("D%d", g))
	}
	if k != 10 {
		c.Title = fmt.Sprintf("Mean residual (actual − predicted) by %d-quantile group of the prediction", k)
	}
	c.Challenger = residualGroups(chalEval, k)
	if champEval != nil {
		c.Champion = residualGroups(champEval, k)
	}
	return c
}

// residualGroups sorts rows by prediction (ties in row order) and averages
// actual − predicted in k groups of (nearly) equal size.
func residualGroups(r *evaluate.Result, k int) []float64 {
	n := len(r.Pred)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return r.Pred[idx[a]] < r.Pred[idx[b]] })
	out := make([]float64, k)
	for g := 0; g < k; g++ {
		lo, hi := g*n/k, (g+1)*n/k
		var s float64
		for _, i := range idx[lo:hi] {
			s += r.YTrue[i] - r.Pred[i]
		}
		out[g] = s / float64(hi-lo)
		if math.IsNaN(out[g]) || math.IsInf(out[g], 0) {
			out[g] = 0
		}
	}
	return out
}

// Most classes the chart shows precision, recall and F1 for; with more it
// shows F1 only, for at most maxChartClasses classes.
const (
	maxPRFClasses   = 8
	maxChartClasses = 30
)

// classChart is the per-class chart of a classifier: precision, recall and
// F1 of each class, or F1 alone when there are many classes.
func classChart(classes []string, champEval, chalEval *evaluate.Result) *Chart {
	c := &Chart{Kind: ChartPerClass, Title: "Precision, recall and F1 per class", YLabel: "score"}
	shown := classes
	all := len(classes) <= maxPRFClasses
	if !all {
		c.Title = "F1 per class"
		if len(shown) > maxChartClasses {
			shown = shown[:maxChartClasses]
			c.Title = fmt.Sprintf("F1 of the first %d of %d classes", maxChartClasses, len(classes))
		}
	}
	for _, cls := range shown {
		if all {
			c.Labels = append(c.Labels, cls+" P", cls+" R", cls+" F1")
		} else {
			c.Labels = append(c.Labels, cls)
		}
	}
	series := func(cm [][]int) []float64 {
		var out []float64
		for k, prf := range perClass(cm) {
			if k == len(shown) {
				break
			}
			if all {
				out = append(out, prf[0], prf[1], prf[2])
			} else {
				out = append(out, prf[2])
			}
		}
		return out
	}
	c.Challenger = series(chalEval.Confusion)
	if champEval != nil {
		c.Champion = series(champEval.Confusion)
	}
	return c
}

// perClass returns the precision, recall and F1 of every class from a K×K
// confusion matrix (rows: true, columns: predicted); 0/0 is 0.
func perClass(cm [][]int) [][3]float64 {
	out := make([][3]float64, len(cm))
	for c := range cm {
		tp := cm[c][c]
		var predicted, actual int
		for t := range cm {
			predicted += cm[t][c]
			actual += cm[c][t]
		}
		p := ratio(int64(tp), int64(predicted))
		r := ratio(int64(tp), int64(actual))
		f := 0.0
		if p+r > 0 {
			f = 2 * p * r / (p + r)
		}
		out[c] = [3]float64{p, r, f}
	}
	return out
}

// coefficients compares the models' coefficients by encoded column name.
// modelFit compares what fits the two models: their coefficients when both
// are linear with the same number of outputs (per class for multinomial
// models), else the Fit of each (trees, leaves and feature importance for
// tree ensembles).
func modelFit(champ, chal *model.Model) (*Coefficients, *Fit) {
	a, b := champ.Summarize(), chal.Summarize()
	if a.Kind == model.SummaryLinear && b.Kind == model.SummaryLinear && a.Outputs == b.Outputs {
		if a.Outputs == 1 {
			return coefficients(champ, chal), nil
		}
		return classCoefficients(champ, chal, a, b), nil
	}
	return nil, fit(a, b)
}

// fit summarises two models of different kinds, or with different numbers
// of outputs.
func fit(a, b model.Summary) *Fit {
	f := &Fit{Champion: fitSide(a), Challenger: fitSide(b)}
	if a.Kind != model.SummaryTrees && b.Kind != model.SummaryTrees {
		return f
	}
	share := func(s model.Summary) map[string]float64 {
		out := map[string]float64{}
		for i, name := range s.Features {
			out[name] = s.Importance[i]
		}
		return out
	}
	ca, cb := share(a), share(b)
	var names []string
	for _, s := range []model.Summary{b, a} {
		for _, n := range s.Features {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	for _, n := range names {
		ic := ImportanceChange{Feature: n}
		if v, ok := ca[n]; ok {
			ic.Champion = &v
		}
		if v, ok := cb[n]; ok {
			ic.Challenger = &v
		}
		f.Importance = append(f.Importance, ic)
	}
	top := func(ic ImportanceChange) float64 {
		return max(deref(ic.Champion), deref(ic.Challenger))
	}
	sort.SliceStable(f.Importance, func(i, j int) bool { return top(f.Importance[i]) > top(f.Importance[j]) })
	return f
}

func deref(v *float64) float64 {
	if v == nil {
		return 0
	}
	return *v
}

func fitSide(s model.Summary) FitSide {
	fs := FitSide{Kind: s.Kind, Outputs: s.Outputs, Trees: s.Trees, Leaves: s.Leaves}
	for _, row := range s.Coefficients {
		for _, c := range row {
			if c != 0 {
				fs.Coefficients++
			}
		}
	}
	return fs
}

// classCoefficients compares two multinomial linear models class by class:
// column "class · column", and each class's intercept as a column
// "(intercept) · class".
func classCoefficients(champ, chal *model.Model, a, b model.Summary) *Coefficients {
	flat := func(m *model.Model, s model.Summary) *model.Model {
		out := &model.Model{Training: m.Training}
		for k := range s.Outputs {
			class := fmt.Sprint(k)
			if k < len(m.Classes) {
				class = m.Classes[k]
			}
			out.Columns = append(out.Columns, "(intercept) · "+class)
			out.Coefficients = append(out.Coefficients, s.Intercepts[k])
			for j, col := range s.Columns {
				out.Columns = append(out.Columns, class+" · "+col)
				out.Coefficients = append(out.Coefficients, s.Coefficients[k][j])
			}
		}
		return out
	}
	c := coefficients(flat(champ, a), flat(chal, b))
	c.Intercept = CoefChange{Column: "(intercept)"}
	return c
}

func coefficients(champ, chal *model.Model) *Coefficients {
	c := &Coefficients{
		Standardized: champ.Training.Standardize && chal.Training.Standardize,
		Intercept:    coefChange("(intercept)", &champ.Intercept, &chal.Intercept),
	}
	old := make(map[string]float64, len(champ.Columns))
	for i, name := range champ.Columns {
		old[name] = champ.Coefficients[i]
	}
	seen := make(map[string]bool, len(chal.Columns))
	for i, name := range chal.Columns {
		seen[name] = true
		v := chal.Coefficients[i]
		if o, ok := old[name]; ok {
			c.Columns = append(c.Columns, coefChange(name, &o, &v))
		} else {
			c.Columns = append(c.Columns, coefChange(name, nil, &v))
		}
	}
	for i, name := range champ.Columns {
		if !seen[name] {
			v := champ.Coefficients[i]
			c.Columns = append(c.Columns, coefChange(name, &v, nil))
		}
	}
	sort.SliceStable(c.Columns, func(i, j int) bool {
		a, b := c.Columns[i], c.Columns[j]
		if (a.Change == nil) != (b.Change == nil) {
			return a.Change == nil
		}
		if ma, mb := a.magnitude(), b.magnitude(); ma != mb {
			return ma > mb
		}
		return a.Column < b.Column
	})
	return c
}

// magnitude ranks a coefficient change: |change|, or for a column only one
// model has, the size of its one coefficient (the change from nothing).
func (cc CoefChange) magnitude() float64 {
	switch {
	case cc.Change != nil:
		return math.Abs(*cc.Change)
	case cc.Challenger != nil:
		return math.Abs(*cc.Challenger)
	case cc.Champion != nil:
		return math.Abs(*cc.Champion)
	}
	return 0
}

func coefChange(name string, champ, chal *float64) CoefChange {
	cc := CoefChange{Column: name}
	if champ != nil {
		v := *champ
		cc.Champion = &v
	}
	if chal != nil {
		v := *chal
		cc.Challenger = &v
	}
	if champ != nil && chal != nil {
		d := *chal - *champ
		cc.Change = &d
	}
	return cc
}
