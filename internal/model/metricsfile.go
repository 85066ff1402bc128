package model

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/modelci/modelci/internal/inputfile"
)

// Metrics is the content of metrics.json: the model's scores on its
// held-out test rows and where they came from.
type Metrics struct {
	SchemaVersion int    `json:"schema_version"`
	Name          string `json:"name"`
	Task          string `json:"task"`
	// Metrics maps a metric name to its value on the test rows.
	Metrics map[string]float64 `json:"metrics"`
	// Directions maps a metric name to "lower" or "higher" (is better).
	Directions map[string]string `json:"directions"`
	// Skipped maps a metric that could not be computed to the reason.
	Skipped map[string]string `json:"skipped,omitempty"`
	Split   SplitInfo         `json:"split"`
	Data    DataInfo          `json:"data"`
	// Classes and ConfusionMatrix (rows: true class, columns: predicted)
	// are set for classifiers.
	Classes         []string `json:"classes,omitempty"`
	ConfusionMatrix [][]int  `json:"confusion_matrix,omitempty"`
	// UnseenCategories counts test values of categorical features that
	// were not seen in training, by feature.
	UnseenCategories map[string]int `json:"unseen_categories,omitempty"`
	// Warnings are notes about the fit a reviewer should see.
	Warnings []string `json:"warnings,omitempty"`
}

// SplitInfo describes the train/test split.
type SplitInfo struct {
	TrainRows int     `json:"train_rows"`
	TestRows  int     `json:"test_rows"`
	TestSize  float64 `json:"test_size"`
	Seed      uint32  `json:"seed"`
}

// DataInfo describes the input data.
type DataInfo struct {
	// Path is data.path as written in the config.
	Path string `json:"path"`
	// SHA256 is the hex sha256 of the (decompressed) data file.
	SHA256 string `json:"sha256"`
	// Rows is the number of data rows in the file; Used is how many remained
	// after dropping rows.
	Rows int `json:"rows"`
	Used int `json:"used"`
	// DroppedMissingTarget counts rows dropped because the target was
	// missing; DroppedMissingFeatures rows dropped by the drop policy.
	DroppedMissingTarget   int `json:"dropped_missing_target"`
	DroppedMissingFeatures int `json:"dropped_missing_features"`
	// Imputed counts imputed values per feature (training and test rows).
	Imputed map[string]int `json:"imputed,omitempty"`
	// Columns maps every column used to its type.
	Columns map[string]string `json:"columns"`
}

// ReadMetrics reads metrics.json from a model directory.
func ReadMetrics(dir string) (*Metrics, error) {
	path := filepath.Join(dir, FileMetrics)
	b, err := inputfile.ReadFile(path, inputfile.MaxJSON)
	if err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	return ParseMetrics(b, path)
}

// ParseMetrics decodes metrics.json bytes; name is used in errors.
func ParseMetrics(b []byte, name string) (*Metrics, error) {
	var m Metrics
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: decode %s: %w", ErrCorrupt, name, err)
	}
	if m.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("%w: %s has schema_version %d, this build reads %d", ErrIncompatible, name, m.SchemaVersion, SchemaVersion)
	}
	return &m, nil
}
