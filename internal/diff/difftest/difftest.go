// Package difftest builds realistic diff.Results for tests: it generates
// data sets, trains real champion and challenger models with package train
// and compares them with diff.Compare. Everything is deterministic, so the
// results can back golden files.
package difftest

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/diff"
	"github.com/modelci/modelci/internal/profile"
	"github.com/modelci/modelci/internal/split"
	"github.com/modelci/modelci/internal/train"
)

// Scenario names.
const (
	Regression     = "regression"
	Classification = "classification"
	NoBaseline     = "no_baseline"
	NotComparable  = "not_comparable"
	GateFailed     = "gate_failed"
	HugeFeatures   = "huge_features"
)

// Names lists every scenario.
func Names() []string {
	return []string{Regression, Classification, NoBaseline, NotComparable, GateFailed, HugeFeatures}
}

// Fixed refs, so rendered reports are stable.
const (
	ChampionRef   = "main"
	ChampionSHA   = "3f2c1e0d9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e"
	ChallengerRef = "feature/better-model"
	ChallengerSHA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
)

// HouseCSV generates house prices: n rows; rows from shiftFrom on are older
// houses (age + 25), which shifts the age distribution. withLot adds a
// lot_size column.
func HouseCSV(n, shiftFrom int, withLot bool) string {
	rs := split.NewRandomState(7)
	cities := []string{"berlin", "lisbon", "paris"}
	effect := []float64{30000, -20000, 60000}
	var b strings.Builder
	b.WriteString("sqft,bedrooms,age,city")
	if withLot {
		b.WriteString(",lot_size")
	}
	b.WriteString(",price\n")
	for i := 0; i < n; i++ {
		sqft := 600 + math.Round(2400*rs.Float64())
		beds := 1 + rs.RandInt(5)
		age := math.Round(60*rs.Float64()*10) / 10
		if i >= shiftFrom {
			age += 25
		}
		c := rs.RandInt(3)
		lot := math.Round(200 + 800*rs.Float64())
		noise := (rs.Float64() - 0.5) * 60000
		price := 40000 + 180*sqft + 15000*float64(beds) - 1200*age + effect[c] + 20*lot + noise
		fmt.Fprintf(&b, "%g,%d,%g,%s", sqft, beds, age, cities[c])
		if withLot {
			fmt.Fprintf(&b, ",%g", lot)
		}
		fmt.Fprintf(&b, ",%s\n", strconv.FormatFloat(math.Round(price), 'f', -1, 64))
	}
	return b.String()
}

// ChurnCSV generates customer churn with a categorical contract type.
func ChurnCSV(n int) string {
	rs := split.NewRandomState(11)
	contracts := []string{"month", "one_year", "two_year"}
	effect := []float64{1.2, -0.6, -1.8}
	var b strings.Builder
	b.WriteString("tenure,charges,contract,churn\n")
	for i := 0; i < n; i++ {
		tenure := math.Round(72 * rs.Float64())
		charges := math.Round((20+100*rs.Float64())*100) / 100
		c := rs.RandInt(3)
		z := 0.3 - 0.04*tenure + 0.015*(charges-70) + effect[c]
		label := "no"
		if rs.Float64() < 1/(1+math.Exp(-z)) {
			label = "yes"
		}
		fmt.Fprintf(&b, "%g,%g,%s,%s\n", tenure, charges, contracts[c], label)
	}
	return b.String()
}

// project writes files into a fresh directory.
func project(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func parse(t testing.TB, dir, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), "modelci.yaml", dir)
	if err != nil {
		t.Fatalf("config:\n%s\n%v", yaml, err)
	}
	cfg.File = filepath.Join(dir, "modelci.yaml")
	return cfg
}

// Models trains the champion (written to a model directory and loaded back,
// as a baseline is) and the challenger of a scenario.
type Models struct {
	Config     *config.Config
	Champion   *diff.Champion // nil without a baseline
	Challenger *diff.Challenger
}

