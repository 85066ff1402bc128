package metrics

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/split"
)

type multiclassGenerate struct {
	Kind   string  `json:"kind"`
	Seed   uint32  `json:"seed"`
	N      int     `json:"n"`
	K      int     `json:"k"`
	Levels int     `json:"levels"`
	Bonus  float64 `json:"bonus"`
}

// perClassGolden is precision_recall_fscore_support(average=None,
// labels=range(k)), with one tolerance for the three score arrays.
type perClassGolden struct {
	Precision []float64 `json:"precision"`
	Recall    []float64 `json:"recall"`
	F1        []float64 `json:"f1"`
	Support   []int     `json:"support"`
	RTol      float64   `json:"rtol"`
	ATol      float64   `json:"atol"`
}

type multiclassCase struct {
	Name            string              `json:"name"`
	N               int                 `json:"n"`
	K               int                 `json:"k"`
	YTrue           []int               `json:"y_true"`
	YPred           []int               `json:"y_pred"`
	Proba           []float64           `json:"proba"`
	Generate        *multiclassGenerate `json:"generate"`
	InputSHA256     string              `json:"input_sha256"`
	Expected        map[string]expected `json:"expected"`
	ExpectedBinary  map[string]expected `json:"expected_binary"`
	PerClass        perClassGolden      `json:"per_class"`
	ConfusionMatrix [][]int             `json:"confusion_matrix"`
}

// genMulticlass replays gen_multiclass from
// scripts/goldens/multiclass_metrics.py.
func genMulticlass(seed uint32, n, k, levels int, bonus float64) (yTrue, yPred []int, proba []float64) {
	rs := split.NewRandomState(seed)
	yTrue = make([]int, n)
	for i := range yTrue {
		yTrue[i] = rs.RandInt(k)
	}
	proba = make([]float64, n*k)
	for i := range proba {
		u := rs.Float64()
		if levels > 0 {
			u = math.Floor(float64(u*float64(levels))) + 1.0
		}
		proba[i] = u
	}
	yPred = make([]int, n)
	for i := range n {
		row := proba[i*k : (i+1)*k]
		row[yTrue[i]] += bonus
		s := pairwiseSum(row) // numpy's s.sum(axis=1)
		best := 0
		for c := range row {
			row[c] /= s
			if row[c] > row[best] {
				best = c // np.argmax: the first maximum
			}
		}
		yPred[i] = best
	}
	return yTrue, yPred, proba
}

func TestMulticlassGolden(t *testing.T) {
	t.Parallel()
	var g struct {
		Cases     []multiclassCase `json:"cases"`
		Confusion []confusionCase  `json:"confusion"`
	}
	loadJSON(t, "multiclass.json", &g)
	if len(g.Cases) < 20 || len(g.Confusion) == 0 {
		t.Fatalf("multiclass.json has %d cases and %d confusion cases", len(g.Cases), len(g.Confusion))
	}
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			yTrue, yPred, proba := c.YTrue, c.YPred, c.Proba
			if c.Generate != nil {
				gen := c.Generate
				if gen.Kind != "multiclass_scores" || gen.K != c.K {
					t.Fatalf("unknown generator %q (k %d)", gen.Kind, gen.K)
				}
				yTrue, yPred, proba = genMulticlass(gen.Seed, gen.N, gen.K, gen.Levels, gen.Bonus)
			}
			if len(yTrue) != c.N || len(proba) != c.N*c.K {
				t.Fatalf("%d rows and %d probabilities, want %d×%d", len(yTrue), len(proba), c.N, c.K)
			}
			if h := hashInputs([][]float64{proba}, [][]int{yTrue, yPred}); h != c.InputSHA256 {
				t.Fatalf("inputs differ from the golden's (sha256 %s, want %s)", h, c.InputSHA256)
			}
			values, skipped, err := Multiclass(yTrue, yPred, proba, c.K, Names(TaskClassification))
			if err != nil {
				t.Fatalf("Multiclass: %v", err)
			}
			checkExpected(t, c.Expected, values, skipped)

			if c.K == 2 {
				// The binary API on the probability of class 1 agrees with
				// scikit-learn's binary calls.
				col := make([]float64, c.N)
				for i := range col {
					col[i] = proba[2*i+1]
				}
				values, skipped, err := Classification(yTrue, yPred, col, Names(TaskClassification))
				if err != nil {
					t.Fatalf("Classification: %v", err)
				}
				checkExpected(t, c.ExpectedBinary, values, skipped)
			} else if c.ExpectedBinary != nil {
				t.Error("expected_binary for k > 2")
			}

			scores, err := PerClass(yTrue, yPred, c.K)
			if err != nil {
				t.Fatalf("PerClass: %v", err)
			}
			checkPerClass(t, c.PerClass, scores)
			// Exact: counts.
			if cm := ConfusionMatrix(yTrue, yPred, c.K); !equalMatrix(cm, c.ConfusionMatrix) {
				t.Errorf("ConfusionMatrix = %v, want %v", cm, c.ConfusionMatrix)
			}
		})
	}
	for _, c := range g.Confusion {
		t.Run("confusion/"+c.Name, func(t *testing.T) {
			t.Parallel()
			if cm := ConfusionMatrix(c.YTrue, c.YPred, c.K); !equalMatrix(cm, c.Want) {
				t.Errorf("ConfusionMatrix(k=%d) = %v, want %v", c.K, cm, c.Want)
			}
		})
	}
}

