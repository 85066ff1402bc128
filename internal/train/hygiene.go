package train

import (
	"fmt"
	"math"
	"regexp"

	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/dataset"
)

// minIDRows is the fewest rows at which a column with a different value in
// every row is taken for an ID: on a handful of rows any column is unique.
const minIDRows = 20

// isoDateRE matches an ISO 8601 date or datetime: 2024-03-01,
// 2024-03-01T12:30:00Z, 2024-03-01 12:30:00.5+01:00.
var isoDateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$`)

// checkIDOrDate refuses a categorical feature that holds dates or a
// different value in every row (one-hot encoding either learns nothing that
// carries over to new rows), and warns about a numeric feature of distinct
// whole numbers, which looks like an ID.
func checkIDOrDate(cfg *config.Config, file string, c *dataset.Column, rows int, warnings *[]string) error {
	present := rows - c.Missing
	if c.Kind == dataset.Categorical {
		if looksDates(c.Levels) {
			return dataErr(file, c.Name, "the column holds dates such as %q, which would be one-hot encoded as %d unrelated categories; set data.dates: [%q] to use its year, month, day of week and day of year, or add it to data.exclude", firstLevel(c), len(c.Levels), c.Name)
		}
		if present >= minIDRows && len(c.Levels) == present && !dataset.LooksDecimalComma(c.Levels) {
			return dataErr(file, c.Name, "the column has a different value in every row (%d), like an ID, so one-hot encoding it learns nothing about new rows; add it to data.exclude", present)
		}
		return nil
	}
	if present < minIDRows {
		return nil
	}
	seen := make(map[float64]bool, present)
	for _, v := range c.Floats {
		if math.IsNaN(v) {
			continue
		}
		if v != math.Trunc(v) || seen[v] {
			return nil
		}
		seen[v] = true
	}
	*warnings = append(*warnings, fmt.Sprintf("feature %q has a different whole number in every row (%d), like an ID or a row number; if it is one, add it to data.exclude", c.Name, present))
	return nil
}

// looksDates reports whether at least 90% of levels (and at least one) are
// ISO dates or datetimes.
func looksDates(levels []string) bool {
	n := 0
	for _, l := range levels {
		if isoDateRE.MatchString(l) {
			n++
		}
	}
	return n > 0 && n*10 >= len(levels)*9
}

// decimalSetting is the model's record of data.decimal: "," or "".
func decimalSetting(cfg *config.Config) string {
	if cfg.DecimalComma() {
		return ","
	}
	return ""
}
