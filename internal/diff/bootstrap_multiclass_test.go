package diff

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/metrics"
	"github.com/modelci/modelci/internal/split"
)

// multiclassGolden is testdata/bootstrap_multiclass.json, written by
// scripts/goldens/bootstrap_multiclass.py with numpy and sklearn.metrics.
type multiclassGolden struct {
	Numpy   string `json:"numpy"`
	Sklearn string `json:"sklearn"`
	Cases   []struct {
		Name       string    `json:"name"`
		Classes    int       `json:"classes"`
		Resamples  int       `json:"resamples"`
		Confidence float64   `json:"confidence"`
		Seed       uint32    `json:"seed"`
		YTrue      []float64 `json:"y_true"`
		Champion   struct {
			Pred  []float64 `json:"pred"`
			Probs []float64 `json:"probs"`
		} `json:"champion"`
		Challenger struct {
			Pred  []float64 `json:"pred"`
			Probs []float64 `json:"probs"`
		} `json:"challenger"`
		Metrics []string `json:"metrics"`
		// Full is each model's metric on the unresampled rows.
		Full     map[string]struct{ Champion, Challenger *float64 } `json:"full"`
		Expected map[string]struct {
			Low         *float64 `json:"low"`
			High        *float64 `json:"high"`
			Significant bool     `json:"significant"`
			Resamples   int      `json:"resamples"`
		} `json:"expected"`
	} `json:"cases"`
}

func loadMulticlassGolden(t testing.TB) *multiclassGolden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "bootstrap_multiclass.json"))
	if err != nil {
		t.Fatalf("read golden: %v", err)
	}
	var g multiclassGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("decode golden: %v", err)
	}
	return &g
}

// multiclassTolerance is the largest absolute difference allowed between a
// weighted Go value and sklearn's on the materialized resample. The count
// metrics are a handful of divisions of the same integers, so they differ
// only in the order of a few float additions (K terms); log_loss sums n
// logarithms (n ≤ 300 here) in a different order (Σ c·term against
// numpy's pairwise sum of the repeated terms); roc_auc is an exact integer
// area against np.trapz over the ROC curve, per class.
func multiclassTolerance(metric string) float64 {
	switch metric {
	case "log_loss":
		return 1e-12
	case "roc_auc":
		return 1e-13
	default:
		return 1e-14
	}
}

// TestPairedBootstrapMulticlassGolden compares every multiclass interval with
// the textbook bootstrap computed by numpy + sklearn.metrics on
// materialized resamples, for 1 and 2 workers.
func TestPairedBootstrapMulticlassGolden(t *testing.T) {
	t.Parallel()
	g := loadMulticlassGolden(t)
	if len(g.Cases) < 4 {
		t.Fatalf("golden has %d cases", len(g.Cases))
	}
	for _, c := range g.Cases {
		for _, workers := range []int{1, 2} {
			t.Run(c.Name+"/workers="+strconv.Itoa(workers), func(t *testing.T) {
				t.Parallel()
				champ := Scores{Pred: c.Champion.Pred, Probs: c.Champion.Probs}
				chal := Scores{Pred: c.Challenger.Pred, Probs: c.Challenger.Probs}
				got, err := PairedBootstrap(context.Background(), metrics.TaskClassification, c.YTrue, champ, chal, c.Metrics,
					BootstrapOptions{Resamples: c.Resamples, Confidence: c.Confidence, Seed: c.Seed, Workers: workers, Classes: c.Classes})
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
						t.Errorf("%s: %d resamples with the metric defined, sklearn had %d", iv.Metric, iv.Resamples, want.Resamples)
					}
					if want.Resamples == 0 {
						continue
					}
					tol := multiclassTolerance(iv.Metric)
					if math.Abs(iv.Low-*want.Low) > tol || math.Abs(iv.High-*want.High) > tol {
						t.Errorf("%s: interval [%.17g, %.17g], sklearn [%.17g, %.17g] (tolerance %g)", iv.Metric, iv.Low, iv.High, *want.Low, *want.High, tol)
					}
					if iv.Significant != want.Significant {
						t.Errorf("%s: significant %t, sklearn %t", iv.Metric, iv.Significant, want.Significant)
					}
				}
			})
		}
	}
}

