// Package model provides the model artifact: the on-disk schema of a model
// directory (model.json, metrics.json, profile.json), loading with schema and
// checksum verification, deterministic encoding, and prediction.
//
// The serving runtime imports this package, so it depends on the standard
// library only.
package model

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"github.com/modelci/modelci/internal/inputfile"
)

// SchemaVersion is the version of metrics.json, and of model.json for a
// single linear score (Intercept and Coefficients). A model with a
// predictor block (Predictor) is written as MaxSchemaVersion.
const SchemaVersion = 1

// MaxSchemaVersion is the newest model.json this build reads: version 2
// describes a scoring program with K outputs (see Block). Every older
// version still loads.
const MaxSchemaVersion = 2

// File names inside a model directory.
const (
	FileModel   = "model.json"
	FileMetrics = "metrics.json"
	FileProfile = "profile.json"
)

// Tasks.
const (
	TaskRegression     = "regression"
	TaskClassification = "classification"
)

// Feature types.
const (
	Numeric     = "numeric"
	Categorical = "categorical"
)

// Errors callers can match with errors.Is.
var (
	// ErrIncompatible means the artifact was written by an incompatible
	// schema version.
	ErrIncompatible = errors.New("incompatible model schema")
	// ErrCorrupt means a checksum did not match or the content is not
	// internally consistent.
	ErrCorrupt = errors.New("corrupt model")
	// ErrMissingValue means a row had a missing value that the feature's
	// policy does not allow (drop or error).
	ErrMissingValue = errors.New("missing value")
)

// Model is the content of model.json.
type Model struct {
	SchemaVersion int    `json:"schema_version"`
	Name          string `json:"name"`
	Task          string `json:"task"`
	// Algorithm is linear, ridge or logistic.
	Algorithm string `json:"algorithm"`
	Target    string `json:"target"`
	// Classes holds the class labels of a classifier, sorted as scikit-learn
	// sorts them; Classes[1] is the positive class.
	Classes []string `json:"classes,omitempty"`
	// Features are the input features in order, with their preprocessing.
	Features []Feature `json:"features"`
	// Columns names the encoded design columns ("sqft", "city=Paris").
	Columns []string `json:"columns"`
	// Intercept and Coefficients act on the encoded (imputed, standardized,
	// one-hot) columns.
	Intercept    float64   `json:"intercept"`
	Coefficients []float64 `json:"coefficients"`
	// Outputs (K), Predictor and Link are the scoring program of a schema
	// version 2 model, which has no Intercept and Coefficients: the
	// predictor block maps the encoded columns to K raw scores, and the
	// link maps those to the prediction.
	Outputs   int    `json:"outputs,omitempty"`
	Predictor *Block `json:"predictor,omitempty"`
	Link      string `json:"link,omitempty"`
	// Training records how the model was fitted.
	Training Training `json:"training"`
	// Files holds "sha256:<hex>" of the other files of the model directory.
	Files map[string]string `json:"files,omitempty"`
	// Checksum is "sha256:<hex>" of the bytes of model.json as written, with
	// this field's value replaced by "" (see SelfDigest).
	Checksum string `json:"checksum"`
}

// Feature is one input feature and its preprocessing, learned from the
// training rows only.
type Feature struct {
	Name string `json:"name"`
	// Type is numeric, categorical or date.
	Type string `json:"type"`
	// Missing is the policy for missing values: mean, median, most_frequent
	// (imputed), drop or error (rejected at prediction time).
	Missing string `json:"missing"`
	// Impute is the value that replaces a missing numeric value.
	Impute *float64 `json:"impute,omitempty"`
	// Center and Scale standardize a numeric value: (x - Center) / Scale.
	// Without standardization they are 0 and 1.
	Center float64 `json:"center,omitempty"`
	Scale  float64 `json:"scale,omitempty"`
	// Categories are the one-hot categories of a categorical feature, sorted.
	Categories []string `json:"categories,omitempty"`
	// ImputeCategory replaces a missing categorical value.
	ImputeCategory *string `json:"impute_category,omitempty"`
	// Other means Categories holds OtherCategory, which every category not
	// listed encodes as (data.max_categories kept only the most frequent).
	// Without it an unlisted category encodes as all zeros.
	Other bool `json:"other,omitempty"`
	// Parts are the numeric parts of a date feature (type "date", from
	// data.dates): year, month, dayofweek, dayofyear, each with its own
	// imputation and scaling. Omitted for other types.
	Parts []Feature `json:"parts,omitempty"`
}