// Train trains the models of the scenario.
func Train(t testing.TB, name string) *Models {
	t.Helper()
	ctx := context.Background()
	type spec struct {
		files      map[string]string
		champion   string // config YAML; "" means no baseline
		challenger string
	}
	house := "name: house-prices\ndata:\n  path: %s\n  target: price\n  categorical: [city]\n  features: [%s]\nmodel:\n  type: ridge\n  alpha: 1.0\nmetrics: [rmse, mae, r2, mape]\n"
	gates := "gates:\n  - {metric: rmse, max_increase: \"2%\"}\n  - {metric: r2, min: 0.5}\n  - {metric: mae, max_increase: \"1%\", only_if_significant: true}\n"
	churn := "name: churn\ndata:\n  path: churn.csv\n  target: churn\n  categorical: [contract]\n  features: [%s]\nmodel:\n  type: logistic\ngates:\n  - {metric: f1, max_decrease: 0.02}\n  - {metric: roc_auc, min: 0.7}\n"
	var s spec
	switch name {
	case Regression, HugeFeatures:
		s = spec{
			files:      map[string]string{"old.csv": HouseCSV(400, 400, false), "data.csv": HouseCSV(500, 400, false)},
			champion:   fmt.Sprintf(house, "old.csv", "sqft, age, city"),
			challenger: fmt.Sprintf(house, "data.csv", "sqft, bedrooms, age, city") + gates,
		}
	case Classification:
		s = spec{
			files:      map[string]string{"churn.csv": ChurnCSV(600)},
			champion:   fmt.Sprintf(churn, "tenure, charges"),
			challenger: fmt.Sprintf(churn, "tenure, charges, contract"),
		}
	case NoBaseline:
		s = spec{
			files:      map[string]string{"data.csv": HouseCSV(500, 500, false)},
			challenger: fmt.Sprintf(house, "data.csv", "sqft, bedrooms, age, city") + gates,
		}
	case NotComparable:
		s = spec{
			files:      map[string]string{"old.csv": HouseCSV(400, 400, true), "data.csv": HouseCSV(500, 500, false)},
			champion:   fmt.Sprintf(house, "old.csv", "sqft, lot_size, city"),
			challenger: fmt.Sprintf(house, "data.csv", "sqft, bedrooms, age, city") + gates,
		}
	case GateFailed:
		s = spec{
			files:    map[string]string{"data.csv": HouseCSV(500, 500, false)},
			champion: fmt.Sprintf(house, "data.csv", "sqft, bedrooms, age, city"),
			challenger: fmt.Sprintf(house, "data.csv", "sqft, city") +
				"gates:\n  - {metric: rmse, max_increase: \"2%\"}\n  - {metric: r2, min: 0.9}\n  - {metric: mae, max_increase: \"50%\", only_if_significant: true}\n",
		}
	default:
		t.Fatalf("unknown scenario %q", name)
	}
	dir := project(t, s.files)
	m := &Models{Config: parse(t, dir, s.challenger)}
	res, err := train.Train(ctx, m.Config, train.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	m.Challenger = diff.ChallengerFromTraining(m.Config, res)
	m.Challenger.Ref, m.Challenger.SHA = ChallengerRef, ChallengerSHA
	if s.champion == "" {
		return m
	}
	champCfg := parse(t, dir, s.champion)
	champRes, err := train.Train(ctx, champCfg, train.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	champDir := filepath.Join(t.TempDir(), "base-model")
	if err := train.Write(champDir, champRes); err != nil {
		t.Fatal(err)
	}
	m.Champion, err = diff.LoadChampion(champDir)
	if err != nil {
		t.Fatal(err)
	}
	m.Champion.Ref, m.Champion.SHA = ChampionRef, ChampionSHA
	return m
}

// Input is the Compare input of trained models, as modelci diff builds it.
func (m *Models) Input() diff.Input {
	in := diff.Input{
		Name:          m.Config.Name,
		Baseline:      diff.BaselineInfo{Kind: "git", Spec: "git:" + ChampionRef},
		Challenger:    *m.Challenger,
		Champion:      m.Champion,
		ChampionFrame: diff.ChampionFrameLoader(m.Config, m.Challenger.Frame.Header, 1),
		Options:       diff.OptionsFromConfig(m.Config, 1),
	}
	if m.Champion == nil {
		in.Baseline = diff.BaselineInfo{Kind: "none", Spec: "none", Note: "no modelci.yaml at main (3f2c1e0): first model"}
	}
	return in
}

// Result trains the scenario's models and compares them. HugeFeatures is
// the regression result with thousands of synthetic drift rows, coefficient
// rows and feature changes added, to exercise the report's size cap.
func Result(t testing.TB, name string) *diff.Result {
	t.Helper()
	m := Train(t, name)
	res, err := diff.Compare(context.Background(), m.Input())
	if err != nil {
		t.Fatal(err)
	}
	if name == HugeFeatures {
		inflate(res, 6000)
	}
	return res
}

// inflate adds n generated features to a result's drift, coefficients and
// feature changes.
func inflate(res *diff.Result, n int) {
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("sensor_%05d", i)
		psi := 0.5 / float64(i+1)
		mean, mean2 := float64(i%97), float64(i%97)+psi
		res.Drift = append(res.Drift, diff.Drift{Feature: name, Type: "numeric", PSI: &psi, Status: profile.Level(psi), ChampionMean: &mean, ChallengerMean: &mean2})
		c := 1 / float64(i+3)
		res.Coefficients.Columns = append(res.Coefficients.Columns, diff.CoefChange{Column: name, Challenger: &c})
		res.Data.FeaturesAdded = append(res.Data.FeaturesAdded, name)
	}
	res.Challenger.Features += n
	res.Challenger.Columns += n
}
