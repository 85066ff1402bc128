package model

import (
	"fmt"
	"math"
	"sort"
)

// Encoder turns raw feature values into encoded design columns: impute,
// standardize, one-hot. Training and prediction share it, so the two can
// never disagree.
type Encoder struct {
	features []Feature
	offsets  []int
	width    int
	catIndex []map[string]int
}

// NewEncoder checks the features' preprocessing and lays out their columns.
func NewEncoder(features []Feature) (*Encoder, error) {
	e := &Encoder{
		features: features,
		offsets:  make([]int, len(features)),
		catIndex: make([]map[string]int, len(features)),
	}
	seen := make(map[string]bool, len(features))
	for i, f := range features {
		if f.Name == "" {
			return nil, fmt.Errorf("%w: feature %d has no name", ErrCorrupt, i)
		}
		if seen[f.Name] {
			return nil, fmt.Errorf("%w: feature %q appears twice", ErrCorrupt, f.Name)
		}
		seen[f.Name] = true
		e.offsets[i] = e.width
		switch f.Type {
		case Numeric:
			if err := checkNumeric(f.Name, &f); err != nil {
				return nil, err
			}
			e.width++
		case Date:
			if err := checkDate(&f); err != nil {
				return nil, err
			}
			e.width += len(f.Parts)
		case Categorical:
			if len(f.Categories) == 0 {
				return nil, fmt.Errorf("%w: categorical feature %q has no categories", ErrCorrupt, f.Name)
			}
			if !sort.StringsAreSorted(f.Categories) {
				return nil, fmt.Errorf("%w: categories of feature %q are not sorted", ErrCorrupt, f.Name)
			}
			idx := make(map[string]int, len(f.Categories))
			for j, c := range f.Categories {
				if _, dup := idx[c]; dup {
					return nil, fmt.Errorf("%w: feature %q lists category %q twice", ErrCorrupt, f.Name, c)
				}
				idx[c] = j
			}
			if _, ok := idx[OtherCategory]; f.Other && !ok {
				return nil, fmt.Errorf("%w: feature %q folds rare levels into %q but does not list it", ErrCorrupt, f.Name, OtherCategory)
			}
			e.catIndex[i] = idx
			e.width += len(f.Categories)
		default:
			return nil, fmt.Errorf("%w: feature %q has unknown type %q", ErrCorrupt, f.Name, f.Type)
		}
		if (f.Other && f.Type != Categorical) || (len(f.Parts) > 0 && f.Type != Date) {
			return nil, fmt.Errorf("%w: %s feature %q has other or parts", ErrCorrupt, f.Type, f.Name)
		}
	}
	return e, nil
}

// Width is the number of encoded columns.
func (e *Encoder) Width() int { return e.width }

// Features returns the features the encoder was built from.
func (e *Encoder) Features() []Feature { return e.features }

// Offset is the first encoded column of feature i.
func (e *Encoder) Offset(i int) int { return e.offsets[i] }

// Numeric encodes a value of numeric feature i: a NaN is missing and is
// imputed (or rejected under the drop and error policies), then the value is
// standardized.
func (e *Encoder) Numeric(i int, x float64) (float64, error) {
	f := &e.features[i]
	return numericValue(f.Name, f, x)
}

// Scaling returns the center and scale of numeric feature i: a present
// value x encodes as (x - center) / scale, exactly as Numeric computes it.
func (e *Encoder) Scaling(i int) (center, scale float64) {
	f := &e.features[i]
	return f.Center, f.Scale
}

// Category returns the index within feature i's one-hot block of category
// s, or -1 if the category was not seen in training. A missing s is replaced
// by the imputed category, or rejected under the drop and error policies.
func (e *Encoder) Category(i int, s string) (int, error) {
	f := &e.features[i]
	if IsMissing(s) {
		switch {
		case f.Missing == MissingKeep:
			// Kept for the trees: all zeros, as no category.
			return -1, nil
		case f.ImputeCategory == nil:
			return 0, fmt.Errorf("feature %q: %w (policy %q)", f.Name, ErrMissingValue, f.Missing)
		}
		s = *f.ImputeCategory
	}
	j, ok := e.catIndex[i][s]
	if !ok {
		if f.Other {
			return e.catIndex[i][OtherCategory], nil
		}
		return -1, nil
	}
	return j, nil
}

