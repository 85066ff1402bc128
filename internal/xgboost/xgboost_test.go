package xgboost

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/modelci/modelci/internal/model"
)

// golden is a testdata/<case>.golden.json that scripts/goldens/xgboost.py
// wrote with XGBoost 1.7.4.
type golden struct {
	Case       string       `json:"case"`
	Objective  string       `json:"objective"`
	Features   []string     `json:"features"`
	Rows       [][]*float64 `json:"rows"`
	Margin     [][]float64  `json:"margin"`
	Prediction any          `json:"prediction"`
}

func readGolden(t *testing.T, name string) *golden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

// relErr is |got-want| / max(|want|, 1): relative, except that it is
// absolute for values in (-1, 1). XGBoost sums leaf values in float32
// and modelci in float64, so a margin near 0 differs by float32 rounding
// (about 1e-7 absolute), which no relative bound holds.
func relErr(got, want float64) float64 {
	return math.Abs(got-want) / math.Max(math.Abs(want), 1)
}

// pureRelErr is |got-want| / |want|, for the log.
func pureRelErr(got, want float64) float64 {
	return math.Abs(got-want) / math.Max(math.Abs(want), 1e-300)
}

// tolerance is the largest error relErr may measure.
const tolerance = 1e-6

var goldenCases = []struct {
	name, objective, booster, link string
	k                              int
	// best is the best_iteration Read must find, and trees the trees it
	// keeps (0: do not check).
	best, trees int
}{
	{"squarederror", "reg:squarederror", "gbtree", model.LinkIdentity, 1, 19, 20},
	{"absoluteerror", "reg:absoluteerror", "gbtree", model.LinkIdentity, 1, 19, 20},
	{"logistic", "binary:logistic", "gbtree", model.LinkSigmoid, 1, 19, 20},
	{"logitraw", "binary:logitraw", "gbtree", model.LinkSigmoid, 1, 19, 20},
	{"reglogistic", "reg:logistic", "gbtree", model.LinkSigmoid, 1, 19, 20},
	{"softprob", "multi:softprob", "gbtree", model.LinkSoftmax, 3, 19, 60},
	{"softmax", "multi:softmax", "gbtree", model.LinkSoftmax, 3, 19, 60},
	{"poisson", "count:poisson", "gbtree", model.LinkExp, 1, 19, 20},
	{"gamma", "reg:gamma", "gbtree", model.LinkExp, 1, 19, 20},
	{"tweedie", "reg:tweedie", "gbtree", model.LinkExp, 1, 19, 20},
	{"dart", "binary:logistic", "dart", model.LinkSigmoid, 1, 19, 20},
	{"gblinear", "reg:squarederror", "gblinear", model.LinkIdentity, 1, 29, 0},
	{"gblinear_softprob", "multi:softprob", "gblinear", model.LinkSoftmax, 3, 29, 0},
	{"parallel", "reg:squarederror", "gbtree", model.LinkIdentity, 1, 5, 18},
	{"categorical", "reg:squarederror", "gbtree", model.LinkIdentity, 1, 19, 20},
	{"early_stopping", "binary:logistic", "gbtree", model.LinkSigmoid, 1, 14, 15},
	// Hand-edited fixtures (JSON only; see scripts/goldens/xgboost.py).
	{"bs_estimated", "binary:logistic", "gbtree", model.LinkSigmoid, 1, 19, 20},
	{"bs_list", "binary:logistic", "gbtree", model.LinkSigmoid, 1, 19, 20},
	{"bs_array", "binary:logistic", "gbtree", model.LinkSigmoid, 1, 19, 20},
	{"bs_softprob", "multi:softprob", "gbtree", model.LinkSoftmax, 3, 19, 60},
	{"v1_booleans", "reg:squarederror", "gbtree", model.LinkIdentity, 1, 19, 20},
	{"indptr", "binary:logistic", "gbtree", model.LinkSigmoid, 1, 14, 15},
}

// edited says the case is a hand-edited JSON fixture, without a .ubj.
func edited(name string) bool {
	switch name {
	case "bs_estimated", "bs_list", "bs_array", "bs_softprob", "v1_booleans", "indptr":
		return true
	}
	return false
}

