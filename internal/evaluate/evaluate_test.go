package evaluate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/dataset"
	"github.com/modelci/modelci/internal/model"
)

func ptr[T any](v T) *T { return &v }

func frame(t *testing.T, csv string, categorical ...string) *dataset.Frame {
	t.Helper()
	f, err := dataset.Read(context.Background(), strings.NewReader(csv), "data.csv", dataset.Options{Categorical: categorical})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// regression is y = 1 + 2·(x-10)/5 + (city=b ? 3 : 0).
func regression(missing string) *model.Model {
	m := &model.Model{
		SchemaVersion: model.SchemaVersion, Name: "m", Task: model.TaskRegression, Algorithm: "linear", Target: "y",
		Features: []model.Feature{
			{Name: "x", Type: model.Numeric, Missing: missing, Center: 10, Scale: 5},
			{Name: "city", Type: model.Categorical, Missing: missing, Categories: []string{"a", "b"}},
		},
		Columns: []string{"x", "city=a", "city=b"}, Intercept: 1, Coefficients: []float64{2, 0, 3},
	}
	if missing == "mean" {
		m.Features[0].Impute = ptr(10.0)
		m.Features[1].ImputeCategory = ptr("a")
	}
	return m
}

func predictor(t *testing.T, m *model.Model) *model.Predictor {
	t.Helper()
	p, err := model.NewPredictor(m)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const data = "x,city,y,extra\n10,a,1,0\n15,b,6,0\n,b,4,0\n20,zzz,5,0\n5,,-1,0\n"

func TestScoreKeepsOrderAndCounts(t *testing.T) {
	t.Parallel()
	f := frame(t, data)
	s, err := NewScorer(predictor(t, regression("mean")), f)
	if err != nil {
		t.Fatal(err)
	}
	rows := []int{3, 0, 4, 2, 1} // shuffled, as test rows are
	res, err := s.Score(rows)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]float64{0: 1, 1: 1 + 2 + 3, 2: 1 + 0 + 3, 3: 1 + 4, 4: 1 - 2}
	if fmt.Sprint(res.Rows) != fmt.Sprint(rows) {
		t.Fatalf("rows %v, want %v", res.Rows, rows)
	}
	for k, r := range rows {
		if res.Pred[k] != want[r] {
			t.Errorf("row %d: prediction %g, want %g", r, res.Pred[k], want[r])
		}
	}
	if res.Unseen["city"] != 1 || res.Imputed["x"] != 1 || res.Imputed["city"] != 1 {
		t.Errorf("unseen %v imputed %v", res.Unseen, res.Imputed)
	}
	// EncodeBlock and EncodeRow agree.
	block := make([]float64, len(rows)*3)
	if err := s.EncodeBlock(rows, block, 3); err != nil {
		t.Fatal(err)
	}
	for k, r := range rows {
		x := make([]float64, 3)
		if err := s.EncodeRow(r, x); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(x) != fmt.Sprint(block[k*3:k*3+3]) {
			t.Errorf("row %d: EncodeRow %v, EncodeBlock %v", r, x, block[k*3:k*3+3])
		}
	}
}

func TestDropAndErrorPolicies(t *testing.T) {
	t.Parallel()
	f := frame(t, data)
	s, err := NewScorer(predictor(t, regression("drop")), f)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Score([]int{0, 1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	if res.DroppedMissing != 2 || fmt.Sprint(res.Rows) != "[0 1 3]" {
		t.Errorf("drop: dropped %d, rows %v", res.DroppedMissing, res.Rows)
	}
	s, err = NewScorer(predictor(t, regression("error")), f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Score([]int{0, 1, 2}); !errors.Is(err, model.ErrMissingValue) || !strings.Contains(err.Error(), "data row 3") {
		t.Errorf("error policy: %v", err)
	}
}

func TestCompatibility(t *testing.T) {
	t.Parallel()
	m := regression("mean")
	cases := []struct {
		name string
		csv  string
		cat  []string
		want string
	}{
		{"same columns plus one", data, nil, "[{extra added  }]"},
		{"removed", "x,y\n1,2\n", nil, "[{city removed  }]"},
		{"type change", "x,city,y\n1,2,3\n", nil, "[{city type categorical numeric}]"},
		{"forced categorical", "x,city,y\n1,2,3\n", []string{"x"}, "[{city type categorical numeric} {x type numeric categorical}]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Compatibility(m, frame(t, tc.csv, tc.cat...))
			if fmt.Sprint(got) != tc.want {
				t.Errorf("got %v, want %s", got, tc.want)
			}
		})
	}
	if _, err := NewScorer(predictor(t, m), frame(t, "x,y\n1,2\n")); !errors.Is(err, ErrIncompatibleData) || !strings.Contains(err.Error(), `"city" is missing`) {
		t.Errorf("NewScorer on incompatible data: %v", err)
	}
}

func TestEvaluateClassifier(t *testing.T) {
	t.Parallel()
	m := &model.Model{
		SchemaVersion: model.SchemaVersion, Name: "c", Task: model.TaskClassification, Algorithm: "logistic", Target: "label",
		Classes:  []string{"no", "yes"},
		Features: []model.Feature{{Name: "x", Type: model.Numeric, Missing: "mean", Impute: ptr(0.0), Scale: 1}},
		Columns:  []string{"x"}, Intercept: 0, Coefficients: []float64{1},
	}
	p := predictor(t, m)
	f := frame(t, "x,label\n-2,no\n-1,no\n1,yes\n2,no\n3,\n", "label")
	res, err := Evaluate(p, f, []int{0, 1, 2, 3, 4}, []string{"accuracy", "log_loss"})
	if err != nil {
		t.Fatal(err)
	}
	// Row 4 has no label and is skipped; row 3 is misclassified.
	if len(res.Rows) != 4 || fmt.Sprint(res.Confusion) != "[[2 1] [0 1]]" {
		t.Errorf("rows %v confusion %v", res.Rows, res.Confusion)
	}
	if res.Metrics[0].Name != "accuracy" || res.Metrics[0].Value != 0.75 {
		t.Errorf("metrics %+v", res.Metrics)
	}
	wantLoss := -(math.Log(1-model.Sigmoid(-2)) + math.Log(1-model.Sigmoid(-1)) + math.Log(model.Sigmoid(1)) + math.Log(1-model.Sigmoid(2))) / 4
	if math.Abs(res.Metrics[1].Value-wantLoss) > 1e-12 {
		t.Errorf("log_loss %g, want %g", res.Metrics[1].Value, wantLoss)
	}
	// A label the model never saw is an error naming it.
	f2 := frame(t, "x,label\n1,maybe\n", "label")
	if _, err := Evaluate(p, f2, []int{0}, nil); !errors.Is(err, ErrIncompatibleData) || !strings.Contains(err.Error(), `"maybe"`) {
		t.Errorf("unknown label: %v", err)
	}
}

// TestScoreParallel: large inputs are scored in parallel parts; the result
// is the same as scoring row by row, in the given order, with the same
// counts.
func TestScoreParallel(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("x,city,y\n")
	const n = 70_000
	for i := range n {
		x := fmt.Sprint(i % 1000)
		if i%97 == 0 {
			x = ""
		}
		fmt.Fprintf(&b, "%s,%s,%d\n", x, []string{"a", "b", "zzz"}[i%3], i)
	}
	f := frame(t, b.String())
	p := predictor(t, regression("mean"))
	s, err := NewScorer(p, f)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]int, n)
	for i := range rows {
		rows[i] = (i * 7919) % n // a permutation, as test rows are
	}
	res, err := s.Score(rows)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := f.Column("x")
	city, _ := f.Column("city")
	for k, r := range rows {
		want, _, err := p.Score([]float64{x.Floats[r], 0}, []string{"", city.Levels[city.Codes[r]]})
		if err != nil {
			t.Fatal(err)
		}
		if res.Rows[k] != r || res.Pred[k] != want {
			t.Fatalf("position %d: row %d prediction %g, want row %d %g", k, res.Rows[k], res.Pred[k], r, want)
		}
	}
	if res.Unseen["city"] != n/3 || res.Imputed["x"] != (n+96)/97 {
		t.Errorf("unseen %v imputed %v", res.Unseen, res.Imputed)
	}
}
