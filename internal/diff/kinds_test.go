package diff_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/diff"
	"github.com/modelci/modelci/internal/model"
	"github.com/modelci/modelci/internal/report"
	"github.com/modelci/modelci/internal/train"
)

// treesOf replaces the fitted linear model m with a two-tree ensemble over
// its first encoded columns (sqft, then age): a schema version 2 model of
// another kind on the same features.
func treesOf(t *testing.T, m *model.Model) *model.Model {
	t.Helper()
	tm := *m
	tm.SchemaVersion = model.MaxSchemaVersion
	tm.Algorithm = "gradient_boosting"
	tm.Intercept, tm.Coefficients = 0, nil
	tm.Outputs, tm.Link = 1, model.LinkIdentity
	stump := func(col int, gain, low, high float64) model.Tree {
		return model.Tree{
			Output: 0, Feature: []int{col, -1, -1}, Threshold: []float64{0, 0, 0},
			Left: []int{1, -1, -1}, Right: []int{2, -1, -1}, MissingLeft: []bool{true, false, false},
			Value: []float64{0, low, high}, Gain: []float64{gain, 0, 0},
		}
	}
	tm.Predictor = &model.Block{Trees: &model.TreeEnsemble{
		Aggregation: model.AggregateSum, Comparison: model.CompareLessEqual, Precision: model.Float64,
		BaseScore: []float64{400000},
		Trees:     []model.Tree{stump(0, 3, -60000, 60000), stump(2, 1, 15000, -15000)},
	}}
	if _, err := tm.Seal(nil); err != nil {
		t.Fatal(err)
	}
	return &tm
}

// TestCompareV1ChampionTreeChallenger: a champion that an earlier release
// wrote (schema version 1, linear) and a tree challenger (schema version
// 2) are scored on the same rows, and the report shows what fits each:
// the kinds, the trees and leaves, and the features' importance.
func TestCompareV1ChampionTreeChallenger(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load(filepath.Join("..", "..", "examples", "house-prices", "modelci.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := train.Train(context.Background(), cfg, train.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	chal := diff.ChallengerFromTraining(cfg, res)
	chal.Model = treesOf(t, chal.Model)
	champ, err := diff.LoadChampion(filepath.Join("..", "model", "testdata", "release-v1"))
	if err != nil {
		t.Fatal(err)
	}
	if champ.Model.SchemaVersion != 1 {
		t.Fatalf("the fixture is schema version %d, want 1", champ.Model.SchemaVersion)
	}
	out, err := diff.Compare(context.Background(), diff.Input{
		Name:          cfg.Name,
		Baseline:      diff.BaselineInfo{Kind: "dir", Spec: "release-v1"},
		Challenger:    *chal,
		Champion:      champ,
		ChampionFrame: diff.ChampionFrameLoader(cfg, chal.Frame.Header, 1),
		Options:       diff.OptionsFromConfig(cfg, 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !out.Comparable || out.Rows.Shared != len(chal.Selection.Test) {
		t.Fatalf("comparable %v (%+v), rows %+v", out.Comparable, out.NotComparable, out.Rows)
	}
	for _, mt := range out.Metrics {
		if mt.Champion == nil || mt.Challenger == nil || mt.Interval == nil {
			t.Errorf("%s: champion %v, challenger %v, interval %v", mt.Name, mt.Champion, mt.Challenger, mt.Interval)
		}
	}
	if out.Coefficients != nil || out.Fit == nil {
		t.Fatalf("coefficients %+v, fit %+v: want a fit comparison of two kinds", out.Coefficients, out.Fit)
	}
	f := out.Fit
	if f.Champion.Kind != model.SummaryLinear || f.Champion.Coefficients != 8 || f.Challenger.Kind != model.SummaryTrees || f.Challenger.Trees != 2 || f.Challenger.Leaves != 4 {
		t.Errorf("fit sides %+v → %+v", f.Champion, f.Challenger)
	}
	if len(f.Importance) != 5 || f.Importance[0].Feature != "sqft" || *f.Importance[0].Challenger != 0.75 || f.Importance[0].Champion != nil || *f.Importance[1].Challenger != 0.25 {
		t.Errorf("importance %+v, want sqft 0.75 then age 0.25", f.Importance)
	}
	md, err := report.Markdown(out, report.OptionsFromConfig(cfg.Report))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Model: linear → 2 trees, 4 leaves", "| trees | — | 2 |", "| `sqft` | — | 0.75 |", "Feature importance"} {
		if !strings.Contains(md, s) {
			t.Errorf("the report lacks %q:\n%s", s, md)
		}
	}
}
