package train

import (
	"fmt"

	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/metrics"
	"github.com/modelci/modelci/internal/model"
)

// Settings is the resolved configuration of a fit: config.Load filled in
// every default, and Resolve copies the values out, so nothing in train
// reads a config pointer or depends on defaults having been applied.
type Settings struct {
	// Name, Task and Target go into the model; File names the config in
	// errors; DataPath is the data file as written in the config.
	Name, Task, Target, File, DataPath string
	// MetricTask is the metrics package's task; Metrics are the metric
	// names to compute: the config's, or none for the model's defaults
	// (evaluate.DefaultMetrics, which depend on the number of classes).
	MetricTask metrics.Task
	Metrics    []string
	Model      ModelSettings
	TestSize   float64
	Seed       uint32
	// Missing is data.missing; MaxCategories data.max_categories; Decimal
	// is "," for data.decimal: ",", else "".
	Missing       string
	MaxCategories int
	Decimal       string
	// Dates are the data.dates columns.
	Dates []string
}

// ModelSettings are the estimator's settings, every one resolved.
type ModelSettings struct {
	Type, Solver             string
	Alpha, LearningRate, Tol float64
	MaxIter                  int
	FitIntercept             bool
	Standardize              bool
	// Boosting are gradient_boosting's settings.
	Boosting BoostingSettings
}

// BoostingSettings are gradient_boosting's settings, scikit-learn's names.
// MaxDepth 0 is no limit; EarlyStopping is auto, true or false.
type BoostingSettings struct {
	MaxLeafNodes, MaxDepth, MinSamplesLeaf, MaxBins, NIterNoChange int
	L2Regularization, ValidationFraction                           float64
	EarlyStopping                                                  string
	Seed                                                           uint32
}

// Resolve returns the settings of cfg, which config.Load (or
// config.Parse) returned, so its defaults are filled in. A setting without
// a value is an error, not a silent zero.
func Resolve(cfg *config.Config) (Settings, error) {
	mc := cfg.Model
	if mc.Alpha == nil || mc.LearningRate == nil || mc.MaxIter == nil || mc.Tol == nil || mc.FitIntercept == nil || mc.Standardize == nil ||
		cfg.Split.TestSize == nil || cfg.Split.Seed == nil || cfg.Data.MaxCategories == nil {
		return Settings{}, fmt.Errorf("%s: %w: the configuration has no defaults filled in (read it with config.Load)", cfg.File, config.ErrInvalid)
	}
	task := metrics.TaskRegression
	if cfg.Task() == model.TaskClassification {
		task = metrics.TaskClassification
	}
	// No metrics named: the model's defaults, which depend on its number
	// of classes (evaluate.DefaultMetrics).
	names := cfg.Metrics
	if err := metrics.Validate(task, names); err != nil {
		return Settings{}, fmt.Errorf("%s: metrics: %w: %w", cfg.File, config.ErrInvalid, err)
	}
	return Settings{
		Name:       cfg.Name,
		Task:       cfg.Task(),
		Target:     cfg.Data.Target,
		File:       cfg.File,
		DataPath:   cfg.Data.Path,
		MetricTask: task,
		Metrics:    names,
		Model: ModelSettings{
			Type:         mc.Type,
			Solver:       mc.Solver,
			Alpha:        *mc.Alpha,
			LearningRate: *mc.LearningRate,
			Tol:          *mc.Tol,
			MaxIter:      *mc.MaxIter,
			FitIntercept: *mc.FitIntercept,
			Standardize:  *mc.Standardize,
			Boosting:     boostingSettings(mc),
		},
		TestSize:      *cfg.Split.TestSize,
		Seed:          *cfg.Split.Seed,
		Missing:       cfg.Data.Missing,
		MaxCategories: *cfg.Data.MaxCategories,
		Decimal:       decimalSetting(cfg),
		Dates:         cfg.Data.Dates,
	}, nil
}

// boostingSettings resolves gradient_boosting's settings; zero for other
// models.
func boostingSettings(mc config.Model) BoostingSettings {
	if mc.Type != config.TypeGradientBoosting {
		return BoostingSettings{}
	}
	b := BoostingSettings{
		MaxLeafNodes:       *mc.MaxLeafNodes,
		MinSamplesLeaf:     *mc.MinSamplesLeaf,
		MaxBins:            *mc.MaxBins,
		NIterNoChange:      *mc.NIterNoChange,
		L2Regularization:   *mc.L2Regularization,
		ValidationFraction: *mc.ValidationFraction,
		EarlyStopping:      mc.EarlyStopping,
		Seed:               *mc.Seed,
	}
	if mc.MaxDepth != nil {
		b.MaxDepth = *mc.MaxDepth
	}
	return b
}
