package evaluate

import (
	"errors"
	"fmt"
	"math"

	"github.com/modelci/modelci/internal/dataset"
	"github.com/modelci/modelci/internal/model"
	"github.com/modelci/modelci/internal/split"
)

// ErrNotTrainingData means the test split was asked of data the model was
// not trained on, where the split is not defined.
var ErrNotTrainingData = errors.New("not the model's training data")

// TestRows recomputes the test rows of the split the model was trained with
// (training.test_size and training.seed) on f, which must be the training
// data (its SHA-256 matches training.data_sha256). As training does, it
// keeps the rows with a target (and, under data.missing: drop, with every
// feature), then splits them as scikit-learn's train_test_split. The rows
// are frame rows in scikit-learn's order.
func TestRows(m *model.Model, f *dataset.Frame) ([]int, error) {
	tr := m.Training
	if tr.DataSHA256 == "" || f.SHA256 != tr.DataSHA256 {
		return nil, fmt.Errorf("%s: %w: the test split is defined on the data the model was trained on (sha256 %s), and this file's sha256 is %s; score all rows instead", f.Name, ErrNotTrainingData, tr.DataSHA256, f.SHA256)
	}
	tc, ok := f.Column(m.Target)
	if !ok {
		return nil, fmt.Errorf("%s: %w: target column %q does not exist", f.Name, ErrIncompatibleData, m.Target)
	}
	var drop []*dataset.Column
	for _, ft := range m.Features {
		if ft.Missing != "drop" {
			continue
		}
		c, ok := f.Column(ft.Name)
		if !ok {
			return nil, fmt.Errorf("%s: %w: feature column %q does not exist", f.Name, ErrIncompatibleData, ft.Name)
		}
		drop = append(drop, c)
	}
	missing := func(c *dataset.Column, r int) bool {
		if c.Kind == dataset.Numeric {
			return math.IsNaN(c.Floats[r])
		}
		return c.Codes[r] < 0
	}
	kept := make([]int, 0, f.Rows)
rows:
	for r := 0; r < f.Rows; r++ {
		if missing(tc, r) {
			continue
		}
		for _, c := range drop {
			if missing(c, r) {
				continue rows
			}
		}
		kept = append(kept, r)
	}
	testPos, _, err := split.TrainTest(len(kept), tr.TestSize, tr.Seed)
	if err != nil {
		return nil, fmt.Errorf("%s: split %d rows: %w", f.Name, len(kept), err)
	}
	out := make([]int, len(testPos))
	for i, p := range testPos {
		out[i] = kept[p]
	}
	return out, nil
}
