package metrics

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/split"
)

func TestRegistry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		task     Task
		defaults []string
	}{
		{TaskRegression, []string{"rmse", "mae", "r2", "mse", "mape", "max_error"}},
		{TaskClassification, []string{"accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"}},
	}
	for _, tc := range tests {
		t.Run(string(tc.task), func(t *testing.T) {
			t.Parallel()
			if got := Defaults(tc.task); !slices.Equal(got, tc.defaults) {
				t.Fatalf("Defaults = %v, want %v", got, tc.defaults)
			}
			names := Names(tc.task)
			if !slices.Equal(names, Names(tc.task)) {
				t.Fatal("Names is not stable")
			}
			for _, d := range tc.defaults {
				if !slices.Contains(names, d) {
					t.Errorf("default %q missing from Names", d)
				}
			}
			for _, name := range names {
				in, ok := Lookup(name)
				if !ok || in.Name != name || in.Task != tc.task || in.Description == "" {
					t.Errorf("Lookup(%q) = %+v, %v", name, in, ok)
				}
				if in.Direction != Lower && in.Direction != Higher {
					t.Errorf("%s: direction %q", name, in.Direction)
				}
			}
			// Callers may modify the returned slices.
			names[0] = "changed"
			if Names(tc.task)[0] == "changed" {
				t.Fatal("Names shares state between calls")
			}
		})
	}
	if Names("clustering") != nil || Defaults("clustering") != nil {
		t.Error("unknown task has metrics")
	}
	if _, ok := Lookup("nope"); ok {
		t.Error("Lookup(nope) succeeded")
	}
}

