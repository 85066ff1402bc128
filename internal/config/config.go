// Package config provides the modelci.yaml schema: strict decoding that names
// the line of an unknown key, defaults, and validation.
//
// The schema is a tree of sections. Each later feature adds its own section
// (gates, baseline, image, report) without touching the others.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/modelci/modelci/internal/exitcode"
	"github.com/modelci/modelci/internal/inputfile"
	"github.com/modelci/modelci/internal/metrics"
)

// Model types.
const (
	TypeLinear   = "linear"
	TypeRidge    = "ridge"
	TypeLogistic = "logistic"
	// TypeGradientBoosting is histogram-based gradient boosting
	// (scikit-learn's HistGradientBoostingRegressor and Classifier).
	TypeGradientBoosting = "gradient_boosting"
)

// Early stopping modes of gradient boosting.
const (
	EarlyStoppingAuto  = "auto"
	EarlyStoppingTrue  = "true"
	EarlyStoppingFalse = "false"
)

// Solvers.
const (
	SolverQR     = "qr"
	SolverNormal = "normal"
	SolverGD     = "gd"
	SolverLBFGS  = "lbfgs"
)

// Missing-value policies.
const (
	MissingMean         = "mean"
	MissingMedian       = "median"
	MissingMostFrequent = "most_frequent"
	MissingDrop         = "drop"
	MissingError        = "error"
	// MissingKeep leaves missing values to the model: gradient boosting's
	// trees send them to the side of each split that gains most. It is
	// gradient_boosting's default, and only gradient_boosting takes it.
	MissingKeep = "keep"
)

// Defaults.
const (
	DefaultTestSize = 0.2
	// DefaultMaxCategories is data.max_categories' default.
	DefaultMaxCategories = 100
	DefaultSeed          = 42
	DefaultAlpha         = 1.0
	DefaultLearningRate  = 0.1
	DefaultMaxIterGD     = 100000
	DefaultMaxIterLBFGS  = 1000
	DefaultTolGD         = 1e-10
	DefaultTolLBFGS      = 1e-10
	// Gradient boosting's defaults, scikit-learn's.
	DefaultMaxIterBoosting    = 100
	DefaultTolBoosting        = 1e-7
	DefaultMaxLeafNodes       = 31
	DefaultMinSamplesLeaf     = 20
	DefaultMaxBins            = 255
	DefaultValidationFraction = 0.1
	DefaultNIterNoChange      = 10
	// EarlyStoppingRows is the number of rows above which early_stopping
	// auto stops early, as scikit-learn's does.
	EarlyStoppingRows = 10000
)

// ErrInvalid marks configuration errors (exit code 2).
var ErrInvalid = exitcode.NewUsage("invalid configuration")

// Config is the decoded modelci.yaml.
type Config struct {
	// Name is the model name. Default: the name of the directory holding the
	// config file.
	Name string `yaml:"name"`
	// TaskKind is "regression" or "classification". Optional: the model type
	// implies it, and classification without a model type picks logistic.
	// Setting it also silences the integer-target warning.
	TaskKind string `yaml:"task"`
	// Data says where the data is and how to read it.
	Data Data `yaml:"data"`
	// Split says how rows are divided into training and test rows.
	Split Split `yaml:"split"`
	// Model says which model to fit and how.
	Model Model `yaml:"model"`
	// Metrics lists the metrics to report. Default: all metrics of the task.
	Metrics []string `yaml:"metrics"`
	// Gates are quality gates checked on the challenger's metrics and, when a
	// baseline exists, on the change from the champion.
	Gates []Gate `yaml:"gates"`
	// Baseline says which model is the champion in a diff.
	Baseline Baseline `yaml:"baseline"`
	// Report configures the rendered diff report.
	Report Report `yaml:"report"`
	// Image configures the OCI image that packages the model.
	Image Image `yaml:"image"`

	// Dir is the directory that relative paths are resolved against (the
	// directory holding the config file). Not part of the YAML.
	Dir string `yaml:"-"`
	// File is the path the config was read from, if any.
	File string `yaml:"-"`
}

