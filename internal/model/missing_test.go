package model

import (
	"encoding/json"
	"os"
	"testing"
)

// MissingCase is one row of testdata/missing.json, the table the model,
// dataset and serve tests share.
type missingCase struct {
	Value  string `json:"value"`
	Text   bool   `json:"text"`
	Number bool   `json:"number"`
}

func readMissingCases(t *testing.T) []missingCase {
	t.Helper()
	b, err := os.ReadFile("testdata/missing.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Cases []missingCase }
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Cases
}

func TestMissingRule(t *testing.T) {
	t.Parallel()
	enc, err := NewEncoder([]Feature{{Name: "c", Type: Categorical, Missing: "most_frequent", Categories: []string{"x"}, ImputeCategory: ptr("x")}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range readMissingCases(t) {
		t.Run(tc.Value, func(t *testing.T) {
			t.Parallel()
			if got := IsMissing(tc.Value); got != tc.Text {
				t.Errorf("IsMissing(%q) = %v, want %v", tc.Value, got, tc.Text)
			}
			if got := IsMissingNumber(tc.Value); got != tc.Number {
				t.Errorf("IsMissingNumber(%q) = %v, want %v", tc.Value, got, tc.Number)
			}
			b := TrimSpace([]byte(tc.Value))
			if got := IsMissingBytes(b); got != tc.Text {
				t.Errorf("IsMissingBytes(TrimSpace(%q)) = %v, want %v", tc.Value, got, tc.Text)
			}
			// The encoder imputes exactly the missing values.
			j, err := enc.Category(0, tc.Value)
			if err != nil {
				t.Fatal(err)
			}
			if imputed := j == 0; imputed != (tc.Text || tc.Value == "x") {
				t.Errorf("Category(%q) = %d, imputed %v, want %v", tc.Value, j, imputed, tc.Text)
			}
		})
	}
}

func TestMissingTokensDoNotAllocate(t *testing.T) {
	v := []byte(" NULL ")
	if n := testing.AllocsPerRun(100, func() { _ = IsMissingBytes(TrimSpace(v)) || IsNaNSpelling(v) || IsMissing("None") }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
