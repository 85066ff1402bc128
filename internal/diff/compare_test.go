package diff_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/diff"
	"github.com/modelci/modelci/internal/diff/difftest"
	"github.com/modelci/modelci/internal/evaluate"
	"github.com/modelci/modelci/internal/model"
	"github.com/modelci/modelci/internal/train"
)

func metric(t *testing.T, res *diff.Result, name string) diff.Metric {
	t.Helper()
	for _, m := range res.Metrics {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("no metric %q in %+v", name, res.Metrics)
	return diff.Metric{}
}

// scoreOn evaluates a model on frame rows independently of Compare.
func scoreOn(t *testing.T, m *model.Model, ch *diff.Challenger, names []string) map[string]float64 {
	t.Helper()
	p, err := model.NewPredictor(m)
	if err != nil {
		t.Fatal(err)
	}
	r, err := evaluate.Evaluate(p, ch.Frame, ch.Selection.Test, names)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, v := range r.Metrics {
		out[v.Name] = v.Value
	}
	return out
}

// TestCompareSameRows: both models are scored on the challenger's test
// rows: the challenger's figures equal its metrics.json, the champion's
// equal an independent evaluation on those rows (and differ from its own
// metrics.json, which came from other rows).
func TestCompareSameRows(t *testing.T) {
	t.Parallel()
	for _, name := range []string{difftest.Regression, difftest.Classification} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := difftest.Train(t, name)
			res, err := diff.Compare(context.Background(), m.Input())
			if err != nil {
				t.Fatal(err)
			}
			if !res.Comparable || res.NotComparable != nil {
				t.Fatalf("not comparable: %+v", res.NotComparable)
			}
			if res.Rows.Shared != len(m.Challenger.Selection.Test) || res.Rows.DroppedByChampion != 0 {
				t.Errorf("rows %+v, want all %d test rows shared", res.Rows, len(m.Challenger.Selection.Test))
			}
			var names []string
			for _, mt := range res.Metrics {
				names = append(names, mt.Name)
			}
			champ := scoreOn(t, m.Champion.Model, m.Challenger, names)
			for _, mt := range res.Metrics {
				if mt.Champion == nil || mt.Challenger == nil || mt.Interval == nil {
					t.Fatalf("%s: missing value or interval: %+v", mt.Name, mt)
				}
				if *mt.Champion != champ[mt.Name] {
					t.Errorf("%s: champion %v, evaluated on the test rows %v", mt.Name, *mt.Champion, champ[mt.Name])
				}
				if stored, ok := m.Champion.Metrics.Metrics[mt.Name]; ok && stored == *mt.Champion && name == difftest.Regression {
					t.Errorf("%s: champion value equals its stored metrics.json; it must come from the challenger's rows", mt.Name)
				}
				if d := *mt.Change - (*mt.Challenger - *mt.Champion); d != 0 {
					t.Errorf("%s: change %v is not challenger − champion", mt.Name, *mt.Change)
				}
				if mt.Interval.Low > *mt.Change || mt.Interval.High < *mt.Change {
					t.Errorf("%s: change %v outside its interval [%v, %v]", mt.Name, *mt.Change, mt.Interval.Low, mt.Interval.High)
				}
			}
			if res.Bootstrap == nil || res.Bootstrap.Resamples != 1000 || res.Bootstrap.Confidence != 0.95 || res.Bootstrap.Seed != 42 {
				t.Errorf("bootstrap %+v", res.Bootstrap)
			}
			if res.Failed() {
				t.Errorf("gates failed: %+v", res.Gates)
			}
		})
	}
}

