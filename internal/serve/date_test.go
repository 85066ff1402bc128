package serve

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/model"
)

// TestServeDate serves a model with a date feature: the date arrives as a
// string (V2 BYTES, MLflow JSON and CSV) and the runtime derives its parts
// with the model's encoder, exactly as training did.
func TestServeDate(t *testing.T) {
	t.Parallel()
	ptr := func(v float64) *float64 { return &v }
	imputeCity := "a"
	m := &model.Model{
		SchemaVersion: model.SchemaVersion,
		Name:          "sales",
		Task:          model.TaskRegression,
		Algorithm:     "linear",
		Target:        "y",
		Features: []model.Feature{
			{Name: "when", Type: model.Date, Missing: "mean", Parts: []model.Feature{
				{Name: model.PartMonth, Type: model.Numeric, Missing: "mean", Impute: ptr(6), Scale: 1},
				{Name: model.PartDayOfWeek, Type: model.Numeric, Missing: "mean", Impute: ptr(3), Scale: 1},
			}},
			{Name: "city", Type: model.Categorical, Missing: "mean", Categories: []string{"a", "b"}, ImputeCategory: &imputeCity},
			{Name: "x", Type: model.Numeric, Missing: "mean", Impute: ptr(0), Scale: 1},
		},
		Intercept:    1,
		Coefficients: []float64{10, 100, 0, 1000, 2},
	}
	m.Columns = model.ColumnNames(m.Features)
	if _, err := m.Seal(nil); err != nil {
		t.Fatal(err)
	}
	s, err := New(m, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// 2024-03-07 is a Thursday (3): 1 + 10·3 + 100·3 + 1000 (b) + 2·1.
	// 2024-12-30 is a Monday (0): 1 + 10·12 + 0 + 0 (unseen) + 2·2.
	// "garbage" is missing: month 6, dayofweek 3; city missing → a.
	want := []float64{1333, 125, 1 + 60 + 300 + 0 + 6}
	p, err := model.NewPredictor(m)
	if err != nil {
		t.Fatal(err)
	}
	dates, cities := []string{"2024-03-07", "2024-12-30T08:00:00+01:00", "garbage"}, []string{"b", "zzz", ""}
	for r := range want {
		if got, _, err := p.Score([]float64{0, 0, float64(r + 1)}, []string{dates[r], cities[r], ""}); err != nil || got != want[r] {
			t.Fatalf("row %d: Predictor %v (%v), want %v", r, got, err, want[r])
		}
	}
	check := func(name string, code int, out string, data []json.RawMessage) {
		t.Helper()
		if code != 200 || len(data) != len(want) {
			t.Fatalf("%s: %d %s", name, code, out)
		}
		for r, raw := range data {
			var got float64
			if err := json.Unmarshal(raw, &got); err != nil || math.Abs(got-want[r]) > 1e-9 {
				t.Errorf("%s row %d: got %s, want %g", name, r, raw, want[r])
			}
		}
	}

	body := mustJSON(t, map[string]any{"inputs": []any{
		map[string]any{"name": "when", "shape": []int{3}, "datatype": "BYTES", "data": []any{dates[0], dates[1], dates[2]}},
		map[string]any{"name": "city", "shape": []int{3}, "datatype": "BYTES", "data": []any{"b", "zzz", nil}},
		map[string]any{"name": "x", "shape": []int{3}, "datatype": "FP64", "data": []any{1, 2, 3}},
	}})
	code, out := call(s, "POST", "/v2/models/sales/infer", "application/json", body)
	var resp v2Response
	if code == 200 {
		if err := json.Unmarshal([]byte(out), &resp); err != nil {
			t.Fatal(err)
		}
	}
	if len(resp.Outputs) != 1 {
		t.Fatalf("v2: %d %s", code, out)
	}
	check("v2", code, out, resp.Outputs[0].Data)

	body = mustJSON(t, map[string]any{"dataframe_split": map[string]any{
		"columns": []string{"x", "when", "city"},
		"data":    [][]any{{1, dates[0], "b"}, {2, dates[1], "zzz"}, {3, dates[2], nil}},
	}})
	code, out = call(s, "POST", "/invocations", "application/json", body)
	var mresp struct {
		Predictions []json.RawMessage `json:"predictions"`
	}
	_ = json.Unmarshal([]byte(out), &mresp)
	check("mlflow", code, out, mresp.Predictions)

	code, out = call(s, "POST", "/invocations", "text/csv", "when,city,x\n"+dates[0]+",b,1\n"+dates[1]+",zzz,2\n"+dates[2]+",,3\n")
	mresp.Predictions = nil
	_ = json.Unmarshal([]byte(out), &mresp)
	check("mlflow csv", code, out, mresp.Predictions)

	// A date is text: a numeric tensor is refused, and the metadata says
	// BYTES.
	body = mustJSON(t, map[string]any{"inputs": []any{
		map[string]any{"name": "when", "shape": []int{1}, "datatype": "FP64", "data": []any{20240307}},
		map[string]any{"name": "city", "shape": []int{1}, "datatype": "BYTES", "data": []any{"b"}},
		map[string]any{"name": "x", "shape": []int{1}, "datatype": "FP64", "data": []any{1}},
	}})
	if code, out := call(s, "POST", "/v2/models/sales/infer", "application/json", body); code != 400 || !strings.Contains(out, `feature \"when\" is a date, so its datatype must be BYTES`) {
		t.Errorf("FP64 date: %d %s", code, out)
	}
	code, out = call(s, "GET", "/v2/models/sales", "", "")
	if code != 200 || !strings.Contains(out, `{"name":"when","datatype":"BYTES"`) {
		t.Errorf("metadata %d %s: the date input should be BYTES", code, out)
	}
}
