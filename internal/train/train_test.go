package train

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/model"
)

// golden is testdata/golden_models.json, written by
// scripts/goldens/models.py with scikit-learn.
type golden struct {
	Sklearn string       `json:"sklearn"`
	Cases   []goldenCase `json:"cases"`
	Snippet struct {
		CSV    string  `json:"csv"`
		Target string  `json:"target"`
		MSE    float64 `json:"mse"`
	} `json:"snippet"`
}

type goldenCase struct {
	Name         string   `json:"name"`
	CSV          string   `json:"csv"`
	Target       string   `json:"target"`
	Type         string   `json:"type"`
	Solver       string   `json:"solver"`
	Alpha        *float64 `json:"alpha"`
	Missing      string   `json:"missing"`
	Standardize  *bool    `json:"standardize"`
	FitIntercept *bool    `json:"fit_intercept"`
	Seed         *int     `json:"seed"`
	TestSize     *float64 `json:"test_size"`
	Expected     struct {
		TestRows        []int              `json:"test_rows"`
		TrainRows       int                `json:"train_rows"`
		Coefficients    map[string]float64 `json:"coefficients"`
		Intercept       float64            `json:"intercept"`
		Metrics         map[string]float64 `json:"metrics"`
		PredHead        []float64          `json:"pred_head"`
		ProbaHead       []float64          `json:"proba_head"`
		Classes         []string           `json:"classes"`
		ConfusionMatrix [][]int            `json:"confusion_matrix"`
	} `json:"expected"`
}

func loadGolden(t *testing.T) *golden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden_models.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

// configFor writes the YAML a user would write for a golden case.
func configFor(t *testing.T, c goldenCase) *config.Config {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join("testdata", c.CSV))
	if err != nil {
		t.Fatal(err)
	}
	var y strings.Builder
	fmt.Fprintf(&y, "name: %s\ndata:\n  path: %s\n  target: %s\n", strings.ReplaceAll(c.Name, "_", "-"), abs, c.Target)
	if c.Missing != "" {
		fmt.Fprintf(&y, "  missing: %s\n", c.Missing)
	}
	if c.Seed != nil || c.TestSize != nil {
		y.WriteString("split:\n")
		if c.Seed != nil {
			fmt.Fprintf(&y, "  seed: %d\n", *c.Seed)
		}
		if c.TestSize != nil {
			fmt.Fprintf(&y, "  test_size: %g\n", *c.TestSize)
		}
	}
	fmt.Fprintf(&y, "model:\n  type: %s\n  solver: %s\n", c.Type, c.Solver)
	if c.Alpha != nil {
		fmt.Fprintf(&y, "  alpha: %g\n", *c.Alpha)
	}
	if c.Standardize != nil {
		fmt.Fprintf(&y, "  standardize: %t\n", *c.Standardize)
	}
	if c.FitIntercept != nil {
		fmt.Fprintf(&y, "  fit_intercept: %t\n", *c.FitIntercept)
	}
	if c.Solver == "gd" && c.Type != "logistic" {
		y.WriteString("  learning_rate: 0.5\n")
	}
	if c.Solver == "gd" && c.Type == "logistic" {
		y.WriteString("  learning_rate: 2\n  max_iter: 200000\n  tol: 1e-9\n")
	}
	cfg, err := config.Parse([]byte(y.String()), c.Name+".yaml", t.TempDir())
	if err != nil {
		t.Fatalf("config:\n%s\n%v", y.String(), err)
	}
	return cfg
}

// tolerances per golden case: relative tolerance on coefficients, on metrics
// and predictions. QR and the normal equations agree with LAPACK to near
// machine precision; iterative solvers stop at their tolerance.
var tolerances = map[string]struct{ coef, metric float64 }{
	"linear_qr":                   {1e-9, 1e-10},
	"linear_normal":               {1e-8, 1e-10},
	"linear_gd":                   {1e-7, 1e-9},
	"linear_raw_no_intercept":     {1e-9, 1e-10},
	"linear_seed7_t33":            {1e-9, 1e-10},
	"linear_mixed_mean":           {1e-8, 1e-10},
	"linear_mixed_median":         {1e-8, 1e-10},
	"linear_mixed_most_frequent":  {1e-7, 1e-10},
	"ridge_qr":                    {1e-9, 1e-10},
	"ridge_normal":                {1e-9, 1e-10},
	"ridge_gd":                    {1e-7, 1e-9},
	"linear_collinear":            {1e-6, 1e-9},
	"logistic_strings":            {1e-6, 1e-7},
	"logistic_numeric_labels_c05": {1e-6, 1e-7},
	"logistic_gd":                 {1e-5, 1e-6},
}

