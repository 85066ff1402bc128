package report

import (
	"fmt"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/diff"
	"github.com/modelci/modelci/internal/diff/difftest"
)

// coefficientRows returns the data rows of the coefficient table and the
// text after it, up to the end of its section.
func coefficientRows(t *testing.T, md string) (rows []string, after string) {
	t.Helper()
	_, sec, ok := strings.Cut(md, "<summary>Coefficient changes")
	if !ok {
		t.Fatal("no coefficient section")
	}
	sec, _, _ = strings.Cut(sec, "</details>")
	for _, line := range strings.Split(sec, "\n") {
		if strings.HasPrefix(line, "| `") {
			rows = append(rows, line)
		}
	}
	_, after, _ = strings.Cut(sec, "|\n\n")
	return rows, after
}

// TestCoefficientCap: past MaxCoefficients columns the report lists the
// largest changes and says how many it left out; up to it, all.
func TestCoefficientCap(t *testing.T) {
	t.Parallel()
	for _, n := range []int{MaxCoefficients, MaxCoefficients + 1, 130} {
		res := difftest.Result(t, difftest.Regression)
		cols := make([]diff.CoefChange, n)
		for i := range cols {
			// Already in diff's order: largest |change| first.
			champ, chal := 0.0, float64(n-i)
			change := chal - champ
			cols[i] = diff.CoefChange{Column: fmt.Sprintf("x%03d", i), Champion: &champ, Challenger: &chal, Change: &change}
		}
		res.Coefficients.Columns = cols
		md, err := Markdown(res, Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkWellFormed(t, md, DefaultMaxBytes)
		rows, after := coefficientRows(t, md)
		shown := min(n, MaxCoefficients)
		if len(rows) != shown {
			t.Errorf("%d columns: %d rows shown, want %d", n, len(rows), shown)
		}
		if len(rows) > 0 && (!strings.HasPrefix(rows[0], "| `x000` |") || !strings.HasPrefix(rows[len(rows)-1], fmt.Sprintf("| `x%03d` |", shown-1))) {
			t.Errorf("%d columns: rows %q … %q, want the largest changes", n, rows[0], rows[len(rows)-1])
		}
		note := fmt.Sprintf("%d more coefficients not shown", n-MaxCoefficients)
		if got := strings.Contains(after, note); got != (n > MaxCoefficients) {
			t.Errorf("%d columns: note %q present %v; section ends %q", n, note, got, after)
		}
		if !strings.Contains(md, fmt.Sprintf("<summary>Coefficient changes: %d of %d columns</summary>", n, n)) {
			t.Errorf("%d columns: the summary does not count every column", n)
		}
	}
}
