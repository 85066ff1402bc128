package train

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/model"
)

// trainCSV writes csv and a config (head + extra lines) and trains it.
func trainCSV(t *testing.T, csv, extra string) (*Result, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "data.csv"), []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]byte("data:\n  path: data.csv\n  target: y\n"+extra), "modelci.yaml", dir)
	if err != nil {
		t.Fatal(err)
	}
	return Train(context.Background(), cfg, Options{})
}

func hygieneCSV(n int, row func(i int) string) string {
	var b strings.Builder
	b.WriteString("x,k,y\n")
	for i := range n {
		b.WriteString(row(i) + "\n")
	}
	return b.String()
}

// TestConstantFeatureWarns: a constant feature is a warning and gets a zero
// coefficient, with and without standardization, under every solver, and the
// model scores any value of it the same.
func TestConstantFeatureWarns(t *testing.T) {
	t.Parallel()
	csv := hygieneCSV(30, func(i int) string {
		return strconv.Itoa(i) + ",7," + strconv.FormatFloat(2*float64(i)+1+0.1*float64(i%3), 'g', -1, 64)
	})
	for _, extra := range []string{
		"",
		"model:\n  standardize: false\n",
		"model:\n  solver: normal\n",
		"model:\n  solver: gd\n  learning_rate: 0.5\n",
		"model:\n  type: ridge\n",
	} {
		t.Run(extra, func(t *testing.T) {
			t.Parallel()
			res, err := trainCSV(t, csv, extra)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, w := range res.Metrics.Warnings {
				if strings.Contains(w, `feature "k" is constant`) && strings.Contains(w, "zero coefficient") {
					found = true
				}
				if strings.Contains(w, "rank deficient") {
					t.Errorf("a constant feature is reported as a rank deficiency too: %q", w)
				}
			}
			if !found {
				t.Errorf("no constant-feature warning in %q", res.Metrics.Warnings)
			}
			j := -1
			for i, c := range res.Model.Columns {
				if c == "k" {
					j = i
				}
			}
			if j < 0 || res.Model.Coefficients[j] != 0 {
				t.Fatalf("columns %v coefficients %v: want a zero coefficient for k", res.Model.Columns, res.Model.Coefficients)
			}
			p, err := model.NewPredictor(res.Model)
			if err != nil {
				t.Fatal(err)
			}
			str := make([]string, 2)
			a, _, errA := p.Score([]float64{3, 7}, str)
			b, _, errB := p.Score([]float64{3, 1000}, str)
			if errA != nil || errB != nil || a != b {
				t.Errorf("k = 7 scores %v (%v), k = 1000 scores %v (%v); want equal", a, errA, b, errB)
			}
		})
	}
}

// TestTargetShape: a logistic model on a continuous target says so instead of
// listing labels only in the test rows, and integer labels fitted as a
// regression warn and name task.
func TestTargetShape(t *testing.T) {
	t.Parallel()
	continuous := hygieneCSV(200, func(i int) string {
		return strconv.Itoa(i) + "," + strconv.Itoa(i%5) + "," + strconv.FormatFloat(float64(i)*1.37, 'g', -1, 64)
	})
	_, err := trainCSV(t, continuous, "model:\n  type: logistic\n")
	if err == nil || !errors.Is(err, ErrData) || !strings.Contains(err.Error(), "the target looks continuous (more than 20 distinct values") || strings.Contains(err.Error(), "only in the test rows") {
		t.Errorf("logistic on a continuous target: %v", err)
	}
	labels := hygieneCSV(60, func(i int) string {
		return strconv.Itoa(i) + "," + strconv.Itoa(i%7) + "," + strconv.Itoa(i%3)
	})
	res, err := trainCSV(t, labels, "")
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(res.Metrics.Warnings, "\n"); !strings.Contains(w, `target "y" holds 3 distinct whole numbers`) || !strings.Contains(w, "task: classification") {
		t.Errorf("integer labels: warnings %q", res.Metrics.Warnings)
	}
	res, err = trainCSV(t, labels, "task: regression\n")
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(res.Metrics.Warnings, "\n"); strings.Contains(w, "whole numbers") {
		t.Errorf("task: regression still warns: %q", res.Metrics.Warnings)
	}
}

