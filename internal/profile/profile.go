// Package profile provides reference statistics of training data
// (profile.json) and the population stability index (PSI) that compares new
// data against them.
//
// Numeric features are summarised by quantile bins: the interior edges are
// the 10%, 20%, …, 90% quantiles of the training values (numpy's default
// linear interpolation), with duplicates removed, and a value v falls in bin
// i when edges[i-1] < v <= edges[i]. Categorical features are summarised by
// category frequencies. Both keep a separate bucket for missing values, and
// categorical features one for categories never seen in training.
//
// The serving runtime imports this package, so it depends on the standard
// library only.
package profile

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/modelci/modelci/internal/inputfile"
)

// SchemaVersion is the version of profile.json.
const SchemaVersion = 1

// DefaultBins is the number of quantile bins for numeric features.
const DefaultBins = 10

// Epsilon floors bucket fractions in PSI so that an empty bucket on one side
// gives a large but finite score.
const Epsilon = 1e-4

// PSI thresholds in common use: below 0.1 is stable, 0.1 to 0.25 is a
// moderate shift, 0.25 and above is a significant shift.
const (
	ModerateShift    = 0.1
	SignificantShift = 0.25
)

// Feature types, as in model.json.
const (
	Numeric     = "numeric"
	Categorical = "categorical"
)

// Profile is the content of profile.json.
type Profile struct {
	SchemaVersion int `json:"schema_version"`
	// Rows is the number of training rows profiled.
	Rows     int       `json:"rows"`
	Features []Feature `json:"features"`
	// Target describes the training target; Prediction describes the
	// model's predictions (regression) or positive-class probabilities
	// (classification) on the training rows.
	Target     *Feature `json:"target,omitempty"`
	Prediction *Feature `json:"prediction,omitempty"`
}

// Feature summarises one column.
type Feature struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Count is the number of non-missing values, Missing the number of
	// missing ones.
	Count   int `json:"count"`
	Missing int `json:"missing"`
	// Numeric statistics.
	Mean  float64   `json:"mean,omitempty"`
	Std   float64   `json:"std,omitempty"`
	Min   float64   `json:"min,omitempty"`
	Max   float64   `json:"max,omitempty"`
	Edges []float64 `json:"edges,omitempty"`
	// Fractions of the non-missing values per bin (numeric: len(Edges)+1)
	// or per category (categorical: parallel to Categories).
	Fractions  []float64 `json:"fractions"`
	Categories []string  `json:"categories,omitempty"`
}

// Get returns the feature profile named name.
func (p *Profile) Get(name string) (*Feature, bool) {
	for i := range p.Features {
		if p.Features[i].Name == name {
			return &p.Features[i], true
		}
	}
	return nil, false
}