func checkPerClass(t *testing.T, want perClassGolden, got []ClassScores) {
	t.Helper()
	if len(got) != len(want.Support) {
		t.Fatalf("PerClass has %d classes, want %d", len(got), len(want.Support))
	}
	for c, s := range got {
		if s.Support != want.Support[c] {
			t.Errorf("class %d: support %d, want %d", c, s.Support, want.Support[c])
		}
		for _, m := range []struct {
			what      string
			got, want float64
		}{{"precision", s.Precision, want.Precision[c]}, {"recall", s.Recall, want.Recall[c]}, {"f1", s.F1, want.F1[c]}} {
			if diff := math.Abs(m.got - m.want); diff > want.ATol+want.RTol*math.Abs(m.want) {
				t.Errorf("class %d: %s = %v, want %v (diff %g)", c, m.what, m.got, m.want, diff)
			}
		}
	}
}

func TestMulticlassErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		yTrue, yPred []int
		proba        []float64
		k            int
		names        []string
		wantErr      string
		wantIs       error
	}{
		{"k one", []int{0}, []int{0}, nil, 1, nil, "k is 1", ErrInvalidInput},
		{"k negative", []int{0}, []int{0}, nil, -3, nil, "k is -3", ErrInvalidInput},
		{"k huge", []int{0}, []int{0}, nil, 1 << 40, nil, "number of classes must be in [2, 1048576]", ErrInvalidInput},
		{"length mismatch", []int{1, 0}, []int{1}, nil, 3, nil, "y_true has 2 labels but y_pred has 1", ErrInvalidInput},
		{"empty", []int{}, []int{}, nil, 3, nil, "no rows", ErrInvalidInput},
		{"proba not n×k", []int{0, 1}, []int{0, 1}, []float64{0.5, 0.5, 0.5}, 3, nil, "proba has 3 probabilities, want n×k = 2×3", ErrInvalidInput},
		{"proba n×(k+1)", []int{0, 1}, []int{0, 1}, make([]float64, 8), 3, nil, "proba has 8", ErrInvalidInput},
		{"label k", []int{0, 3}, []int{0, 1}, nil, 3, nil, "y_true[1] is 3; labels must be class indices in [0, 3)", ErrInvalidInput},
		{"negative label", []int{0, 1}, []int{-1, 1}, nil, 3, nil, "y_pred[0] is -1", ErrInvalidInput},
		{"NaN proba", []int{0, 1}, []int{0, 1}, []float64{0.1, 0.9, math.NaN(), 0.5}, 2, nil, "proba[2] (row 1, class 0) is NaN", ErrInvalidInput},
		{"Inf proba", []int{0, 1}, []int{0, 1}, []float64{math.Inf(1), 0, 0.2, 0.8}, 2, nil, "proba[0] (row 0, class 0) is +Inf", ErrInvalidInput},
		{"negative proba", []int{0, 1}, []int{0, 1}, []float64{0.5, 0.5, -0.1, 1.1}, 2, nil, "must be in [0, 1]", ErrInvalidInput},
		{"regression metric", []int{0, 1}, []int{0, 1}, nil, 2, []string{"rmse"}, "regression metric", ErrUnknownMetric},
		{"unknown metric", []int{0, 1}, []int{0, 1}, nil, 2, []string{"f1_micro"}, `"f1_micro"`, ErrUnknownMetric},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := Multiclass(tc.yTrue, tc.yPred, tc.proba, tc.k, tc.names)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, tc.wantIs) {
				t.Fatalf("error %v, want %v containing %q", err, tc.wantIs, tc.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "multiclass metrics: ") {
				t.Errorf("error %q does not say what failed", err)
			}
			if tc.wantIs != ErrInvalidInput {
				return
			}
			if _, err := PerClass(tc.yTrue, tc.yPred, tc.k); err == nil && tc.proba == nil {
				t.Error("PerClass accepted inputs Multiclass rejects")
			} else if err != nil && !errors.Is(err, ErrInvalidInput) {
				t.Errorf("PerClass error %v does not wrap ErrInvalidInput", err)
			}
		})
	}
}