// Data describes the input table.
type Data struct {
	Path        string   `yaml:"path"`
	Target      string   `yaml:"target"`
	Features    []string `yaml:"features"`
	Categorical []string `yaml:"categorical"`
	Missing     string   `yaml:"missing"`
	Delimiter   string   `yaml:"delimiter"`
	// MaxBytes, MaxRows and AllowFIFO bound the read; see limits.go.
	MaxBytes  *Size `yaml:"max_bytes"`
	MaxRows   *int  `yaml:"max_rows"`
	AllowFIFO bool  `yaml:"allow_fifo"`
	// Decimal is the decimal separator of numbers: "." (default) or ",",
	// which reads "-0,69" as -0.69 and needs a delimiter other than ','.
	Decimal string `yaml:"decimal"`
	// Exclude lists columns that are never features, such as IDs, when
	// data.features is not given.
	Exclude []string `yaml:"exclude"`
	// MaxCategories caps the one-hot levels of a categorical feature: the
	// most frequent are kept and the rest become "(other)". Default 100.
	MaxCategories *int `yaml:"max_categories"`
	// Dates lists ISO date or datetime columns that become the numeric
	// features year, month, dayofweek and dayofyear.
	Dates []string `yaml:"dates"`
}

// Split configures the train/test split, which matches scikit-learn's
// train_test_split(test_size=TestSize, random_state=Seed).
type Split struct {
	TestSize *float64 `yaml:"test_size"`
	Seed     *uint32  `yaml:"seed"`

	// testSizeFloat records that test_size was written as a float (1.0
	// rather than 1): scikit-learn takes a float as a fraction, which must
	// then lie in (0, 1), and an int as a row count.
	testSizeFloat bool
}

// Model configures the estimator.
type Model struct {
	Type         string   `yaml:"type"`
	Solver       string   `yaml:"solver"`
	Alpha        *float64 `yaml:"alpha"`
	LearningRate *float64 `yaml:"learning_rate"`
	MaxIter      *int     `yaml:"max_iter"`
	Tol          *float64 `yaml:"tol"`
	FitIntercept *bool    `yaml:"fit_intercept"`
	Standardize  *bool    `yaml:"standardize"`
	// Gradient boosting, with scikit-learn's names. MaxDepth nil is no
	// limit; Seed defaults to split.seed.
	MaxLeafNodes       *int     `yaml:"max_leaf_nodes"`
	MaxDepth           *int     `yaml:"max_depth"`
	MinSamplesLeaf     *int     `yaml:"min_samples_leaf"`
	L2Regularization   *float64 `yaml:"l2_regularization"`
	MaxBins            *int     `yaml:"max_bins"`
	EarlyStopping      string   `yaml:"early_stopping"`
	ValidationFraction *float64 `yaml:"validation_fraction"`
	NIterNoChange      *int     `yaml:"n_iter_no_change"`
	Seed               *uint32  `yaml:"seed"`
}

// validateBoosting checks gradient_boosting's settings against
// scikit-learn's ranges.
func (c *Config) validateBoosting(bad func(field, format string, args ...any)) {
	m := &c.Model
	if *m.Alpha != 0 {
		bad("model.alpha", "is for ridge and logistic; gradient_boosting's penalty is model.l2_regularization")
	}
	if v := *m.MaxLeafNodes; v < 2 {
		bad("model.max_leaf_nodes", "want at least 2 leaves, got %d", v)
	}
	if m.MaxDepth != nil && *m.MaxDepth < 1 {
		bad("model.max_depth", "want at least 1 (or leave it out for no limit), got %d", *m.MaxDepth)
	}
	if v := *m.MinSamplesLeaf; v < 1 {
		bad("model.min_samples_leaf", "want at least 1 row per leaf, got %d", v)
	}
	if v := *m.L2Regularization; !(v >= 0) || math.IsInf(v, 0) {
		bad("model.l2_regularization", "want a finite number ≥ 0, got %g", v)
	}
	if v := *m.MaxBins; v < 2 || v > 255 {
		bad("model.max_bins", "want 2 to 255 bins (one more holds missing values), got %d", v)
	}
	switch m.EarlyStopping {
	case EarlyStoppingAuto, EarlyStoppingTrue, EarlyStoppingFalse:
	default:
		bad("model.early_stopping", "want auto (on above %d rows), true or false; got %q", EarlyStoppingRows, m.EarlyStopping)
	}
	if v := *m.ValidationFraction; !(v > 0 && v < 1) {
		bad("model.validation_fraction", "want a fraction in (0, 1), got %g", v)
	}
	if v := *m.NIterNoChange; v < 1 {
		bad("model.n_iter_no_change", "want at least 1, got %d", v)
	}
}

