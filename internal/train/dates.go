package train

import (
	"math"
	"slices"

	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/dataset"
	"github.com/modelci/modelci/internal/model"
	"github.com/modelci/modelci/internal/profile"
)

// isDate reports whether column name is listed under data.dates.
func isDate(cfg *config.Config, name string) bool {
	return slices.Contains(cfg.Data.Dates, name)
}

// checkDateColumn checks a column listed under data.dates: it is read as
// text, and more than half of its distinct values must be ISO dates.
func checkDateColumn(cfg *config.Config, file string, c *dataset.Column) error {
	n := 0
	for _, l := range c.Levels {
		if _, ok := model.ParseDate(l); ok {
			n++
		}
	}
	if c.Kind != dataset.Categorical || n == 0 || 2*n <= len(c.Levels) {
		return dataErr(file, c.Name, "data.dates lists it, but it holds values such as %q, not ISO dates (YYYY-MM-DD, optional time and zone); remove it from data.dates", firstLevel(c))
	}
	return nil
}

// learnDate learns date feature c (data.dates): its parts year, month,
// dayofweek and dayofyear are numeric features computed from the raw text
// exactly as model.Encoder computes them at prediction time, and imputed and
// standardized like any numeric feature. A part that is constant in the
// training rows (every date in one year, say) carries no information and is
// left out. A value that is not an ISO date counts as missing; under
// data.missing drop or error it cannot be imputed and is an error.
func learnDate(s *Settings, file string, c *dataset.Column, rows []int, f *model.Feature, encMean *[]float64) error {
	policy := s.Missing
	levelDates := make([]bool, len(c.Levels))
	for k, l := range c.Levels {
		_, levelDates[k] = model.ParseDate(l)
	}
	parsed := 0
	for _, r := range rows {
		code := c.Codes[r]
		if code < 0 {
			continue
		}
		if levelDates[code] {
			parsed++
			continue
		}
		if policy == config.MissingDrop || policy == config.MissingError {
			return dataErr(file, c.Name, "data row %d has %q, which is not an ISO date (YYYY-MM-DD, optional time and zone), and data.missing is %q; fix the value or choose an imputing policy", r+1, c.Levels[code], policy)
		}
	}
	if parsed == 0 {
		return dataErr(file, c.Name, "no value in the training rows is an ISO date (YYYY-MM-DD, optional time and zone)")
	}
	*f = model.Feature{Name: c.Name, Type: model.Date, Missing: policy}
	*encMean = nil
	vals := make([]float64, len(c.Codes))
	levelVals := make([]float64, len(c.Levels))
	var buf []float64
	for _, part := range model.DateParts {
		for k, l := range c.Levels {
			levelVals[k] = model.DatePart(l, part)
		}
		for _, r := range rows {
			v := math.NaN()
			if code := c.Codes[r]; code >= 0 {
				v = levelVals[code]
			}
			vals[r] = v
		}
		col := &dataset.Column{Name: c.Name + "." + part, Kind: dataset.Numeric, Floats: vals}
		var pf model.Feature
		var prof profile.Feature
		var em []float64
		var warn string
		var constant bool
		var err error
		buf, err = learnNumeric(s, file, col, rows, buf, &pf, &prof, &em, &warn, &constant)
		if err != nil {
			return err
		}
		if constant {
			continue
		}
		pf.Name = part
		f.Parts = append(f.Parts, pf)
		*encMean = append(*encMean, em...)
	}
	if len(f.Parts) == 0 {
		return dataErr(file, c.Name, "every date in the training rows is the same day; it carries no information, so remove it from data.dates (and add it to data.exclude)")
	}
	return nil
}

// profiled drops the empty profiles of features that have none (date
// features: drift is monitored on numeric and categorical inputs).
func profiled(ps []profile.Feature) []profile.Feature {
	out := ps[:0:0]
	for _, p := range ps {
		if p.Name != "" {
			out = append(out, p)
		}
	}
	if len(out) == len(ps) {
		return ps
	}
	return out
}
