package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/exitcode"
)

// TestPredictKeep: --keep copies input columns before the prediction, an ID
// as written ("007", not 7) and a numeric feature by value; an unknown
// column is a usage error.
func TestPredictKeep(t *testing.T) {
	t.Parallel()
	data := regressionCSV(60)
	lines := strings.Split(strings.TrimSpace(data), "\n")
	lines[0] = "id," + lines[0]
	for i := 1; i < len(lines); i++ {
		lines[i] = "00" + ftoa(float64(i)) + "," + lines[i]
	}
	dir := project(t, map[string]string{
		"modelci.yaml": "data:\n  path: data.csv\n  target: y\n  features: [x1, x2, city]\n",
		"data.csv":     strings.Join(lines, "\n") + "\n",
	})
	env, _, stderr := testEnv()
	modelDir := filepath.Join(dir, "m")
	if err := Run(context.Background(), env, []string{"train", "-c", filepath.Join(dir, "modelci.yaml"), "-o", modelDir}); err != nil {
		t.Fatalf("train: %v\n%s", err, stderr)
	}
	env, stdout, stderr := testEnv()
	if err := Run(context.Background(), env, []string{"predict", "--model", modelDir, "--data", filepath.Join(dir, "data.csv"), "--keep", "id", "--keep", "x1"}); err != nil {
		t.Fatalf("predict: %v\n%s", err, stderr)
	}
	out := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(out) != 61 || out[0] != "id,x1,prediction" {
		t.Fatalf("predict --keep: %d lines, header %q", len(out), out[0])
	}
	if f := strings.Split(out[1], ","); len(f) != 3 || f[0] != "001" || f[1] != "0" || f[2] == "" {
		t.Errorf("first row %q, want 001,0,<prediction>", out[1])
	}
	if f := strings.Split(out[3], ","); f[0] != "003" || f[1] != "3" {
		t.Errorf("third row %q, want 003,3,<prediction>", out[3])
	}
	env, _, stderr = testEnv()
	err := Run(context.Background(), env, []string{"predict", "--model", modelDir, "--data", filepath.Join(dir, "data.csv"), "--keep", "nope"})
	if err == nil || exitcode.Of(err) == 0 || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("--keep nope: %v %s", err, stderr)
	}
}

// TestDecimalCommaModel: a model trained with data.decimal: "," records it,
// so predict and evaluate read the same decimal-comma file as numbers.
func TestDecimalCommaModel(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("x;y\n")
	for i := range 40 {
		x := ftoa(float64(i) + 0.25)
		y := ftoa(3*float64(i) + 0.75 + float64(i%3))
		b.WriteString(strings.Replace(x, ".", ",", 1) + ";" + strings.Replace(y, ".", ",", 1) + "\n")
	}
	dir := project(t, map[string]string{
		"modelci.yaml": "data:\n  path: data.csv\n  target: y\n  decimal: \",\"\n  delimiter: semicolon\n",
		"data.csv":     b.String(),
	})
	env, _, stderr := testEnv()
	modelDir := filepath.Join(dir, "m")
	if err := Run(context.Background(), env, []string{"train", "-c", filepath.Join(dir, "modelci.yaml"), "-o", modelDir}); err != nil {
		t.Fatalf("train: %v\n%s", err, stderr)
	}
	env, stdout, stderr := testEnv()
	if err := Run(context.Background(), env, []string{"predict", "--model", modelDir, "--data", filepath.Join(dir, "data.csv"), "--keep", "x"}); err != nil {
		t.Fatalf("predict: %v\n%s", err, stderr)
	}
	out := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(out) != 41 || out[1][:5] != "0.25," {
		t.Errorf("predict on decimal-comma data: %d lines, first row %q", len(out), out[1])
	}
	env, stdout, stderr = testEnv()
	if err := Run(context.Background(), env, []string{"evaluate", "--model", modelDir, "--data", filepath.Join(dir, "data.csv"), "--split", "test"}); err != nil {
		t.Fatalf("evaluate: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout.String(), "scored the 8 test rows") {
		t.Errorf("evaluate:\n%s", stdout)
	}
}