// TestMulticlassIdentityResample: with every row drawn once, the weighted
// diff equals the difference of sklearn's metrics on the full rows.
func TestMulticlassIdentityResample(t *testing.T) {
	t.Parallel()
	g := loadMulticlassGolden(t)
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			e, err := newMulticlassEvaluator(c.YTrue, Scores{Pred: c.Champion.Pred, Probs: c.Champion.Probs},
				Scores{Pred: c.Challenger.Pred, Probs: c.Challenger.Probs}, c.Metrics, c.Classes)
			if err != nil {
				t.Fatal(err)
			}
			counts := make([]int32, len(c.YTrue))
			for i := range counts {
				counts[i] = 1
			}
			got := make([]float64, len(c.Metrics))
			e.diffs(counts, got)
			for i, name := range c.Metrics {
				full := c.Full[name]
				if full.Champion == nil || full.Challenger == nil {
					t.Fatalf("%s: golden has no full-data value", name)
				}
				want := *full.Challenger - *full.Champion
				if d := math.Abs(got[i] - want); d > multiclassTolerance(name) {
					t.Errorf("%s: weighted diff %.17g, sklearn %.17g", name, got[i], want)
				}
			}
		})
	}
}

// TestMulticlassMetricsAgreeWithRegistry: the multiclass metrics are in
// multiclassMetric order and are all classification metrics of
// internal/metrics.
func TestMulticlassMetricsAgreeWithRegistry(t *testing.T) {
	t.Parallel()
	names := multiclassNames()
	if len(names) != int(mcCount) {
		t.Fatalf("%d multiclass metrics, %d constants", len(names), mcCount)
	}
	for m, name := range map[multiclassMetric]string{mcAccuracy: "accuracy", mcBalancedAccuracy: "balanced_accuracy", mcF1Weighted: "f1_weighted", mcROCAUC: "roc_auc", mcLogLoss: "log_loss"} {
		if names[m] != name {
			t.Errorf("metric %d is %q, want %q", m, names[m], name)
		}
	}
	for _, name := range names {
		if reg, ok := metrics.Lookup(name); !ok || reg.Task != metrics.TaskClassification {
			t.Errorf("%s: not a classification metric of internal/metrics (%+v, %v)", name, reg, ok)
		}
	}
}

