package serve

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/dataset"
)

type missingCase struct {
	Value        string
	Text, Number bool
}

func readMissingCases(t testing.TB) []missingCase {
	b, err := os.ReadFile("../model/testdata/missing.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Cases []missingCase }
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Cases
}

// TestMissingRuleShared: a numeric value sent as a JSON string (V2 BYTES,
// MLflow records) or as an MLflow CSV cell is missing exactly when the
// shared table says so (internal/model/testdata/missing.json).
func TestMissingRuleShared(t *testing.T) {
	t.Parallel()
	for _, tc := range readMissingCases(t) {
		f, err := parseText([]byte(tc.Value))
		if got := err == nil && math.IsNaN(f); got != tc.Number {
			t.Errorf("parseText(%q) = %v, %v; missing %v, want %v", tc.Value, f, err, got, tc.Number)
		}
	}
}

// FuzzMissingAgrees: whatever training (the CSV reader) reads as a missing
// value of a numeric column, serving reads as missing, and the other way
// round.
func FuzzMissingAgrees(f *testing.F) {
	for _, tc := range readMissingCases(f) {
		f.Add(tc.Value)
	}
	f.Add("1e5")
	f.Add(" 2 ")
	f.Fuzz(func(t *testing.T, v string) {
		if strings.ContainsAny(v, "\r\n") {
			// CSV reads CRLF inside a quoted cell as LF and ends an
			// unquoted one there; the cell would not be v.
			return
		}
		cell := `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
		fr, err := dataset.Read(context.Background(), strings.NewReader("n\n1\n2\n3\n"+cell+"\n"), "fuzz.csv", dataset.Options{})
		trained := false
		if err == nil {
			if col, ok := fr.Column("n"); ok && col.Kind == dataset.Numeric && len(col.Floats) == 4 {
				trained = math.IsNaN(col.Floats[3])
			} else {
				return // not read as one numeric column (v has a delimiter, say)
			}
		}
		x, perr := parseText([]byte(v))
		served := perr == nil && math.IsNaN(x)
		if trained != served {
			t.Fatalf("%q: missing in training %v (err %v), in serving %v (err %v)", v, trained, err, served, perr)
		}
	})
}
