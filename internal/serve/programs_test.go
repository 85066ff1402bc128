package serve

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/model"
)

// softmaxModel is a 3-class multinomial model over two numeric features,
// schema version 2: raw = b + W·x, probabilities = softmax(raw).
func softmaxModel(t *testing.T) *model.Model {
	t.Helper()
	zero := 0.0
	m := &model.Model{
		SchemaVersion: model.MaxSchemaVersion,
		Name:          "iris",
		Task:          model.TaskClassification,
		Algorithm:     "logistic",
		Target:        "species",
		Classes:       []string{"setosa", "versicolor", "virginica"},
		Features: []model.Feature{
			{Name: "a", Type: model.Numeric, Missing: "mean", Impute: &zero, Scale: 1},
			{Name: "b", Type: model.Numeric, Missing: "mean", Impute: &zero, Scale: 1},
		},
		Columns: []string{"a", "b"},
		Outputs: 3,
		Link:    model.LinkSoftmax,
		Predictor: &model.Block{Linear: &model.LinearBlock{
			Intercepts:   []float64{0.5, 0, -0.5},
			Coefficients: [][]float64{{2, 0}, {0, 1}, {-1, 1}},
		}},
	}
	if _, err := m.Seal(nil); err != nil {
		t.Fatal(err)
	}
	return m
}

// stumpModel is a regression tree ensemble: one stump on feature a
// (a <= 1 → 10, else 20; missing goes right) plus a base score of 1.
func stumpModel(t *testing.T) *model.Model {
	t.Helper()
	m := &model.Model{
		SchemaVersion: model.MaxSchemaVersion,
		Name:          "stump",
		Task:          model.TaskRegression,
		Algorithm:     "gradient_boosting",
		Target:        "y",
		Features:      []model.Feature{{Name: "a", Type: model.Numeric, Missing: model.MissingKeep, Scale: 1}},
		Columns:       []string{"a"},
		Outputs:       1,
		Link:          model.LinkIdentity,
		Predictor: &model.Block{Trees: &model.TreeEnsemble{
			Aggregation: model.AggregateSum, Comparison: model.CompareLessEqual, Precision: model.Float64,
			BaseScore: []float64{1},
			Trees: []model.Tree{{
				Output: 0, Feature: []int{0, -1, -1}, Threshold: []float64{1, 0, 0},
				Left: []int{1, -1, -1}, Right: []int{2, -1, -1}, MissingLeft: []bool{false, false, false},
				Value: []float64{0, 10, 20},
			}},
		}},
	}
	if _, err := m.Seal(nil); err != nil {
		t.Fatal(err)
	}
	return m
}

func softmaxOf(z []float64) []float64 {
	out := make([]float64, len(z))
	model.Softmax(z, out)
	return out
}

