// Package xgboost reads XGBoost model files (JSON and UBJSON, as
// Booster.save_model writes them from XGBoost 1.0 to 3.x) and compiles them
// into modelci's model representation, so that model.Program scores them.
//
// XGBoost's prediction, which Compile reproduces:
//
//   - margin[k] = base_score in margin space + the leaf values of the trees
//     whose tree_info is k (a dart tree's leaves scaled by its weight_drop),
//     or, for gblinear, base + bias[k] + Σ_j weight[j][k]·x[j];
//   - a split sends x left iff float32(x) < threshold (model.CompareLess,
//     model.Float32), a missing value to its default child (default_left),
//     and a categorical split sends the categories it lists right and every
//     other category left (common::Decision in src/common/categorical.h
//     returns "go left" iff the category's bit is not set);
//   - the objective's transform maps the margin to the prediction.
//
// XGBoost sums leaf values in float32 and model.Program in float64, so
// margins agree to float32 rounding (about 1e-7 absolute), not bit for bit.
// A category code that is not an integer goes left here, while XGBoost
// truncates it to an integer first; XGBoost 3.x's stored category names
// (learner.cats) are not read, so a caller feeds the training codes.
//
// Only the standard library is used: no maintained Go library decodes
// UBJSON, so decode.go holds a small decoder with bounded sizes and depth.
package xgboost

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/modelci/modelci/internal/model"
)

// Errors callers can match with errors.Is.
var (
	// ErrFormat means the file is not a well-formed XGBoost model.
	ErrFormat = errors.New("not a valid XGBoost model")
	// ErrUnsupported means the model is well formed but uses a feature
	// (objective, booster, multi-target trees) this reader does not compile.
	ErrUnsupported = errors.New("unsupported XGBoost model")
)

// Format is the encoding of a model file.
type Format int

// Formats.
const (
	// FormatAuto sniffs the encoding from the first bytes.
	FormatAuto Format = iota
	FormatJSON
	FormatUBJSON
)

func (f Format) String() string {
	switch f {
	case FormatJSON:
		return "JSON"
	case FormatUBJSON:
		return "UBJSON"
	}
	return "auto"
}

// MaxFileSize bounds the bytes Read reads.
const MaxFileSize = 256 << 20

// Limits on a model, so a crafted file cannot ask for huge allocations.
const (
	maxFeatures = 1 << 20
	maxNodes    = 1 << 24
)

// Model is an XGBoost model, read and checked, with its predictor already in
// modelci's representation.
type Model struct {
	// Version is the XGBoost version that wrote the file ([1 7 4]); nil
	// when the file does not say.
	Version []int
	// Objective is the objective's name (binary:logistic).
	Objective string
	// Booster is gbtree, dart or gblinear.
	Booster string
	// Task is model.TaskRegression or model.TaskClassification.
	Task string
	// Outputs is K, the number of margins per row.
	Outputs int
	// Link maps the margins to the prediction (model.LinkIdentity, LinkExp,
	// LinkSigmoid or LinkSoftmax).
	Link string
	// Block is the predictor: Trees for gbtree and dart, Linear for
	// gblinear. Its base scores (or intercepts) include BaseScore.
	Block model.Block
	// BaseScore is the intercept of each output in margin space (after the
	// objective's ProbToMargin), which Block already adds.
	BaseScore []float64
	// BaseScoreOutput is learner_model_param.base_score as written: in
	// output space (a probability for binary:logistic), one value or K.
	BaseScoreOutput []float64
	// FeatureNames and FeatureTypes are learner.feature_names and
	// feature_types ("float", "int", "q", "i", "c"); either may be empty.
	FeatureNames []string
	FeatureTypes []string
	// NumFeature is the number of input columns.
	NumFeature int
	// Classes is the number of classes of a classifier (2 for binary), 0
	// for a regression.
	Classes int
	// BestIteration is attributes.best_iteration, -1 when unset. For gbtree
	// and dart, Block holds only the trees of iterations 0..BestIteration,
	// as the scikit-learn wrapper predicts (iteration_range=(0,
	// best_iteration+1)); a gblinear model has no per-iteration parts and
	// ignores it. Iterations counts all of the file's iterations.
	BestIteration int
	Iterations    int
	// Margin says the prediction is the raw margin itself
	// (binary:logitraw); Class says it is the class index (multi:softmax).
	Margin bool
	Class  bool
}