func TestCompareRegressionDetails(t *testing.T) {
	t.Parallel()
	res := difftest.Result(t, difftest.Regression)
	for _, mt := range res.Metrics {
		if mt.Status != diff.StatusBetter {
			t.Errorf("%s: status %s, the challenger has an extra informative feature", mt.Name, mt.Status)
		}
	}
	if !slices.Equal(res.Data.FeaturesAdded, []string{"bedrooms"}) || len(res.Data.FeaturesRemoved) != 0 {
		t.Errorf("feature changes %+v", res.Data)
	}
	if res.Data.SameData || !res.Data.RowsChanged || res.Data.RowsChange != 100 {
		t.Errorf("data change %+v, want 100 more rows", res.Data)
	}
	// The last 100 rows have older houses: age drifts, the rest does not.
	drift := map[string]diff.Drift{}
	for _, d := range res.Drift {
		drift[d.Feature] = d
	}
	if d := drift["age"]; d.PSI == nil || *d.PSI < 0.1 || d.Status == diff.DriftStable {
		t.Errorf("age drift %+v, want at least moderate", d)
	}
	if d := drift["sqft"]; d.Status != diff.DriftStable {
		t.Errorf("sqft drift %+v, want stable", d)
	}
	if d := drift["bedrooms"]; d.Status != diff.DriftAdded {
		t.Errorf("bedrooms drift %+v, want added", d)
	}
	if res.Drift[0].Status != diff.DriftAdded || res.Drift[1].Feature != "age" {
		t.Errorf("drift order %v, want added first, then the most shifted", res.Drift)
	}
	if res.TargetDrift == nil || res.TargetDrift.Feature != "price" || res.TargetDrift.PSI == nil {
		t.Errorf("target drift %+v", res.TargetDrift)
	}
	c := res.Coefficients
	if c == nil || c.Columns[0].Column != "bedrooms" || c.Columns[0].Champion != nil || !c.Standardized {
		t.Fatalf("coefficients %+v", c)
	}
	for i := 2; i < len(c.Columns); i++ {
		if math.Abs(*c.Columns[i].Change) > math.Abs(*c.Columns[i-1].Change) {
			t.Errorf("coefficients not sorted by |change| at %d", i)
		}
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "data changed") {
		t.Errorf("warnings %q, want the training-row overlap warning", res.Warnings)
	}
	if ch := res.Chart; ch == nil || ch.Kind != diff.ChartResidualDeciles || len(ch.Labels) != 10 || len(ch.Champion) != 10 || len(ch.Challenger) != 10 {
		t.Errorf("chart %+v", res.Chart)
	}
}

func TestCompareNoBaseline(t *testing.T) {
	t.Parallel()
	res := difftest.Result(t, difftest.NoBaseline)
	if res.Champion != nil || res.Comparable || res.Bootstrap != nil || len(res.Drift) != 0 || res.Coefficients != nil {
		t.Fatalf("no-baseline result has champion data: %+v", res)
	}
	for _, mt := range res.Metrics {
		if mt.Status != diff.StatusNoBaseline || mt.Challenger == nil || mt.Champion != nil {
			t.Errorf("%s: %+v", mt.Name, mt)
		}
	}
	statuses := map[string]int{}
	for _, g := range res.Gates {
		statuses[g.Status]++
	}
	if statuses[diff.GatePassed] != 1 || statuses[diff.GateSkipped] != 2 || res.Failed() {
		t.Errorf("gates %+v: want the absolute gate checked and the change gates skipped", res.Gates)
	}
}

func TestCompareNotComparable(t *testing.T) {
	t.Parallel()
	m := difftest.Train(t, difftest.NotComparable)
	res, err := diff.Compare(context.Background(), m.Input())
	if err != nil {
		t.Fatal(err)
	}
	nc := res.NotComparable
	if res.Comparable || nc == nil || !strings.Contains(nc.Reason, `"lot_size" was removed`) {
		t.Fatalf("not comparable: %+v", nc)
	}
	changes := map[string]string{}
	for _, c := range nc.Changes {
		changes[c.Name] = c.Change
	}
	want := map[string]string{"lot_size": "removed", "age": "added", "bedrooms": "added"}
	if fmt.Sprint(changes) != fmt.Sprint(want) {
		t.Errorf("changes %v, want %v", changes, want)
	}
	for _, mt := range res.Metrics {
		if mt.Status != diff.StatusNotComparable || mt.Interval != nil {
			t.Errorf("%s: %+v", mt.Name, mt)
		}
		if stored := m.Champion.Metrics.Metrics[mt.Name]; mt.Champion == nil || *mt.Champion != stored {
			t.Errorf("%s: champion %v, want its stored metrics.json value %v", mt.Name, mt.Champion, stored)
		}
	}
	for _, g := range res.Gates {
		if g.Rule == diff.RuleMaxIncrease && !strings.Contains(g.Detail, "stored metrics") {
			t.Errorf("gate %+v does not say it used stored metrics", g)
		}
	}
	drift := map[string]string{}
	for _, d := range res.Drift {
		drift[d.Feature] = d.Status
	}
	if drift["lot_size"] != diff.DriftRemoved || drift["bedrooms"] != diff.DriftAdded {
		t.Errorf("drift %v", drift)
	}
	if len(res.Warnings) != 0 {
		t.Errorf("warnings %q: the overlap warning is moot when not comparable", res.Warnings)
	}
}

