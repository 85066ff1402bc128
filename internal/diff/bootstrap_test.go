package diff

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/modelci/modelci/internal/metrics"
	"github.com/modelci/modelci/internal/split"
)

// bootstrapGolden is testdata/bootstrap.json, written by
// scripts/goldens/bootstrap.py with numpy and sklearn.metrics.
type bootstrapGolden struct {
	Numpy   string `json:"numpy"`
	Sklearn string `json:"sklearn"`
	Cases   []struct {
		Name       string    `json:"name"`
		Task       string    `json:"task"`
		Resamples  int       `json:"resamples"`
		Confidence float64   `json:"confidence"`
		Seed       uint32    `json:"seed"`
		YTrue      []float64 `json:"y_true"`
		Champion   struct {
			Pred  []float64 `json:"pred"`
			Proba []float64 `json:"proba"`
		} `json:"champion"`
		Challenger struct {
			Pred  []float64 `json:"pred"`
			Proba []float64 `json:"proba"`
		} `json:"challenger"`
		Metrics  []string `json:"metrics"`
		Expected map[string]struct {
			Low         *float64 `json:"low"`
			High        *float64 `json:"high"`
			Significant bool     `json:"significant"`
			Resamples   int      `json:"resamples"`
		} `json:"expected"`
	} `json:"cases"`
}

func loadBootstrapGolden(t testing.TB) *bootstrapGolden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "bootstrap.json"))
	if err != nil {
		t.Fatalf("read golden: %v", err)
	}
	var g bootstrapGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("decode golden: %v", err)
	}
	return &g
}

// TestPairedBootstrapGolden compares every interval with the textbook
// bootstrap computed by numpy + sklearn.metrics on materialized resamples,
// for 1 and 2 workers (results must not depend on parallelism).
func TestPairedBootstrapGolden(t *testing.T) {
	t.Parallel()
	g := loadBootstrapGolden(t)
	if len(g.Cases) < 5 {
		t.Fatalf("golden has %d cases", len(g.Cases))
	}
	for _, c := range g.Cases {
		for _, workers := range []int{1, 2} {
			t.Run(c.Name, func(t *testing.T) {
				t.Parallel()
				champ := Scores{Pred: c.Champion.Pred, Proba: c.Champion.Proba}
				chal := Scores{Pred: c.Challenger.Pred, Proba: c.Challenger.Proba}
				got, err := PairedBootstrap(context.Background(), metrics.Task(c.Task), c.YTrue, champ, chal, c.Metrics,
					BootstrapOptions{Resamples: c.Resamples, Confidence: c.Confidence, Seed: c.Seed, Workers: workers})
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(c.Metrics) {
					t.Fatalf("got %d intervals for %d metrics", len(got), len(c.Metrics))
				}
				for i, iv := range got {
					want, ok := c.Expected[c.Metrics[i]]
					if !ok || iv.Metric != c.Metrics[i] {
						t.Fatalf("interval %d is %q, golden has none", i, iv.Metric)
					}
					if iv.Resamples != want.Resamples {
						t.Errorf("%s: %d resamples with the metric defined, numpy had %d", iv.Metric, iv.Resamples, want.Resamples)
					}
					if want.Resamples == 0 {
						continue
					}
					// Weighted sums vs sums over the materialized resample:
					// equal to rounding, relative to the metric's scale.
					tol := 1e-9 * math.Max(1, math.Max(math.Abs(*want.Low), math.Abs(*want.High)))
					if math.Abs(iv.Low-*want.Low) > tol || math.Abs(iv.High-*want.High) > tol {
						t.Errorf("%s (workers %d): interval [%.17g, %.17g], numpy [%.17g, %.17g]", iv.Metric, workers, iv.Low, iv.High, *want.Low, *want.High)
					}
					if iv.Significant != want.Significant {
						t.Errorf("%s: significant %t, numpy %t", iv.Metric, iv.Significant, want.Significant)
					}
				}
			})
		}
	}
}

// TestBootstrapIdentityResample: with every row drawn once, the weighted
// metrics equal the metrics package's values on the full arrays, so the
// resampled statistic is the same statistic that the report shows.
func TestBootstrapIdentityResample(t *testing.T) {
	t.Parallel()
	g := loadBootstrapGolden(t)
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			n := len(c.YTrue)
			counts := make([]int32, n)
			for i := range counts {
				counts[i] = 1
			}
			champ := Scores{Pred: c.Champion.Pred, Proba: c.Champion.Proba}
			chal := Scores{Pred: c.Challenger.Pred, Proba: c.Challenger.Proba}
			var ev resampleEvaluator
			var want []float64
			if c.Task == "regression" {
				ev = newRegressionEvaluator(c.YTrue, champ, chal, c.Metrics)
				a, _, err := metrics.Regression(c.YTrue, champ.Pred, c.Metrics)
				if err != nil {
					t.Fatal(err)
				}
				b, _, err := metrics.Regression(c.YTrue, chal.Pred, c.Metrics)
				if err != nil {
					t.Fatal(err)
				}
				for i := range a {
					want = append(want, b[i].Value-a[i].Value)
				}
			} else {
				e, err := newClassificationEvaluator(c.YTrue, champ, chal, c.Metrics)
				if err != nil {
					t.Fatal(err)
				}
				ev = e
				yt := toInts(c.YTrue)
				a, sa, err := metrics.Classification(yt, toInts(champ.Pred), champ.Proba, c.Metrics)
				if err != nil {
					t.Fatal(err)
				}
				b, sb, err := metrics.Classification(yt, toInts(chal.Pred), chal.Proba, c.Metrics)
				if err != nil {
					t.Fatal(err)
				}
				if len(sa)+len(sb) > 0 {
					t.Fatalf("skipped metrics on the full data: %v %v", sa, sb)
				}
				for i := range a {
					want = append(want, b[i].Value-a[i].Value)
				}
			}
			got := make([]float64, len(c.Metrics))
			ev.diffs(counts, got)
			for i, name := range c.Metrics {
				if math.Abs(got[i]-want[i]) > 1e-10*math.Max(1, math.Abs(want[i])) {
					t.Errorf("%s: weighted diff %.17g, metrics package %.17g", name, got[i], want[i])
				}
			}
		})
	}
}