func TestMulticlassOrderDefaultsAndSkips(t *testing.T) {
	t.Parallel()
	y3 := []int{0, 1, 2, 2}
	p3 := []int{0, 2, 2, 1}
	proba3 := []float64{0.7, 0.2, 0.1, 0.2, 0.3, 0.5, 0.1, 0.1, 0.8, 0.3, 0.4, 0.3}
	tests := []struct {
		name        string
		run         func() ([]Value, []Skipped, error)
		wantValues  []string
		wantSkipped []string
		reason      string // a substring of every skip's reason
	}{
		{
			"defaults",
			func() ([]Value, []Skipped, error) { return Multiclass(y3, p3, proba3, 3, nil) },
			MulticlassDefaults(), nil, "",
		},
		{
			"requested order",
			func() ([]Value, []Skipped, error) {
				return Multiclass(y3, p3, proba3, 3, []string{"log_loss", "f1_weighted", "accuracy"})
			},
			[]string{"log_loss", "f1_weighted", "accuracy"}, nil, "",
		},
		{
			"no probabilities",
			func() ([]Value, []Skipped, error) { return Multiclass(y3, p3, nil, 3, nil) },
			[]string{"accuracy", "balanced_accuracy", "precision_macro", "recall_macro", "f1_macro", "f1_weighted"},
			[]string{"roc_auc", "log_loss"}, "needs predicted probabilities",
		},
		{
			"binary names for k > 2",
			func() ([]Value, []Skipped, error) {
				return Multiclass(y3, p3, proba3, 3, []string{"precision", "recall_macro", "recall", "f1"})
			},
			[]string{"recall_macro"}, []string{"precision", "recall", "f1"}, "_macro or ",
		},
		{
			"binary names for k == 2",
			func() ([]Value, []Skipped, error) {
				return Multiclass([]int{0, 1}, []int{1, 1}, []float64{0.4, 0.6, 0.1, 0.9}, 2, []string{"precision", "recall", "f1"})
			},
			[]string{"precision", "recall", "f1"}, nil, "",
		},
		{
			"class absent from y_true",
			func() ([]Value, []Skipped, error) {
				return Multiclass([]int{0, 1, 1}, []int{0, 1, 2}, []float64{0.6, 0.2, 0.2, 0.1, 0.8, 0.1, 0.1, 0.1, 0.8}, 3, []string{"roc_auc", "log_loss"})
			},
			[]string{"log_loss"}, []string{"roc_auc"}, "class 2 never occurs in y_true",
		},
		{
			"rows not summing to one",
			func() ([]Value, []Skipped, error) {
				return Multiclass(y3, p3, []float64{0.7, 0.2, 0.1, 0.2, 0.3, 0.5, 0.1, 0.1, 0.8, 0.3, 0.4, 0.4}, 3, []string{"roc_auc"})
			},
			nil, []string{"roc_auc"}, "row 3 sums to 1.1",
		},
		{
			"classification computes the averaged names",
			func() ([]Value, []Skipped, error) {
				return Classification([]int{0, 1, 1}, []int{0, 0, 1}, nil, []string{"f1_macro", "balanced_accuracy", "recall_weighted"})
			},
			[]string{"f1_macro", "balanced_accuracy", "recall_weighted"}, nil, "",
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
				if in, _ := Lookup(v.Name); v.Direction != in.Direction || math.IsNaN(v.Value) || math.IsInf(v.Value, 0) {
					t.Errorf("%s = %v (%s)", v.Name, v.Value, v.Direction)
				}
			}
			for _, s := range skipped {
				gotS = append(gotS, s.Name)
				if s.Reason == "" || !strings.Contains(s.Reason, tc.reason) {
					t.Errorf("%s skipped with reason %q, want one containing %q", s.Name, s.Reason, tc.reason)
				}
			}
			if !slices.Equal(gotV, tc.wantValues) || !slices.Equal(gotS, tc.wantSkipped) {
				t.Fatalf("values %v skipped %v, want %v and %v", gotV, gotS, tc.wantValues, tc.wantSkipped)
			}
		})
	}
}

