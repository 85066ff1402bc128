package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/exitcode"
)

// testEnv returns an Env with captured output and an empty environment.
func testEnv() (Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return Env{
		Stdin:   strings.NewReader(""),
		Stdout:  &out,
		Stderr:  &errb,
		Getenv:  func(string) string { return "" },
		Environ: func() []string { return nil },
	}, &out, &errb
}

// project writes files into a temporary directory and returns it.
func project(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// regressionCSV is a small, valid regression data set.
func regressionCSV(n int) string {
	var b strings.Builder
	b.WriteString("x1,x2,city,y\n")
	cities := []string{"a", "b", "c"}
	for i := 0; i < n; i++ {
		x1 := float64(i%17) * 1.5
		x2 := float64((i*7)%11) - 5
		y := 2*x1 - 3*x2 + float64(i%3)
		b.WriteString(strings.Join([]string{ftoa(x1), ftoa(x2), cities[i%3], ftoa(y)}, ","))
		b.WriteString("\n")
	}
	return b.String()
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

const minimalConfig = "data:\n  path: data.csv\n  target: y\n"

// TestBadInput: every kind of bad input gives a clear error that names the
// place, the right exit code, no panic and no model directory.
func TestBadInput(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("z", 2<<20)
	cases := []struct {
		name   string
		files  map[string]string
		args   []string // after "train --config <dir>/modelci.yaml --out <dir>/out"
		code   int
		substr []string
	}{
		{
			name:   "missing data file",
			files:  map[string]string{"modelci.yaml": minimalConfig},
			code:   exitcode.Failure,
			substr: []string{"data.csv", "no such file"},
		},
		{
			name:   "missing config file",
			files:  map[string]string{},
			code:   exitcode.Usage,
			substr: []string{"modelci.yaml", "data.path and data.target"},
		},
		{
			name:   "empty file",
			files:  map[string]string{"modelci.yaml": minimalConfig, "data.csv": ""},
			code:   exitcode.Failure,
			substr: []string{"data.csv"},
		},
		{
			name:   "header only",
			files:  map[string]string{"modelci.yaml": minimalConfig, "data.csv": "x1,x2,y\n"},
			code:   exitcode.Failure,
			substr: []string{"data.csv", "no data rows"},
		},
		{
			name:   "single row",
			files:  map[string]string{"modelci.yaml": minimalConfig, "data.csv": "x1,x2,y\n1,2,3\n"},
			code:   exitcode.Failure,
			substr: []string{"0 rows"},
		},
		{
			name:   "ragged row",
			files:  map[string]string{"modelci.yaml": minimalConfig, "data.csv": "x1,x2,y\n1,2,3\n4,5\n6,7,8\n"},
			code:   exitcode.Failure,
			substr: []string{"data.csv:3", "3", "2"},
		},
		{
			name:   "non-numeric value in a numeric column",
			files:  map[string]string{"modelci.yaml": minimalConfig, "data.csv": "x1,x2,y\n1,2,3\n4,5,6\n7,8,9\n1,2,3\n4,five,6\n"},
			code:   exitcode.Failure,
			substr: []string{"data.csv:6:2", `"x2"`, "five", "categorical"},
		},
		{
			name:   "target column does not exist",
			files:  map[string]string{"modelci.yaml": "data:\n  path: data.csv\n  target: price\n", "data.csv": regressionCSV(30)},
			code:   exitcode.Usage,
			substr: []string{`"price"`, `"x1"`},
		},
		{
			name:   "all-missing column",
			files:  map[string]string{"modelci.yaml": minimalConfig, "data.csv": "x1,gone,y\n1,,3\n2,NA,5\n3,,7\n4,null,9\n5,,11\n6,,12\n"},
			code:   exitcode.Failure,
			substr: []string{`"gone"`, "missing"},
		},
		{
			name:   "infinite value",
			files:  map[string]string{"modelci.yaml": minimalConfig, "data.csv": "x1,x2,y\n1,2,3\n4,5,6\n7,inf,9\n"},
			code:   exitcode.Failure,
			substr: []string{"data.csv:4:2", `"x2"`},
		},
		{
			name:   "test split of 0 rows",
			files:  map[string]string{"modelci.yaml": minimalConfig + "split:\n  test_size: 0\n", "data.csv": regressionCSV(30)},
			code:   exitcode.Usage,
			substr: []string{"modelci.yaml:5", "split.test_size"},
		},
		{
			name:   "class label only in the test rows",
			files:  map[string]string{"modelci.yaml": "data:\n  path: data.csv\n  target: label\nmodel:\n  type: logistic\n", "data.csv": onlyInTestCSV()},
			code:   exitcode.Failure,
			substr: []string{`"label"`, "only in the test rows"},
		},
		{
			name:   "more than 100 classes for logistic",
			files:  map[string]string{"modelci.yaml": "data:\n  path: data.csv\n  target: label\nmodel:\n  type: logistic\n", "data.csv": manyClassCSV(150, 2)},
			code:   exitcode.Failure,
			substr: []string{`"label"`, "150 distinct values", "more than the 100 classes", "task: regression"},
		},
		{
			name:   "a class with a single row",
			files:  map[string]string{"modelci.yaml": "data:\n  path: data.csv\n  target: label\nmodel:\n  type: logistic\n", "data.csv": threeClassCSV() + "99,lonely\n"},
			code:   exitcode.Failure,
			substr: []string{`"label"`, `"lonely"`},
		},
		{
			name:   "huge field",
			files:  map[string]string{"modelci.yaml": minimalConfig, "data.csv": "x1,x2,y\n1,2,3\n4," + huge + ",6\n"},
			code:   exitcode.Failure,
			substr: []string{"data.csv:3:2"},
		},
		{
			name:   "unknown config key",
			files:  map[string]string{"modelci.yaml": "data:\n  path: data.csv\n  target: y\n  taget: y\n", "data.csv": regressionCSV(30)},
			code:   exitcode.Usage,
			substr: []string{"modelci.yaml:4", "taget"},
		},
		{
			name:   "bad model type",
			files:  map[string]string{"modelci.yaml": minimalConfig + "model:\n  type: forest\n", "data.csv": regressionCSV(30)},
			code:   exitcode.Usage,
			substr: []string{"modelci.yaml:5", "model.type", "forest"},
		},
		{
			name:   "regression on a text target",
			files:  map[string]string{"modelci.yaml": "data:\n  path: data.csv\n  target: label\n", "data.csv": threeClassCSV()},
			code:   exitcode.Failure,
			substr: []string{`"label"`, "numeric target", "logistic"},
		},
		{
			name:   "missing values under the error policy",
			files:  map[string]string{"modelci.yaml": minimalConfig + "  missing: error\n", "data.csv": "x1,x2,y\n1,2,3\n4,,6\n7,8,9\n1,3,4\n5,5,5\n"},
			code:   exitcode.Failure,
			substr: []string{`"x2"`, "row 2", "error"},
		},
		{
			name:   "unknown flag",
			files:  map[string]string{"modelci.yaml": minimalConfig},
			args:   []string{"--bogus"},
			code:   exitcode.Usage,
			substr: []string{"bogus"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := project(t, tc.files)
			env, _, stderr := testEnv()
			out := filepath.Join(dir, "out")
			args := append([]string{"train", "--config", filepath.Join(dir, "modelci.yaml"), "--out", out}, tc.args...)
			err := Run(context.Background(), env, args)
			if err == nil {
				t.Fatalf("no error; stderr: %s", stderr)
			}
			if got := exitcode.Of(err); got != tc.code {
				t.Errorf("exit code %d, want %d (%v)", got, tc.code, err)
			}
			msg := stderr.String()
			for _, s := range tc.substr {
				if !strings.Contains(msg, s) {
					t.Errorf("error does not mention %q:\n%s", s, msg)
				}
			}
			if _, statErr := os.Stat(out); !os.IsNotExist(statErr) {
				t.Errorf("a failed run left %s behind", out)
			}
		})
	}
}

// onlyInTestCSV has 10 rows; with seed 42 and test_size 0.2 scikit-learn
// puts rows 8 and 1 in the test split, and only row 8 is labelled "rare".
func onlyInTestCSV() string {
	var b strings.Builder
	b.WriteString("x,label\n")
	for i := 0; i < 10; i++ {
		l := []string{"no", "yes"}[i%2]
		if i == 8 {
			l = "rare"
		}
		b.WriteString(ftoa(float64(i)) + "," + l + "\n")
	}
	return b.String()
}

// manyClassCSV has k classes ("c0", "c1", …) of per rows each.
func manyClassCSV(k, per int) string {
	var b strings.Builder
	b.WriteString("x,label\n")
	for i := 0; i < k*per; i++ {
		fmt.Fprintf(&b, "%d,c%d\n", i, i%k)
	}
	return b.String()
}

func threeClassCSV() string {
	var b strings.Builder
	b.WriteString("x,label\n")
	for i := 0; i < 30; i++ {
		b.WriteString(ftoa(float64(i)) + "," + []string{"a", "b", "c"}[i%3] + "\n")
	}
	return b.String()
}

// TestTrainEvaluatePredict runs the three commands a user runs.
func TestTrainEvaluatePredict(t *testing.T) {
	t.Parallel()
	dir := project(t, map[string]string{"modelci.yaml": minimalConfig + "unknown_section: 1\n", "data.csv": regressionCSV(200)})
	// The unknown section is rejected; then the fixed config trains.
	env, _, stderr := testEnv()
	if err := Run(context.Background(), env, []string{"train", "-c", filepath.Join(dir, "modelci.yaml"), "-o", filepath.Join(dir, "m")}); exitcode.Of(err) != exitcode.Usage {
		t.Fatalf("unknown key accepted: %v %s", err, stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "modelci.yaml"), []byte(minimalConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	env, stdout, stderr := testEnv()
	modelDir := filepath.Join(dir, "m")
	if err := Run(context.Background(), env, []string{"train", "-c", filepath.Join(dir, "modelci.yaml"), "-o", modelDir}); err != nil {
		t.Fatalf("train: %v\n%s", err, stderr)
	}
	for _, want := range []string{"rmse", "↓ lower", "r2", "↑ higher", "160 train / 40 test rows"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("train output lacks %q:\n%s", want, stdout)
		}
	}
	env, stdout, stderr = testEnv()
	if err := Run(context.Background(), env, []string{"evaluate", "--model", modelDir, "--data", filepath.Join(dir, "data.csv"), "--json"}); err != nil {
		t.Fatalf("evaluate: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout.String(), `"scored": 200`) || !strings.Contains(stdout.String(), `"rmse"`) {
		t.Errorf("evaluate output:\n%s", stdout)
	}
	preds := filepath.Join(dir, "preds.csv")
	env, _, stderr = testEnv()
	if err := Run(context.Background(), env, []string{"predict", "--model", modelDir, "--data", filepath.Join(dir, "data.csv"), "--out", preds}); err != nil {
		t.Fatalf("predict: %v\n%s", err, stderr)
	}
	b, err := os.ReadFile(preds)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 201 || lines[0] != "prediction" {
		t.Errorf("predictions: %d lines, header %q", len(lines), lines[0])
	}
	// A corrupted model is refused.
	mj := filepath.Join(modelDir, "model.json")
	raw, _ := os.ReadFile(mj)
	if err := os.WriteFile(mj, bytes.Replace(raw, []byte(`"intercept": `), []byte(`"intercept": 1`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	env, _, stderr = testEnv()
	err = Run(context.Background(), env, []string{"evaluate", "--model", modelDir, "--data", filepath.Join(dir, "data.csv")})
	if err == nil || !strings.Contains(stderr.String(), "checksum") {
		t.Errorf("corrupt model accepted: %v %s", err, stderr)
	}
}
