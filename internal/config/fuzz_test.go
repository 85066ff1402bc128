package config

import (
	"errors"
	"testing"
)

// FuzzParse: any modelci.yaml bytes give a valid config or a configuration
// error (ErrInvalid), never a panic; a config that parses validates again,
// and a test_size at or above 1 is a whole number of rows.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"data:\n  path: d.csv\n  target: y\n",
		"data:\n  path: d.csv\n  target: y\nsplit:\n  test_size: 1.0\n",
		"data:\n  path: d.csv\n  target: y\nsplit:\n  test_size: 10\n",
		"data:\n  path: d.csv\n  taget: y\n",
		"task: classification\ndata: {path: d.csv, target: y}\nmodel: {type: logistic}\nmetrics: [f1, acuracy]\n",
		"split: {test_size: 0x10}\ndata: {path: d.csv, target: y}\n",
		"split:\n  test_size: [1]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := Parse(b, "modelci.yaml", t.TempDir())
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not a configuration error", err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("parsed config does not validate: %v", err)
		}
		if ts := *cfg.Split.TestSize; ts >= 1 && ts != float64(int64(ts)) {
			t.Fatalf("test_size %g accepted", ts)
		}
	})
}
