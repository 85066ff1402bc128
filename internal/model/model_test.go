package model

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

// testModel is a small valid regression model: one numeric feature
// (standardized, mean-imputed) and one categorical feature.
func testModel() *Model {
	return &Model{
		SchemaVersion: SchemaVersion,
		Name:          "houses",
		Task:          TaskRegression,
		Algorithm:     "linear",
		Target:        "price",
		Features: []Feature{
			{Name: "sqft", Type: Numeric, Missing: "mean", Impute: ptr(100.0), Center: 100, Scale: 10},
			{Name: "city", Type: Categorical, Missing: "mean", Categories: []string{"a", "b"}, ImputeCategory: ptr("a")},
		},
		Columns:      []string{"sqft", "city=a", "city=b"},
		Intercept:    5,
		Coefficients: []float64{2, 1, -1},
	}
}

func TestPredictorScore(t *testing.T) {
	t.Parallel()
	p, err := NewPredictor(testModel())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		sqft    float64
		city    string
		want    float64
		unknown int
		err     error
	}{
		{"both known", 120, "b", 5 + 2*2 - 1, 0, nil},
		{"missing numeric is imputed", math.NaN(), "a", 5 + 0 + 1, 0, nil},
		{"missing category is imputed", 90, "NA", 5 + 2*-1 + 1, 0, nil},
		{"unseen category is all zeros", 100, "zzz", 5, 1, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, unknown, err := p.Score([]float64{tc.sqft, 0}, []string{"", tc.city})
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if got != tc.want || unknown != tc.unknown {
				t.Errorf("score = %g (%d unknown), want %g (%d)", got, unknown, tc.want, tc.unknown)
			}
			// Score and EncodeRow+Raw agree.
			x := make([]float64, p.Encoder().Width())
			if _, err := p.Encoder().EncodeRow([]float64{tc.sqft, 0}, []string{"", tc.city}, x); err != nil {
				t.Fatal(err)
			}
			var raw [1]float64
			if p.Raw(x, raw[:]); raw[0] != got {
				t.Errorf("Raw = %g, Score = %g", raw[0], got)
			}
		})
	}
	// The drop and error policies reject missing values.
	m := testModel()
	m.Features[0].Impute, m.Features[0].Missing = nil, "drop"
	p2, err := NewPredictor(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p2.Score([]float64{math.NaN(), 0}, []string{"", "a"}); !errors.Is(err, ErrMissingValue) || !strings.Contains(err.Error(), `"sqft"`) {
		t.Errorf("missing value under drop: %v", err)
	}
}

func TestClassifierHelpers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		score float64
		class int
		proba float64
	}{{0, 0, 0.5}, {1e-12, 1, 0.5}, {-800, 0, 0}, {800, 1, 1}} {
		if got := ClassIndex(tc.score); got != tc.class {
			t.Errorf("ClassIndex(%g) = %d", tc.score, got)
		}
		if got := Sigmoid(tc.score); math.Abs(got-tc.proba) > 1e-12 || math.IsNaN(got) {
			t.Errorf("Sigmoid(%g) = %g", tc.score, got)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		mutate func(m *Model)
		want   error
		substr string
	}{
		{"valid", func(*Model) {}, nil, ""},
		{"newer schema", func(m *Model) { m.SchemaVersion = MaxSchemaVersion + 1 }, ErrIncompatible, "schema_version 3"},
		{"unknown task", func(m *Model) { m.Task = "ranking" }, ErrCorrupt, "ranking"},
		{"coefficient count", func(m *Model) { m.Coefficients = m.Coefficients[:2] }, ErrCorrupt, "3 encoded columns"},
		{"NaN coefficient", func(m *Model) { m.Coefficients[1] = math.NaN() }, ErrCorrupt, "city=a"},
		{"zero scale", func(m *Model) { m.Features[0].Scale = 0 }, ErrCorrupt, "sqft"},
		{"unsorted categories", func(m *Model) { m.Features[1].Categories = []string{"b", "a"} }, ErrCorrupt, "not sorted"},
		{"classifier with one class", func(m *Model) { m.Task, m.Algorithm, m.Classes = TaskClassification, "logistic", []string{"x"} }, ErrCorrupt, "two distinct classes"},
		{"logistic regression task", func(m *Model) { m.Algorithm = "logistic" }, ErrCorrupt, "classification"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := testModel()
			tc.mutate(m)
			err := m.Validate()
			if !errors.Is(err, tc.want) || (err != nil && !strings.Contains(err.Error(), tc.substr)) {
				t.Errorf("Validate() = %v, want %v mentioning %q", err, tc.want, tc.substr)
			}
		})
	}
}

