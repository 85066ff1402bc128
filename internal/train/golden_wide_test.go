package train

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGoldenWide: on data with more columns than training rows, which
// modelci solves in the n×n dual, the coefficients, intercept, metrics and
// predictions match scikit-learn (testdata/golden_wide.json, written by
// scripts/goldens/wide.py): LinearRegression's minimum-norm solution,
// Ridge and LogisticRegression.
func TestGoldenWide(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("testdata", "golden_wide.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) < 5 {
		t.Fatalf("golden file has %d cases", len(g.Cases))
	}
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			coefTol, metricTol := 1e-8, 1e-9
			if c.Type == "logistic" {
				coefTol, metricTol = 1e-5, 1e-6
			}
			res, err := Train(context.Background(), configFor(t, c), Options{})
			if err != nil {
				t.Fatal(err)
			}
			m := res.Model
			if p, n := len(m.Columns), res.Model.Training.TrainRows; !wide(n, p) {
				t.Fatalf("%d columns, %d training rows: not a wide case", p, n)
			}
			for j, name := range m.Columns {
				if want := c.Expected.Coefficients[name]; !relClose(m.Coefficients[j], want, coefTol) {
					t.Errorf("coef %s = %.15g, want %.15g", name, m.Coefficients[j], want)
				}
			}
			if !relClose(m.Intercept, c.Expected.Intercept, coefTol) {
				t.Errorf("intercept = %.15g, want %.15g", m.Intercept, c.Expected.Intercept)
			}
			for name, want := range c.Expected.Metrics {
				if got := res.Metrics.Metrics[name]; !relClose(got, want, metricTol) {
					t.Errorf("metric %s = %.15g, want %.15g", name, got, want)
				}
			}
			for i, want := range c.Expected.PredHead {
				if got := res.Test.Pred[i]; !relClose(got, want, metricTol) {
					t.Errorf("prediction %d = %.15g, want %.15g", i, got, want)
				}
			}
			for i, want := range c.Expected.ProbaHead {
				if got := res.Test.Proba[i]; !relClose(got, want, metricTol) {
					t.Errorf("probability %d = %.15g, want %.15g", i, got, want)
				}
			}
			minNorm := false
			for _, w := range res.Metrics.Warnings {
				minNorm = minNorm || strings.Contains(w, "minimum-norm")
			}
			if want := c.Type == "linear"; minNorm != want {
				t.Errorf("minimum-norm warning %v, want %v: %q", minNorm, want, res.Metrics.Warnings)
			}
		})
	}
}
