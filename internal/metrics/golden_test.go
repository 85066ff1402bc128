package metrics

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/modelci/modelci/internal/split"
)

// expected is one metric of a golden case: a value with its own tolerance,
// or the reason scikit-learn could not compute it.
type expected struct {
	Value   *float64 `json:"value"`
	RTol    float64  `json:"rtol"`
	ATol    float64  `json:"atol"`
	Skipped string   `json:"skipped"`
}

type generate struct {
	Kind     string `json:"kind"`
	Seed     uint32 `json:"seed"`
	N        int    `json:"n"`
	Quantize bool   `json:"quantize"`
}

type regressionCase struct {
	Name        string              `json:"name"`
	N           int                 `json:"n"`
	YTrue       []float64           `json:"y_true"`
	YPred       []float64           `json:"y_pred"`
	Generate    *generate           `json:"generate"`
	InputSHA256 string              `json:"input_sha256"`
	Expected    map[string]expected `json:"expected"`
}

type classificationCase struct {
	Name            string              `json:"name"`
	N               int                 `json:"n"`
	YTrue           []int               `json:"y_true"`
	YPred           []int               `json:"y_pred"`
	Proba           []float64           `json:"proba"`
	Generate        *generate           `json:"generate"`
	InputSHA256     string              `json:"input_sha256"`
	Expected        map[string]expected `json:"expected"`
	ConfusionMatrix [][]int             `json:"confusion_matrix"`
}

type confusionCase struct {
	Name  string  `json:"name"`
	YTrue []int   `json:"y_true"`
	YPred []int   `json:"y_pred"`
	K     int     `json:"k"`
	Want  [][]int `json:"want"`
}

func loadJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read golden: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode golden %s: %v", name, err)
	}
}

// genRegression replays gen_regression from scripts/goldens/metrics.py.
func genRegression(seed uint32, n int) (yTrue, yPred []float64) {
	rs := split.NewRandomState(seed)
	u := make([]float64, n)
	for i := range u {
		u[i] = rs.Float64()
	}
	yTrue = make([]float64, n)
	yPred = make([]float64, n)
	for i := range yTrue {
		v := rs.Float64()
		// Explicit conversions keep each numpy operation separately rounded.
		yTrue[i] = float64(u[i]*200.0) - 100.0
		yPred[i] = yTrue[i] + float64(float64(v-0.5)*20.0)
	}
	return yTrue, yPred
}

// genClassification replays gen_classification from scripts/goldens/metrics.py.
func genClassification(seed uint32, n int, quantize bool) (yTrue, yPred []int, proba []float64) {
	rs := split.NewRandomState(seed)
	yTrue = make([]int, n)
	for i := range yTrue {
		yTrue[i] = rs.RandInt(2)
	}
	yPred = make([]int, n)
	proba = make([]float64, n)
	for i := range proba {
		p := float64(0.35*float64(yTrue[i])) + float64(0.65*rs.Float64())
		if quantize {
			p = math.Floor(float64(p*20.0)) / 20.0
		}
		proba[i] = p
		if p >= 0.5 {
			yPred[i] = 1
		}
	}
	return yTrue, yPred, proba
}

