// Package diff compares the production model (the champion) with this
// commit's model (the challenger) on the same test rows: metric changes with
// paired bootstrap intervals, quality gates, data drift against the
// champion's training profile and coefficient changes. The outcome is a
// Result, a JSON-serialisable document that package report renders.
package diff

import (
	"strconv"

	"github.com/modelci/modelci/internal/evaluate"
	"github.com/modelci/modelci/internal/model"
)

// SchemaVersion is the version of the Result JSON document.
const SchemaVersion = 1

// Metric statuses.
const (
	StatusBetter        = "better"
	StatusWorse         = "worse"
	StatusWithinNoise   = "within_noise"
	StatusUnchanged     = "unchanged"
	StatusNoBaseline    = "no_baseline"
	StatusNotComparable = "not_comparable"
	StatusSkipped       = "skipped"
)

// Gate statuses.
const (
	GatePassed  = "passed"
	GateFailed  = "failed"
	GateSkipped = "skipped"
)

// Drift statuses: the PSI levels of package profile, plus changes of the
// feature itself.
const (
	DriftStable      = "stable"
	DriftModerate    = "moderate"
	DriftSignificant = "significant"
	DriftAdded       = "added"
	DriftRemoved     = "removed"
	DriftTypeChanged = "type_changed"
	DriftNoData      = "no_data"
)

// Result is the full comparison. Field names are stable; `modelci diff
// --format json` prints it as is.
type Result struct {
	SchemaVersion int    `json:"schema_version"`
	Name          string `json:"name"`
	Task          string `json:"task"`
	// Baseline says how the champion was found.
	Baseline BaselineInfo `json:"baseline"`
	// Champion is nil when there is no baseline (first model).
	Champion   *Side `json:"champion"`
	Challenger Side  `json:"challenger"`
	// Comparable is true when both models were scored on the same rows.
	// Without a baseline it is false and NotComparable is nil.
	Comparable    bool           `json:"comparable"`
	NotComparable *NotComparable `json:"not_comparable,omitempty"`
	// Rows describes the rows the metrics were computed on.
	Rows RowsInfo `json:"rows"`
	// Bootstrap is set when intervals were computed.
	Bootstrap *BootstrapInfo `json:"bootstrap,omitempty"`
	Metrics   []Metric       `json:"metrics"`
	Gates     []GateResult   `json:"gates"`
	// GatesFailed counts failed gate checks; exit code 3 when > 0.
	GatesFailed int `json:"gates_failed"`
	// Data compares the data and features of the two models.
	Data DataChange `json:"data"`
	// Drift compares the challenger's training rows with the champion's
	// training profile, feature by feature, most shifted first.
	Drift       []Drift `json:"drift,omitempty"`
	TargetDrift *Drift  `json:"target_drift,omitempty"`
	// Coefficients compares the fitted coefficients of two linear models
	// with the same outputs; Fit compares any other two models.
	Coefficients *Coefficients `json:"coefficients,omitempty"`
	Fit          *Fit          `json:"fit,omitempty"`
	// Chart holds the series of the report's chart.
	Chart *Chart `json:"chart,omitempty"`
	// Warnings are notes a reviewer must see.
	Warnings []string `json:"warnings,omitempty"`
}

// Failed reports whether a quality gate failed.
func (r *Result) Failed() bool { return r.GatesFailed > 0 }

// Regressed reports whether a metric got worse: significantly, when an
// interval was computed.
func (r *Result) Regressed() bool {
	for _, m := range r.Metrics {
		if m.Status == StatusWorse {
			return true
		}
	}
	return false
}

// ConfidenceLabel is the bootstrap's confidence level as a percentage,
// e.g. "95%"; empty when no interval was computed.
func (r *Result) ConfidenceLabel() string {
	if r.Bootstrap == nil {
		return ""
	}
	return strconv.FormatFloat(r.Bootstrap.Confidence*100, 'g', 4, 64) + "%"
}

// BaselineInfo says where the champion came from.
type BaselineInfo struct {
	// Kind is none, dir, git or registry.
	Kind string `json:"kind"`
	// Spec is the baseline as requested, e.g. "git:main".
	Spec string `json:"spec"`
	// Note explains a special case, e.g. "no modelci.yaml at main: first
	// model".
	Note string `json:"note,omitempty"`
}