func TestMulticlassRegistry(t *testing.T) {
	t.Parallel()
	want := []string{"accuracy", "balanced_accuracy", "precision_macro", "recall_macro", "f1_macro", "f1_weighted", "roc_auc", "log_loss"}
	got := MulticlassDefaults()
	if !slices.Equal(got, want) {
		t.Fatalf("MulticlassDefaults = %v, want %v", got, want)
	}
	got[0] = "changed"
	if MulticlassDefaults()[0] != "accuracy" {
		t.Fatal("MulticlassDefaults shares state between calls")
	}
	if err := Validate(TaskClassification, want); err != nil {
		t.Fatalf("Validate(MulticlassDefaults): %v", err)
	}
	added := []string{"balanced_accuracy", "precision_macro", "precision_weighted", "recall_macro", "recall_weighted", "f1_macro", "f1_weighted"}
	// The binary names keep their order; the averaged ones follow them.
	if names := Names(TaskClassification); !slices.Equal(names, append(slices.Clone(Defaults(TaskClassification)), added...)) {
		t.Fatalf("Names(classification) = %v", names)
	}
	for _, name := range added {
		in, ok := Lookup(name)
		if !ok || in.Task != TaskClassification || in.Direction != Higher || !strings.Contains(in.Description, "sklearn ") {
			t.Errorf("Lookup(%q) = %+v, %v", name, in, ok)
		}
	}
	if err := Validate(TaskRegression, []string{"f1_macro"}); err == nil {
		t.Error("Validate accepted f1_macro for regression")
	}
}

// TestOneVsRestMatchesMannWhitney checks the one-vs-rest ROC AUC against the
// mean of the exact pair-counting AUCs.
func TestOneVsRestMatchesMannWhitney(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		seed   uint32
		n, k   int
		levels int
	}{{"continuous", 5, 400, 4, 0}, {"ties", 6, 400, 5, 2}, {"many classes", 7, 600, 11, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			yTrue, yPred, proba := genMulticlass(tc.seed, tc.n, tc.k, tc.levels, 0.5)
			values, skipped, err := Multiclass(yTrue, yPred, proba, tc.k, []string{"roc_auc"})
			if err != nil || len(skipped) != 0 {
				t.Fatalf("Multiclass: %v %v", err, skipped)
			}
			var sum float64
			bin := make([]int, tc.n)
			col := make([]float64, tc.n)
			for c := range tc.k {
				for i := range bin {
					bin[i] = 0
					if yTrue[i] == c {
						bin[i] = 1
					}
					col[i] = proba[i*tc.k+c]
				}
				sum += exactAUC(bin, col)
			}
			if want := sum / float64(tc.k); math.Abs(values[0].Value-want) > 1e-13 {
				t.Fatalf("roc_auc = %v, mean Mann-Whitney = %v", values[0].Value, want)
			}
		})
	}
}

