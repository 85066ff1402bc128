package model

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Date is the feature type of a date column (data.dates): the raw value is
// an ISO date or datetime string, encoded as the numeric parts listed in
// Feature.Parts, each imputed and standardized like a numeric feature.
const Date = "date"

// Date parts, in the order training writes them.
const (
	PartYear      = "year"
	PartMonth     = "month"
	PartDayOfWeek = "dayofweek" // Monday = 0, as pandas
	PartDayOfYear = "dayofyear" // 1 to 366
)

// DateParts are the parts a date feature is encoded as, in order.
var DateParts = [...]string{PartYear, PartMonth, PartDayOfWeek, PartDayOfYear}

// dateLayouts are the accepted ISO forms. time.Parse also accepts a
// fractional second after the seconds.
var dateLayouts = [...]string{
	"2006-01-02",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04Z0700",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05Z0700",
	"2006-01-02 15:04",
	"2006-01-02 15:04Z07:00",
	"2006-01-02 15:04Z0700",
}

// ParseDate parses an ISO date (YYYY-MM-DD) or datetime (with a 'T' or a
// space before the time, optional seconds, fraction and zone). Surrounding
// spaces are ignored. The parts of a datetime are those of its wall time,
// in its own zone.
func ParseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// DatePart returns part of date s as a number, or NaN when s is missing or
// not an ISO date (an unparsable value counts as missing).
func DatePart(s, part string) float64 {
	t, ok := ParseDate(s)
	if !ok {
		return math.NaN()
	}
	return datePart(t, part)
}

// checkDate checks the parts of date feature f.
func checkDate(f *Feature) error {
	if len(f.Parts) == 0 {
		return fmt.Errorf("%w: date feature %q has no parts", ErrCorrupt, f.Name)
	}
	seen := map[string]bool{}
	for _, p := range f.Parts {
		known := false
		for _, k := range DateParts {
			known = known || p.Name == k
		}
		if !known || seen[p.Name] || p.Type != Numeric {
			return fmt.Errorf("%w: date feature %q has part %q of type %q; want distinct numeric parts among %s", ErrCorrupt, f.Name, p.Name, p.Type, strings.Join(DateParts[:], ", "))
		}
		seen[p.Name] = true
		if err := checkNumeric(f.Name+"."+p.Name, &p); err != nil {
			return err
		}
	}
	return nil
}

// checkNumeric checks the scaling and imputation of a numeric feature.
func checkNumeric(name string, f *Feature) error {
	if !(f.Scale > 0) || !finite(f.Scale) || !finite(f.Center) {
		return fmt.Errorf("%w: feature %q has scale %g and center %g", ErrCorrupt, name, f.Scale, f.Center)
	}
	if f.Impute != nil && !finite(*f.Impute) {
		return fmt.Errorf("%w: feature %q has a non-finite impute value", ErrCorrupt, name)
	}
	return nil
}

// numericValue imputes and standardizes x for numeric feature (or date
// part) f named name.
func numericValue(name string, f *Feature, x float64) (float64, error) {
	if math.IsNaN(x) {
		if f.Missing == MissingKeep {
			return x, nil
		}
		if f.Impute == nil {
			return 0, fmt.Errorf("feature %q: %w (policy %q)", name, ErrMissingValue, f.Missing)
		}
		x = *f.Impute
	}
	return (x - f.Center) / f.Scale, nil
}

// DateValues writes the encoded parts of date s for date feature i into
// dst (length len(Parts)): each part is imputed when s is missing or not a
// date (or rejected under the drop and error policies), then standardized.
func (e *Encoder) DateValues(i int, s string, dst []float64) error {
	f := &e.features[i]
	t, ok := ParseDate(s)
	for k := range f.Parts {
		p := &f.Parts[k]
		x := math.NaN()
		if ok {
			x = datePart(t, p.Name)
		}
		v, err := numericValue(f.Name+"."+p.Name, p, x)
		if err != nil {
			return err
		}
		dst[k] = v
	}
	return nil
}

func datePart(t time.Time, part string) float64 {
	switch part {
	case PartYear:
		return float64(t.Year())
	case PartMonth:
		return float64(t.Month())
	case PartDayOfWeek:
		return float64((int(t.Weekday()) + 6) % 7)
	case PartDayOfYear:
		return float64(t.YearDay())
	}
	return math.NaN()
}

// IsText reports whether the raw value of f is a string (categorical and
// date features) rather than a number.
func (f *Feature) IsText() bool { return f.Type == Categorical || f.Type == Date }

// Span is the number of encoded columns of feature i.
func (e *Encoder) Span(i int) int {
	if i+1 < len(e.offsets) {
		return e.offsets[i+1] - e.offsets[i]
	}
	return e.width - e.offsets[i]
}

// ColumnNames returns the names of the encoded columns of features: the
// name of a numeric feature, "name=category" per category (OtherCategory
// included), "name.part" per date part.
func ColumnNames(features []Feature) []string {
	var out []string
	for _, f := range features {
		switch f.Type {
		case Numeric:
			out = append(out, f.Name)
		case Date:
			for _, p := range f.Parts {
				out = append(out, f.Name+"."+p.Name)
			}
		default:
			for _, c := range f.Categories {
				out = append(out, f.Name+"="+c)
			}
		}
	}
	return out
}

// MissingKeep is the missing-value policy of a feature whose missing
// values reach the predictor as they are: a numeric value (or date part) as
// NaN, which trees send down their learned direction; a categorical value
// as no category (all zeros in its one-hot block).
const MissingKeep = "keep"

// keepsMissing reports whether a numeric feature or date part keeps its
// missing values.
func keepsMissing(features []Feature) bool {
	for i := range features {
		if features[i].Missing == MissingKeep && (features[i].Type == Numeric || features[i].Type == Date) {
			return true
		}
		if keepsMissing(features[i].Parts) {
			return true
		}
	}
	return false
}
