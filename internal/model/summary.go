package model

// Summary describes what fits a model, for the report: its coefficients
// when its predictor is linear, else the size of its tree ensemble and how
// much each input feature contributes to it. The report compares two
// summaries of any kinds (a linear champion against a tree challenger).
type Summary struct {
	// Kind is "linear" or "trees".
	Kind string `json:"kind"`
	// Outputs is K.
	Outputs int `json:"outputs"`
	// Linear: Intercepts[k] and Coefficients[k][j] act on encoded column
	// Columns[j].
	Columns      []string    `json:"columns,omitempty"`
	Intercepts   []float64   `json:"intercepts,omitempty"`
	Coefficients [][]float64 `json:"coefficients,omitempty"`
	// Trees: the number of trees and of leaves, and per input feature (in
	// the order of Features) its share of the total split gain.
	Trees      int       `json:"trees,omitempty"`
	Leaves     int       `json:"leaves,omitempty"`
	Features   []string  `json:"features,omitempty"`
	Importance []float64 `json:"importance,omitempty"`
}

// Summary kinds.
const (
	SummaryLinear = "linear"
	SummaryTrees  = "trees"
)

// Summarize returns the summary of a validated model.
func (m *Model) Summarize() Summary {
	if m.Predictor == nil || m.Predictor.Linear != nil {
		s := Summary{Kind: SummaryLinear, Columns: m.Columns}
		if m.Predictor == nil {
			s.Outputs, s.Intercepts, s.Coefficients = 1, []float64{m.Intercept}, [][]float64{m.Coefficients}
		} else {
			s.Outputs, s.Intercepts, s.Coefficients = m.Outputs, m.Predictor.Linear.Intercepts, m.Predictor.Linear.Coefficients
		}
		return s
	}
	t := m.Predictor.Trees
	s := Summary{Kind: SummaryTrees, Outputs: m.Outputs, Features: m.FeatureNames()}
	s.Trees, s.Leaves = t.Leaves()
	s.Importance = make([]float64, len(m.Features))
	cols := t.Importance(len(m.Columns))
	// Columns follow the features in order: each feature owns the next
	// span of columns (one, its one-hot block, or its date parts).
	j := 0
	for i := range m.Features {
		span := columnSpan(&m.Features[i])
		for _, v := range cols[j : j+span] {
			s.Importance[i] += v
		}
		j += span
	}
	return s
}

// columnSpan is the number of encoded columns of feature f.
func columnSpan(f *Feature) int {
	switch f.Type {
	case Categorical:
		return len(f.Categories)
	case Date:
		return len(f.Parts)
	}
	return 1
}