// Side describes one model.
type Side struct {
	// Ref is the branch, tag or image reference; SHA the commit; Digest the
	// image digest (registry baselines).
	Ref       string   `json:"ref,omitempty"`
	SHA       string   `json:"sha,omitempty"`
	Digest    string   `json:"digest,omitempty"`
	Algorithm string   `json:"algorithm"`
	Target    string   `json:"target"`
	Classes   []string `json:"classes,omitempty"`
	// Features and Columns count input features and encoded columns.
	Features int `json:"features"`
	Columns  int `json:"columns"`
	// Data is the data the model was trained on.
	Data DataInfo `json:"data"`
	// Training holds the fit settings and outcome from model.json.
	Training model.Training `json:"training"`
	// ConfusionMatrix is the classifier's confusion matrix on the shared
	// rows (on its own test rows when not comparable).
	ConfusionMatrix [][]int `json:"confusion_matrix,omitempty"`
	// UncommittedChanges says the challenger was trained from a working
	// tree that differs from SHA, so that commit alone does not reproduce
	// it.
	UncommittedChanges bool `json:"uncommitted_changes,omitempty"`
}

// DataInfo describes a model's data.
type DataInfo struct {
	Path   string `json:"path,omitempty"`
	SHA256 string `json:"sha256"`
	// Rows is the number of data rows; Used how many remained after
	// dropping rows with a missing target or (policy drop) feature.
	Rows                   int `json:"rows"`
	Used                   int `json:"used"`
	TrainRows              int `json:"train_rows"`
	TestRows               int `json:"test_rows"`
	DroppedMissingTarget   int `json:"dropped_missing_target"`
	DroppedMissingFeatures int `json:"dropped_missing_features"`
}

// NotComparable explains why the models could not be scored on the same
// rows. The champion's figures are then its stored metrics.json values,
// computed on its own test rows.
type NotComparable struct {
	Reason string `json:"reason"`
	// Changes lists columns the champion needs that the data lacks
	// ("removed"), that changed type ("type"), and features the
	// challenger added ("added").
	Changes []evaluate.ColumnChange `json:"changes,omitempty"`
}

// RowsInfo describes the rows the comparison used.
type RowsInfo struct {
	// Test is the number of the challenger's test rows.
	Test int `json:"test"`
	// Shared is the number of test rows both models scored; the metrics
	// and intervals use exactly these rows.
	Shared int `json:"shared"`
	// DroppedByChallenger and DroppedByChampion count test rows a model
	// could not score (missing value under data.missing: drop).
	DroppedByChallenger int `json:"dropped_by_challenger"`
	DroppedByChampion   int `json:"dropped_by_champion"`
}

// BootstrapInfo records the bootstrap settings.
type BootstrapInfo struct {
	Resamples  int     `json:"resamples"`
	Confidence float64 `json:"confidence"`
	Seed       uint32  `json:"seed"`
}

// Metric is one metric of both models.
type Metric struct {
	Name string `json:"name"`
	// Direction is "lower" or "higher" (is better).
	Direction  string   `json:"direction"`
	Champion   *float64 `json:"champion"`
	Challenger *float64 `json:"challenger"`
	// Change is challenger − champion; ChangePercent is Change relative to
	// |champion|, in percent (nil when the champion's value is 0).
	Change        *float64 `json:"change"`
	ChangePercent *float64 `json:"change_percent"`
	// Interval is the paired bootstrap interval of Change.
	Interval *Interval `json:"interval,omitempty"`
	// Status is better, worse, within_noise, unchanged, no_baseline,
	// not_comparable or skipped.
	Status     string `json:"status"`
	GateFailed bool   `json:"gate_failed"`
	// Skipped says why a value is missing.
	Skipped string `json:"skipped,omitempty"`
}

// GateResult is the outcome of one rule of one gate.
type GateResult struct {
	Metric string `json:"metric"`
	// Rule is min, max, max_increase or max_decrease; Limit the configured
	// bound as written ("2%", "0.8").
	Rule  string `json:"rule"`
	Limit string `json:"limit"`
	// Actual is the value checked against Limit: the challenger's value for
	// min/max, the change (in percent for a percentage limit) otherwise.
	Actual *float64 `json:"actual,omitempty"`
	// Status is passed, failed or skipped.
	Status string `json:"status"`
	// Detail explains the outcome in words.
	Detail string `json:"detail"`
	// OnlyIfSignificant echoes the gate's setting.
	OnlyIfSignificant bool `json:"only_if_significant,omitempty"`
}

