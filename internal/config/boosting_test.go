package config

import (
	"errors"
	"strings"
	"testing"
)

// TestBoostingSettings: gradient_boosting takes scikit-learn's defaults,
// and out-of-range settings are configuration errors with line and
// column.
func TestBoostingSettings(t *testing.T) {
	t.Parallel()
	base := "data:\n  path: d.csv\n  target: y\nmodel:\n  type: gradient_boosting\n"
	cfg, err := Parse([]byte(base), "modelci.yaml", ".")
	if err != nil {
		t.Fatal(err)
	}
	m := cfg.Model
	if *m.MaxIter != 100 || *m.LearningRate != 0.1 || *m.MaxLeafNodes != 31 || m.MaxDepth != nil || *m.MinSamplesLeaf != 20 ||
		*m.L2Regularization != 0 || *m.MaxBins != 255 || m.EarlyStopping != EarlyStoppingAuto || *m.ValidationFraction != 0.1 ||
		*m.NIterNoChange != 10 || *m.Tol != 1e-7 || *m.Seed != 42 || m.Solver != "" || *m.Standardize || cfg.Data.Missing != MissingKeep {
		t.Errorf("defaults: %+v, missing %s", m, cfg.Data.Missing)
	}
	if cfg.Task() != TaskRegression {
		t.Errorf("task %s", cfg.Task())
	}
	cls, err := Parse([]byte("task: classification\n"+base+"  early_stopping: false\n"), "modelci.yaml", ".")
	if err != nil {
		t.Fatal(err)
	}
	if cls.Task() != TaskClassification || cls.Model.EarlyStopping != EarlyStoppingFalse {
		t.Errorf("classification: task %s, early_stopping %q", cls.Task(), cls.Model.EarlyStopping)
	}
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"one leaf", base + "  max_leaf_nodes: 1\n", []string{"modelci.yaml:6:19", "model.max_leaf_nodes", "at least 2"}},
		{"no learning", base + "  learning_rate: 0\n", []string{"modelci.yaml:6:18", "model.learning_rate", "> 0"}},
		{"too many bins", base + "  max_bins: 300\n", []string{"modelci.yaml:6:13", "model.max_bins", "2 to 255"}},
		{"empty leaves", base + "  min_samples_leaf: 0\n", []string{"modelci.yaml:6:21", "model.min_samples_leaf", "at least 1"}},
		{"a bad early stopping", base + "  early_stopping: sometimes\n", []string{"model.early_stopping", "sometimes"}},
		{"validation of everything", base + "  validation_fraction: 1\n", []string{"model.validation_fraction", "(0, 1)"}},
		{"a solver", base + "  solver: lbfgs\n", []string{"model.solver", "no solver"}},
		{"alpha", base + "  alpha: 1\n", []string{"model.alpha", "l2_regularization"}},
		{"a boosting key on ridge", "data:\n  path: d.csv\n  target: y\nmodel:\n  type: ridge\n  max_bins: 16\n", []string{"model.max_bins", "gradient_boosting setting"}},
		{"keep on a linear model", "data:\n  path: d.csv\n  target: y\n  missing: keep\n", []string{"data.missing", "gradient_boosting"}},
		{"a typo of the type", "data:\n  path: d.csv\n  target: y\nmodel:\n  type: gradient_bosting\n", []string{"model.type", "did you mean", "gradient_boosting"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.yaml), "modelci.yaml", ".")
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
		})
	}
}
