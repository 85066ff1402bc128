package train

import (
	"fmt"

	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/dataset"
	"github.com/modelci/modelci/internal/split"
)

// Selection is the row selection of a training run on a frame: which rows
// survive the missing-value policy and how they are split.
type Selection struct {
	// Test are the frame rows of the test split, in scikit-learn's order.
	Test []int
	// Train are the frame rows of the training split, in file order.
	Train []int
	// Used is the number of rows kept after dropping.
	Used int
	// DroppedMissingTarget and DroppedMissingFeatures count the dropped rows.
	DroppedMissingTarget   int
	DroppedMissingFeatures int
}

// Rows recomputes the train/test rows that Fit selects for cfg on f, without
// fitting anything: the same columns, the same dropping of rows with a
// missing target (and missing features under data.missing: drop) and the
// same scikit-learn split. A model trained by Fit with cfg on the same data
// was evaluated on exactly sel.Test.
func Rows(cfg *config.Config, f *dataset.Frame) (*Selection, error) {
	_, sel, _, err := selectRows(cfg, f)
	return sel, err
}

// selectRows builds the table of kept rows and splits it. It also returns
// the training rows as positions into the table, in file order.
func selectRows(cfg *config.Config, f *dataset.Frame) (*table, *Selection, []int, error) {
	features, err := selectColumns(cfg, f.Header)
	if err != nil {
		return nil, nil, nil, err
	}
	t, err := buildTable(cfg, f, features)
	if err != nil {
		return nil, nil, nil, err
	}
	testPos, trainPos, err := split.TrainTest(len(t.rows), *cfg.Split.TestSize, *cfg.Split.Seed)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: split %d rows: %w: %w", f.Name, len(t.rows), ErrData, err)
	}
	if cfg.Task() == config.TaskClassification {
		if err := t.checkClasses(testPos, trainPos); err != nil {
			return nil, nil, nil, err
		}
	}
	sel := &Selection{
		Test:                   make([]int, len(testPos)),
		Train:                  make([]int, 0, len(trainPos)),
		Used:                   len(t.rows),
		DroppedMissingTarget:   t.droppedTarget,
		DroppedMissingFeatures: t.droppedFeatures,
	}
	for i, p := range testPos {
		sel.Test[i] = t.rows[p]
	}
	// Training rows in file order: cache friendly, and sums do not depend
	// on the permutation. Every position that is not a test position is a
	// training position.
	isTest := make([]bool, len(t.rows))
	for _, p := range testPos {
		isTest[p] = true
	}
	trainSorted := make([]int, 0, len(trainPos))
	for p, test := range isTest {
		if !test {
			trainSorted = append(trainSorted, p)
			sel.Train = append(sel.Train, t.rows[p])
		}
	}
	return t, sel, trainSorted, nil
}