// boostingKeys are the model keys only gradient_boosting takes.
func (m *Model) boostingKeys() []string {
	var set []string
	for _, k := range []struct {
		name string
		set  bool
	}{
		{"max_leaf_nodes", m.MaxLeafNodes != nil}, {"max_depth", m.MaxDepth != nil},
		{"min_samples_leaf", m.MinSamplesLeaf != nil}, {"l2_regularization", m.L2Regularization != nil},
		{"max_bins", m.MaxBins != nil}, {"early_stopping", m.EarlyStopping != ""},
		{"validation_fraction", m.ValidationFraction != nil}, {"n_iter_no_change", m.NIterNoChange != nil},
		{"seed", m.Seed != nil},
	} {
		if k.set {
			set = append(set, k.name)
		}
	}
	return set
}

// Gate is one quality gate, e.g. {metric: rmse, max_increase: "2%"}.
type Gate struct {
	Metric string `yaml:"metric"`
	// Min and Max bound the challenger's absolute value.
	Min *float64 `yaml:"min"`
	Max *float64 `yaml:"max"`
	// MaxIncrease and MaxDecrease bound the change from the champion, either
	// absolute ("0.01", 0.01) or relative ("2%").
	MaxIncrease *Amount `yaml:"max_increase"`
	MaxDecrease *Amount `yaml:"max_decrease"`
	// OnlyIfSignificant makes change gates fail only when the paired
	// bootstrap says the change is not noise.
	OnlyIfSignificant bool `yaml:"only_if_significant"`
}

// Baseline configures how the champion is found.
type Baseline struct {
	// Ref is "auto", "none", "registry", "git:<ref>" or a model directory.
	Ref string `yaml:"ref"`
	// Tag is the image tag used by the registry baseline (default "latest").
	Tag string `yaml:"tag"`
	// Bootstrap is the number of paired bootstrap resamples (default 1000).
	Bootstrap *int `yaml:"bootstrap"`
	// Confidence is the interval's confidence level (default 0.95).
	Confidence *float64 `yaml:"confidence"`
	// Seed seeds the bootstrap (default 42).
	Seed *uint32 `yaml:"seed"`
}

// Report configures the rendered report.
type Report struct {
	// Precision is the number of significant digits (default 4).
	Precision *int `yaml:"precision"`
	// Chart turns the Mermaid chart on or off (default on).
	Chart *bool `yaml:"chart"`
}

// Image configures the OCI image.
type Image struct {
	// Repository is e.g. ghcr.io/acme/house-prices.
	Repository string `yaml:"repository"`
	// Tags are extra tags; default: the commit sha and latest.
	Tags []string `yaml:"tags"`
	// Platforms default to linux/amd64 and linux/arm64.
	Platforms []string `yaml:"platforms"`
	// Labels are extra OCI labels.
	Labels map[string]string `yaml:"labels"`
	// Licenses fills org.opencontainers.image.licenses.
	Licenses string `yaml:"licenses"`
	// Push is auto (default: push on the default branch and on tags), true
	// or false. Pull requests and forks never push.
	Push string `yaml:"push"`
}

// Amount is an absolute number or a percentage ("2%").
type Amount struct {
	Value   float64
	Percent bool
}

// UnmarshalYAML accepts 0.01, "0.01" or "2%".
func (a *Amount) UnmarshalYAML(b []byte) error {
	s := strings.TrimSpace(string(b))
	s = strings.Trim(s, `"'`)
	s = strings.TrimSpace(s)
	pct := strings.HasSuffix(s, "%")
	if pct {
		s = strings.TrimSpace(strings.TrimSuffix(s, "%"))
	}
	var v float64
	if _, err := fmt.Sscanf(s, "%g", &v); err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return fmt.Errorf("want a non-negative number or a percentage like \"2%%\", got %q", string(b))
	}
	a.Value, a.Percent = v, pct
	return nil
}

