package dataset

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
)

// TestMissingRuleShared reads every case of the table that model and serve
// share (internal/model/testdata/missing.json) as a CSV cell, in a numeric
// and in a categorical column.
func TestMissingRuleShared(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../model/testdata/missing.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []struct {
			Value        string
			Text, Number bool
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, tc := range doc.Cases {
		t.Run(tc.Value, func(t *testing.T) {
			t.Parallel()
			cell := `"` + strings.ReplaceAll(tc.Value, `"`, `""`) + `"`
			csv := "n,c\n1,a\n2,b\n3,a\n4,b\n" + cell + "," + cell + "\n"
			f, err := Read(context.Background(), strings.NewReader(csv), "missing.csv", Options{Categorical: []string{"c"}})
			if err != nil {
				if tc.Number || !errors.Is(err, ErrNotNumeric) {
					t.Fatalf("read %q: %v", tc.Value, err)
				}
				return // not missing, not a number: an error in a numeric column
			}
			n, _ := f.Column("n")
			if got := math.IsNaN(n.Floats[4]); got != tc.Number {
				t.Errorf("numeric cell %q missing = %v, want %v", tc.Value, got, tc.Number)
			}
			c, _ := f.Column("c")
			if got := c.Codes[4] < 0; got != tc.Text {
				t.Errorf("categorical cell %q missing = %v, want %v", tc.Value, got, tc.Text)
			}
		})
	}
}