// DataChange compares the two models' data and features.
type DataChange struct {
	// SameData is true when both were trained on byte-identical data.
	SameData bool `json:"same_data"`
	// RowsChanged is true when the number of data rows differs.
	RowsChanged bool `json:"rows_changed"`
	// RowsChange is challenger rows − champion rows.
	RowsChange int `json:"rows_change"`
	// FeaturesAdded and FeaturesRemoved compare the models' input
	// features; TypeChanged lists features whose type differs.
	FeaturesAdded   []string     `json:"features_added,omitempty"`
	FeaturesRemoved []string     `json:"features_removed,omitempty"`
	TypeChanged     []TypeChange `json:"type_changed,omitempty"`
}

// TypeChange is a feature whose type differs between the models.
type TypeChange struct {
	Name       string `json:"name"`
	Champion   string `json:"champion"`
	Challenger string `json:"challenger"`
}

// Drift is the shift of one feature between the champion's training data
// (its profile.json) and the challenger's training rows.
type Drift struct {
	Feature string `json:"feature"`
	Type    string `json:"type"`
	// PSI is the population stability index on the champion's bins.
	PSI *float64 `json:"psi,omitempty"`
	// Status is stable (< 0.1), moderate (< 0.25), significant, added,
	// removed, type_changed or no_data.
	Status string `json:"status"`
	// Mean of a numeric feature in the champion's and the challenger's
	// training rows; MissingFraction likewise.
	ChampionMean          *float64 `json:"champion_mean,omitempty"`
	ChallengerMean        *float64 `json:"challenger_mean,omitempty"`
	ChampionMissingRate   float64  `json:"champion_missing_rate"`
	ChallengerMissingRate float64  `json:"challenger_missing_rate"`
	// NewCategories counts challenger values of a categorical feature that
	// the champion never saw.
	NewCategories int `json:"new_categories,omitempty"`
}

// Coefficients compares the fitted coefficients, which act on the encoded
// (imputed, standardized, one-hot) columns.
type Coefficients struct {
	// Standardized is true when both models standardize numeric features,
	// so coefficients are per standard deviation.
	Standardized bool       `json:"standardized"`
	Intercept    CoefChange `json:"intercept"`
	// Columns are sorted by |change|, largest first; columns only one model
	// has come first, largest coefficient first.
	Columns []CoefChange `json:"columns"`
}

// Fit compares what fits two models of different kinds (a linear champion
// and a tree challenger) or with different numbers of outputs.
type Fit struct {
	Champion   FitSide `json:"champion"`
	Challenger FitSide `json:"challenger"`
	// Importance is each input feature's share of the total split gain of
	// the tree ensembles (nil for a linear side), largest first; empty when
	// neither model has trees.
	Importance []ImportanceChange `json:"importance,omitempty"`
}

// FitSide is what fits one model.
type FitSide struct {
	// Kind is linear or trees (model.Summary's kind).
	Kind    string `json:"kind"`
	Outputs int    `json:"outputs"`
	// Trees and Leaves count a tree ensemble's trees and leaves;
	// Coefficients counts a linear model's non-zero coefficients.
	Trees        int `json:"trees,omitempty"`
	Leaves       int `json:"leaves,omitempty"`
	Coefficients int `json:"coefficients,omitempty"`
}

// ImportanceChange is one feature's importance in both models.
type ImportanceChange struct {
	Feature    string   `json:"feature"`
	Champion   *float64 `json:"champion"`
	Challenger *float64 `json:"challenger"`
}

// CoefChange is one coefficient of both models.
type CoefChange struct {
	Column     string   `json:"column"`
	Champion   *float64 `json:"champion"`
	Challenger *float64 `json:"challenger"`
	Change     *float64 `json:"change"`
}

// Chart is the data of the report's chart.
type Chart struct {
	// Kind is residual_deciles (regression) or per_class (classification).
	Kind   string   `json:"kind"`
	Title  string   `json:"title"`
	YLabel string   `json:"y_label"`
	Labels []string `json:"labels"`
	// Champion is empty without a comparable baseline.
	Champion   []float64 `json:"champion,omitempty"`
	Challenger []float64 `json:"challenger"`
}
