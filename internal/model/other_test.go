package model

import (
	"errors"
	"testing"
)

// TestOtherCategory: a feature with Other encodes unlisted levels as the
// "(other)" column, one without keeps them all zeros, and Other without the
// reserved category is corrupt.
func TestOtherCategory(t *testing.T) {
	t.Parallel()
	feats := func(other bool, cats ...string) []Feature {
		return []Feature{{Name: "k", Type: Categorical, Missing: "mean", Categories: cats, Other: other}}
	}
	e, err := NewEncoder(feats(true, OtherCategory, "a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]int{"a": 1, "b": 2, "z": 0, OtherCategory: 0} {
		if j, err := e.Category(0, s); err != nil || j != want {
			t.Errorf("Category(%q) = %d, %v; want %d", s, j, err, want)
		}
	}
	plain, err := NewEncoder(feats(false, "a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	if j, _ := plain.Category(0, "z"); j != -1 {
		t.Errorf("without Other Category(z) = %d, want -1", j)
	}
	if _, err := NewEncoder(feats(true, "a", "b")); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Other without %q: %v, want ErrCorrupt", OtherCategory, err)
	}
}