// String renders the amount as it was written.
func (a Amount) String() string {
	if a.Percent {
		return fmt.Sprintf("%g%%", a.Value)
	}
	return fmt.Sprintf("%g", a.Value)
}

// MarshalJSON renders the amount as written.
func (a Amount) MarshalJSON() ([]byte, error) { return []byte(`"` + a.String() + `"`), nil }

// Load reads and decodes a config file strictly, applies defaults and
// validates it.
func Load(path string) (*Config, error) {
	b, err := inputfile.ReadFile(path, inputfile.MaxConfig)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return Parse(b, path, filepath.Dir(abs))
}

// Parse decodes config bytes strictly. name is used in error messages and
// dir is the directory that relative paths resolve against.
func Parse(b []byte, name, dir string) (*Config, error) {
	var c Config
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("%s: %w: the file is empty; it needs at least data.path and data.target", name, ErrInvalid)
	}
	if err := decodeStrict(b, &c); err != nil {
		return nil, yamlError(name, err)
	}
	c.File = name
	c.Dir = dir
	c.Split.testSizeFloat = writtenAsFloat(b, "$.split.test_size")
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, locate(name, b, err)
	}
	return &c, nil
}

// decodeStrict decodes b into c, refusing unknown fields. goccy/go-yaml
// v1.19.2 panics on some malformed input (a tag on a sequence node such as
// "metrics: !0 ", found by FuzzParse), so a panic inside the decoder is
// turned into an error: a config file must never crash modelci.
func decodeStrict(b []byte, c *Config) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the YAML decoder could not read this file (%v); check the YAML syntax, tags (!…) and anchors", r)
		}
	}()
	return yaml.NewDecoder(bytes.NewReader(b), yaml.DisallowUnknownField()).Decode(c)
}

// FieldError is a validation error of one field, such as "model.alpha".
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Msg) }

// Unwrap makes every FieldError match ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// locate prefixes each field error with the file, line and column of the
// field in the YAML source, where the field was written.
func locate(name string, src []byte, err error) error {
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	out := make([]error, 0, len(list))
	for _, e := range list {
		var fe *FieldError
		if !errors.As(e, &fe) {
			out = append(out, fmt.Errorf("%s: %w", name, e))
			continue
		}
		pos := ""
		if p, perr := yaml.PathString("$." + fe.Field); perr == nil {
			if n, nerr := p.ReadNode(bytes.NewReader(src)); nerr == nil && n != nil {
				if tk := n.GetToken(); tk != nil && tk.Position != nil {
					pos = fmt.Sprintf(":%d:%d", tk.Position.Line, tk.Position.Column)
				}
			}
		}
		out = append(out, fmt.Errorf("%s%s: %w", name, pos, e))
	}
	if len(out) == 1 {
		return out[0]
	}
	return errors.Join(out...)
}

// yamlError turns a go-yaml error into "file:line:col: message".
func yamlError(name string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			return fmt.Errorf("%s:%d:%d: %w: %s", name, tk.Position.Line, tk.Position.Column, ErrInvalid, suggestKey(ye.GetMessage()))
		}
		return fmt.Errorf("%s: %w: %s", name, ErrInvalid, suggestKey(ye.GetMessage()))
	}
	return fmt.Errorf("%s: %w: %v", name, ErrInvalid, err)
}