// EncodeRow writes the encoded columns of one row into dst (length Width).
// num[i] is the value of numeric feature i (NaN = missing); str[i] is the
// raw text of categorical or date feature i. It returns how many
// categorical values were not seen in training; those encode as all zeros.
func (e *Encoder) EncodeRow(num []float64, str []string, dst []float64) (unknown int, err error) {
	for i := range e.features {
		off := e.offsets[i]
		if e.features[i].Type == Numeric {
			v, err := e.Numeric(i, num[i])
			if err != nil {
				return unknown, err
			}
			dst[off] = v
			continue
		}
		if e.features[i].Type == Date {
			if err := e.DateValues(i, str[i], dst[off:off+e.Span(i)]); err != nil {
				return unknown, err
			}
			continue
		}
		n := len(e.features[i].Categories)
		clear(dst[off : off+n])
		j, err := e.Category(i, str[i])
		if err != nil {
			return unknown, err
		}
		if j < 0 {
			if !IsMissing(str[i]) {
				unknown++
			}
			continue
		}
		dst[off+j] = 1
	}
	return unknown, nil
}

// Predictor scores rows with a model: the model's encoder and its scoring
// program (NewProgram), the one evaluator that every consumer uses. It is
// safe for concurrent use.
type Predictor struct {
	m    *Model
	enc  *Encoder
	prog *Program
	// intercept and coef are the linear score of a model with one linear
	// output (every schema version 1 model), which Score computes from raw
	// values without encoding the whole row; coef is nil otherwise.
	intercept float64
	coef      []float64
}

// NewPredictor validates the model and compiles it for scoring.
func NewPredictor(m *Model) (*Predictor, error) {
	prog, err := NewProgram(m)
	if err != nil {
		return nil, err
	}
	p := &Predictor{m: m, enc: prog.Encoder(), prog: prog}
	if prog.linear != nil && prog.k == 1 {
		p.intercept, p.coef = prog.linear.Intercepts[0], prog.linear.Coefficients[0]
	}
	return p, nil
}

// Model returns the model being served.
func (p *Predictor) Model() *Model { return p.m }

// Encoder returns the model's encoder.
func (p *Predictor) Encoder() *Encoder { return p.enc }

// Program returns the model's scoring program.
func (p *Predictor) Program() *Program { return p.prog }

// Outputs is K, the number of raw scores per row.
func (p *Predictor) Outputs() int { return p.prog.k }

// SingleLinear says the model is one linear score (K = 1, a linear block),
// which Score computes.
func (p *Predictor) SingleLinear() bool { return p.coef != nil }

// Raw writes the K raw scores of encoded row x into out (see
// Program.Raw).
func (p *Predictor) Raw(x, out []float64) { p.prog.Raw(x, out) }

// ScoreRow encodes one row of raw values (see Encoder.EncodeRow for num
// and str) into x (length Encoder().Width()) and writes its K raw scores
// into raw (length Outputs()); it returns the number of unseen
// categories. It does not allocate.
func (p *Predictor) ScoreRow(num []float64, str []string, x, raw []float64) (unknown int, err error) {
	unknown, err = p.enc.EncodeRow(num, str, x)
	if err != nil {
		return unknown, err
	}
	p.prog.Raw(x, raw)
	return unknown, nil
}

// Score returns the linear score of one row given raw values (see
// Encoder.EncodeRow for num and str) and the number of unseen categories,
// for a model with SingleLinear; other models score with ScoreRow. It does
// not allocate.
func (p *Predictor) Score(num []float64, str []string) (score float64, unknown int, err error) {
	if p.coef == nil {
		return 0, 0, fmt.Errorf("%w: model %q has %d outputs and is not one linear score; score it with ScoreRow", ErrIncompatible, p.m.Name, p.prog.k)
	}
	score = p.intercept
	coef := p.coef
	for i := range p.m.Features {
		f := &p.m.Features[i]
		off := p.enc.offsets[i]
		if f.Type == Numeric {
			v, err := p.enc.Numeric(i, num[i])
			if err != nil {
				return 0, unknown, err
			}
			score += coef[off] * v
			continue
		}
		if f.Type == Date {
			var buf [len(DateParts)]float64
			if err := p.enc.DateValues(i, str[i], buf[:len(f.Parts)]); err != nil {
				return 0, unknown, err
			}
			score += LinearScore(0, coef[off:off+len(f.Parts)], buf[:])
			continue
		}
		j, err := p.enc.Category(i, str[i])
		if err != nil {
			return 0, unknown, err
		}
		if j < 0 {
			unknown++
			continue
		}
		score += coef[off+j]
	}
	return score, unknown, nil
}

// LinearScore returns intercept + Σ coef[j]·x[j].
func LinearScore(intercept float64, coef, x []float64) float64 {
	s := intercept
	for j, c := range coef {
		s += c * x[j]
	}
	return s
}

// Sigmoid is the logistic function, computed without overflow.
func Sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	ez := math.Exp(z)
	return ez / (1 + ez)
}

// ClassIndex returns the predicted class index for a classifier's score:
// 1 when the score is positive, as scikit-learn's predict does.
func ClassIndex(score float64) int {
	if score > 0 {
		return 1
	}
	return 0
}