// ReadFile reads a model file: UBJSON when its name ends in .ubj, JSON when
// .json, else sniffed.
func ReadFile(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read XGBoost model: %w", err)
	}
	defer f.Close()
	format := FormatAuto
	switch strings.ToLower(filepath.Ext(path)) {
	case ".ubj":
		format = FormatUBJSON
	case ".json":
		format = FormatJSON
	}
	m, err := Read(f, format)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Read reads a model in the given format (FormatAuto sniffs it: a JSON
// object's first member name starts with a quote, a UBJSON object's with
// an integer length marker).
func Read(r io.Reader, format Format) (*Model, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read XGBoost model: %w", err)
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrFormat, MaxFileSize)
	}
	if format == FormatAuto {
		format = sniff(b)
	}
	var doc any
	switch format {
	case FormatJSON:
		doc, err = decodeJSON(b)
	case FormatUBJSON:
		doc, err = decodeUBJSON(b)
	default:
		return nil, fmt.Errorf("xgboost: unknown format %d", format)
	}
	if err != nil {
		return nil, err
	}
	return parse(node{v: doc})
}

func sniff(b []byte) Format {
	t := bytes.TrimLeft(b, " \t\r\n")
	if len(t) > 1 && t[0] == '{' {
		switch t[1] {
		case 'i', 'U', 'I', 'l', 'L', '$', '#', 'N':
			return FormatUBJSON
		}
	}
	return FormatJSON
}

// objective is how XGBoost's objective maps margins to predictions.
type objective struct {
	task string
	link string
	// toMargin is the objective's ProbToMargin for base_score.
	toMargin func(float32) (float32, error)
	multi    bool
	margin   bool
	class    bool
}

func identity(v float32) (float32, error) { return v, nil }

func logMargin(v float32) (float32, error) {
	if !(v > 0) {
		return 0, fmt.Errorf("base_score %g must be positive for a log link", v)
	}
	return float32(math.Log(float64(v))), nil
}

// logit is ProbToMargin of the logistic objectives: XGBoost 2.0 and later
// clamp base_score to [1e-6, 1-1e-6]; 1.x required it in (0, 1).
func logit(v float32) (float32, error) {
	if !(v >= 0 && v <= 1) {
		return 0, fmt.Errorf("base_score %g must be in [0, 1] for the logistic loss", v)
	}
	const eps = 1e-6
	v = min(max(v, eps), 1-eps)
	return float32(-math.Log(1/float64(v) - 1)), nil
}

var objectives = map[string]objective{
	"reg:squarederror": {task: model.TaskRegression, link: model.LinkIdentity, toMargin: identity},
	// reg:linear is reg:squarederror's name before 1.0, still accepted.
	"reg:linear":        {task: model.TaskRegression, link: model.LinkIdentity, toMargin: identity},
	"reg:absoluteerror": {task: model.TaskRegression, link: model.LinkIdentity, toMargin: identity},
	// reg:logistic regresses a target in [0, 1]: a regression whose
	// prediction is sigmoid(margin).
	"reg:logistic":    {task: model.TaskRegression, link: model.LinkSigmoid, toMargin: logit},
	"binary:logistic": {task: model.TaskClassification, link: model.LinkSigmoid, toMargin: logit},
	// binary:logitraw predicts the margin; its probabilities are the
	// sigmoid, and its base_score is already a margin.
	"binary:logitraw": {task: model.TaskClassification, link: model.LinkSigmoid, toMargin: identity, margin: true},
	"multi:softprob":  {task: model.TaskClassification, link: model.LinkSoftmax, toMargin: identity, multi: true},
	"multi:softmax":   {task: model.TaskClassification, link: model.LinkSoftmax, toMargin: identity, multi: true, class: true},
	"count:poisson":   {task: model.TaskRegression, link: model.LinkExp, toMargin: logMargin},
	"reg:gamma":       {task: model.TaskRegression, link: model.LinkExp, toMargin: logMargin},
	"reg:tweedie":     {task: model.TaskRegression, link: model.LinkExp, toMargin: logMargin},
}