// applyBoostingDefaults fills gradient_boosting's settings with
// scikit-learn's defaults (the seed is split.seed's).
func (c *Config) applyBoostingDefaults() {
	m := &c.Model
	if m.MaxIter == nil {
		m.MaxIter = ptr(DefaultMaxIterBoosting)
	}
	if m.Tol == nil {
		m.Tol = ptr(DefaultTolBoosting)
	}
	if m.MaxLeafNodes == nil {
		m.MaxLeafNodes = ptr(DefaultMaxLeafNodes)
	}
	if m.MinSamplesLeaf == nil {
		m.MinSamplesLeaf = ptr(DefaultMinSamplesLeaf)
	}
	if m.L2Regularization == nil {
		m.L2Regularization = ptr(0.0)
	}
	if m.MaxBins == nil {
		m.MaxBins = ptr(DefaultMaxBins)
	}
	if m.EarlyStopping == "" {
		m.EarlyStopping = EarlyStoppingAuto
	}
	if m.ValidationFraction == nil {
		m.ValidationFraction = ptr(DefaultValidationFraction)
	}
	if m.NIterNoChange == nil {
		m.NIterNoChange = ptr(DefaultNIterNoChange)
	}
	if m.Seed == nil {
		m.Seed = ptr(*c.Split.Seed)
	}
}

func (c *Config) applyDefaults() {
	if c.Name == "" {
		c.Name = filepath.Base(c.Dir)
		if c.Name == "." || c.Name == string(filepath.Separator) || c.Name == "" {
			c.Name = "model"
		}
	}
	if c.Data.MaxCategories == nil {
		c.Data.MaxCategories = ptr(DefaultMaxCategories)
	}
	if c.Split.TestSize == nil {
		c.Split.TestSize = ptr(DefaultTestSize)
	}
	if c.Split.Seed == nil {
		c.Split.Seed = ptr(uint32(DefaultSeed))
	}
	m := &c.Model
	if m.Type == "" {
		m.Type = TypeLinear
		if c.TaskKind == TaskClassification {
			m.Type = TypeLogistic
		}
	}
	boosting := m.Type == TypeGradientBoosting
	if c.Data.Missing == "" {
		c.Data.Missing = MissingMean
		if boosting {
			c.Data.Missing = MissingKeep
		}
	}
	if boosting {
		c.applyBoostingDefaults()
	}
	if m.Solver == "" && !boosting {
		if m.Type == TypeLogistic {
			m.Solver = SolverLBFGS
		} else {
			m.Solver = SolverQR
		}
	}
	if m.Alpha == nil {
		switch m.Type {
		case TypeRidge, TypeLogistic:
			m.Alpha = ptr(DefaultAlpha)
		default:
			m.Alpha = ptr(0.0)
		}
	}
	if m.LearningRate == nil {
		m.LearningRate = ptr(DefaultLearningRate)
	}
	if m.MaxIter == nil {
		if m.Solver == SolverLBFGS {
			m.MaxIter = ptr(DefaultMaxIterLBFGS)
		} else {
			m.MaxIter = ptr(DefaultMaxIterGD)
		}
	}
	if m.Tol == nil {
		if m.Solver == SolverLBFGS {
			m.Tol = ptr(DefaultTolLBFGS)
		} else {
			m.Tol = ptr(DefaultTolGD)
		}
	}
	if m.FitIntercept == nil {
		m.FitIntercept = ptr(true)
	}
	if m.Standardize == nil {
		// Trees split on the raw values; scaling changes nothing for them.
		m.Standardize = ptr(!boosting)
	}
	b := &c.Baseline
	if b.Ref == "" {
		b.Ref = "auto"
	}
	if b.Tag == "" {
		b.Tag = "latest"
	}
	if b.Bootstrap == nil {
		b.Bootstrap = ptr(1000)
	}
	if b.Confidence == nil {
		b.Confidence = ptr(0.95)
	}
	if b.Seed == nil {
		b.Seed = ptr(uint32(DefaultSeed))
	}
	if c.Report.Precision == nil {
		c.Report.Precision = ptr(4)
	}
	if c.Report.Chart == nil {
		c.Report.Chart = ptr(true)
	}
}

// Tasks.
const (
	TaskRegression     = "regression"
	TaskClassification = "classification"
)

// Task returns "regression" or "classification" for the model type.
func (c *Config) Task() string {
	switch c.Model.Type {
	case TypeLogistic:
		return TaskClassification
	case TypeGradientBoosting:
		if c.TaskKind == TaskClassification {
			return TaskClassification
		}
	}
	return TaskRegression
}