// FuzzMulticlass checks that Multiclass and PerClass never panic, fail only
// with ErrInvalidInput, and return finite values within each metric's range.
func FuzzMulticlass(f *testing.F) {
	f.Add(uint8(3), []byte{0, 0, 1, 2, 2, 2, 1, 1}, []byte{10, 200, 40, 0, 250, 7}, true, true)
	f.Add(uint8(2), []byte{1, 1, 0, 0}, []byte{}, false, false)
	f.Add(uint8(5), []byte{4, 0, 3, 3, 255, 1}, []byte{251, 252, 253, 254, 255}, true, false)
	f.Add(uint8(0), []byte{}, []byte{1}, true, true)
	names := Names(TaskClassification)
	f.Fuzz(func(t *testing.T, k8 uint8, labels, probs []byte, withProba, normalize bool) {
		k := int(k8 % 14)
		n := len(labels) / 2
		yTrue := make([]int, n)
		yPred := make([]int, n)
		for i := range n {
			// Mostly valid labels, sometimes k or negative.
			yTrue[i] = int(int8(labels[2*i])) % (k + 2)
			yPred[i] = int(int8(labels[2*i+1])) % (k + 2)
		}
		var proba []float64
		if withProba && len(probs) > 0 {
			proba = make([]float64, n*max(k, 1))
			for i := range proba {
				proba[i] = fuzzProba(probs[i%len(probs)])
			}
			if normalize && k > 0 {
				for i := range n {
					row := proba[i*k : (i+1)*k]
					if s := pairwiseSum(row); s > 0 && !math.IsNaN(s) && !math.IsInf(s, 0) {
						for c := range row {
							row[c] /= s
						}
					}
				}
			}
		}
		values, skipped, err := Multiclass(yTrue, yPred, proba, k, names)
		scores, perErr := PerClass(yTrue, yPred, k)
		if err != nil {
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("error %v does not wrap ErrInvalidInput", err)
			}
			if perErr != nil && !errors.Is(perErr, ErrInvalidInput) {
				t.Fatalf("PerClass error %v does not wrap ErrInvalidInput", perErr)
			}
			return
		}
		if perErr != nil {
			t.Fatalf("Multiclass succeeded but PerClass failed: %v", perErr)
		}
		if len(values)+len(skipped) != len(names) {
			t.Fatalf("%d values + %d skipped for %d names", len(values), len(skipped), len(names))
		}
		for _, v := range values {
			hi := 1.0
			if v.Name == nameLogLoss {
				hi = -math.Log(logLossEps/float64(k)) + 1e-9
			}
			if !(v.Value >= 0 && v.Value <= hi) {
				t.Fatalf("%s = %v outside [0, %v]", v.Name, v.Value, hi)
			}
		}
		for _, s := range skipped {
			if s.Reason == "" {
				t.Fatalf("%s skipped without a reason", s.Name)
			}
		}
		support := 0
		for c, s := range scores {
			support += s.Support
			for _, v := range []float64{s.Precision, s.Recall, s.F1} {
				if !(v >= 0 && v <= 1) {
					t.Fatalf("class %d: score %v outside [0, 1]", c, v)
				}
			}
		}
		if support != n {
			t.Fatalf("supports sum to %d, want %d", support, n)
		}
	})
}

// fuzzProba maps a byte onto a probability, with a few invalid and extreme
// values.
func fuzzProba(b byte) float64 {
	switch b {
	case 251:
		return math.NaN()
	case 252:
		return math.Inf(1)
	case 253:
		return math.Copysign(0, -1)
	case 254:
		return 1e-300
	case 255:
		return 1.5
	}
	return float64(b) / 250
}

func BenchmarkMulticlass(b *testing.B) {
	names := Names(TaskClassification) // every metric
	for _, n := range []int{100_000, 1_000_000} {
		const k = 10
		yTrue, yPred, proba := genMulticlass(1, n, k, 0, 0.3)
		b.Run(fmt.Sprintf("n=%d/k=%d", n, k), func(b *testing.B) {
			for b.Loop() {
				if _, _, err := Multiclass(yTrue, yPred, proba, k, names); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
