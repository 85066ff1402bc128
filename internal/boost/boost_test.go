package boost

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/model"
)

// rawPredict scores columns with the ensemble, as model.Program does:
// BaseScore plus the sum of the leaf values in tree order. Row-major.
func rawPredict(e *model.TreeEnsemble, k int, cols [][]float64) []float64 {
	n := len(cols[0])
	out := make([]float64, n*k)
	for i := range n {
		for _, t := range e.Trees {
			j := 0
			for t.Feature[j] >= 0 {
				v := cols[t.Feature[j]][i]
				if math.IsNaN(v) {
					if t.MissingLeft[j] {
						j = t.Left[j]
					} else {
						j = t.Right[j]
					}
				} else if v <= t.Threshold[j] {
					j = t.Left[j]
				} else {
					j = t.Right[j]
				}
			}
			out[i*k+t.Output] += t.Value[j]
		}
		for o := range k {
			out[i*k+o] = e.BaseScore[o] + out[i*k+o]
		}
	}
	return out
}

func TestTinyTree(t *testing.T) {
	t.Parallel()
	g := readGolden(t).Tiny
	cols, y := readCSV(t, "tiny_train.csv")
	p := DefaultParams(SquaredError)
	p.MaxIter, p.MaxLeafNodes, p.MinSamplesLeaf = 1, 2, 5
	res, err := Fit(context.Background(), Data{Columns: cols, Y: y}, p)
	if err != nil {
		t.Fatal(err)
	}
	close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }
	if !close(res.Ensemble.BaseScore[0], g.Baseline) {
		t.Errorf("baseline %v, scikit-learn %v", res.Ensemble.BaseScore[0], g.Baseline)
	}
	tr := res.Ensemble.Trees[0]
	if !reflect.DeepEqual(tr.Feature, g.Feature) || !reflect.DeepEqual(tr.Left, g.Left) || !reflect.DeepEqual(tr.Right, g.Right) {
		t.Fatalf("tree shape %v %v %v, scikit-learn %v %v %v", tr.Feature, tr.Left, tr.Right, g.Feature, g.Left, g.Right)
	}
	if tr.Threshold[0] != g.Threshold[0] {
		t.Errorf("threshold %v, scikit-learn %v", tr.Threshold[0], g.Threshold[0])
	}
	if !close(tr.Gain[0], g.Gain[0]) {
		t.Errorf("gain %v, scikit-learn %v", tr.Gain[0], g.Gain[0])
	}
	for i := range tr.Feature {
		if tr.Feature[i] < 0 && !close(tr.Value[i], g.Value[i]) {
			t.Errorf("leaf %d value %v, scikit-learn %v", i, tr.Value[i], g.Value[i])
		}
		if tr.Cover[i] != float64(g.Count[i]) {
			t.Errorf("node %d cover %v, scikit-learn count %d", i, tr.Cover[i], g.Count[i])
		}
		if tr.Feature[i] >= 0 && tr.MissingLeft[i] != g.Missing[i] {
			t.Errorf("node %d missing left %v, scikit-learn %v", i, tr.MissingLeft[i], g.Missing[i])
		}
	}
}