// DataPath returns data.path resolved against the config's directory.
func (c *Config) DataPath() string {
	if c.Data.Path == "" || filepath.IsAbs(c.Data.Path) || c.Dir == "" {
		return c.Data.Path
	}
	return filepath.Join(c.Dir, c.Data.Path)
}

// DecimalComma reports whether numbers are written with a decimal comma.
func (c *Config) DecimalComma() bool { return c.Data.Decimal == "," }

// DelimiterRune returns the configured delimiter, or 0 to sniff it.
func (c *Config) DelimiterRune() rune {
	r, _ := parseDelimiter(c.Data.Delimiter)
	return r
}

func parseDelimiter(s string) (rune, error) {
	switch strings.ToLower(s) {
	case "":
		return 0, nil
	case "tab", `\t`:
		return '\t', nil
	case "comma":
		return ',', nil
	case "semicolon":
		return ';', nil
	case "pipe":
		return '|', nil
	}
	if utf8.RuneCountInString(s) != 1 {
		return 0, &FieldError{Field: "data.delimiter", Msg: fmt.Sprintf("want one character (or tab), got %q", s)}
	}
	r, _ := utf8.DecodeRuneInString(s)
	if r == '"' || r == '\r' || r == '\n' || r == utf8.RuneError {
		return 0, &FieldError{Field: "data.delimiter", Msg: fmt.Sprintf("%q cannot be a delimiter", s)}
	}
	return r, nil
}