// TestServePrograms: a multiclass model and a tree model serve through the
// same V2 and MLflow handlers: predict is the class (or value), and
// predict_proba is [N, K] in the order of the model's classes.
func TestServePrograms(t *testing.T) {
	t.Parallel()
	mc, err := New(softmaxModel(t), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := New(stumpModel(t), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows := [][2]float64{{1, 0}, {0, 3}, {-2, 2}}
	var want [][]float64
	for _, r := range rows {
		want = append(want, softmaxOf([]float64{0.5 + 2*r[0], r[1], -0.5 - r[0] + r[1]}))
	}
	wantClass := []string{"setosa", "versicolor", "virginica"}
	type output struct {
		Name  string            `json:"name"`
		Shape []int             `json:"shape"`
		Data  []json.RawMessage `json:"data"`
	}
	var v2 struct {
		Outputs []output `json:"outputs"`
	}
	body := `{"inputs":[{"name":"a","datatype":"FP64","shape":[3],"data":[1,0,-2]},{"name":"b","datatype":"FP64","shape":[3],"data":[0,3,2]}]}`
	code, out := call(mc, "POST", "/v2/models/iris/infer", "application/json", body)
	if code != 200 {
		t.Fatalf("V2 infer: %d %s", code, out)
	}
	if err := json.Unmarshal([]byte(out), &v2); err != nil || len(v2.Outputs) != 2 {
		t.Fatalf("V2 answer %s: %v", out, err)
	}
	pred, proba := v2.Outputs[0], v2.Outputs[1]
	if pred.Name != "predict" || len(pred.Data) != 3 || proba.Name != "predict_proba" || len(proba.Shape) != 2 || proba.Shape[0] != 3 || proba.Shape[1] != 3 || len(proba.Data) != 9 {
		t.Fatalf("V2 outputs %s", out)
	}
	for r := range rows {
		var c string
		if err := json.Unmarshal(pred.Data[r], &c); err != nil || c != wantClass[r] {
			t.Errorf("row %d: class %s, want %s", r, pred.Data[r], wantClass[r])
		}
		for j := range 3 {
			var p float64
			if err := json.Unmarshal(proba.Data[r*3+j], &p); err != nil || math.Abs(p-want[r][j]) > 1e-15 {
				t.Errorf("row %d class %d: probability %s, want %v", r, j, proba.Data[r*3+j], want[r][j])
			}
		}
	}

	var ml struct {
		Predictions [][]float64 `json:"predictions"`
	}
	code, out = call(mc, "POST", "/invocations", "application/json", `{"dataframe_split":{"columns":["a","b"],"data":[[1,0],[0,3],[-2,2]]},"params":{"predict_method":"predict_proba"}}`)
	if code != 200 || json.Unmarshal([]byte(out), &ml) != nil || len(ml.Predictions) != 3 || len(ml.Predictions[2]) != 3 {
		t.Fatalf("MLflow predict_proba: %d %s", code, out)
	}
	for r := range rows {
		for j := range 3 {
			if math.Abs(ml.Predictions[r][j]-want[r][j]) > 1e-15 {
				t.Errorf("MLflow row %d class %d: %v, want %v", r, j, ml.Predictions[r][j], want[r][j])
			}
		}
	}
	code, out = call(mc, "GET", "/v2/models/iris", "", "")
	if code != 200 || !strings.Contains(out, `{"name":"predict_proba","datatype":"FP64","shape":[-1,3]}`) {
		t.Errorf("metadata: %d %s", code, out)
	}

	// The tree model: a ≤ 1 → 1 + 10, a > 1 or missing → 1 + 20.
	code, out = call(tr, "POST", "/v2/models/stump/infer", "application/json", `{"inputs":[{"name":"a","datatype":"FP64","shape":[3],"data":[1,1.5,null]}]}`)
	if code != 200 || !strings.Contains(out, `"data":[11,21,21]`) {
		t.Errorf("tree V2 infer: %d %s", code, out)
	}
	code, out = call(tr, "POST", "/invocations", "text/csv", "a\n0.5\n7\n")
	if code != 200 || out != `{"predictions":[11,21]}` {
		t.Errorf("tree MLflow: %d %s", code, out)
	}
}

// TestServeLinkedRegression: a regression whose link is exp (an imported
// count:poisson model) serves exp(raw), through V2 and /invocations.
func TestServeLinkedRegression(t *testing.T) {
	t.Parallel()
	m := stumpModel(t)
	m.Link = model.LinkExp
	if _, err := m.Seal(nil); err != nil {
		t.Fatal(err)
	}
	s, err := New(m, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{math.Exp(11), math.Exp(21)}
	var v2 struct {
		Outputs []struct {
			Data []float64 `json:"data"`
		} `json:"outputs"`
	}
	code, out := call(s, "POST", "/v2/models/stump/infer", "application/json", `{"inputs":[{"name":"a","datatype":"FP64","shape":[2],"data":[1,5]}]}`)
	if err := json.Unmarshal([]byte(out), &v2); code != 200 || err != nil || len(v2.Outputs) != 1 || !slices.Equal(v2.Outputs[0].Data, want) {
		t.Errorf("V2: %d %s, want data %v", code, out, want)
	}
	var ml struct {
		Predictions []float64 `json:"predictions"`
	}
	code, out = call(s, "POST", "/invocations", "text/csv", "a\n1\n5\n")
	if err := json.Unmarshal([]byte(out), &ml); code != 200 || err != nil || !slices.Equal(ml.Predictions, want) {
		t.Errorf("MLflow: %d %s, want %v", code, out, want)
	}
}
