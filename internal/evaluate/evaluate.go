// Package evaluate provides scoring of a model on rows of a dataset: it
// maps the model's features to the dataset's columns, predicts, and computes
// the metrics of the model's task. Training, `modelci evaluate` and the
// champion/challenger diff all score through it.
package evaluate

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"

	"github.com/modelci/modelci/internal/dataset"
	"github.com/modelci/modelci/internal/metrics"
	"github.com/modelci/modelci/internal/model"
)

// ErrIncompatibleData means the dataset cannot be scored by the model: a
// feature is missing or has a different type.
var ErrIncompatibleData = errors.New("data does not fit the model")

// ColumnChange describes how a model's feature differs from a dataset.
type ColumnChange struct {
	Name string `json:"name"`
	// Change is "removed" (the model needs it, the data lacks it), "added"
	// (the data has it, the model does not use it) or "type" (the types
	// differ).
	Change string `json:"change"`
	// Model and Data are the types on each side, for "type" changes.
	Model string `json:"model,omitempty"`
	Data  string `json:"data,omitempty"`
}

// Compatibility compares a model's features with a dataset's columns. target
// is excluded from "added". Changes are sorted by name.
func Compatibility(m *model.Model, f *dataset.Frame) []ColumnChange {
	var out []ColumnChange
	used := make(map[string]bool, len(m.Features))
	for _, feat := range m.Features {
		used[feat.Name] = true
		col, ok := f.Column(feat.Name)
		if !ok {
			out = append(out, ColumnChange{Name: feat.Name, Change: "removed"})
			continue
		}
		want := feat.Type
		if want == model.Date {
			want = dataset.Categorical.String() // dates are read as text
		}
		if kind := col.Kind.String(); kind != want {
			out = append(out, ColumnChange{Name: feat.Name, Change: "type", Model: want, Data: kind})
		}
	}
	for _, name := range f.Header {
		if name == m.Target || used[name] {
			continue
		}
		out = append(out, ColumnChange{Name: name, Change: "added"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Result is the outcome of scoring a model on some rows.
type Result struct {
	// Rows are the frame rows that were scored, in order.
	Rows []int
	// YTrue holds the true target per row (class index for classifiers).
	YTrue []float64
	// Pred holds the prediction per row: the value for regression, the class
	// index for classification.
	Pred []float64
	// Proba holds P(Classes[1]) per row for binary classifiers.
	Proba []float64
	// Probs holds the class probabilities of every row for classifiers,
	// row after row, in the order of the model's Classes (len(Classes)
	// per row): scikit-learn's predict_proba.
	Probs []float64
	// Classes is the number of classes of a classifier, 0 for regression.
	Classes int
	// Metrics are the requested metrics; Skipped those that could not be
	// computed.
	Metrics []metrics.Value
	Skipped []metrics.Skipped
	// Confusion is the confusion matrix of a classifier.
	Confusion [][]int
	// Unseen counts categorical values not seen in training, per feature.
	Unseen map[string]int
	// Imputed counts imputed missing values, per feature.
	Imputed map[string]int
	// DroppedMissing counts rows skipped because a feature was missing under
	// the drop policy.
	DroppedMissing int
}

// Scorer binds a predictor to the columns of one dataset.
type Scorer struct {
	p      *model.Predictor
	frame  *dataset.Frame
	num    []*dataset.Column
	cat    []*dataset.Column
	levels [][]int32 // per feature: dataset level code → category index, -1 unseen
	miss   []int     // per categorical feature: category index used for missing, -1 none, -2 reject
}

// NewScorer maps the model's features to the frame's columns. A missing
// feature or a type mismatch is an ErrIncompatibleData error that lists every
// change.
func NewScorer(p *model.Predictor, f *dataset.Frame) (*Scorer, error) {
	m := p.Model()
	var bad []ColumnChange
	for _, c := range Compatibility(m, f) {
		if c.Change != "added" {
			bad = append(bad, c)
		}
	}
	if len(bad) > 0 {
		msg := ""
		for i, c := range bad {
			if i > 0 {
				msg += "; "
			}
			if c.Change == "removed" {
				msg += fmt.Sprintf("column %q is missing", c.Name)
			} else {
				msg += fmt.Sprintf("column %q is %s in the data but %s in the model", c.Name, c.Data, c.Model)
			}
		}
		return nil, fmt.Errorf("%w: %s: %s", ErrIncompatibleData, f.Name, msg)
	}
	s := &Scorer{
		p:      p,
		frame:  f,
		num:    make([]*dataset.Column, len(m.Features)),
		cat:    make([]*dataset.Column, len(m.Features)),
		levels: make([][]int32, len(m.Features)),
		miss:   make([]int, len(m.Features)),
	}
	enc := p.Encoder()
	for i, feat := range m.Features {
		col, _ := f.Column(feat.Name)
		if feat.Type == model.Numeric {
			s.num[i] = col
			continue
		}
		s.cat[i] = col
		if feat.Type == model.Date {
			continue
		}
		lm := make([]int32, len(col.Levels))
		for code, lvl := range col.Levels {
			j, err := enc.Category(i, lvl)
			if err != nil {
				// A level that spells a missing token: treat as missing.
				lm[code] = -2
				continue
			}
			lm[code] = int32(j)
		}
		s.levels[i] = lm
		j, err := enc.Category(i, "")
		switch {
		case err != nil:
			s.miss[i] = -2
		default:
			s.miss[i] = j
		}
	}
	return s, nil
}

// rowState is per-row scratch for Encode.
type rowState struct {
	// missing is the feature whose missing value was rejected, or -1.
	missing int
	unseen  []int
	imputed []int
}

// EncodeRow writes the encoded design row of frame row r into dst (length
// of the encoder's Width). A missing value that the model's policy rejects is
// an error wrapping model.ErrMissingValue.
func (s *Scorer) EncodeRow(r int, dst []float64) error {
	return s.encode(r, dst, nil)
}

// encode is EncodeRow that also counts imputed and unseen values into st
// when st is not nil.
func (s *Scorer) encode(r int, dst []float64, st *rowState) error {
	enc := s.p.Encoder()
	feats := s.p.Model().Features
	for i := range feats {
		off := enc.Offset(i)
		if col := s.num[i]; col != nil {
			x := col.Floats[r]
			if st != nil && math.IsNaN(x) {
				st.imputed[i]++
			}
			v, err := enc.Numeric(i, x)
			if err != nil {
				if st != nil {
					st.missing = i
				}
				return err
			}
			dst[off] = v
			continue
		}
		if feats[i].Type == model.Date {
			raw, imputed := s.dateValue(i, r)
			if st != nil && imputed {
				st.imputed[i]++
			}
			if err := enc.DateValues(i, raw, dst[off:off+enc.Span(i)]); err != nil {
				if st != nil {
					st.missing = i
				}
				return err
			}
			continue
		}
		clear(dst[off : off+enc.Span(i)])
		j, imputed, err := s.category(i, s.cat[i].Codes[r])
		if st != nil && imputed {
			st.imputed[i]++
		}
		if err != nil {
			if st != nil {
				st.missing = i
			}
			return err
		}
		if j < 0 {
			// No category: unseen in training, or missing and kept.
			if st != nil && !imputed {
				st.unseen[i]++
			}
			continue
		}
		dst[off+j] = 1
	}
	return nil
}

// dateValue returns the raw value of date feature i in frame row r ("" when
// missing) and whether it is imputed (missing or not a date).
func (s *Scorer) dateValue(i, r int) (string, bool) {
	col := s.cat[i]
	code := col.Codes[r]
	if code < 0 {
		return "", true
	}
	raw := col.Levels[code]
	_, ok := model.ParseDate(raw)
	return raw, !ok
}

// category maps a dataset category code of categorical feature i to its
// one-hot index: -1 for a category not seen in training; a missing value
// (imputed reports it) takes the imputed category, or is an error wrapping
// model.ErrMissingValue under the drop and error policies.
func (s *Scorer) category(i int, code int32) (j int, imputed bool, err error) {
	if code >= 0 && s.levels[i][code] != -2 {
		return int(s.levels[i][code]), false, nil
	}
	if s.miss[i] == -2 {
		_, err := s.p.Encoder().Category(i, "")
		return 0, true, err
	}
	return s.miss[i], true, nil
}

// EncodeBlock writes the encoded design rows of frame rows into dst, row k
// at dst[k*stride:], like EncodeRow for each row but one feature at a time
// over all rows, which suits the column storage. A missing value that the
// model's policy rejects is an error wrapping model.ErrMissingValue.
func (s *Scorer) EncodeBlock(rows []int, dst []float64, stride int) error {
	enc := s.p.Encoder()
	feats := s.p.Model().Features
	for i := range feats {
		off := enc.Offset(i)
		if col := s.num[i]; col != nil {
			center, scale := enc.Scaling(i)
			fs := col.Floats
			for k, r := range rows {
				x := fs[r]
				if math.IsNaN(x) {
					v, err := enc.Numeric(i, x)
					if err != nil {
						return fmt.Errorf("%s: data row %d: %w", s.frame.Name, r+1, err)
					}
					dst[k*stride+off] = v
					continue
				}
				dst[k*stride+off] = (x - center) / scale
			}
			continue
		}
		n := enc.Span(i)
		if feats[i].Type == model.Date {
			for k, r := range rows {
				raw, _ := s.dateValue(i, r)
				if err := enc.DateValues(i, raw, dst[k*stride+off:k*stride+off+n]); err != nil {
					return fmt.Errorf("%s: data row %d: %w", s.frame.Name, r+1, err)
				}
			}
			continue
		}
		codes := s.cat[i].Codes
		for k, r := range rows {
			row := dst[k*stride+off : k*stride+off+n]
			clear(row)
			j, _, err := s.category(i, codes[r])
			if err != nil {
				return fmt.Errorf("%s: data row %d: %w", s.frame.Name, r+1, err)
			}
			if j >= 0 {
				row[j] = 1
			}
		}
	}
	return nil
}

// Score predicts the given frame rows. Rows with a missing value that the
// model's policy rejects are skipped under the drop policy and are an error
// under the error policy. The returned Result has no metrics; see Evaluate.
func (s *Scorer) Score(rows []int) (*Result, error) {
	m := s.p.Model()
	enc := s.p.Encoder()
	// Visit the rows in file order: the columns are large arrays, and
	// scoring test rows in the split's shuffled order would miss the cache
	// on nearly every value. Large inputs are split into contiguous parts
	// scored in parallel. Results are written back in the given order.
	order := fileOrder(rows)
	kOut := s.p.Outputs()
	scores := make([]float64, len(rows)*kOut)
	dropped := make([]bool, len(rows))
	parts := 1
	if len(rows) >= 1<<16 {
		parts = runtime.GOMAXPROCS(0)
	}
	states := make([]*rowState, parts)
	errs := make([]error, parts)
	drops := make([]int, parts)
	var wg sync.WaitGroup
	for w := range parts {
		st := &rowState{unseen: make([]int, len(m.Features)), imputed: make([]int, len(m.Features))}
		states[w] = st
		part := order[w*len(order)/parts : (w+1)*len(order)/parts]
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := make([]float64, enc.Width())
			for _, k := range part {
				r := rows[k]
				st.missing = -1
				if err := s.encode(r, x, st); err != nil {
					if st.missing >= 0 && m.Features[st.missing].Missing == "drop" {
						dropped[k] = true
						drops[w]++
						continue
					}
					errs[w] = fmt.Errorf("%s: data row %d: %w", s.frame.Name, r+1, err)
					return
				}
				s.p.Raw(x, scores[k*kOut:(k+1)*kOut])
			}
		}()
	}
	wg.Wait()
	ndropped := 0
	st := &rowState{unseen: make([]int, len(m.Features)), imputed: make([]int, len(m.Features))}
	for w := range parts {
		// The first part's error is the first in the file.
		if errs[w] != nil {
			return nil, errs[w]
		}
		ndropped += drops[w]
		for i := range st.unseen {
			st.unseen[i] += states[w].unseen[i]
			st.imputed[i] += states[w].imputed[i]
		}
	}
	n := len(rows) - ndropped
	res := &Result{
		Rows:           make([]int, 0, n),
		Pred:           make([]float64, 0, n),
		Unseen:         map[string]int{},
		Imputed:        map[string]int{},
		DroppedMissing: ndropped,
	}
	prog := s.p.Program()
	c := len(m.Classes)
	if m.IsClassifier() {
		res.Classes = c
		res.Probs = make([]float64, 0, n*c)
		if c == 2 {
			res.Proba = make([]float64, 0, n)
		}
	}
	for k, r := range rows {
		if dropped[k] {
			continue
		}
		res.Rows = append(res.Rows, r)
		raw := scores[k*kOut : (k+1)*kOut]
		if !m.IsClassifier() {
			res.Pred = append(res.Pred, prog.Prediction(raw))
			continue
		}
		at := len(res.Probs)
		res.Probs = res.Probs[:at+c]
		prog.Probabilities(raw, res.Probs[at:])
		if c == 2 {
			res.Proba = append(res.Proba, res.Probs[at+1])
		}
		res.Pred = append(res.Pred, float64(prog.Class(raw)))
	}
	for i, f := range m.Features {
		if st.unseen[i] > 0 {
			res.Unseen[f.Name] = st.unseen[i]
		}
		if st.imputed[i] > 0 && (f.Impute != nil || f.ImputeCategory != nil) {
			res.Imputed[f.Name] = st.imputed[i]
		}
	}
	return res, nil
}

// fileOrder returns the positions of rows sorted by row number (stable for
// repeated rows).
func fileOrder(rows []int) []int {
	order := make([]int, len(rows))
	if slices.IsSorted(rows) {
		for k := range order {
			order[k] = k
		}
		return order
	}
	keys := make([]uint64, len(rows))
	for k, r := range rows {
		keys[k] = uint64(r)<<32 | uint64(k)
	}
	slices.Sort(keys)
	for k, key := range keys {
		order[k] = int(key & (1<<32 - 1))
	}
	return order
}

// ClassLabel returns the class label in row r of a target column: the text
// of a categorical column, or the shortest form of a number. ok is false
// when the value is missing.
func ClassLabel(col *dataset.Column, r int) (label string, ok bool) {
	if col.Kind == dataset.Numeric {
		v := col.Floats[r]
		if math.IsNaN(v) {
			return "", false
		}
		return strconv.FormatFloat(v, 'g', -1, 64), true
	}
	c := col.Codes[r]
	if c < 0 {
		return "", false
	}
	return col.Levels[c], true
}

// Targets returns the true target of each row for the model: the value for
// regression, the class index for classification. Rows with a missing target
// are reported in the second result and must be excluded by the caller.
func Targets(m *model.Model, f *dataset.Frame, rows []int) ([]float64, []int, error) {
	col, ok := f.Column(m.Target)
	if !ok {
		return nil, nil, fmt.Errorf("%w: %s has no target column %q", ErrIncompatibleData, f.Name, m.Target)
	}
	y := make([]float64, len(rows))
	var missing []int
	if !m.IsClassifier() {
		if col.Kind != dataset.Numeric {
			return nil, nil, fmt.Errorf("%w: %s: target %q must be numeric for a regression model", ErrIncompatibleData, f.Name, m.Target)
		}
		for i, r := range rows {
			y[i] = col.Floats[r]
			if math.IsNaN(y[i]) {
				missing = append(missing, r)
			}
		}
		return y, missing, nil
	}
	classOf := make(map[string]int, len(m.Classes))
	for k, c := range m.Classes {
		classOf[c] = k
	}
	for i, r := range rows {
		l, ok := ClassLabel(col, r)
		if !ok {
			missing = append(missing, r)
			y[i] = math.NaN()
			continue
		}
		k, ok := classOf[l]
		if !ok {
			return nil, nil, fmt.Errorf("%w: %s: data row %d: target %q has class %q, which the model never saw (classes: %q)", ErrIncompatibleData, f.Name, r+1, m.Target, l, m.Classes)
		}
		y[i] = float64(k)
	}
	return y, missing, nil
}

// Evaluate scores rows of the frame and computes the named metrics (the
// task's defaults when names is empty). Rows with a missing target are
// skipped.
func Evaluate(p *model.Predictor, f *dataset.Frame, rows []int, names []string) (*Result, error) {
	m := p.Model()
	s, err := NewScorer(p, f)
	if err != nil {
		return nil, err
	}
	y, missing, err := Targets(m, f, rows)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		keepRows := make([]int, 0, len(rows)-len(missing))
		keepY := make([]float64, 0, len(rows)-len(missing))
		for i, r := range rows {
			if !math.IsNaN(y[i]) {
				keepRows = append(keepRows, r)
				keepY = append(keepY, y[i])
			}
		}
		rows, y = keepRows, keepY
	}
	res, err := s.Score(rows)
	if err != nil {
		return nil, err
	}
	// res.Rows is a subsequence of rows: pair each scored row with its target.
	res.YTrue = make([]float64, 0, len(res.Rows))
	k := 0
	for i, r := range rows {
		if k < len(res.Rows) && res.Rows[k] == r {
			res.YTrue = append(res.YTrue, y[i])
			k++
		}
	}
	if len(res.Rows) == 0 {
		return nil, fmt.Errorf("%s: no rows left to score", f.Name)
	}
	if err := res.ComputeMetrics(m, names); err != nil {
		return nil, err
	}
	return res, nil
}

// DefaultMetrics are the metrics computed when none are named: the task's
// defaults, and for a classifier with three or more classes the
// multiclass ones (metrics.MulticlassDefaults).
func DefaultMetrics(m *model.Model) []string {
	switch {
	case !m.IsClassifier():
		return metrics.Defaults(metrics.TaskRegression)
	case len(m.Classes) > 2:
		return metrics.MulticlassDefaults()
	}
	return metrics.Defaults(metrics.TaskClassification)
}

// Monitored is the value of each scored row's prediction that drift
// monitoring follows: the prediction (regression), P(Classes[1]) (binary),
// the predicted class's probability (multiclass, model.Confidence).
func (r *Result) Monitored() []float64 {
	switch {
	case r.Classes == 0:
		return r.Pred
	case r.Classes == 2:
		return r.Proba
	}
	out := make([]float64, len(r.Rows))
	for i := range out {
		out[i] = model.Confidence(r.Probs[i*r.Classes : (i+1)*r.Classes])
	}
	return out
}

// ComputeMetrics fills Metrics, Skipped and Confusion from YTrue, Pred,
// Proba (binary) and Probs (multiclass).
func (r *Result) ComputeMetrics(m *model.Model, names []string) error {
	task := metrics.TaskRegression
	if m.IsClassifier() {
		task = metrics.TaskClassification
	}
	if len(names) == 0 {
		names = DefaultMetrics(m)
	}
	if err := metrics.Validate(task, names); err != nil {
		return err
	}
	var err error
	if m.IsClassifier() {
		k := len(m.Classes)
		yt := make([]int, len(r.YTrue))
		yp := make([]int, len(r.Pred))
		for i := range r.YTrue {
			yt[i] = int(r.YTrue[i])
			yp[i] = int(r.Pred[i])
		}
		if k == 2 {
			r.Metrics, r.Skipped, err = metrics.Classification(yt, yp, r.Proba, names)
		} else {
			r.Metrics, r.Skipped, err = metrics.Multiclass(yt, yp, r.Probs, k, names)
		}
		if err != nil {
			return err
		}
		r.Confusion = metrics.ConfusionMatrix(yt, yp, k)
		return nil
	}
	r.Metrics, r.Skipped, err = metrics.Regression(r.YTrue, r.Pred, names)
	return err
}

// Maps returns the metrics by name: their values, their directions
// ("lower" or "higher" is better) and, for the metrics that could not be
// computed, the reasons (nil when there are none). metrics.json and
// `modelci evaluate --json` carry them as they are.
func (r *Result) Maps() (values map[string]float64, directions, skipped map[string]string) {
	values = make(map[string]float64, len(r.Metrics))
	directions = make(map[string]string, len(r.Metrics))
	for _, v := range r.Metrics {
		values[v.Name] = v.Value
		directions[v.Name] = string(v.Direction)
	}
	for _, s := range r.Skipped {
		if skipped == nil {
			skipped = map[string]string{}
		}
		skipped[s.Name] = s.Reason
	}
	return values, directions, skipped
}
