package train

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/modelci/modelci/internal/config"
)

// TestRowsMatchFit: Rows selects exactly the rows Fit trained and evaluated
// on, for every golden case (missing targets, the drop policy, other seeds
// and test sizes, classifiers), and the counts match metrics.json.
func TestRowsMatchFit(t *testing.T) {
	t.Parallel()
	g := loadGolden(t)
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			cfg := configFor(t, c)
			f, err := LoadData(context.Background(), cfg, 1)
			if err != nil {
				t.Fatal(err)
			}
			sel, err := Rows(cfg, f)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Fit(context.Background(), cfg, f, Options{Workers: 1})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(sel.Test, res.Selection.Test) {
				t.Errorf("test rows differ from Fit's: got %v…, want %v…", head(sel.Test), head(res.Selection.Test))
			}
			if !slices.Equal(sel.Train, res.Selection.Train) {
				t.Errorf("train rows differ from Fit's")
			}
			d := res.Metrics.Data
			if sel.Used != d.Used || sel.DroppedMissingTarget != d.DroppedMissingTarget || sel.DroppedMissingFeatures != d.DroppedMissingFeatures {
				t.Errorf("counts: got used %d, dropped %d/%d; metrics.json has %d, %d/%d",
					sel.Used, sel.DroppedMissingTarget, sel.DroppedMissingFeatures, d.Used, d.DroppedMissingTarget, d.DroppedMissingFeatures)
			}
		})
	}
}

// TestRowsErrors: Rows rejects what Fit rejects, with the same error kinds.
func TestRowsErrors(t *testing.T) {
	t.Parallel()
	g := loadGolden(t)
	cases := []struct {
		name string
		edit func(*config.Config)
		want error
	}{
		{"unknown target", func(c *config.Config) { c.Data.Target = "nope" }, config.ErrInvalid},
		{"test size too large", func(c *config.Config) { big := 1e9; c.Split.TestSize = &big }, ErrData},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := configFor(t, g.Cases[0])
			f, err := LoadData(context.Background(), cfg, 1)
			if err != nil {
				t.Fatal(err)
			}
			tc.edit(cfg)
			_, err = Rows(cfg, f)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want an error wrapping %v", err, tc.want)
			}
		})
	}
}

func head(xs []int) []int {
	if len(xs) > 5 {
		return xs[:5]
	}
	return xs
}