func TestPairedBootstrapErrors(t *testing.T) {
	t.Parallel()
	y := []float64{1, 2, 3}
	ok := Scores{Pred: []float64{1, 2, 3}}
	opt := BootstrapOptions{Resamples: 10, Confidence: 0.95, Seed: 1}
	cases := []struct {
		name  string
		task  metrics.Task
		y     []float64
		a, b  Scores
		names []string
		opt   BootstrapOptions
	}{
		{"length mismatch", metrics.TaskRegression, y, ok, Scores{Pred: []float64{1}}, []string{"rmse"}, opt},
		{"no rows", metrics.TaskRegression, nil, Scores{}, Scores{}, []string{"rmse"}, opt},
		{"zero resamples", metrics.TaskRegression, y, ok, ok, []string{"rmse"}, BootstrapOptions{Confidence: 0.95}},
		{"confidence 1", metrics.TaskRegression, y, ok, ok, []string{"rmse"}, BootstrapOptions{Resamples: 5, Confidence: 1}},
		{"wrong task metric", metrics.TaskRegression, y, ok, ok, []string{"f1"}, opt},
		{"label 2", metrics.TaskClassification, []float64{0, 1, 2}, Scores{Pred: []float64{0, 1, 1}}, Scores{Pred: []float64{0, 1, 1}}, []string{"f1"}, opt},
		{"missing proba", metrics.TaskClassification, []float64{0, 1, 1}, Scores{Pred: []float64{0, 1, 1}}, Scores{Pred: []float64{0, 1, 1}}, []string{"roc_auc"}, opt},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := PairedBootstrap(context.Background(), tc.task, tc.y, tc.a, tc.b, tc.names, tc.opt); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestPairedBootstrapCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	y := []float64{1, 2, 3, 4}
	s := Scores{Pred: []float64{1, 2, 3, 5}}
	for _, w := range []int{1, 2} {
		if _, err := PairedBootstrap(ctx, metrics.TaskRegression, y, s, s, []string{"rmse"}, BootstrapOptions{Resamples: 100, Confidence: 0.9, Workers: w}); err == nil {
			t.Errorf("workers %d: no error after cancel", w)
		}
	}
}

func toInts(xs []float64) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = int(x)
	}
	return out
}

// TestBinaryAveragedMetrics: a binary model's class-averaged metrics
// (balanced_accuracy, the macro and weighted averages) on resampled rows
// equal internal/metrics' on the materialised resample, which match
// scikit-learn's with labels=[0, 1].
func TestBinaryAveragedMetrics(t *testing.T) {
	t.Parallel()
	names := []string{"balanced_accuracy", "precision_macro", "precision_weighted", "recall_macro", "recall_weighted", "f1_macro", "f1_weighted", "accuracy", "f1"}
	g := loadBootstrapGolden(t)
	rs := split.NewRandomState(7)
	tested := 0
	for _, c := range g.Cases {
		if c.Task == "regression" {
			continue
		}
		champ := Scores{Pred: c.Champion.Pred}
		chal := Scores{Pred: c.Challenger.Pred}
		ev, err := newClassificationEvaluator(c.YTrue, champ, chal, names)
		if err != nil {
			t.Fatal(err)
		}
		n := len(c.YTrue)
		for b := range 20 {
			counts := make([]int32, n)
			var yt, pa, pb []int
			for range n {
				i := rs.RandInt(n)
				counts[i]++
			}
			for i, k := range counts {
				for range k {
					yt = append(yt, int(c.YTrue[i]))
					pa = append(pa, int(champ.Pred[i]))
					pb = append(pb, int(chal.Pred[i]))
				}
			}
			a, _, err := metrics.Classification(yt, pa, nil, names)
			if err != nil {
				t.Fatal(err)
			}
			bv, _, err := metrics.Classification(yt, pb, nil, names)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float64, len(names))
			ev.diffs(counts, got)
			for j, name := range names {
				if want := bv[j].Value - a[j].Value; math.Abs(got[j]-want) > 1e-12 {
					t.Errorf("%s resample %d: %s weighted diff %.17g, metrics package %.17g", c.Name, b, name, got[j], want)
				}
			}
			tested++
		}
	}
	if tested == 0 {
		t.Fatal("no classification case in the golden file")
	}
}