func TestCompareGateFailed(t *testing.T) {
	t.Parallel()
	res := difftest.Result(t, difftest.GateFailed)
	if !res.Failed() || res.GatesFailed != 2 || !res.Regressed() {
		t.Fatalf("gates %+v", res.Gates)
	}
	failed := map[string]bool{}
	for _, mt := range res.Metrics {
		failed[mt.Name] = mt.GateFailed
	}
	if !failed["rmse"] || !failed["mae"] || failed["r2"] || failed["mape"] {
		t.Errorf("gate_failed flags %v", failed)
	}
}

// project writes a data file and parses configs for it.
func project(t *testing.T, csv string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "data.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func parse(t *testing.T, dir, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), "modelci.yaml", dir)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func trainIn(t *testing.T, cfg *config.Config) *train.Result {
	t.Helper()
	res, err := train.Train(context.Background(), cfg, train.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// zipCSV has a zip code that looks numeric but is a category.
func zipCSV(n int) string {
	var b strings.Builder
	b.WriteString("sqft,zip,lot,price\n")
	zips := []string{"10115", "10117", "20095"}
	for i := 0; i < n; i++ {
		sqft := 500 + (i*37)%2000
		z := i % 3
		lot := fmt.Sprint(100 + (i*13)%400)
		if i%7 == 3 {
			lot = "" // missing
		}
		price := 1000*float64(sqft)/10 + float64(z*20000) + float64((i*7919)%5000)
		fmt.Fprintf(&b, "%d,%s,%s,%g\n", sqft, zips[z], lot, price)
	}
	return b.String()
}

// TestCompareReloadsForChampion: the challenger's config no longer reads
// zip as categorical, so its frame has zip as a number; the champion's
// data is re-read its way and the models stay comparable. Without a loader
// it is a type change.
func TestCompareReloadsForChampion(t *testing.T) {
	t.Parallel()
	dir := project(t, zipCSV(300))
	champCfg := parse(t, dir, "data:\n  path: data.csv\n  target: price\n  features: [sqft, zip]\n  categorical: [zip]\n")
	chalCfg := parse(t, dir, "data:\n  path: data.csv\n  target: price\n  features: [sqft, zip]\n")
	cr := trainIn(t, champCfg)
	hr := trainIn(t, chalCfg)
	in := diff.Input{
		Challenger: *diff.ChallengerFromTraining(chalCfg, hr),
		Champion:   &diff.Champion{Model: cr.Model, Metrics: cr.Metrics, Profile: cr.Profile},
		Options:    diff.Options{Bootstrap: diff.BootstrapOptions{Resamples: 50, Confidence: 0.9, Seed: 1}},
	}
	res, err := diff.Compare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if res.Comparable || res.NotComparable == nil || !strings.Contains(res.NotComparable.Reason, `"zip" changed type from categorical to numeric`) {
		t.Fatalf("without a loader: %+v", res.NotComparable)
	}
	in.ChampionFrame = diff.ChampionFrameLoader(chalCfg, hr.Frame.Header, 1)
	res, err = diff.Compare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Comparable {
		t.Fatalf("with a loader: not comparable: %+v", res.NotComparable)
	}
	if len(res.Data.TypeChanged) != 1 || res.Data.TypeChanged[0] != (diff.TypeChange{Name: "zip", Champion: "categorical", Challenger: "numeric"}) {
		t.Errorf("type changes %+v", res.Data.TypeChanged)
	}
	for _, d := range res.Drift {
		if d.Feature == "zip" && (d.Type != "categorical" || d.PSI == nil) {
			t.Errorf("zip drift %+v, want PSI on the champion's categories", d)
		}
	}
}

// TestCompareChampionDropsRows: the champion drops rows with a missing
// lot (data.missing: drop); both models are compared on the rows both
// scored, and the challenger's figures are recomputed on them.
func TestCompareChampionDropsRows(t *testing.T) {
	t.Parallel()
	dir := project(t, zipCSV(300))
	champCfg := parse(t, dir, "data:\n  path: data.csv\n  target: price\n  features: [sqft, lot]\n  missing: drop\n")
	chalCfg := parse(t, dir, "data:\n  path: data.csv\n  target: price\n  features: [sqft, zip]\n  categorical: [zip]\n")
	cr, hr := trainIn(t, champCfg), trainIn(t, chalCfg)
	chal := diff.ChallengerFromTraining(chalCfg, hr)
	in := diff.Input{
		Challenger:    *chal,
		Champion:      &diff.Champion{Model: cr.Model, Metrics: cr.Metrics, Profile: cr.Profile},
		ChampionFrame: diff.ChampionFrameLoader(chalCfg, hr.Frame.Header, 1),
		Options:       diff.Options{Metrics: []string{"rmse"}, Bootstrap: diff.BootstrapOptions{Resamples: 100, Confidence: 0.95, Seed: 3}},
	}
	res, err := diff.Compare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Comparable {
		t.Fatalf("not comparable: %+v", res.NotComparable)
	}
	missing := 0
	for _, r := range chal.Selection.Test {
		if r%7 == 3 {
			missing++
		}
	}
	if missing == 0 || res.Rows.DroppedByChampion != missing || res.Rows.Shared != len(chal.Selection.Test)-missing {
		t.Fatalf("rows %+v, want %d dropped by the champion", res.Rows, missing)
	}
	// The challenger's rmse on the shared rows, computed independently.
	var shared []int
	for _, r := range chal.Selection.Test {
		if r%7 != 3 {
			shared = append(shared, r)
		}
	}
	p, _ := model.NewPredictor(hr.Model)
	ev, err := evaluate.Evaluate(p, hr.Frame, shared, []string{"rmse"})
	if err != nil {
		t.Fatal(err)
	}
	if got := *metric(t, res, "rmse").Challenger; got != ev.Metrics[0].Value {
		t.Errorf("challenger rmse %v, on the shared rows it is %v", got, ev.Metrics[0].Value)
	}
	if len(res.Warnings) == 0 || !strings.Contains(strings.Join(res.Warnings, "\n"), "could not score") {
		t.Errorf("warnings %q", res.Warnings)
	}
}

// TestCompareTaskChanged: a classifier champion and a regression
// challenger cannot be compared.
func TestCompareTaskChanged(t *testing.T) {
	t.Parallel()
	clf := difftest.Train(t, difftest.Classification)
	reg := difftest.Train(t, difftest.NoBaseline)
	in := reg.Input()
	in.Champion = clf.Champion
	res, err := diff.Compare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if res.Comparable || !strings.Contains(res.NotComparable.Reason, "task changed") {
		t.Fatalf("%+v", res.NotComparable)
	}
	// The champion's stored metrics are of another task: no values.
	for _, mt := range res.Metrics {
		if mt.Champion != nil {
			t.Errorf("%s: champion value %v from a classifier", mt.Name, *mt.Champion)
		}
	}
}

// TestChallengerFromModel recomputes the test rows of a saved model and
// warns when the model does not match the data.
func TestChallengerFromModel(t *testing.T) {
	t.Parallel()
	dir := project(t, zipCSV(200))
	cfg := parse(t, dir, "name: z\ndata:\n  path: data.csv\n  target: price\n  features: [sqft, zip]\n  categorical: [zip]\n")
	res := trainIn(t, cfg)
	modelDir := filepath.Join(t.TempDir(), "m")
	if err := train.Write(modelDir, res); err != nil {
		t.Fatal(err)
	}
	ch, warnings, err := diff.ChallengerFromModel(context.Background(), cfg, modelDir, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 || !slices.Equal(ch.Selection.Test, res.Selection.Test) || !slices.Equal(ch.Selection.Train, res.Selection.Train) {
		t.Fatalf("warnings %q; rows differ from training: %v", warnings, ch.Selection.Test[:5])
	}
	if err := os.WriteFile(filepath.Join(dir, "data.csv"), []byte(zipCSV(210)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, warnings, err = diff.ChallengerFromModel(context.Background(), cfg, modelDir, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.HasPrefix(warnings[0], "DATA MISMATCH") {
		t.Errorf("warnings %q, want a data mismatch", warnings)
	}
	if _, err := diff.LoadChampion(filepath.Join(dir, "nope")); err == nil {
		t.Error("LoadChampion of a missing directory: no error")
	}
}

func TestCompareRejectsBadMetrics(t *testing.T) {
	t.Parallel()
	m := difftest.Train(t, difftest.NoBaseline)
	in := m.Input()
	in.Options.Metrics = []string{"f1"}
	if _, err := diff.Compare(context.Background(), in); err == nil || !strings.Contains(err.Error(), "classification metric") {
		t.Errorf("got %v", err)
	}
}
