package diff

import (
	"fmt"
	"testing"

	"github.com/modelci/modelci/internal/model"
)

// TestCoefficientOrder: columns only one model has come first, largest
// coefficient first; then the shared columns by |change|. The report lists
// the first 50, so this order decides what a reviewer sees.
func TestCoefficientOrder(t *testing.T) {
	t.Parallel()
	champ := &model.Model{
		Columns:      []string{"a", "b", "c", "gone_small", "gone_big"},
		Coefficients: []float64{1, 1, 1, -0.2, -3},
	}
	chal := &model.Model{
		Columns:      []string{"a", "b", "c", "new_small", "new_big"},
		Coefficients: []float64{1.5, -1, 1, 0.1, 5},
	}
	c := coefficients(champ, chal)
	var got []string
	for _, cc := range c.Columns {
		got = append(got, cc.Column)
	}
	want := "[new_big gone_big gone_small new_small b a c]"
	if fmt.Sprint(got) != want {
		t.Errorf("order %v, want %s", got, want)
	}
}