// Validate checks the values of a config with defaults applied.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if c.Data.Path == "" {
		bad("data.path", "is required")
	}
	if c.Data.Target == "" {
		bad("data.target", "is required")
	}
	for i, f := range c.Data.Features {
		if f == c.Data.Target && f != "" {
			bad(fmt.Sprintf("data.features[%d]", i), "%q is the target; it cannot also be a feature", f)
		}
		if strings.TrimSpace(f) == "" {
			bad(fmt.Sprintf("data.features[%d]", i), "is empty")
		}
	}
	if dup := firstDuplicate(c.Data.Features); dup != "" {
		bad("data.features", "%q is listed twice", dup)
	}
	switch c.Data.Missing {
	case MissingMean, MissingMedian, MissingMostFrequent, MissingDrop, MissingError:
	case MissingKeep:
		if c.Model.Type != TypeGradientBoosting {
			bad("data.missing", "keep leaves missing values to the trees of model.type gradient_boosting; model type %s needs mean, median, most_frequent, drop or error", c.Model.Type)
		}
	default:
		bad("data.missing", "want one of mean, median, most_frequent, drop, error, keep; got %q", c.Data.Missing)
	}
	if _, err := parseDelimiter(c.Data.Delimiter); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.Data.validateLimits()...)
	if *c.Data.MaxCategories < 2 {
		bad("data.max_categories", "want at least 2 levels, got %d", *c.Data.MaxCategories)
	}
	for i, x := range c.Data.Exclude {
		field := fmt.Sprintf("data.exclude[%d]", i)
		switch {
		case strings.TrimSpace(x) == "":
			bad(field, "is empty")
		case x == c.Data.Target:
			bad(field, "%q is the target; it cannot be excluded", x)
		case slices.Contains(c.Data.Features, x):
			bad(field, "%q is also listed in data.features", x)
		}
	}
	for i, d := range c.Data.Dates {
		field := fmt.Sprintf("data.dates[%d]", i)
		switch {
		case strings.TrimSpace(d) == "":
			bad(field, "is empty")
		case d == c.Data.Target:
			bad(field, "%q is the target; it cannot also be a date feature", d)
		case slices.Contains(c.Data.Exclude, d):
			bad(field, "%q is also listed in data.exclude", d)
		case slices.Contains(c.Data.Dates[:i], d):
			bad(field, "%q is listed twice", d)
		case slices.Contains(c.Data.Categorical, d):
			bad(field, "%q is also listed in data.categorical; a date column is read as text already", d)
		case len(c.Data.Features) > 0 && !slices.Contains(c.Data.Features, d):
			bad(field, "%q is not listed in data.features; add it there too", d)
		}
	}
	switch c.Data.Decimal {
	case "", ".":
	case ",":
		if c.DelimiterRune() == ',' {
			bad("data.decimal", "a decimal comma needs another delimiter; set data.delimiter (such as semicolon)")
		}
	default:
		bad("data.decimal", "want \".\" or \",\"; got %q", c.Data.Decimal)
	}
	if t := *c.Split.TestSize; !(t > 0) || math.IsInf(t, 0) || (t >= 1 && t != math.Trunc(t)) {
		bad("split.test_size", "want a fraction in (0, 1) or a whole number of rows, got %g", t)
	} else if t >= 1 && c.Split.testSizeFloat {
		bad("split.test_size", "%s is a float, and a float is a fraction that must be in (0, 1) (as in scikit-learn); write %d for a count of %d test rows", strconv.FormatFloat(t, 'f', 1, 64), int64(t), int64(t))
	}
	switch c.TaskKind {
	case "":
	case TaskRegression, TaskClassification:
		if c.TaskKind != c.Task() {
			if c.TaskKind == TaskClassification {
				bad("task", "classification needs model.type: logistic, but model.type is %s", c.Model.Type)
			} else {
				bad("task", "regression needs model.type: linear or ridge, but model.type is %s", c.Model.Type)
			}
		}
	default:
		bad("task", "want regression or classification; got %q%s", c.TaskKind, didYouMean(c.TaskKind, []string{TaskRegression, TaskClassification}))
	}
	m := c.Model
	switch m.Type {
	case TypeLinear, TypeRidge:
		switch m.Solver {
		case SolverQR, SolverNormal, SolverGD:
		default:
			bad("model.solver", "model type %s takes qr, normal or gd; got %q", m.Type, m.Solver)
		}
	case TypeLogistic:
		switch m.Solver {
		case SolverLBFGS, SolverGD:
		default:
			bad("model.solver", "model type logistic takes lbfgs or gd; got %q", m.Solver)
		}
	case TypeGradientBoosting:
		if m.Solver != "" {
			bad("model.solver", "gradient_boosting has no solver; remove it")
		}
		c.validateBoosting(bad)
	default:
		bad("model.type", "want linear, ridge, logistic or gradient_boosting; got %q%s", m.Type, didYouMean(m.Type, []string{TypeLinear, TypeRidge, TypeLogistic, TypeGradientBoosting}))
	}
	if m.Type != TypeGradientBoosting {
		for _, k := range m.boostingKeys() {
			bad("model."+k, "is a gradient_boosting setting; model type %s does not take it", m.Type)
		}
	}
	if a := *m.Alpha; a < 0 || math.IsNaN(a) || math.IsInf(a, 0) {
		bad("model.alpha", "want a finite number ≥ 0, got %g", a)
	} else if m.Type == TypeLinear && a != 0 {
		bad("model.alpha", "is only for ridge and logistic models (linear has no penalty); use type: ridge")
	} else if m.Type == TypeLogistic && a == 0 {
		bad("model.alpha", "logistic needs alpha > 0 (alpha = 1/C; scikit-learn's default C=1.0 is alpha 1)")
	}
	if lr := *m.LearningRate; !(lr > 0) || math.IsInf(lr, 0) {
		bad("model.learning_rate", "want a number > 0, got %g", lr)
	}
	if *m.MaxIter < 1 {
		bad("model.max_iter", "want ≥ 1, got %d", *m.MaxIter)
	}
	if tol := *m.Tol; (!(tol > 0) && !(tol == 0 && m.Type == TypeGradientBoosting)) || math.IsInf(tol, 0) {
		bad("model.tol", "want a number > 0, got %g", tol)
	}
	if dup := firstDuplicate(c.Metrics); dup != "" {
		bad("metrics", "%q is listed twice", dup)
	}
	for i, name := range c.Metrics {
		if _, ok := metrics.Lookup(name); !ok {
			bad(fmt.Sprintf("metrics[%d]", i), "unknown metric %q%s", name, didYouMean(name, allMetricNames()))
		}
	}
	for i, g := range c.Gates {
		field := fmt.Sprintf("gates[%d]", i)
		if g.Metric == "" {
			bad(field+".metric", "is required")
		}
		if g.Min == nil && g.Max == nil && g.MaxIncrease == nil && g.MaxDecrease == nil {
			bad(field, "needs at least one of min, max, max_increase, max_decrease")
		}
		if g.Metric != "" {
			if err := metrics.Validate(metrics.Task(c.Task()), []string{g.Metric}); err != nil {
				bad(field+".metric", "%v%s", err, didYouMean(g.Metric, allMetricNames()))
			}
		}
		for _, b := range []struct {
			name string
			v    *float64
		}{{"min", g.Min}, {"max", g.Max}} {
			if b.v != nil && (math.IsNaN(*b.v) || math.IsInf(*b.v, 0)) {
				bad(field+"."+b.name, "want a finite number, got %g", *b.v)
			}
		}
		if g.Min != nil && g.Max != nil && *g.Min > *g.Max {
			bad(field, "min %g is above max %g, so no value can pass", *g.Min, *g.Max)
		}
		if g.OnlyIfSignificant && g.MaxIncrease == nil && g.MaxDecrease == nil {
			bad(field+".only_if_significant", "applies to max_increase and max_decrease (changes from the champion), and this gate has neither")
		}
	}
	if b := c.Baseline; true {
		ref := strings.TrimSpace(b.Ref)
		if gitRef, ok := strings.CutPrefix(ref, "git:"); ok && (gitRef == "" || strings.HasPrefix(gitRef, "-")) {
			bad("baseline.ref", "want git:<ref> such as git:main, got %q", b.Ref)
		}
		if ref == "registry:" {
			bad("baseline.ref", "want registry or registry:<tag>, got %q", b.Ref)
		}
		if *b.Bootstrap < 0 || *b.Bootstrap > 1000000 {
			bad("baseline.bootstrap", "want 0 (off) to 1000000 resamples, got %d", *b.Bootstrap)
		}
		if cf := *b.Confidence; !(cf > 0 && cf < 1) {
			bad("baseline.confidence", "want a level in (0, 1), got %g", cf)
		}
	}
	if p := *c.Report.Precision; p < 1 || p > 17 {
		bad("report.precision", "want 1 to 17 significant digits, got %d", p)
	}
	im := c.Image
	switch strings.ToLower(im.Push) {
	case "", "auto", "true", "false":
	default:
		bad("image.push", "want auto, true or false; got %q", im.Push)
	}
	if strings.Contains(im.Repository, "://") || strings.Contains(im.Repository, "@") || strings.ContainsAny(im.Repository, " \t") {
		bad("image.repository", "want a repository such as ghcr.io/acme/model (no scheme, tag or digest); got %q", im.Repository)
	}
	for i, t := range im.Tags {
		if !imageTagRE.MatchString(t) {
			bad(fmt.Sprintf("image.tags[%d]", i), "%q is not a valid tag (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')", t)
		}
	}
	for i, p := range im.Platforms {
		if !platformRE.MatchString(p) {
			bad(fmt.Sprintf("image.platforms[%d]", i), "want linux/ARCH or linux/ARCH/VARIANT such as linux/arm64; got %q", p)
		}
	}
	return errors.Join(errs...)
}

var (
	imageTagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	platformRE = regexp.MustCompile(`^linux/[a-z0-9]+(/v[0-9.]+)?$`)
)

func firstDuplicate(xs []string) string {
	seen := make(map[string]bool, len(xs))
	for _, x := range xs {
		if seen[x] {
			return x
		}
		seen[x] = true
	}
	return ""
}

func ptr[T any](v T) *T { return &v }

// writtenAsFloat reports whether the scalar at path is a YAML float (1.0,
// 1e1) rather than an integer (1).
func writtenAsFloat(src []byte, path string) (float bool) {
	// As in decodeStrict: the YAML library can panic on malformed input.
	defer func() {
		if recover() != nil {
			float = false
		}
	}()
	p, err := yaml.PathString(path)
	if err != nil {
		return false
	}
	n, err := p.ReadNode(bytes.NewReader(src))
	if err != nil || n == nil {
		return false
	}
	return n.Type() == ast.FloatType
}