// TestProgramMatchesTraining: model.Program over a model wrapping the
// ensemble scores the training rows exactly as fitting did.
func TestProgramMatchesTraining(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		loss    Loss
		classes int
	}{
		{"regression_missing", SquaredError, 0},
		{"hastie_missing", LogLoss, 2},
		{"wine", LogLoss, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cols, y := readCSV(t, tc.name+"_train.csv")
			p := DefaultParams(tc.loss)
			p.MaxIter = 20
			res, err := Fit(context.Background(), Data{Columns: cols, Y: y, Classes: tc.classes}, p)
			if err != nil {
				t.Fatal(err)
			}
			m := &model.Model{
				SchemaVersion: model.MaxSchemaVersion, Name: "boost", Task: model.TaskRegression,
				Algorithm: "gradient_boosting", Target: "y",
				Outputs: res.Outputs, Link: res.Link, Predictor: &model.Block{Trees: res.Ensemble},
			}
			if tc.classes > 0 {
				m.Task = model.TaskClassification
				for c := range tc.classes {
					m.Classes = append(m.Classes, string(rune('a'+c)))
				}
			}
			for j := range cols {
				name := "x" + string(rune('a'+j))
				m.Features = append(m.Features, model.Feature{Name: name, Type: model.Numeric, Missing: model.MissingKeep, Scale: 1})
				m.Columns = append(m.Columns, name)
			}
			prog, err := model.NewProgram(m)
			if err != nil {
				t.Fatal(err)
			}
			k := res.Outputs
			x := make([]float64, len(cols))
			out := make([]float64, k)
			n := len(y)
			batch := make([]float64, 0, n*len(cols))
			for i := range n {
				for j := range cols {
					x[j] = cols[j][i]
				}
				batch = append(batch, x...)
				prog.Raw(x, out)
				for o := range k {
					if got, want := out[o], res.TrainRaw[i*k+o]; math.Float64bits(got) != math.Float64bits(want) {
						t.Fatalf("row %d output %d: Program %v, training %v", i, o, got, want)
					}
				}
			}
			rows := make([]float64, n*k)
			prog.RawRows(batch, n, rows)
			if !reflect.DeepEqual(rows, res.TrainRaw) {
				t.Fatal("Program.RawRows differs from the training scores")
			}
			if !reflect.DeepEqual(rawPredict(res.Ensemble, k, cols), res.TrainRaw) {
				t.Fatal("the test's tree walk differs from the training scores")
			}
		})
	}
}

