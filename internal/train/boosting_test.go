package train

import (
	"bytes"
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/model"
)

// TestGradientBoosting: model.type gradient_boosting trains tree models
// for regression, binary and multiclass targets, with missing values left
// to the trees, and the same data and config give a byte-identical
// model.json whatever the number of workers.
func TestGradientBoosting(t *testing.T) {
	t.Parallel()
	house := filepath.Join("..", "..", "examples", "house-prices", "data.csv")
	iris := filepath.Join("..", "..", "examples", "iris", "data.csv")
	cases := []struct {
		name, yaml string
		outputs    int
		link       string
		metric     string
		min        float64
	}{
		{"regression with missing ages", "data:\n  path: " + house + "\n  target: price\n  categorical: [city]\nmodel:\n  type: gradient_boosting\nmetrics: [r2, rmse]\n", 1, model.LinkIdentity, "r2", 0.8},
		{"multiclass", "task: classification\ndata:\n  path: " + iris + "\n  target: species\n  exclude: [petal_width]\nmodel:\n  type: gradient_boosting\n  max_iter: 20\n  min_samples_leaf: 5\n", 3, model.LinkSoftmax, "accuracy", 0.85},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Parse([]byte(tc.yaml), "modelci.yaml", ".")
			if err != nil {
				t.Fatal(err)
			}
			var files [][]byte
			for _, workers := range []int{1, 2} {
				res, err := Train(context.Background(), cfg, Options{Workers: workers})
				if err != nil {
					t.Fatal(err)
				}
				m := res.Model
				if m.SchemaVersion != model.MaxSchemaVersion || m.Predictor == nil || m.Predictor.Trees == nil || m.Outputs != tc.outputs || m.Link != tc.link {
					t.Fatalf("model: schema %d, outputs %d, link %s", m.SchemaVersion, m.Outputs, m.Link)
				}
				if b := m.Training.Boosting; b == nil || b.EarlyStopping || b.MaxLeafNodes != 31 || m.Training.Iterations != *cfg.Model.MaxIter {
					t.Errorf("training record %+v, boosting %+v", m.Training, m.Training.Boosting)
				}
				for _, f := range m.Features {
					if f.Type == model.Numeric && (f.Missing != model.MissingKeep || f.Impute != nil || f.Scale != 1) {
						t.Errorf("feature %s: missing %q, impute %v, scale %v; want kept missing values, raw scale", f.Name, f.Missing, f.Impute, f.Scale)
					}
				}
				if v := res.Metrics.Metrics[tc.metric]; !(v >= tc.min) {
					t.Errorf("%s = %v, want ≥ %v", tc.metric, v, tc.min)
				}
				if len(res.Metrics.Data.Imputed) != 0 {
					t.Errorf("imputed %v under data.missing: keep", res.Metrics.Data.Imputed)
				}
				files = append(files, res.Files[model.FileModel])
			}
			if !bytes.Equal(files[0], files[1]) {
				t.Error("model.json differs between 1 and 2 workers")
			}
		})
	}
}

// TestGradientBoostingBinary: a two-class target gives one output with the
// sigmoid link, and its probabilities are the program's.
func TestGradientBoostingBinary(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse([]byte("task: classification\ndata:\n  path: "+filepath.Join("testdata", "clf_numeric.csv")+"\n  target: churn\n  categorical: [contract]\nmodel:\n  type: gradient_boosting\n  max_iter: 30\n"), "modelci.yaml", ".")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Train(context.Background(), cfg, Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Model
	if m.Outputs != 1 || m.Link != model.LinkSigmoid || len(m.Classes) != 2 {
		t.Fatalf("outputs %d, link %s, classes %v", m.Outputs, m.Link, m.Classes)
	}
	for _, name := range []string{"accuracy", "roc_auc", "log_loss"} {
		if v, ok := res.Metrics.Metrics[name]; !ok || math.IsNaN(v) {
			t.Errorf("%s missing: %v", name, res.Metrics.Metrics)
		}
	}
	if res.Metrics.Metrics["roc_auc"] < 0.7 {
		t.Errorf("roc_auc %v", res.Metrics.Metrics["roc_auc"])
	}
}

// TestBoostingBudgetCountsOutputs: a multiclass boosting fit keeps
// gradients, hessians and raw scores per class, and the memory estimate
// says so.
func TestBoostingBudgetCountsOutputs(t *testing.T) {
	t.Parallel()
	m := ModelSettings{Type: config.TypeGradientBoosting}
	one, ten := fitBytes(m, 1_000_000, 20, 1, 2), fitBytes(m, 1_000_000, 20, 10, 2)
	if want := 9 * 1e6 * 8 * 3; ten-one != want {
		t.Errorf("10 outputs need %g bytes more than 1, want %g", ten-one, float64(want))
	}
}