// TestDecimalComma: without data.decimal a decimal-comma feature warns and a
// decimal-comma target gets the data.decimal advice (not "use logistic");
// with data.decimal: "," the columns are numbers.
func TestDecimalComma(t *testing.T) {
	t.Parallel()
	comma := func(v float64) string { return strings.Replace(strconv.FormatFloat(v, 'f', 2, 64), ".", ",", 1) }
	var b strings.Builder
	b.WriteString("x;k;y\n")
	for i := range 40 {
		x := float64(i) / 7
		b.WriteString(comma(x) + ";" + strconv.Itoa(i%4) + ";" + comma(3*x-1) + "\n")
	}
	csv := b.String()
	_, err := trainCSV(t, csv, "")
	if err == nil || !strings.Contains(err.Error(), `set data.decimal: ","`) || strings.Contains(err.Error(), "logistic") {
		t.Errorf("decimal-comma target: %v", err)
	}
	// The same file with a plain integer target: only the feature warns.
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	for i := 1; i < len(lines); i++ {
		parts := strings.Split(lines[i], ";")
		parts[2] = strconv.Itoa(i * 3)
		lines[i] = strings.Join(parts, ";")
	}
	res, err := trainCSV(t, strings.Join(lines, "\n")+"\n", "task: regression\n")
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(res.Metrics.Warnings, "\n"); !strings.Contains(w, `feature "x" holds numbers written with a decimal comma`) {
		t.Errorf("decimal-comma feature: warnings %q", res.Metrics.Warnings)
	}
	// Extra lines continue the data section that trainCSV starts.
	res, err = trainCSV(t, csv, "  decimal: \",\"\n  delimiter: semicolon\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Model.Features {
		if f.Type != model.Numeric {
			t.Errorf("feature %q is %s with data.decimal", f.Name, f.Type)
		}
	}
	if r2 := res.Metrics.Metrics["r2"]; r2 < 0.99 {
		t.Errorf("r2 = %g on y = 3x - 1 read with a decimal comma", r2)
	}
}

// TestIDAndDateColumns: a text ID or a date column is refused with the
// data.exclude advice, a numeric ID warns, and data.exclude drops them.
func TestIDAndDateColumns(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("id,num,day,x,y\n")
	for i := range 40 {
		fmt.Fprintf(&b, "u%03d,%d,2024-01-%02d,%d,%d.5\n", i, 1000+i, 1+i%28, i%5, 3*(i%5)+i%2)
	}
	csv := b.String()
	cases := []struct {
		extra, want string
	}{
		{"  exclude: [day]\n", `column "id": bad input data: the column has a different value in every row (40), like an ID`},
		{"  exclude: [id]\n", `column "day": bad input data: the column holds dates such as "2024-01-01"`},
		{"  exclude: [id, day, nope]\n", `data.exclude: invalid configuration: column "nope" does not exist`},
	}
	for _, c := range cases {
		_, err := trainCSV(t, csv, c.extra)
		if err == nil || !strings.Contains(err.Error(), c.want) || (!strings.Contains(c.want, "nope") && !strings.Contains(err.Error(), "data.exclude")) {
			t.Errorf("%q: error %v, want %q and data.exclude", c.extra, err, c.want)
		}
	}
	res, err := trainCSV(t, csv, "  exclude: [id, day]\n")
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(res.Metrics.Warnings, "\n"); !strings.Contains(w, `feature "num" has a different whole number in every row (40)`) {
		t.Errorf("numeric ID: warnings %q", res.Metrics.Warnings)
	}
	for _, f := range res.Model.Features {
		if f.Name == "id" || f.Name == "day" {
			t.Errorf("excluded column %q is a feature", f.Name)
		}
	}
}

// TestMaxCategories: past data.max_categories the most frequent levels are
// kept (ties by value), the rest become "(other)" with a warning, and the
// model encodes a rare or unseen level as "(other)" when serving too.
func TestMaxCategories(t *testing.T) {
	t.Parallel()
	// Level frequencies: a 12, b 10, c 10, d 5, e 3 (per 40 rows).
	levels := strings.Repeat("a", 12) + strings.Repeat("c", 10) + strings.Repeat("b", 10) + strings.Repeat("d", 5) + "eee"
	var b strings.Builder
	b.WriteString("x,k,y\n")
	for i := range 40 {
		fmt.Fprintf(&b, "%d,%c,%d.5\n", i%7, levels[i], 2*(i%7)+int(levels[i]-'a'))
	}
	res, err := trainCSV(t, b.String(), "  max_categories: 3\n")
	if err != nil {
		t.Fatal(err)
	}
	var k model.Feature
	for _, f := range res.Model.Features {
		if f.Name == "k" {
			k = f
		}
	}
	if !k.Other || strings.Join(k.Categories, " ") != "(other) a b c" {
		t.Fatalf("k: other %v categories %q; want (other) a b c", k.Other, k.Categories)
	}
	if w := strings.Join(res.Metrics.Warnings, "\n"); !strings.Contains(w, `feature "k" has 5 levels in the training rows, more than data.max_categories (3); the 2 least frequent became "(other)"`) {
		t.Errorf("warnings %q", res.Metrics.Warnings)
	}
	p, err := model.NewPredictor(res.Model)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := p.Encoder().Category(1, model.OtherCategory)
	for _, s := range []string{"d", "e", "never-seen"} {
		if j, err := p.Encoder().Category(1, s); err != nil || j != other || j < 0 {
			t.Errorf("category %q encodes as %d (%v), want the (other) column %d", s, j, err, other)
		}
	}
	old := *res.Model
	old.Features = slices.Clone(old.Features)
	old.Features[1].Other = false
	po, err := model.NewPredictor(&old)
	if err != nil {
		t.Fatal(err)
	}
	if j, _ := po.Encoder().Category(1, "never-seen"); j != -1 {
		t.Errorf("without other an unseen category encodes as %d, want -1", j)
	}
}
