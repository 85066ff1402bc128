package config

import (
	"errors"
	"strings"
	"testing"
)

// TestDates validates data.dates: not the target, not twice, not excluded,
// not categorical, among data.features when those are listed; each error
// names the line and column of the offending entry.
func TestDates(t *testing.T) {
	t.Parallel()
	const head = "data:\n  path: d.csv\n  target: y\n"
	cases := []struct {
		name, yaml, want string // want "" = valid
	}{
		{name: "one", yaml: head + "  dates: [when]\n"},
		{name: "with features", yaml: head + "  features: [x, when]\n  dates: [when]\n"},
		{name: "target", yaml: head + "  dates: [a, y]\n", want: `modelci.yaml:4:14: data.dates[1]: "y" is the target`},
		{name: "duplicate", yaml: head + "  dates:\n    - a\n    - b\n    - a\n", want: `modelci.yaml:7:7: data.dates[2]: "a" is listed twice`},
		{name: "excluded", yaml: head + "  exclude: [when]\n  dates: [when]\n", want: `modelci.yaml:5:11: data.dates[0]: "when" is also listed in data.exclude`},
		{name: "categorical", yaml: head + "  categorical: [when]\n  dates: [when]\n", want: `data.dates[0]: "when" is also listed in data.categorical`},
		{name: "not a feature", yaml: head + "  features: [x]\n  dates: [when]\n", want: `data.dates[0]: "when" is not listed in data.features`},
		{name: "empty", yaml: head + "  dates: [\" \"]\n", want: "data.dates[0]: is empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Parse([]byte(c.yaml), "modelci.yaml", t.TempDir())
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(cfg.Data.Dates) != 1 || cfg.Data.Dates[0] != "when" {
					t.Errorf("dates = %q", cfg.Data.Dates)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want ErrInvalid containing %q", err, c.want)
			}
		})
	}
}