func TestPairedBootstrapMulticlassErrors(t *testing.T) {
	t.Parallel()
	y := []float64{0, 1, 2, 1}
	pred := []float64{0, 1, 2, 2}
	probs := []float64{.8, .1, .1, .1, .8, .1, .1, .1, .8, .1, .4, .5}
	ok := Scores{Pred: pred, Probs: probs}
	opt := BootstrapOptions{Resamples: 10, Confidence: 0.95, Seed: 1, Classes: 3}
	with := func(f func(*BootstrapOptions)) BootstrapOptions {
		o := opt
		f(&o)
		return o
	}
	cases := []struct {
		name  string
		task  metrics.Task
		y     []float64
		a     Scores
		names []string
		opt   BootstrapOptions
		want  []string // substrings of the error
	}{
		{"binary names", metrics.TaskClassification, y, ok, []string{"accuracy", "precision", "f1"}, opt,
			[]string{"precision, f1 are", "binary", "precision_macro or precision_weighted", "f1_macro or f1_weighted"}},
		{"unknown name", metrics.TaskClassification, y, ok, []string{"rmse"}, opt, []string{`"rmse"`, "balanced_accuracy"}},
		{"duplicate", metrics.TaskClassification, y, ok, []string{"accuracy", "accuracy"}, opt, []string{"more than once"}},
		{"label 3", metrics.TaskClassification, []float64{0, 1, 3, 1}, ok, []string{"accuracy"}, opt, []string{"y_true[2]", "0..2"}},
		{"fractional label", metrics.TaskClassification, []float64{0, 1, 1.5, 1}, ok, []string{"accuracy"}, opt, []string{"y_true[2]"}},
		{"pred -1", metrics.TaskClassification, y, Scores{Pred: []float64{0, -1, 2, 2}}, []string{"accuracy"}, opt, []string{"y_pred[1]"}},
		{"missing probs", metrics.TaskClassification, y, Scores{Pred: pred}, []string{"log_loss"}, opt, []string{"Probs", "got 0"}},
		{"binary proba", metrics.TaskClassification, y, Scores{Pred: pred, Proba: []float64{.1, .2, .3, .4}}, []string{"accuracy"}, opt, []string{"Proba"}},
		{"prob above 1", metrics.TaskClassification, y, Scores{Pred: pred, Probs: append([]float64{1.5}, probs[1:]...)}, []string{"log_loss"}, opt, []string{"probs[0][0]"}},
		{"rows not summing to 1", metrics.TaskClassification, y, Scores{Pred: pred, Probs: append([]float64{.5}, probs[1:]...)}, []string{"roc_auc"}, opt, []string{"sum to"}},
		{"one class", metrics.TaskClassification, y, ok, []string{"accuracy"}, with(func(o *BootstrapOptions) { o.Classes = 1 }), []string{"1 classes"}},
		{"regression with classes", metrics.TaskRegression, y, ok, []string{"rmse"}, opt, []string{"regression"}},
		{"binary with probs", metrics.TaskClassification, []float64{0, 1, 1, 0}, Scores{Pred: []float64{0, 1, 1, 1}, Probs: probs[:8]}, []string{"accuracy"},
			with(func(o *BootstrapOptions) { o.Classes = 2 }), []string{"Probs is for multiclass"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := PairedBootstrap(context.Background(), tc.task, tc.y, tc.a, ok, tc.names, tc.opt)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	_, err := PairedBootstrap(context.Background(), metrics.TaskClassification, y, ok, ok, []string{"recall"}, opt)
	if !errors.Is(err, metrics.ErrUnknownMetric) {
		t.Errorf("binary-only name: %v does not wrap metrics.ErrUnknownMetric", err)
	}
}

// TestPairedBootstrapTwoClassesIsBinary: Classes 2 takes the binary path,
// with results identical to Classes 0.
func TestPairedBootstrapTwoClassesIsBinary(t *testing.T) {
	t.Parallel()
	y, a, b := benchData(metrics.TaskClassification, 500)
	names := metrics.Defaults(metrics.TaskClassification)
	opt := BootstrapOptions{Resamples: 50, Confidence: 0.95, Seed: 3}
	want, err := PairedBootstrap(context.Background(), metrics.TaskClassification, y, a, b, names, opt)
	if err != nil {
		t.Fatal(err)
	}
	opt.Classes = 2
	got, err := PairedBootstrap(context.Background(), metrics.TaskClassification, y, a, b, names, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Classes 2: %v\nClasses 0: %v", got, want)
	}
}

// multiclassBenchData makes n rows of k-class targets and two models' class
// indices and softmax probabilities, the challenger sharper.
func multiclassBenchData(n, k int) ([]float64, Scores, Scores) {
	rs := split.NewRandomState(1)
	y := make([]float64, n)
	var s [2]Scores
	for m := range s {
		s[m].Pred = make([]float64, n)
		s[m].Probs = make([]float64, n*k)
	}
	for i := range y {
		yi := rs.RandInt(k)
		y[i] = float64(yi)
		for m := range s {
			row := s[m].Probs[i*k : (i+1)*k]
			var sum float64
			for c := range row {
				z := 2 * (rs.Float64() - 0.5)
				if c == yi {
					z += 0.8 + 0.6*float64(m)
				}
				row[c] = math.Exp(2 * z)
				sum += row[c]
			}
			best := 0
			for c := range row {
				row[c] /= sum
				if row[c] > row[best] {
					best = c
				}
			}
			s[m].Pred[i] = float64(best)
		}
	}
	return y, s[0], s[1]
}

// BenchmarkPairedBootstrapMulticlass: 1,000 resamples × all 10 multiclass
// metrics × 20,000 rows × 10 classes.
func BenchmarkPairedBootstrapMulticlass(b *testing.B) {
	const n, k = 20000, 10
	y, champ, chal := multiclassBenchData(n, k)
	names := multiclassNames()
	for _, workers := range []int{1, 2} {
		b.Run("workers="+strconv.Itoa(workers), func(b *testing.B) {
			for b.Loop() {
				if _, err := PairedBootstrap(context.Background(), metrics.TaskClassification, y, champ, chal, names,
					BootstrapOptions{Resamples: 1000, Confidence: 0.95, Seed: 42, Workers: workers, Classes: k}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
