package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDatesEvaluateMatchesTrain: a model with a data.dates feature, scored
// by `modelci evaluate --split test` from the raw CSV, reproduces the test
// metrics training wrote, and `predict` scores every row (an unparsable
// date is imputed).
func TestDatesEvaluateMatchesTrain(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("when,x,y\n")
	for i := range 120 {
		month, day := 1+i%12, 1+(i*5)%28
		x := float64((i*7)%13) + 0.5
		when := fmt.Sprintf("202%d-%02d-%02d", 3+i%2, month, day)
		if i%3 == 1 {
			when += "T08:30:00"
		}
		if i%40 == 7 {
			when = "later"
		}
		fmt.Fprintf(&b, "%s,%g,%g\n", when, x, 3*x+2*float64(month)+0.1*float64(i%3))
	}
	dir := project(t, map[string]string{"modelci.yaml": minimalConfig + "  dates: [when]\n", "data.csv": b.String()})
	modelDir := filepath.Join(dir, "m")
	env, _, stderr := testEnv()
	if err := Run(context.Background(), env, []string{"train", "-c", filepath.Join(dir, "modelci.yaml"), "-o", modelDir}); err != nil {
		t.Fatalf("train: %v\n%s", err, stderr)
	}
	var trained struct {
		Metrics map[string]float64 `json:"metrics"`
	}
	raw, err := os.ReadFile(filepath.Join(modelDir, "metrics.json"))
	if err != nil || json.Unmarshal(raw, &trained) != nil {
		t.Fatalf("metrics.json: %v", err)
	}
	env, stdout, stderr := testEnv()
	if err := Run(context.Background(), env, []string{"evaluate", "--model", modelDir, "--data", filepath.Join(dir, "data.csv"), "--split", "test", "--json"}); err != nil {
		t.Fatalf("evaluate: %v\n%s", err, stderr)
	}
	var evaluated struct {
		Scored  int                `json:"scored"`
		Metrics map[string]float64 `json:"metrics"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &evaluated); err != nil {
		t.Fatal(err)
	}
	if evaluated.Scored != 24 || len(trained.Metrics) == 0 || fmt.Sprint(evaluated.Metrics) != fmt.Sprint(trained.Metrics) {
		t.Errorf("evaluate --split test scored %d with %v; training wrote %v", evaluated.Scored, evaluated.Metrics, trained.Metrics)
	}
	preds := filepath.Join(dir, "preds.csv")
	env, _, stderr = testEnv()
	if err := Run(context.Background(), env, []string{"predict", "--model", modelDir, "--data", filepath.Join(dir, "data.csv"), "--out", preds}); err != nil {
		t.Fatalf("predict: %v\n%s", err, stderr)
	}
	out, _ := os.ReadFile(preds)
	if lines := strings.Split(strings.TrimSpace(string(out)), "\n"); len(lines) != 121 || strings.Contains(string(out), "\n\n") {
		t.Errorf("predictions: %d lines:\n%s", len(lines), out)
	}
}
