package config

import (
	"errors"
	"strings"
	"testing"
)

// TestSklearnParityAndSuggestions covers test_size forms (a float must be a
// fraction in (0, 1), an int is a row count), the task key, and "did you
// mean" for unknown keys and metrics.
func TestSklearnParityAndSuggestions(t *testing.T) {
	t.Parallel()
	const head = "data:\n  path: d.csv\n  target: y\n"
	cases := []struct {
		name string
		yaml string
		want string // "" = valid
	}{
		{name: "int test_size is rows", yaml: head + "split:\n  test_size: 1\n"},
		{name: "int ten rows", yaml: head + "split:\n  test_size: 10\n"},
		{name: "fraction", yaml: head + "split:\n  test_size: 0.25\n"},
		{name: "float one", yaml: head + "split:\n  test_size: 1.0\n", want: "modelci.yaml:5:14: split.test_size: 1.0 is a float"},
		{name: "float ten", yaml: head + "split:\n  test_size: 10.0\n", want: "write 10 for a count of 10 test rows"},
		{name: "unknown key", yaml: "data:\n  path: d.csv\n  taget: y\n", want: `modelci.yaml:3:3: invalid configuration: unknown field "taget"; did you mean target?`},
		{name: "unknown key far", yaml: head + "zzzzzzzz: 1\n", want: `unknown field "zzzzzzzz"`},
		{name: "unknown metric", yaml: head + "metrics: [rsme]\n", want: `metrics[0]: unknown metric "rsme"; did you mean rmse?`},
		{name: "unknown gate metric", yaml: head + "gates:\n  - {metric: rsme, max: 1}\n", want: "did you mean rmse?"},
		{name: "task classification picks logistic", yaml: head + "task: classification\n"},
		{name: "task regression", yaml: head + "task: regression\n"},
		{name: "task classification with linear", yaml: head + "task: classification\nmodel:\n  type: linear\n", want: "task: classification needs model.type: logistic"},
		{name: "task regression with logistic", yaml: head + "task: regression\nmodel:\n  type: logistic\n", want: "task: regression needs model.type: linear or ridge"},
		{name: "decimal comma", yaml: head + "  decimal: \",\"\n  delimiter: semicolon\n"},
		{name: "decimal comma with comma delimiter", yaml: head + "  decimal: \",\"\n  delimiter: \",\"\n", want: "data.decimal: a decimal comma needs another delimiter"},
		{name: "decimal other", yaml: head + "  decimal: \"'\"\n", want: "data.decimal: want"},
		{name: "task typo", yaml: head + "task: clasification\n", want: "did you mean classification?"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(c.yaml), "modelci.yaml", t.TempDir())
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; want %q", c.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not match ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
	cfg, err := Parse([]byte(head+"task: classification\n"), "modelci.yaml", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Model.Type != TypeLogistic || cfg.Task() != TaskClassification {
		t.Errorf("task: classification gave model.type %q, task %q", cfg.Model.Type, cfg.Task())
	}
	if unk := closest("zzzzzzzz", schemaKeys()); unk != "" {
		t.Errorf("closest(zzzzzzzz) = %q, want none", unk)
	}
}