// OtherCategory is the reserved category of the levels that
// data.max_categories folded together.
const OtherCategory = "(other)"

// Training records the settings and outcome of the fit.
type Training struct {
	Solver       string  `json:"solver"`
	Alpha        float64 `json:"alpha"`
	FitIntercept bool    `json:"fit_intercept"`
	Standardize  bool    `json:"standardize"`
	LearningRate float64 `json:"learning_rate,omitempty"`
	MaxIter      int     `json:"max_iter,omitempty"`
	Tol          float64 `json:"tol,omitempty"`
	Iterations   int     `json:"iterations"`
	Converged    bool    `json:"converged"`
	// Loss is the final value of the objective the solver minimised.
	Loss      float64 `json:"loss"`
	TrainRows int     `json:"train_rows"`
	TestRows  int     `json:"test_rows"`
	TestSize  float64 `json:"test_size"`
	Seed      uint32  `json:"seed"`
	// Decimal is "," when the training data wrote numbers with a decimal
	// comma (data.decimal), so data files scored later are read the same
	// way. Omitted for ".".
	Decimal string `json:"decimal,omitempty"`
	// DataSHA256 is the fingerprint of the training data file.
	DataSHA256 string `json:"data_sha256"`
	// Boosting records a gradient-boosted model's settings (scikit-learn's
	// names); nil for other models.
	Boosting *BoostingTraining `json:"boosting,omitempty"`
}

// BoostingTraining are the settings a gradient-boosted model was fitted
// with, and whether early stopping ended it.
type BoostingTraining struct {
	Loss             string  `json:"loss"`
	MaxLeafNodes     int     `json:"max_leaf_nodes"`
	MaxDepth         int     `json:"max_depth,omitempty"`
	MinSamplesLeaf   int     `json:"min_samples_leaf"`
	L2Regularization float64 `json:"l2_regularization"`
	MaxBins          int     `json:"max_bins"`
	// EarlyStopping says a validation split of ValidationFraction of the
	// training rows ended the fit once NIterNoChange rounds did not improve
	// its loss by more than Tol.
	EarlyStopping      bool    `json:"early_stopping"`
	ValidationFraction float64 `json:"validation_fraction,omitempty"`
	NIterNoChange      int     `json:"n_iter_no_change,omitempty"`
	Seed               uint32  `json:"seed"`
}

// IsClassifier reports whether the model predicts class labels.
func (m *Model) IsClassifier() bool { return m.Task == TaskClassification }

// FeatureNames returns the input feature names in order.
func (m *Model) FeatureNames() []string {
	out := make([]string, len(m.Features))
	for i, f := range m.Features {
		out[i] = f.Name
	}
	return out
}

// Validate checks that the model is internally consistent: known task and
// algorithm, one coefficient per encoded column, finite numbers, sorted
// categories and two classes for a classifier.
func (m *Model) Validate() error {
	if m.SchemaVersion < 1 || m.SchemaVersion > MaxSchemaVersion {
		return fmt.Errorf("%w: schema_version %d, this build reads 1 to %d; retrain the model with this version of modelci", ErrIncompatible, m.SchemaVersion, MaxSchemaVersion)
	}
	switch m.Task {
	case TaskRegression:
		if len(m.Classes) != 0 {
			return fmt.Errorf("%w: a regression model has classes", ErrCorrupt)
		}
	case TaskClassification:
		if err := checkClasses(m.Classes, m.SchemaVersion); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: unknown task %q", ErrCorrupt, m.Task)
	}
	if len(m.Features) == 0 {
		return fmt.Errorf("%w: no features", ErrCorrupt)
	}
	enc, err := NewEncoder(m.Features)
	if err != nil {
		return err
	}
	if m.SchemaVersion == 1 {
		return m.validateV1(enc)
	}
	if enc.Width() != len(m.Columns) {
		return fmt.Errorf("%w: %d encoded columns and %d column names", ErrCorrupt, enc.Width(), len(m.Columns))
	}
	return m.validateProgram(enc)
}

// checkClasses checks a classifier's classes: two for schema version 1, at
// least two for later versions, all distinct.
func checkClasses(classes []string, version int) error {
	if (version == 1 && len(classes) != 2) || len(classes) < 2 || len(classes) > MaxOutputs {
		return fmt.Errorf("%w: a classifier needs two distinct classes, has %q", ErrCorrupt, classes)
	}
	seen := make(map[string]bool, len(classes))
	for _, c := range classes {
		if seen[c] {
			return fmt.Errorf("%w: class %q is listed twice", ErrCorrupt, c)
		}
		seen[c] = true
	}
	return nil
}