func relClose(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func TestGoldenModels(t *testing.T) {
	t.Parallel()
	g := loadGolden(t)
	if len(g.Cases) < 10 {
		t.Fatalf("golden file has %d cases", len(g.Cases))
	}
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			tol, ok := tolerances[c.Name]
			if !ok {
				t.Fatalf("no tolerance for case %s", c.Name)
			}
			res, err := Train(context.Background(), configFor(t, c), Options{})
			if err != nil {
				t.Fatal(err)
			}
			e := c.Expected
			if fmt.Sprint(res.Selection.Test) != fmt.Sprint(e.TestRows) {
				t.Errorf("test rows differ from train_test_split:\n got %v\nwant %v", res.Selection.Test, e.TestRows)
			}
			if len(res.Selection.Train) != e.TrainRows {
				t.Errorf("train rows = %d, want %d", len(res.Selection.Train), e.TrainRows)
			}
			m := res.Model
			if len(m.Columns) != len(e.Coefficients) {
				t.Fatalf("columns %v, want %v", m.Columns, e.Coefficients)
			}
			for j, name := range m.Columns {
				want, ok := e.Coefficients[name]
				if !ok {
					t.Errorf("column %q not in golden", name)
					continue
				}
				if !relClose(m.Coefficients[j], want, tol.coef) {
					t.Errorf("coef %s = %.15g, want %.15g (tol %g)", name, m.Coefficients[j], want, tol.coef)
				}
			}
			if !relClose(m.Intercept, e.Intercept, tol.coef) {
				t.Errorf("intercept = %.15g, want %.15g", m.Intercept, e.Intercept)
			}
			for name, want := range e.Metrics {
				got, ok := res.Metrics.Metrics[name]
				if !ok {
					t.Errorf("metric %s missing", name)
					continue
				}
				if !relClose(got, want, tol.metric) {
					t.Errorf("metric %s = %.15g, want %.15g (tol %g)", name, got, want, tol.metric)
				}
			}
			for i, want := range e.PredHead {
				if got := res.Test.Pred[i]; !relClose(got, want, tol.metric) {
					t.Errorf("prediction %d = %.15g, want %.15g", i, got, want)
				}
			}
			for i, want := range e.ProbaHead {
				if got := res.Test.Proba[i]; !relClose(got, want, tol.metric) {
					t.Errorf("probability %d = %.15g, want %.15g", i, got, want)
				}
			}
			if e.Classes != nil && fmt.Sprint(m.Classes) != fmt.Sprint(e.Classes) {
				t.Errorf("classes = %q, want %q", m.Classes, e.Classes)
			}
			if e.ConfusionMatrix != nil && fmt.Sprint(res.Metrics.ConfusionMatrix) != fmt.Sprint(e.ConfusionMatrix) {
				t.Errorf("confusion matrix = %v, want %v", res.Metrics.ConfusionMatrix, e.ConfusionMatrix)
			}
			if !m.Training.Converged {
				t.Errorf("solver did not converge: %+v", m.Training)
			}
		})
	}
}

// TestSnippetMSE: the plain scikit-learn snippet (train_test_split with
// random_state=42, LinearRegression, mean_squared_error) and modelci give
// the same MSE on the same data; standardization does not change ordinary
// least squares predictions.
func TestSnippetMSE(t *testing.T) {
	t.Parallel()
	g := loadGolden(t)
	abs, _ := filepath.Abs(filepath.Join("testdata", g.Snippet.CSV))
	cfg, err := config.Parse([]byte(fmt.Sprintf("data:\n  path: %s\n  target: %s\n", abs, g.Snippet.Target)), "modelci.yaml", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	res, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Metrics.Metrics["mse"]; !relClose(got, g.Snippet.MSE, 1e-11) {
		t.Fatalf("mse = %.17g, scikit-learn snippet = %.17g", got, g.Snippet.MSE)
	}
}

// TestGDReachesQR: on standardized data, gradient descent reaches the QR
// coefficients within 1e-6 relative.
func TestGDReachesQR(t *testing.T) {
	t.Parallel()
	g := loadGolden(t)
	byName := map[string]goldenCase{}
	for _, c := range g.Cases {
		byName[c.Name] = c
	}
	for _, pair := range [][2]string{{"linear_qr", "linear_gd"}} {
		qr, err := Train(context.Background(), configFor(t, byName[pair[0]]), Options{})
		if err != nil {
			t.Fatal(err)
		}
		gd, err := Train(context.Background(), configFor(t, byName[pair[1]]), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !gd.Model.Training.Converged || gd.Model.Training.Iterations < 2 {
			t.Fatalf("gd training report: %+v", gd.Model.Training)
		}
		for j := range qr.Model.Coefficients {
			q, d := qr.Model.Coefficients[j], gd.Model.Coefficients[j]
			if math.Abs(q-d) > 1e-6*math.Abs(q) {
				t.Errorf("column %s: gd %.12g vs qr %.12g: relative difference %.3g > 1e-6", qr.Model.Columns[j], d, q, math.Abs(q-d)/math.Abs(q))
			}
		}
	}
}

// TestDeterministic: repeated runs, with any number of workers, give
// byte-identical files.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	g := loadGolden(t)
	for _, c := range g.Cases {
		if c.Name != "linear_mixed_mean" && c.Name != "logistic_strings" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			var first map[string][]byte
			for _, workers := range []int{1, 2, 7, 1} {
				res, err := Train(context.Background(), configFor(t, c), Options{Workers: workers})
				if err != nil {
					t.Fatal(err)
				}
				if first == nil {
					first = res.Files
					continue
				}
				for name, b := range res.Files {
					if !bytes.Equal(b, first[name]) {
						t.Errorf("workers=%d: %s differs between runs", workers, name)
					}
				}
			}
			dir := filepath.Join(t.TempDir(), "model")
			res, err := Train(context.Background(), configFor(t, c), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := Write(dir, res); err != nil {
				t.Fatal(err)
			}
			m, err := model.Load(dir)
			if err != nil {
				t.Fatalf("written model does not load: %v", err)
			}
			if m.Checksum == "" || len(m.Files) != 2 {
				t.Errorf("model checksums: %q %v", m.Checksum, m.Files)
			}
		})
	}
}