// Objectives lists the objectives Read accepts, sorted.
func Objectives() []string {
	out := make([]string, 0, len(objectives))
	for k := range objectives {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func parse(root node) (*Model, error) {
	learner, err := root.get("learner")
	if err != nil {
		return nil, err
	}
	m := &Model{BestIteration: -1}
	if v, ok, _ := root.opt("version"); ok {
		if m.Version, err = v.ints(0, math.MaxInt32); err != nil {
			return nil, err
		}
	}
	// The objective.
	obj, err := learner.get("objective")
	if err != nil {
		return nil, err
	}
	on, err := obj.get("name")
	if err != nil {
		return nil, err
	}
	if m.Objective, err = on.str(); err != nil {
		return nil, err
	}
	spec, ok := objectives[m.Objective]
	if !ok {
		return nil, fmt.Errorf("%w: %s: objective %q (this reader compiles %s)", ErrUnsupported, on.path, m.Objective, strings.Join(Objectives(), ", "))
	}
	m.Task, m.Link, m.Margin, m.Class = spec.task, spec.link, spec.margin, spec.class

	// learner_model_param.
	lmp, err := learner.get("learner_model_param")
	if err != nil {
		return nil, err
	}
	nf, err := lmp.get("num_feature")
	if err != nil {
		return nil, err
	}
	if m.NumFeature, err = nf.integer(1, maxFeatures); err != nil {
		return nil, err
	}
	numClass := 0
	if nc, ok, _ := lmp.opt("num_class"); ok {
		if numClass, err = nc.integer(0, model.MaxOutputs); err != nil {
			return nil, err
		}
	}
	if nt, ok, _ := lmp.opt("num_target"); ok {
		n, err := nt.integer(1, model.MaxOutputs)
		if err != nil {
			return nil, err
		}
		if n != 1 {
			return nil, fmt.Errorf("%w: %s: %d targets (multi-target models are not supported)", ErrUnsupported, nt.path, n)
		}
	}
	m.Outputs = 1
	switch {
	case spec.multi:
		if numClass < 2 {
			return nil, lmp.child("num_class").errorf("%d classes for %s, want at least 2", numClass, m.Objective)
		}
		m.Outputs, m.Classes = numClass, numClass
	case numClass > 1:
		return nil, lmp.child("num_class").errorf("%d classes for %s", numClass, m.Objective)
	case spec.task == model.TaskClassification:
		m.Classes = 2
	}
	bs, err := lmp.get("base_score")
	if err != nil {
		return nil, err
	}
	if m.BaseScoreOutput, err = baseScore(bs); err != nil {
		return nil, err
	}
	switch len(m.BaseScoreOutput) {
	case 1, m.Outputs:
	default:
		return nil, bs.errorf("%d values for %d outputs", len(m.BaseScoreOutput), m.Outputs)
	}
	m.BaseScore = make([]float64, m.Outputs)
	for k := range m.BaseScore {
		v := m.BaseScoreOutput[min(k, len(m.BaseScoreOutput)-1)]
		mv, err := spec.toMargin(float32(v))
		if err != nil {
			return nil, bs.errorf("%v", err)
		}
		m.BaseScore[k] = float64(mv)
	}

	// Feature names and types.
	if v, ok, _ := learner.opt("feature_names"); ok {
		if m.FeatureNames, err = v.strs(); err != nil {
			return nil, err
		}
		if len(m.FeatureNames) != 0 && len(m.FeatureNames) != m.NumFeature {
			return nil, v.errorf("%d names for %d features", len(m.FeatureNames), m.NumFeature)
		}
	}
	if v, ok, _ := learner.opt("feature_types"); ok {
		if m.FeatureTypes, err = v.strs(); err != nil {
			return nil, err
		}
		if len(m.FeatureTypes) != 0 && len(m.FeatureTypes) != m.NumFeature {
			return nil, v.errorf("%d types for %d features", len(m.FeatureTypes), m.NumFeature)
		}
	}
	if attrs, ok, _ := learner.opt("attributes"); ok {
		if bi, ok, err := attrs.opt("best_iteration"); err != nil {
			return nil, err
		} else if ok {
			if m.BestIteration, err = bi.integer(0, math.MaxInt32); err != nil {
				return nil, err
			}
		}
	}

	gb, err := learner.get("gradient_booster")
	if err != nil {
		return nil, err
	}
	gn, err := gb.get("name")
	if err != nil {
		return nil, err
	}
	if m.Booster, err = gn.str(); err != nil {
		return nil, err
	}
	switch m.Booster {
	case "gbtree":
		model, err := gb.get("model")
		if err != nil {
			return nil, err
		}
		err = m.readTrees(model, nil)
		if err != nil {
			return nil, err
		}
	case "dart":
		inner, err := gb.get("gbtree")
		if err != nil {
			return nil, err
		}
		model, err := inner.get("model")
		if err != nil {
			return nil, err
		}
		wd, err := gb.get("weight_drop")
		if err != nil {
			return nil, err
		}
		if err := m.readTrees(model, &wd); err != nil {
			return nil, err
		}
	case "gblinear":
		model, err := gb.get("model")
		if err != nil {
			return nil, err
		}
		if err := m.readLinear(model); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: %s: booster %q (want gbtree, dart or gblinear)", ErrUnsupported, gn.path, m.Booster)
	}
	return m, nil
}

// baseScore reads learner_model_param.base_score: a number written as a
// string ("5E-1", XGBoost 1.0 to 3.0), a list in a string ("[5E-1]" or
// "[1E-1,2E-1,7E-1]", XGBoost 3.1 and later, which writes its ParamArray
// so), a number, or an array of numbers.
func baseScore(n node) ([]float64, error) {
	var out []float64
	switch v := n.v.(type) {
	case float64:
		out = []float64{v}
	case string:
		s := strings.TrimSpace(v)
		if len(s) >= 2 && (s[0] == '[' || s[0] == '(') {
			if s[len(s)-1] != ']' && s[len(s)-1] != ')' {
				return nil, n.errorf("%q is not a list of numbers", v)
			}
			for _, part := range strings.Split(s[1:len(s)-1], ",") {
				f, err := node{v: strings.TrimSpace(part), path: n.path}.num()
				if err != nil {
					return nil, err
				}
				out = append(out, f)
			}
		} else {
			f, err := n.num()
			if err != nil {
				return nil, err
			}
			out = []float64{f}
		}
	default:
		f, err := n.floats()
		if err != nil {
			return nil, err
		}
		out = f
	}
	if len(out) == 0 {
		return nil, n.errorf("no value")
	}
	for _, f := range out {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, n.errorf("%g is not finite", f)
		}
	}
	return out, nil
}

// readLinear reads a gblinear model: weights laid out [features+1][K], the
// bias last.
func (m *Model) readLinear(mn node) error {
	wn, err := mn.get("weights")
	if err != nil {
		return err
	}
	w, err := wn.floats()
	if err != nil {
		return err
	}
	k, nf := m.Outputs, m.NumFeature
	if len(w) != (nf+1)*k {
		return wn.errorf("%d weights for %d features and %d outputs, want %d", len(w), nf, k, (nf+1)*k)
	}
	lin := &model.LinearBlock{Intercepts: make([]float64, k), Coefficients: make([][]float64, k)}
	for o := range k {
		lin.Coefficients[o] = make([]float64, nf)
		for j := range nf {
			v := float64(float32(w[j*k+o]))
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return wn.index(j*k+o).errorf("%g is not finite", v)
			}
			lin.Coefficients[o][j] = v
		}
		b := float64(float32(w[nf*k+o]))
		if math.IsNaN(b) || math.IsInf(b, 0) {
			return wn.index(nf*k+o).errorf("%g is not finite", b)
		}
		lin.Intercepts[o] = m.BaseScore[o] + b
	}
	m.Block.Linear = lin
	if r, ok, _ := mn.opt("boosted_rounds"); ok {
		if m.Iterations, err = r.integer(0, math.MaxInt32); err != nil {
			return err
		}
	}
	return nil
}