// validateV1 checks a schema version 1 model: a linear, ridge or logistic
// score, one coefficient per encoded column.
func (m *Model) validateV1(enc *Encoder) error {
	if m.Predictor != nil || m.Outputs != 0 || m.Link != "" {
		return fmt.Errorf("%w: a schema_version 1 model has outputs, predictor or link", ErrCorrupt)
	}
	switch m.Algorithm {
	case "linear", "ridge":
		if m.Task != TaskRegression {
			return fmt.Errorf("%w: algorithm %s is for regression", ErrCorrupt, m.Algorithm)
		}
	case "logistic":
		if m.Task != TaskClassification {
			return fmt.Errorf("%w: algorithm logistic is for classification", ErrCorrupt)
		}
	default:
		return fmt.Errorf("%w: unknown algorithm %q", ErrCorrupt, m.Algorithm)
	}
	if enc.Width() != len(m.Coefficients) || enc.Width() != len(m.Columns) {
		return fmt.Errorf("%w: %d encoded columns, %d column names and %d coefficients", ErrCorrupt, enc.Width(), len(m.Columns), len(m.Coefficients))
	}
	if !finite(m.Intercept) {
		return fmt.Errorf("%w: intercept is not finite", ErrCorrupt)
	}
	for i, c := range m.Coefficients {
		if !finite(c) {
			return fmt.Errorf("%w: coefficient %d (%s) is not finite", ErrCorrupt, i, m.Columns[i])
		}
	}
	if keepsMissing(m.Features) {
		return fmt.Errorf("%w: a linear model cannot keep missing values", ErrCorrupt)
	}
	return nil
}

// validateProgram checks a schema version 2 model: K outputs that agree
// with the task and the classes, a link that fits them, and a valid
// predictor block over the encoded columns.
func (m *Model) validateProgram(enc *Encoder) error {
	if m.Algorithm == "" {
		return fmt.Errorf("%w: no algorithm", ErrCorrupt)
	}
	if m.Coefficients != nil || m.Intercept != 0 {
		return fmt.Errorf("%w: a schema_version %d model keeps its coefficients in the predictor block", ErrCorrupt, m.SchemaVersion)
	}
	if m.Predictor == nil {
		return fmt.Errorf("%w: no predictor block", ErrCorrupt)
	}
	k := m.Outputs
	switch {
	case m.Task == TaskRegression && (m.Link == LinkIdentity || m.Link == LinkExp || m.Link == LinkSigmoid) && k == 1:
	case m.Task == TaskClassification && m.Link == LinkSigmoid && k == 1 && len(m.Classes) == 2:
	case m.Task == TaskClassification && m.Link == LinkSoftmax && k == len(m.Classes):
	default:
		return fmt.Errorf("%w: %s model with %d classes, %d outputs and link %q (want identity, exp or sigmoid with 1 output for regression; sigmoid with 1 output for 2 classes, or softmax with one output per class)", ErrCorrupt, m.Task, len(m.Classes), k, m.Link)
	}
	if err := m.Predictor.validate(enc.Width(), k); err != nil {
		return err
	}
	if m.Predictor.Trees == nil && keepsMissing(m.Features) {
		return fmt.Errorf("%w: a linear block cannot keep missing values", ErrCorrupt)
	}
	return nil
}

// Seal fills Files with the checksums of the given sibling files and
// Checksum with the checksum of the model itself, and returns the encoded
// model.json.
func (m *Model) Seal(files map[string][]byte) ([]byte, error) {
	m.SchemaVersion = SchemaVersion
	if m.Predictor != nil {
		m.SchemaVersion = MaxSchemaVersion
	}
	m.Files = make(map[string]string, len(files))
	for name, b := range files {
		m.Files[name] = Digest(b)
	}
	m.Checksum = ""
	b, err := Marshal(m)
	if err != nil {
		return nil, err
	}
	m.Checksum = Digest(b)
	return Marshal(m)
}