// TestSealLoad: a sealed model directory loads; any change to any of its
// files is detected.
func TestSealLoad(t *testing.T) {
	t.Parallel()
	write := func(t *testing.T) string {
		dir := t.TempDir()
		files := map[string][]byte{FileMetrics: []byte("{\"schema_version\": 1}\n"), FileProfile: []byte("{}\n")}
		b, err := testModel().Seal(files)
		if err != nil {
			t.Fatal(err)
		}
		files[FileModel] = b
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	dir := write(t)
	m, err := Load(dir)
	if err != nil {
		t.Fatalf("sealed model does not load: %v", err)
	}
	if !strings.HasPrefix(m.Checksum, "sha256:") || len(m.Files) != 2 {
		t.Errorf("checksums: %q %v", m.Checksum, m.Files)
	}
	again, _ := testModel().Seal(map[string][]byte{FileMetrics: []byte("{\"schema_version\": 1}\n"), FileProfile: []byte("{}\n")})
	if b, _ := os.ReadFile(filepath.Join(dir, FileModel)); !bytes.Equal(b, again) {
		t.Error("sealing is not deterministic")
	}
	cases := []struct {
		name   string
		edit   func(dir string) error
		want   error
		substr string
	}{
		{"edited coefficient", func(dir string) error {
			return replaceIn(filepath.Join(dir, FileModel), `"intercept": 5`, `"intercept": 6`)
		}, ErrCorrupt, "checksum"},
		{"edited profile", func(dir string) error { return os.WriteFile(filepath.Join(dir, FileProfile), []byte("{ }\n"), 0o644) }, ErrCorrupt, "profile.json"},
		{"missing metrics", func(dir string) error { return os.Remove(filepath.Join(dir, FileMetrics)) }, os.ErrNotExist, "metrics.json"},
		{"truncated model", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, FileModel), []byte(`{"schema_version": 1, "na`), 0o644)
		}, ErrCorrupt, "not valid JSON"},
		{"old schema", func(dir string) error {
			return replaceIn(filepath.Join(dir, FileModel), `"schema_version": 1`, `"schema_version": 0`)
		}, ErrIncompatible, "retrain"},
		{"not a model", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, FileModel), []byte(`{"name": "x"}`), 0o644)
		}, ErrIncompatible, "no schema_version"},
		{"unknown field", func(dir string) error {
			return replaceIn(filepath.Join(dir, FileModel), `"name": "houses"`, `"name": "houses", "extra": 1`)
		}, ErrCorrupt, "extra"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := write(t)
			if err := tc.edit(dir); err != nil {
				t.Fatal(err)
			}
			_, err := Load(dir)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("Load() = %v, want %v mentioning %q", err, tc.want, tc.substr)
			}
		})
	}
}

func replaceIn(path, old, repl string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !bytes.Contains(b, []byte(old)) {
		return errors.New("pattern not found: " + old)
	}
	return os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(repl), 1), 0o644)
}

func TestIsMissing(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", " ", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", " NA "} {
		if !IsMissing(s) {
			t.Errorf("IsMissing(%q) = false", s)
		}
	}
	for _, s := range []string{"0", "na", "none", "-", "Nan"} {
		if IsMissing(s) {
			t.Errorf("IsMissing(%q) = true", s)
		}
	}
}