func hashInputs(floats [][]float64, ints [][]int) string {
	h := sha256.New()
	var buf [8]byte
	for _, a := range ints {
		for _, v := range a {
			binary.LittleEndian.PutUint64(buf[:], uint64(int64(v)))
			h.Write(buf[:])
		}
	}
	for _, a := range floats {
		for _, v := range a {
			binary.LittleEndian.PutUint64(buf[:], math.Float64bits(v))
			h.Write(buf[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// checkExpected compares computed metrics with a golden case's expectations.
func checkExpected(t *testing.T, want map[string]expected, values []Value, skipped []Skipped) {
	t.Helper()
	got := map[string]float64{}
	for _, v := range values {
		got[v.Name] = v.Value
		if in, _ := Lookup(v.Name); v.Direction != in.Direction {
			t.Errorf("%s: direction %q, want %q", v.Name, v.Direction, in.Direction)
		}
	}
	skip := map[string]string{}
	for _, s := range skipped {
		skip[s.Name] = s.Reason
	}
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		w := want[name]
		if w.Skipped != "" {
			if _, ok := skip[name]; !ok {
				t.Errorf("%s: scikit-learn: %s; got value %v instead of a skip", name, w.Skipped, got[name])
			}
			continue
		}
		g, ok := got[name]
		if !ok {
			t.Errorf("%s: not computed (skipped: %q), want %v", name, skip[name], *w.Value)
			continue
		}
		if diff := math.Abs(g - *w.Value); diff > w.ATol+w.RTol*math.Abs(*w.Value) {
			t.Errorf("%s = %v, want %v (diff %g > atol %g + rtol %g)", name, g, *w.Value, diff, w.ATol, w.RTol)
		} else if g != *w.Value {
			t.Logf("%s within tolerance but not bit-identical: %v vs %v (%d ulp)", name, g, *w.Value, ulps(g, *w.Value))
		}
	}
	if len(values)+len(skipped) != len(want) {
		t.Errorf("%d values + %d skipped, want %d metrics", len(values), len(skipped), len(want))
	}
}

func ulps(a, b float64) int64 {
	ia, ib := int64(math.Float64bits(a)), int64(math.Float64bits(b))
	if ia > ib {
		return ia - ib
	}
	return ib - ia
}

func TestRegressionGolden(t *testing.T) {
	t.Parallel()
	var g struct {
		Cases []regressionCase `json:"cases"`
	}
	loadJSON(t, "regression.json", &g)
	if len(g.Cases) < 12 {
		t.Fatalf("regression.json has %d cases, want at least 12", len(g.Cases))
	}
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			yTrue, yPred := c.YTrue, c.YPred
			if c.Generate != nil {
				if c.Generate.Kind != "regression_uniform" {
					t.Fatalf("unknown generator %q", c.Generate.Kind)
				}
				yTrue, yPred = genRegression(c.Generate.Seed, c.Generate.N)
			}
			if len(yTrue) != c.N {
				t.Fatalf("%d rows, want %d", len(yTrue), c.N)
			}
			if h := hashInputs([][]float64{yTrue, yPred}, nil); h != c.InputSHA256 {
				t.Fatalf("inputs differ from the golden's (sha256 %s, want %s)", h, c.InputSHA256)
			}
			values, skipped, err := Regression(yTrue, yPred, Names(TaskRegression))
			if err != nil {
				t.Fatalf("Regression: %v", err)
			}
			checkExpected(t, c.Expected, values, skipped)
		})
	}
}

func TestClassificationGolden(t *testing.T) {
	t.Parallel()
	var g struct {
		Cases     []classificationCase `json:"cases"`
		Confusion []confusionCase      `json:"confusion"`
	}
	loadJSON(t, "classification.json", &g)
	if len(g.Cases) < 12 || len(g.Confusion) == 0 {
		t.Fatalf("classification.json has %d cases and %d confusion cases", len(g.Cases), len(g.Confusion))
	}
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			yTrue, yPred, proba := c.YTrue, c.YPred, c.Proba
			if c.Generate != nil {
				if c.Generate.Kind != "classification_mixture" {
					t.Fatalf("unknown generator %q", c.Generate.Kind)
				}
				yTrue, yPred, proba = genClassification(c.Generate.Seed, c.Generate.N, c.Generate.Quantize)
			}
			if len(yTrue) != c.N {
				t.Fatalf("%d rows, want %d", len(yTrue), c.N)
			}
			if h := hashInputs([][]float64{proba}, [][]int{yTrue, yPred}); h != c.InputSHA256 {
				t.Fatalf("inputs differ from the golden's (sha256 %s, want %s)", h, c.InputSHA256)
			}
			// classification.json holds the six binary metrics; the averaged
			// ones are checked for k = 2 against multiclass.json.
			values, skipped, err := Classification(yTrue, yPred, proba, Defaults(TaskClassification))
			if err != nil {
				t.Fatalf("Classification: %v", err)
			}
			checkExpected(t, c.Expected, values, skipped)
			// Exact: counts.
			if cm := ConfusionMatrix(yTrue, yPred, 2); !equalMatrix(cm, c.ConfusionMatrix) {
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

func equalMatrix(a, b [][]int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}