// Validate checks that the profile can be used for PSI.
func (p *Profile) Validate() error {
	if p.SchemaVersion != SchemaVersion {
		return fmt.Errorf("profile schema_version %d, this build reads %d", p.SchemaVersion, SchemaVersion)
	}
	for i := range p.Features {
		if err := p.Features[i].Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks one feature profile.
func (f *Feature) Validate() error {
	switch f.Type {
	case Numeric:
		if len(f.Fractions) != len(f.Edges)+1 {
			return fmt.Errorf("profile of %q: %d edges need %d fractions, have %d", f.Name, len(f.Edges), len(f.Edges)+1, len(f.Fractions))
		}
		for i := 1; i < len(f.Edges); i++ {
			if !(f.Edges[i] > f.Edges[i-1]) {
				return fmt.Errorf("profile of %q: edges are not strictly increasing", f.Name)
			}
		}
	case Categorical:
		if len(f.Fractions) != len(f.Categories) {
			return fmt.Errorf("profile of %q: %d categories but %d fractions", f.Name, len(f.Categories), len(f.Fractions))
		}
	default:
		return fmt.Errorf("profile of %q: unknown type %q", f.Name, f.Type)
	}
	return nil
}

// NumericFeature profiles numeric values; NaN is missing.
func NumericFeature(name string, values []float64, bins int) Feature {
	if bins < 2 {
		bins = DefaultBins
	}
	f := Feature{Name: name, Type: Numeric}
	xs := make([]float64, 0, len(values))
	for _, v := range values {
		if math.IsNaN(v) {
			f.Missing++
			continue
		}
		xs = append(xs, v)
	}
	return NumericFeatureValues(name, xs, f.Missing, bins)
}

// CategoricalFeature profiles categorical values given as codes into levels
// (-1 = missing). Categories are sorted.
func CategoricalFeature(name string, codes []int32, levels []string) Feature {
	f := Feature{Name: name, Type: Categorical}
	counts := make([]int64, len(levels))
	for _, c := range codes {
		if c < 0 || int(c) >= len(levels) {
			f.Missing++
			continue
		}
		counts[c]++
	}
	type cat struct {
		name string
		n    int64
	}
	cats := make([]cat, 0, len(levels))
	for i, l := range levels {
		if counts[i] > 0 {
			cats = append(cats, cat{l, counts[i]})
		}
	}
	sort.Slice(cats, func(i, j int) bool { return cats[i].name < cats[j].name })
	f.Count = len(codes) - f.Missing
	f.Categories = make([]string, len(cats))
	f.Fractions = make([]float64, len(cats))
	for i, c := range cats {
		f.Categories[i] = c.name
		f.Fractions[i] = float64(c.n) / float64(f.Count)
	}
	return f
}

// Quantile returns the q-quantile of sorted xs with numpy's default linear
// interpolation.
func Quantile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	pos := q * float64(n-1)
	lo := int(math.Floor(pos))
	if lo >= n-1 {
		return sorted[n-1]
	}
	frac := pos - float64(lo)
	a, b := sorted[lo], sorted[lo+1]
	// numpy's _lerp: a + (b-a)*t, computed from the nearer end.
	d := b - a
	if frac >= 0.5 {
		return b - d*(1-frac)
	}
	return a + d*frac
}

func fractions(counts []int64, total int) []float64 {
	out := make([]float64, len(counts))
	if total == 0 {
		return out
	}
	for i, c := range counts {
		out[i] = float64(c) / float64(total)
	}
	return out
}

// Buckets is the number of PSI buckets of a feature: its bins or
// categories, one for unseen categories (categorical only) and one for
// missing values.
func (f *Feature) Buckets() int {
	if f.Type == Categorical {
		return len(f.Categories) + 2
	}
	return len(f.Edges) + 2
}

// MissingBucket is the index of the bucket for missing values.
func (f *Feature) MissingBucket() int { return f.Buckets() - 1 }

// Bin returns the bin of a non-missing numeric value: the number of edges
// below it.
func (f *Feature) Bin(v float64) int {
	if len(f.Edges) > 16 {
		return sort.SearchFloat64s(f.Edges, v)
	}
	i := 0
	for i < len(f.Edges) && f.Edges[i] < v {
		i++
	}
	return i
}

// NumericBucket returns the PSI bucket of a numeric value (NaN = missing).
func (f *Feature) NumericBucket(v float64) int {
	if math.IsNaN(v) {
		return f.MissingBucket()
	}
	return f.Bin(v)
}

// CategoryBucket returns the PSI bucket of a category; missing says whether
// the value is missing. Unseen categories share one bucket.
func (f *Feature) CategoryBucket(s string, missing bool) int {
	if missing {
		return f.MissingBucket()
	}
	i := sort.SearchStrings(f.Categories, s)
	if i < len(f.Categories) && f.Categories[i] == s {
		return i
	}
	return len(f.Categories)
}

// Reference returns the training fraction of every bucket, missing values
// included.
func (f *Feature) Reference() []float64 {
	total := float64(f.Count + f.Missing)
	out := make([]float64, f.Buckets())
	if total == 0 {
		return out
	}
	present := float64(f.Count) / total
	for i, fr := range f.Fractions {
		out[i] = fr * present
	}
	out[f.MissingBucket()] = float64(f.Missing) / total
	return out
}

// ErrNoData means there were no values to compare.
var ErrNoData = errors.New("no values to compare")

// PSI returns the population stability index of bucket counts of new data
// against the feature's reference: Σ (a−r)·ln(a/r) over buckets, with both
// fractions floored at Epsilon.
func (f *Feature) PSI(counts []int64) (float64, error) {
	if len(counts) != f.Buckets() {
		return 0, fmt.Errorf("PSI of %q: %d bucket counts, want %d", f.Name, len(counts), f.Buckets())
	}
	var total int64
	for _, c := range counts {
		total += c
	}
	if total == 0 {
		return 0, fmt.Errorf("PSI of %q: %w", f.Name, ErrNoData)
	}
	ref := f.Reference()
	var psi float64
	for i, c := range counts {
		a := math.Max(float64(c)/float64(total), Epsilon)
		r := math.Max(ref[i], Epsilon)
		psi += (a - r) * math.Log(a/r)
	}
	return psi, nil
}

// NumericPSI is PSI over numeric values (NaN = missing).
func (f *Feature) NumericPSI(values []float64) (float64, error) {
	counts := make([]int64, f.Buckets())
	for _, v := range values {
		counts[f.NumericBucket(v)]++
	}
	return f.PSI(counts)
}

// Level names a PSI score: "stable", "moderate" or "significant".
func Level(psi float64) string {
	switch {
	case psi >= SignificantShift:
		return "significant"
	case psi >= ModerateShift:
		return "moderate"
	default:
		return "stable"
	}
}

// Load reads and validates a profile.json file.
func Load(path string) (*Profile, error) {
	b, err := inputfile.ReadFile(path, inputfile.MaxJSON)
	if err != nil {
		return nil, fmt.Errorf("read profile: %w", err)
	}
	var p Profile
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &p, nil
}
