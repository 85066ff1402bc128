package dataset

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ErrDecimalDelimiter reports a decimal comma in a comma-delimited file.
var ErrDecimalDelimiter = errors.New("a decimal comma needs a delimiter other than ','")

// decimalCommaNumber parses s written with a decimal comma ("-0,69",
// "1e-3", "12"): at most one ',' and no '.', otherwise the
// strconv.ParseFloat syntax the reader accepts.
func decimalCommaNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.Contains(s, ".") || strings.Count(s, ",") > 1 {
		return 0, false
	}
	s = strings.Replace(s, ",", ".", 1)
	if strings.ContainsAny(s, "_xXpP") {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// LooksDecimalComma reports whether a categorical column's levels are
// numbers written with a decimal comma: at least 90% of them parse that way
// and at least one has a comma. Such a column was probably meant to be
// numeric, with data.decimal: ",".
func LooksDecimalComma(levels []string) bool {
	if len(levels) == 0 {
		return false
	}
	ok, comma := 0, false
	for _, l := range levels {
		if _, good := decimalCommaNumber(l); good {
			ok++
			comma = comma || strings.Contains(l, ",")
		}
	}
	return comma && ok*10 >= len(levels)*9
}

// applyDecimalComma turns every categorical column that is not forced
// categorical and whose every level is a decimal-comma number into a numeric
// column. It runs after the read, so the fast number paths stay unchanged.
func applyDecimalComma(f *Frame, opts Options) error {
	if f.Delimiter == ',' {
		return fmt.Errorf("%s: %w; set data.delimiter (such as ';')", f.Name, ErrDecimalDelimiter)
	}
	for _, c := range f.Columns {
		if c.Kind != Categorical || slices.Contains(opts.Categorical, c.Name) {
			continue
		}
		vals := make([]float64, len(c.Levels))
		all := true
		for i, l := range c.Levels {
			v, ok := decimalCommaNumber(l)
			if !ok {
				all = false
				break
			}
			vals[i] = v
		}
		if !all {
			continue
		}
		floats := make([]float64, len(c.Codes))
		for r, code := range c.Codes {
			if code < 0 {
				floats[r] = math.NaN()
				continue
			}
			floats[r] = vals[code]
		}
		c.Kind, c.Floats, c.Codes, c.Levels = Numeric, floats, nil, nil
	}
	return nil
}

// decimalTail applies Options.DecimalComma to a frame that was read.
func decimalTail(f *Frame, err error, opts Options) (*Frame, error) {
	if err != nil || !opts.DecimalComma {
		return f, err
	}
	if err := applyDecimalComma(f, opts); err != nil {
		return nil, err
	}
	return f, nil
}