// TestWorkersDeterministic: Workers 1, 2 and 3 give bit-identical fits,
// on data large enough for every parallel path.
func TestWorkersDeterministic(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		loss    Loss
		classes int
	}{
		{"regression", SquaredError, 0},
		{"binary", LogLoss, 2},
		{"multiclass", LogLoss, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := synthetic(70000, 7, tc.classes, 3)
			var first *Result
			for _, w := range []int{1, 2, 3} {
				p := DefaultParams(tc.loss)
				p.MaxIter, p.Workers, p.EarlyStopping = 4, w, true
				res, err := Fit(context.Background(), d, p)
				if err != nil {
					t.Fatal(err)
				}
				if first == nil {
					first = res
					continue
				}
				if !reflect.DeepEqual(res, first) {
					t.Fatalf("workers %d differ from workers 1", w)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		mutate func(*Params)
	}{
		{"loss", func(p *Params) { p.Loss = "hinge" }},
		{"max_leaf_nodes", func(p *Params) { p.MaxLeafNodes = 1 }},
		{"learning_rate", func(p *Params) { p.LearningRate = 0 }},
		{"max_bins", func(p *Params) { p.MaxBins = 256 }},
		{"max_bins", func(p *Params) { p.MaxBins = 1 }},
		{"min_samples_leaf", func(p *Params) { p.MinSamplesLeaf = 0 }},
		{"max_iter", func(p *Params) { p.MaxIter = 0 }},
		{"l2_regularization", func(p *Params) { p.L2Regularization = -1 }},
		{"validation_fraction", func(p *Params) { p.ValidationFraction = 1 }},
		{"validation_fraction", func(p *Params) { p.ValidationFraction = 0 }},
		{"n_iter_no_change", func(p *Params) { p.NIterNoChange = 0 }},
		{"tol", func(p *Params) { p.Tol = -1e-9 }},
		{"max_depth", func(p *Params) { p.MaxDepth = -1 }},
	} {
		p := DefaultParams(SquaredError)
		tc.mutate(&p)
		err := p.Validate()
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%s: Validate() = %v", tc.name, err)
		}
		if _, err := Fit(context.Background(), synthetic(50, 2, 0, 1), p); err == nil {
			t.Errorf("%s: Fit accepted it", tc.name)
		}
	}
	if err := DefaultParams(LogLoss).Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

func TestDataErrors(t *testing.T) {
	t.Parallel()
	reg := DefaultParams(SquaredError)
	cls := DefaultParams(LogLoss)
	nan := math.NaN()
	for _, tc := range []struct {
		name string
		d    Data
		p    Params
		want string
	}{
		{"no columns", Data{Y: []float64{1, 2}}, reg, "no feature columns"},
		{"no rows", Data{Columns: [][]float64{{}}}, reg, "no rows"},
		{"ragged", Data{Columns: [][]float64{{1, 2}, {1}}, Y: []float64{1, 2}}, reg, "column 1 has 1 rows"},
		{"NaN target", Data{Columns: [][]float64{{1, 2}}, Y: []float64{1, nan}}, reg, "target of row 1"},
		{"classes for regression", Data{Columns: [][]float64{{1, 2}}, Y: []float64{0, 1}, Classes: 2}, reg, "classes"},
		{"class out of range", Data{Columns: [][]float64{{1, 2}}, Y: []float64{0, 2}, Classes: 2}, cls, "class index of row 1"},
		{"fractional class", Data{Columns: [][]float64{{1, 2}}, Y: []float64{0, 0.5}, Classes: 2}, cls, "class index of row 1"},
		{"NaN class", Data{Columns: [][]float64{{1, 2}}, Y: []float64{nan, 1}, Classes: 2}, cls, "class index of row 0"},
		{"one class", Data{Columns: [][]float64{{1, 2}}, Y: []float64{0, 0}, Classes: 1}, cls, "2 to"},
	} {
		_, err := Fit(context.Background(), tc.d, tc.p)
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Fit(ctx, synthetic(1000, 3, 0, 1), DefaultParams(SquaredError))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Fit = %v, want context.Canceled", err)
	}
}

func TestEarlyStopping(t *testing.T) {
	t.Parallel()
	d := synthetic(3000, 5, 0, 9)
	// A pure-noise target: the validation loss stops improving at once.
	for i := range d.Y {
		d.Y[i] = math.Sin(float64(i) * 12.9898)
	}
	p := DefaultParams(SquaredError)
	p.EarlyStopping = true
	p.MaxIter = 200
	res, err := Fit(context.Background(), d, p)
	if err != nil {
		t.Fatal(err)
	}
	if res.Iterations >= p.MaxIter || res.Iterations < p.NIterNoChange {
		t.Fatalf("%d iterations", res.Iterations)
	}
	if len(res.TrainLoss) != res.Iterations+1 || len(res.ValidationLoss) != res.Iterations+1 {
		t.Fatalf("%d train and %d validation losses for %d iterations", len(res.TrainLoss), len(res.ValidationLoss), res.Iterations)
	}
	if len(res.ValidationRows) != 300 || len(res.TrainRows) != 2700 || len(res.Ensemble.Trees) != res.Iterations {
		t.Fatalf("%d validation rows, %d training rows, %d trees", len(res.ValidationRows), len(res.TrainRows), len(res.Ensemble.Trees))
	}
	// Stratified: each class keeps its share of the validation rows.
	dc := synthetic(3000, 5, 3, 9)
	pc := DefaultParams(LogLoss)
	pc.EarlyStopping, pc.MaxIter = true, 3
	rc, err := Fit(context.Background(), dc, pc)
	if err != nil {
		t.Fatal(err)
	}
	count := func(rows []int) []int {
		c := make([]int, 3)
		for _, r := range rows {
			c[int(dc.Y[r])]++
		}
		return c
	}
	all, val := count(rc.TrainRows), count(rc.ValidationRows)
	for c := range 3 {
		share := float64(all[c]+val[c]) * 300 / 3000
		if math.Abs(float64(val[c])-share) > 1 {
			t.Errorf("class %d: %d validation rows of %d, want about %v", c, val[c], all[c]+val[c], share)
		}
	}
}

// TestReleaseColumns: with ReleaseColumns, Fit nils every column and fits
// the same trees.
func TestReleaseColumns(t *testing.T) {
	t.Parallel()
	for _, es := range []bool{false, true} {
		d := synthetic(30000, 5, 2, 3)
		p := DefaultParams(LogLoss)
		p.MaxIter, p.EarlyStopping = 5, es
		want, err := Fit(context.Background(), d, p)
		if err != nil {
			t.Fatal(err)
		}
		d.ReleaseColumns = true
		got, err := Fit(context.Background(), d, p)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("early stopping %v: ReleaseColumns changes the fit", es)
		}
		for j, c := range d.Columns {
			if c != nil {
				t.Fatalf("column %d kept", j)
			}
		}
	}
}
