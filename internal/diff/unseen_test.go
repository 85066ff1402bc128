package diff_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/diff"
)

// TestChallengerUnseenCategories: a test row whose category the
// challenger's training rows never saw is encoded as all zeros, and the
// report says so for the challenger as it does for the champion, with or
// without a champion.
func TestChallengerUnseenCategories(t *testing.T) {
	t.Parallel()
	dir := project(t, zipCSV(300))
	chalCfg := parse(t, dir, "data:\n  path: data.csv\n  target: price\n  features: [sqft, zip]\n  categorical: [zip]\n")
	// Find a test row, then give it a zip code no other row has: the split
	// depends only on the row count and the seed, so it stays a test row.
	first := trainIn(t, chalCfg)
	row := first.Selection.Test[0]
	lines := strings.Split(zipCSV(300), "\n")
	cells := strings.Split(lines[row+1], ",")
	cells[1] = "99999"
	lines[row+1] = strings.Join(cells, ",")
	if err := os.WriteFile(filepath.Join(dir, "data.csv"), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	hr := trainIn(t, chalCfg)
	if hr.Selection.Test[0] != row {
		t.Fatalf("the split moved: test row %d, want %d", hr.Selection.Test[0], row)
	}
	champCfg := parse(t, dir, "data:\n  path: data.csv\n  target: price\n  features: [sqft]\n")
	cr := trainIn(t, champCfg)
	const want = "the challenger met categories its training rows never saw, encoded as all zeros: zip (1)"
	for _, champ := range []*diff.Champion{nil, {Model: cr.Model, Metrics: cr.Metrics, Profile: cr.Profile}} {
		res, err := diff.Compare(context.Background(), diff.Input{
			Challenger: *diff.ChallengerFromTraining(chalCfg, hr),
			Champion:   champ,
			Options:    diff.Options{Metrics: []string{"rmse"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, w := range res.Warnings {
			if w == want {
				found++
			}
			if strings.Contains(w, "the champion met categories") {
				t.Errorf("champion %v: a champion warning for a champion without zip: %q", champ != nil, w)
			}
		}
		if found != 1 {
			t.Errorf("champion %v: warnings %q, want %q once", champ != nil, res.Warnings, want)
		}
	}
}
