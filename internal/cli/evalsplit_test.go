package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/exitcode"
)

// TestEvaluateSplit: evaluate says which rows it scored; --split test scores
// exactly the training run's test rows (its metrics equal metrics.json's)
// and refuses other data.
func TestEvaluateSplit(t *testing.T) {
	t.Parallel()
	dir := project(t, map[string]string{"modelci.yaml": minimalConfig, "data.csv": regressionCSV(200)})
	env, _, stderr := testEnv()
	modelDir := filepath.Join(dir, "m")
	if err := Run(context.Background(), env, []string{"train", "-c", filepath.Join(dir, "modelci.yaml"), "-o", modelDir}); err != nil {
		t.Fatalf("train: %v\n%s", err, stderr)
	}
	data := filepath.Join(dir, "data.csv")
	env, stdout, stderr := testEnv()
	if err := Run(context.Background(), env, []string{"evaluate", "--model", modelDir, "--data", data}); err != nil {
		t.Fatalf("evaluate: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout.String(), "scored all 200 rows") {
		t.Errorf("evaluate output:\n%s", stdout)
	}
	env, stdout, stderr = testEnv()
	if err := Run(context.Background(), env, []string{"evaluate", "--model", modelDir, "--data", data, "--split", "test"}); err != nil {
		t.Fatalf("evaluate --split test: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout.String(), "scored the 40 test rows of the split (test_size 0.2, seed 42)") {
		t.Errorf("evaluate --split test output:\n%s", stdout)
	}
	env, stdout, stderr = testEnv()
	if err := Run(context.Background(), env, []string{"evaluate", "--model", modelDir, "--data", data, "--split", "test", "--json"}); err != nil {
		t.Fatalf("evaluate --split test --json: %v\n%s", err, stderr)
	}
	var ev evaluation
	if err := json.Unmarshal(stdout.Bytes(), &ev); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(modelDir, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	var mf struct {
		Metrics map[string]float64 `json:"metrics"`
	}
	if err := json.Unmarshal(raw, &mf); err != nil {
		t.Fatal(err)
	}
	if ev.Split != "test" || ev.Scored != 40 || ev.Metrics["rmse"] != mf.Metrics["rmse"] || mf.Metrics["rmse"] == 0 {
		t.Errorf("--split test: split %q scored %d rmse %v; training test rmse %v", ev.Split, ev.Scored, ev.Metrics["rmse"], mf.Metrics["rmse"])
	}
	other := filepath.Join(dir, "other.csv")
	if err := os.WriteFile(other, []byte(regressionCSV(100)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--data", other, "--split", "test"}, {"--data", data, "--split", "train"}} {
		env, _, _ = testEnv()
		err := Run(context.Background(), env, append([]string{"evaluate", "--model", modelDir}, args...))
		if exitcode.Of(err) != exitcode.Usage {
			t.Errorf("evaluate %v: exit %d (%v), want %d", args, exitcode.Of(err), err, exitcode.Usage)
		}
	}
}