// SelfDigest returns the checksum model.json bytes b must carry: the
// Digest of b exactly as written, with the string value of its top-level
// "checksum" member replaced by "". Seal writes the document it hashed with
// only that value filled in, so a sealed file verifies, and any other
// change to its bytes (an edited value, reformatting, padding, trailing
// data) does not. b must hold one JSON object with exactly one "checksum"
// member (compared case-insensitively, as encoding/json decodes it) whose
// value is a string.
func SelfDigest(b []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	fail := func(format string, args ...any) (string, error) {
		return "", fmt.Errorf("%w: %s: %s", ErrCorrupt, FileModel, fmt.Sprintf(format, args...))
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fail("not a JSON object")
	}
	start, end := -1, -1
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail("not valid JSON: %v", err)
		}
		key, _ := tok.(string)
		if !strings.EqualFold(key, "checksum") {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fail("not valid JSON: %v", err)
			}
			continue
		}
		if start >= 0 {
			return fail("more than one checksum member")
		}
		keyEnd := dec.InputOffset()
		tok, err = dec.Token()
		if err != nil {
			return fail("not valid JSON: %v", err)
		}
		if _, ok := tok.(string); !ok {
			return fail("checksum is not a string")
		}
		end = int(dec.InputOffset())
		// Between the key and the end of its value there are only blanks,
		// the colon and the string, which starts at the first quote.
		start = int(keyEnd) + bytes.IndexByte(b[keyEnd:end], '"')
	}
	if start < 0 {
		return fail("no checksum")
	}
	h := sha256.New()
	h.Write(b[:start])
	h.Write([]byte(`""`))
	h.Write(b[end:])
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// Digest returns "sha256:<hex>" of b.
func Digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// Marshal encodes v as indented JSON with a trailing newline. Encoding is
// deterministic: struct fields keep their order and map keys are sorted.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode JSON: %w", err)
	}
	return buf.Bytes(), nil
}

// Parse decodes and verifies model.json bytes: schema version, its own
// checksum and internal consistency. It does not check sibling files.
func Parse(b []byte) (*Model, error) {
	var probe struct {
		SchemaVersion *int `json:"schema_version"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("%w: %s is not valid JSON: %w", ErrCorrupt, FileModel, err)
	}
	if probe.SchemaVersion == nil {
		return nil, fmt.Errorf("%w: %s has no schema_version; is this a modelci model?", ErrIncompatible, FileModel)
	}
	if v := *probe.SchemaVersion; v < 1 || v > MaxSchemaVersion {
		advice := "retrain the model with this version of modelci"
		if v > MaxSchemaVersion {
			advice = "a newer modelci wrote it; upgrade modelci"
		}
		return nil, fmt.Errorf("%w: %s has schema_version %d, this build reads 1 to %d; %s", ErrIncompatible, FileModel, v, MaxSchemaVersion, advice)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m Model
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: decode %s: %w", ErrCorrupt, FileModel, err)
	}
	got, err := SelfDigest(b)
	if err != nil {
		return nil, err
	}
	if m.Checksum != got {
		return nil, fmt.Errorf("%w: %s checksum is %s but its bytes hash to %s; the file was modified or truncated", ErrCorrupt, FileModel, m.Checksum, got)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", FileModel, err)
	}
	return &m, nil
}

// Load reads a model directory: model.json verified by Parse, and every file
// listed in its Files checked against its checksum.
func Load(dir string) (*Model, error) {
	m, _, err := LoadFiles(dir)
	return m, err
}

// LoadFiles is Load that also returns the bytes of every file it verified
// (model.json and the files it lists), by name, so a caller that packs or
// copies them uses exactly what was checked.
func LoadFiles(dir string) (*Model, map[string][]byte, error) {
	b, err := inputfile.ReadFile(filepath.Join(dir, FileModel), inputfile.MaxJSON)
	if err != nil {
		return nil, nil, fmt.Errorf("load model from %s: %w", dir, err)
	}
	m, err := Parse(b)
	if err != nil {
		return nil, nil, fmt.Errorf("load model from %s: %w", dir, err)
	}
	files := map[string][]byte{FileModel: b}
	names := make([]string, 0, len(m.Files))
	for name := range m.Files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if name != filepath.Base(name) {
			return nil, nil, fmt.Errorf("load model from %s: %w: file name %q is not a plain name", dir, ErrCorrupt, name)
		}
		fb, err := inputfile.ReadFile(filepath.Join(dir, name), inputfile.MaxJSON)
		if err != nil {
			return nil, nil, fmt.Errorf("load model from %s: %w", dir, err)
		}
		if got := Digest(fb); got != m.Files[name] {
			return nil, nil, fmt.Errorf("load model from %s: %w: %s hashes to %s, model.json expects %s", dir, ErrCorrupt, name, got, m.Files[name])
		}
		files[name] = fb
	}
	return m, files, nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
