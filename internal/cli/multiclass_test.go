package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/model"
)

// TestMulticlassIris: scikit-learn's iris, as a new user tries it: three
// species train a multinomial model, evaluate reports the multiclass
// metrics, predict writes every class's probability in the model's class
// order, and diff compares it with a champion that sees fewer features,
// with intervals, per-class chart and a 3×3 confusion matrix.
func TestMulticlassIris(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "iris", "data.csv"))
	if err != nil {
		t.Fatal(err)
	}
	cfgText, err := os.ReadFile(filepath.Join("..", "..", "examples", "iris", "modelci.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	champCfg := strings.Replace(string(cfgText), "  target: species\n", "  target: species\n  features: [sepal_length, sepal_width]\n", 1)
	dir := project(t, map[string]string{"modelci.yaml": string(cfgText), "champion.yaml": champCfg, "data.csv": string(data)})
	ctx := context.Background()
	run := func(args ...string) string {
		t.Helper()
		env, out, errb := testEnv()
		if err := Run(ctx, env, args); err != nil {
			t.Fatalf("modelci %s: %v\n%s%s", strings.Join(args, " "), err, out, errb)
		}
		return out.String()
	}
	modelDir, champDir := filepath.Join(dir, "model"), filepath.Join(dir, "champion")
	run("train", "-c", filepath.Join(dir, "modelci.yaml"), "-o", modelDir, "--workers", "1")
	run("train", "-c", filepath.Join(dir, "champion.yaml"), "-o", champDir, "--workers", "1")
	m, err := model.Load(modelDir)
	if err != nil {
		t.Fatal(err)
	}
	if m.SchemaVersion != model.MaxSchemaVersion || m.Outputs != 3 || m.Link != model.LinkSoftmax || !slices.Equal(m.Classes, []string{"setosa", "versicolor", "virginica"}) {
		t.Fatalf("model: schema %d, %d outputs, link %s, classes %v", m.SchemaVersion, m.Outputs, m.Link, m.Classes)
	}

	var ev struct {
		Metrics         map[string]float64 `json:"metrics"`
		ConfusionMatrix [][]int            `json:"confusion_matrix"`
	}
	out := run("evaluate", "--model", modelDir, "--data", filepath.Join(dir, "data.csv"), "--json")
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		t.Fatalf("evaluate --json: %v\n%s", err, out)
	}
	for _, name := range []string{"accuracy", "balanced_accuracy", "precision_macro", "recall_macro", "f1_macro", "f1_weighted", "roc_auc", "log_loss"} {
		if _, ok := ev.Metrics[name]; !ok {
			t.Errorf("evaluate lacks %s: %v", name, ev.Metrics)
		}
	}
	if ev.Metrics["accuracy"] < 0.9 || len(ev.ConfusionMatrix) != 3 {
		t.Errorf("accuracy %v on iris, confusion %v", ev.Metrics["accuracy"], ev.ConfusionMatrix)
	}

	predPath := filepath.Join(dir, "pred.csv")
	run("predict", "--model", modelDir, "--data", filepath.Join(dir, "data.csv"), "--out", predPath)
	f, err := os.Open(predPath)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"prediction", "probability_setosa", "probability_versicolor", "probability_virginica"}; !slices.Equal(recs[0], want) || len(recs) != 151 {
		t.Fatalf("predict header %v (%d rows), want %v", recs[0], len(recs), want)
	}
	for _, rec := range recs[1:] {
		var sum, best float64
		bestClass := ""
		for j, cell := range rec[1:] {
			p, err := strconv.ParseFloat(cell, 64)
			if err != nil {
				t.Fatal(err)
			}
			sum += p
			if p > best {
				best, bestClass = p, m.Classes[j]
			}
		}
		if math.Abs(sum-1) > 1e-12 || bestClass != rec[0] {
			t.Fatalf("row %v: probabilities sum to %v, most probable %s", rec, sum, bestClass)
		}
	}

	md := run("diff", "-c", filepath.Join(dir, "modelci.yaml"), "--baseline", champDir, "--model", modelDir)
	for _, s := range []string{"f1_macro", "balanced_accuracy", "setosa F1", "| `virginica` |", "virginica · petal_length"} {
		if !strings.Contains(md, s) {
			t.Errorf("the report lacks %q:\n%s", s, md)
		}
	}
	js := run("diff", "-c", filepath.Join(dir, "modelci.yaml"), "--baseline", champDir, "--model", modelDir, "--format", "json")
	var res struct {
		Comparable bool `json:"comparable"`
		Metrics    []struct {
			Name     string `json:"name"`
			Interval *struct {
				Resamples int `json:"resamples"`
			} `json:"interval"`
		} `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(js), &res); err != nil || !res.Comparable {
		t.Fatalf("diff --format json: comparable %v, %v", res.Comparable, err)
	}
	for _, mt := range res.Metrics {
		if mt.Interval == nil || mt.Interval.Resamples == 0 {
			t.Errorf("%s: no bootstrap interval", mt.Name)
		}
	}
}