// TestGoldens compiles every golden model, in both formats, and checks
// that model.Program's margins (Raw) and predictions (the link) equal
// XGBoost 1.7.4's predict(output_margin=True) and predict().
func TestGoldens(t *testing.T) {
	t.Parallel()
	for _, tc := range goldenCases {
		for _, ext := range []string{".json", ".ubj"} {
			if ext == ".ubj" && edited(tc.name) {
				continue
			}
			t.Run(tc.name+ext, func(t *testing.T) {
				t.Parallel()
				g := readGolden(t, tc.name)
				xm, err := ReadFile(filepath.Join("testdata", tc.name+ext))
				if err != nil {
					t.Fatal(err)
				}
				if xm.Objective != tc.objective || xm.Booster != tc.booster || xm.Link != tc.link || xm.Outputs != tc.k {
					t.Fatalf("read %s/%s/%s K=%d, want %s/%s/%s K=%d", xm.Objective, xm.Booster, xm.Link, xm.Outputs, tc.objective, tc.booster, tc.link, tc.k)
				}
				if xm.BestIteration != tc.best {
					t.Errorf("best_iteration %d, want %d", xm.BestIteration, tc.best)
				}
				if tc.trees > 0 && len(xm.Block.Trees.Trees) != tc.trees {
					t.Errorf("%d trees, want %d", len(xm.Block.Trees.Trees), tc.trees)
				}
				mm, err := xm.Compile(g.Features)
				if err != nil {
					t.Fatal(err)
				}
				prog, err := model.NewProgram(mm)
				if err != nil {
					t.Fatal(err)
				}
				worst, pure := checkGolden(t, xm, prog, g)
				t.Logf("%s%s: max error %.3g (relative; absolute below 1), max relative error %.3g, over %d rows", tc.name, ext, worst, pure, len(g.Rows))
			})
		}
	}
}

// checkGolden scores the golden rows and returns the largest relative
// error of margins and predictions, by relErr and pureRelErr.
func checkGolden(t *testing.T, xm *Model, prog *model.Program, g *golden) (worst, pure float64) {
	t.Helper()
	k := prog.Outputs()
	raw := make([]float64, k)
	probs := make([]float64, k)
	check := func(what string, r int, got, want float64) {
		e := relErr(got, want)
		worst = math.Max(worst, e)
		pure = math.Max(pure, pureRelErr(got, want))
		if !(e <= tolerance) {
			t.Errorf("row %d: %s %.9g, XGBoost %.9g (relative error %.3g)", r, what, got, want, e)
		}
	}
	enc := prog.Encoder()
	x := make([]float64, prog.Width())
	num := make([]float64, len(g.Features))
	str := make([]string, len(g.Features))
	xs := make([]float64, 0, len(g.Rows)*prog.Width())
	for r, row := range g.Rows {
		for j, v := range row {
			num[j] = math.NaN()
			if v != nil {
				num[j] = *v
			}
		}
		if _, err := enc.EncodeRow(num, str, x); err != nil {
			t.Fatal(err)
		}
		xs = append(xs, x...)
		prog.Raw(x, raw)
		for o := range k {
			check("margin", r, raw[o], g.Margin[r][o])
		}
		pred := g.Prediction.([]any)[r]
		switch {
		case xm.Task == model.TaskRegression:
			check("prediction", r, prog.Prediction(raw), pred.(float64))
		case xm.Margin:
			check("prediction", r, raw[0], pred.(float64))
		case xm.Class:
			if got := prog.Class(raw); float64(got) != pred.(float64) {
				t.Errorf("row %d: class %d, XGBoost %v", r, got, pred)
			}
		case k == 1:
			var p [2]float64
			prog.Probabilities(raw, p[:])
			check("probability", r, p[1], pred.(float64))
		default:
			prog.Probabilities(raw, probs)
			for o, want := range pred.([]any) {
				check("probability", r, probs[o], want.(float64))
			}
		}
	}
	// RawRows, the batch walk, agrees with Raw.
	n := len(g.Rows)
	out := make([]float64, n*k)
	prog.RawRows(xs, n, out)
	for r := range n {
		for o := range k {
			check("batch margin", r, out[r*k+o], g.Margin[r][o])
		}
	}
	return worst, pure
}