func TestDirections(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want Direction
	}{
		{"rmse", Lower}, {"mae", Lower}, {"r2", Higher}, {"mse", Lower}, {"mape", Lower}, {"max_error", Lower},
		{"accuracy", Higher}, {"precision", Higher}, {"recall", Higher}, {"f1", Higher}, {"roc_auc", Higher}, {"log_loss", Lower},
	}
	for _, tc := range tests {
		if in, _ := Lookup(tc.name); in.Direction != tc.want {
			t.Errorf("%s: direction %q, want %q", tc.name, in.Direction, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		task    Task
		names   []string
		wantErr []string // substrings; nil means no error
	}{
		{"ok regression", TaskRegression, []string{"rmse", "r2"}, nil},
		{"ok classification", TaskClassification, []string{"roc_auc"}, nil},
		{"empty", TaskRegression, nil, nil},
		{"unknown", TaskRegression, []string{"rmse", "rsme"}, []string{`"rsme"`, "rmse, mae, r2, mse, mape, max_error"}},
		{"wrong task", TaskRegression, []string{"accuracy"}, []string{`"accuracy" is a classification metric`, "valid metrics: rmse"}},
		{"wrong task reverse", TaskClassification, []string{"mae"}, []string{"regression metric", "accuracy, precision"}},
		{"duplicate", TaskClassification, []string{"f1", "f1"}, []string{`"f1" is listed more than once`}},
		{"unknown task", "clustering", []string{"rmse"}, []string{`unknown task "clustering"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Validate(tc.task, tc.names)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate succeeded, want error")
			}
			for _, s := range tc.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

func TestRegressionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		yTrue, yPred []float64
		names        []string
		wantErr      string
		wantIs       error
	}{
		{"length mismatch", []float64{1, 2}, []float64{1}, nil, "y_true has 2 values but y_pred has 1", ErrInvalidInput},
		{"empty", nil, nil, nil, "no rows", ErrInvalidInput},
		{"NaN", []float64{1, math.NaN()}, []float64{1, 2}, nil, "y_true[1] is NaN", ErrInvalidInput},
		{"Inf", []float64{1, 2}, []float64{math.Inf(-1), 2}, nil, "y_pred[0] is -Inf", ErrInvalidInput},
		{"unknown metric", []float64{1}, []float64{1}, []string{"auc"}, `"auc"`, ErrUnknownMetric},
		{"classification metric", []float64{1}, []float64{1}, []string{"f1"}, "classification metric", ErrUnknownMetric},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := Regression(tc.yTrue, tc.yPred, tc.names)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, tc.wantIs) {
				t.Fatalf("error %v, want %v containing %q", err, tc.wantIs, tc.wantErr)
			}
		})
	}
}

func TestClassificationErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		yTrue, yPred []int
		proba        []float64
		names        []string
		wantErr      string
		wantIs       error
	}{
		{"length mismatch", []int{1, 0}, []int{1}, nil, nil, "y_true has 2 labels but y_pred has 1", ErrInvalidInput},
		{"proba length", []int{1, 0}, []int{1, 0}, []float64{0.5}, nil, "proba has 1", ErrInvalidInput},
		{"empty", []int{}, []int{}, nil, nil, "no rows", ErrInvalidInput},
		{"label 2", []int{0, 2}, []int{0, 1}, nil, nil, "y_true[1] is 2", ErrInvalidInput},
		{"negative label", []int{0, 1}, []int{-1, 1}, nil, nil, "y_pred[0] is -1", ErrInvalidInput},
		{"NaN proba", []int{0, 1}, []int{0, 1}, []float64{0.1, math.NaN()}, nil, "proba[1] is NaN", ErrInvalidInput},
		{"Inf proba", []int{0, 1}, []int{0, 1}, []float64{math.Inf(1), 0.2}, nil, "proba[0] is +Inf", ErrInvalidInput},
		{"proba above one", []int{0, 1}, []int{0, 1}, []float64{0.1, 1.5}, nil, "must be in [0, 1]", ErrInvalidInput},
		{"regression metric", []int{0, 1}, []int{0, 1}, nil, []string{"rmse"}, "regression metric", ErrUnknownMetric},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := Classification(tc.yTrue, tc.yPred, tc.proba, tc.names)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, tc.wantIs) {
				t.Fatalf("error %v, want %v containing %q", err, tc.wantIs, tc.wantErr)
			}
		})
	}
}

func TestOrderDefaultsAndSkips(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		run         func() ([]Value, []Skipped, error)
		wantValues  []string
		wantSkipped []string
	}{
		{
			"regression in requested order",
			func() ([]Value, []Skipped, error) {
				return Regression([]float64{1, 2, 3}, []float64{1, 2, 4}, []string{"max_error", "mse", "r2"})
			},
			[]string{"max_error", "mse", "r2"}, nil,
		},
		{
			"regression defaults",
			func() ([]Value, []Skipped, error) { return Regression([]float64{1, 2}, []float64{1, 3}, nil) },
			Defaults(TaskRegression), nil,
		},
		{
			"r2 undefined for one row",
			func() ([]Value, []Skipped, error) { return Regression([]float64{1}, []float64{2}, nil) },
			[]string{"rmse", "mae", "mse", "mape", "max_error"}, []string{"r2"},
		},
		{
			"overflow is skipped",
			func() ([]Value, []Skipped, error) {
				return Regression([]float64{1e300, -1e300}, []float64{-1e300, 1e300}, []string{"mse", "max_error", "mae"})
			},
			[]string{"max_error", "mae"}, []string{"mse"},
		},
		{
			"classification defaults",
			func() ([]Value, []Skipped, error) {
				return Classification([]int{0, 1}, []int{0, 1}, []float64{0.2, 0.8}, nil)
			},
			Defaults(TaskClassification), nil,
		},
		{
			"no probabilities",
			func() ([]Value, []Skipped, error) { return Classification([]int{0, 1}, []int{0, 1}, nil, nil) },
			[]string{"accuracy", "precision", "recall", "f1"}, []string{"roc_auc", "log_loss"},
		},
		{
			"one class skips roc_auc only",
			func() ([]Value, []Skipped, error) {
				return Classification([]int{0, 0}, []int{0, 1}, []float64{0.2, 0.8}, []string{"roc_auc", "log_loss"})
			},
			[]string{"log_loss"}, []string{"roc_auc"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			values, skipped, err := tc.run()
			if err != nil {
				t.Fatal(err)
			}
			var gotV, gotS []string
			for _, v := range values {
				gotV = append(gotV, v.Name)
				if math.IsNaN(v.Value) || math.IsInf(v.Value, 0) {
					t.Errorf("%s = %v is not finite", v.Name, v.Value)
				}
			}
			for _, s := range skipped {
				gotS = append(gotS, s.Name)
				if s.Reason == "" {
					t.Errorf("%s skipped without a reason", s.Name)
				}
			}
			if !slices.Equal(gotV, tc.wantValues) || !slices.Equal(gotS, tc.wantSkipped) {
				t.Fatalf("values %v skipped %v, want %v and %v", gotV, gotS, tc.wantValues, tc.wantSkipped)
			}
		})
	}
}

// exactAUC is the Mann-Whitney form of the ROC AUC: the fraction of
// (positive, negative) pairs ranked correctly, ties counting half. It equals
// the trapezoidal area exactly, so rocAUC must agree to rounding.
func exactAUC(yTrue []int, score []float64) float64 {
	var twice, pairs int64
	for i, ti := range yTrue {
		if ti != 1 {
			continue
		}
		for j, tj := range yTrue {
			if tj != 0 {
				continue
			}
			pairs++
			switch {
			case score[i] > score[j]:
				twice += 2
			case score[i] == score[j]:
				twice++
			}
		}
	}
	return float64(twice) / float64(2*pairs)
}

func TestROCAUCMatchesMannWhitney(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		seed   uint32
		n      int
		levels int // 0: continuous scores; otherwise scores in {0, 1/levels, ...}
	}{
		{"continuous", 1, 500, 0},
		{"few levels", 2, 500, 3},
		{"many ties", 3, 800, 20},
		{"tiny", 4, 3, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rs := split.NewRandomState(tc.seed)
			yTrue := make([]int, tc.n)
			score := make([]float64, tc.n)
			for i := range yTrue {
				yTrue[i] = rs.RandInt(2)
				if tc.levels > 0 {
					score[i] = float64(rs.RandInt(tc.levels+1)) / float64(tc.levels)
				} else {
					score[i] = rs.Float64()
				}
			}
			yTrue[0], yTrue[1] = 0, 1 // both classes present
			nPos := 0
			for _, v := range yTrue {
				nPos += v
			}
			got, want := rocAUC(yTrue, score, nPos), exactAUC(yTrue, score)
			if math.Abs(got-want) > 1e-13 {
				t.Fatalf("rocAUC = %v, Mann-Whitney = %v", got, want)
			}
		})
	}
}

func TestConfusionMatrixDegenerate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		yTrue, yPred []int
		k            int
		want         [][]int
	}{
		{"k zero", []int{0}, []int{0}, 0, [][]int{}},
		{"k negative", []int{0}, []int{0}, -2, [][]int{}},
		{"length mismatch uses the common prefix", []int{0, 1, 1}, []int{1}, 2, [][]int{{0, 1}, {0, 0}}},
		{"empty", nil, nil, 2, [][]int{{0, 0}, {0, 0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := ConfusionMatrix(tc.yTrue, tc.yPred, tc.k); !equalMatrix(got, tc.want) {
				t.Fatalf("ConfusionMatrix = %v, want %v", got, tc.want)
			}
		})
	}
}

func BenchmarkRegression100k(b *testing.B) {
	yTrue, yPred := genRegression(1, 100_000)
	names := Names(TaskRegression)
	for b.Loop() {
		if _, _, err := Regression(yTrue, yPred, names); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkROCAUC100k(b *testing.B) {
	yTrue, yPred, proba := genClassification(2, 100_000, false)
	names := []string{"roc_auc"}
	for b.Loop() {
		if _, _, err := Classification(yTrue, yPred, proba, names); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkClassification100k(b *testing.B) {
	yTrue, yPred, proba := genClassification(3, 100_000, false)
	for b.Loop() {
		if _, _, err := Classification(yTrue, yPred, proba, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRadixSortMatchesFloatOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		n    int
		gen  func(rs *split.RandomState) float64
	}{
		{"small", 10, func(rs *split.RandomState) float64 { return rs.Float64() }},
		{"probabilities", 5000, func(rs *split.RandomState) float64 { return rs.Float64() }},
		{"signed with zeros", 3000, func(rs *split.RandomState) float64 {
			switch rs.RandInt(4) {
			case 0:
				return math.Copysign(0, -1)
			case 1:
				return 0
			}
			return float64(rs.Float64()-0.5) * math.Pow(10, float64(rs.RandInt(40))-20)
		}},
		{"all equal", 1000, func(*split.RandomState) float64 { return 0.25 }},
		{"few levels", 2000, func(rs *split.RandomState) float64 { return float64(rs.RandInt(5)) / 4 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rs := split.NewRandomState(9)
			vals := make([]float64, tc.n)
			keys := make([]uint64, tc.n)
			for i := range vals {
				vals[i] = tc.gen(rs)
				keys[i] = sortKey(vals[i])
			}
			radixSort(keys, make([]uint64, tc.n))
			slices.Sort(vals)
			for i := range vals {
				if keys[i] != sortKey(vals[i]) {
					t.Fatalf("position %d: key %x, want key of %v (%x)", i, keys[i], vals[i], sortKey(vals[i]))
				}
			}
			if sortKey(math.Copysign(0, -1)) != sortKey(0) {
				t.Fatal("-0 and +0 have different keys")
			}
		})
	}
}
