// Package metrics computes regression, binary and multiclass classification
// metrics that match scikit-learn 1.2 (on numpy 1.24) to the last bit or
// within a few units in the last place, and declares for each metric whether
// lower or higher values are better.
//
// Sums are computed like numpy's float64 add.reduce (pairwise summation in
// blocks of 128, over chunks of 8192 elements), so results are usually
// bit-identical to scikit-learn's, not just close.
package metrics

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Direction says which way a metric improves.
type Direction string

// Metric directions.
const (
	// Lower means smaller values are better (errors, losses).
	Lower Direction = "lower"
	// Higher means larger values are better (scores).
	Higher Direction = "higher"
)

// Task is the kind of model a metric applies to.
type Task string

// Tasks. (The names carry a Task prefix because Regression and
// Classification are the functions that compute the metrics.)
const (
	// TaskRegression metrics compare real-valued predictions with real targets.
	TaskRegression Task = "regression"
	// TaskClassification metrics compare class labels (and probabilities):
	// binary ones with Classification, k-class ones with Multiclass.
	TaskClassification Task = "classification"
)

// Info describes a metric.
type Info struct {
	// Name is the metric's identifier, e.g. "rmse".
	Name string
	// Task is the task the metric applies to.
	Task Task
	// Direction says whether lower or higher values are better.
	Direction Direction
	// Description is a one-line human-readable explanation.
	Description string
}

// Value is one computed metric.
type Value struct {
	// Name is the metric's identifier.
	Name string
	// Value is the metric's value; always finite.
	Value float64
	// Direction says whether lower or higher values are better.
	Direction Direction
}

// Skipped is a requested metric that is undefined for the given data, with
// the reason (e.g. ROC AUC when y_true has a single class).
type Skipped struct {
	// Name is the metric's identifier.
	Name string
	// Reason explains why the metric could not be computed.
	Reason string
}

// ErrUnknownMetric is wrapped by errors about metric names that do not exist
// or belong to another task.
var ErrUnknownMetric = errors.New("unknown metric")

// ErrInvalidInput is wrapped by errors about unusable inputs: length
// mismatches, empty inputs, NaN or Inf values, labels outside {0, 1} (or
// outside [0, k) for Multiclass).
var ErrInvalidInput = errors.New("invalid metric input")

// Metric names.
const (
	nameRMSE      = "rmse"
	nameMAE       = "mae"
	nameR2        = "r2"
	nameMSE       = "mse"
	nameMAPE      = "mape"
	nameMaxError  = "max_error"
	nameAccuracy  = "accuracy"
	namePrecision = "precision"
	nameRecall    = "recall"
	nameF1        = "f1"
	nameROCAUC    = "roc_auc"
	nameLogLoss   = "log_loss"

	nameBalancedAccuracy  = "balanced_accuracy"
	namePrecisionMacro    = "precision_macro"
	namePrecisionWeighted = "precision_weighted"
	nameRecallMacro       = "recall_macro"
	nameRecallWeighted    = "recall_weighted"
	nameF1Macro           = "f1_macro"
	nameF1Weighted        = "f1_weighted"
)

// registry returns every metric, regression first, in the stable order Names
// reports. It builds a fresh slice so no package state can be mutated.
func registry() []Info {
	return []Info{
		{nameRMSE, TaskRegression, Lower, "root mean squared error (sklearn mean_squared_error, squared=False)"},
		{nameMAE, TaskRegression, Lower, "mean absolute error (sklearn mean_absolute_error)"},
		{nameR2, TaskRegression, Higher, "coefficient of determination R² (sklearn r2_score)"},
		{nameMSE, TaskRegression, Lower, "mean squared error (sklearn mean_squared_error)"},
		{nameMAPE, TaskRegression, Lower, "mean absolute percentage error as a fraction, |y| floored at machine epsilon (sklearn mean_absolute_percentage_error)"},
		{nameMaxError, TaskRegression, Lower, "largest absolute error (sklearn max_error)"},
		{nameAccuracy, TaskClassification, Higher, "fraction of correct labels (sklearn accuracy_score)"},
		{namePrecision, TaskClassification, Higher, "TP / (TP + FP) for the positive class, 0 when nothing is predicted positive (sklearn precision_score)"},
		{nameRecall, TaskClassification, Higher, "TP / (TP + FN) for the positive class, 0 when there are no positives (sklearn recall_score)"},
		{nameF1, TaskClassification, Higher, "harmonic mean of precision and recall, 0 when both are 0 (sklearn f1_score)"},
		{nameROCAUC, TaskClassification, Higher, "area under the ROC curve of the positive-class probability (sklearn roc_auc_score)"},
		{nameLogLoss, TaskClassification, Lower, "mean negative log-likelihood, probabilities clipped to [ε, 1-ε] with ε = 2^-52 (sklearn 1.2 log_loss, eps=\"auto\")"},
		{nameBalancedAccuracy, TaskClassification, Higher, "mean recall over the classes present in y_true (sklearn balanced_accuracy_score)"},
		{namePrecisionMacro, TaskClassification, Higher, "unweighted mean of the per-class precisions (sklearn precision_score, average=\"macro\")"},
		{namePrecisionWeighted, TaskClassification, Higher, "support-weighted mean of the per-class precisions (sklearn precision_score, average=\"weighted\")"},
		{nameRecallMacro, TaskClassification, Higher, "unweighted mean of the per-class recalls (sklearn recall_score, average=\"macro\")"},
		{nameRecallWeighted, TaskClassification, Higher, "support-weighted mean of the per-class recalls (sklearn recall_score, average=\"weighted\")"},
		{nameF1Macro, TaskClassification, Higher, "unweighted mean of the per-class F1 scores (sklearn f1_score, average=\"macro\")"},
		{nameF1Weighted, TaskClassification, Higher, "support-weighted mean of the per-class F1 scores (sklearn f1_score, average=\"weighted\")"},
	}
}

// Lookup returns the metric called name.
func Lookup(name string) (Info, bool) {
	for _, in := range registry() {
		if in.Name == name {
			return in, true
		}
	}
	return Info{}, false
}

// Names returns the names of all metrics for task in a stable order, or nil
// for an unknown task.
func Names(task Task) []string {
	var out []string
	for _, in := range registry() {
		if in.Task == task {
			out = append(out, in.Name)
		}
	}
	return out
}

// Defaults returns the metrics computed when none are requested: for
// regression rmse, mae, r2, mse, mape, max_error; for classification
// accuracy, precision, recall, f1, roc_auc, log_loss. Nil for an unknown task.
func Defaults(task Task) []string {
	switch task {
	case TaskRegression:
		return []string{nameRMSE, nameMAE, nameR2, nameMSE, nameMAPE, nameMaxError}
	case TaskClassification:
		return []string{nameAccuracy, namePrecision, nameRecall, nameF1, nameROCAUC, nameLogLoss}
	}
	return nil
}

// MulticlassDefaults returns the metrics Multiclass computes when none are
// requested: accuracy, balanced_accuracy, precision_macro, recall_macro,
// f1_macro, f1_weighted, roc_auc, log_loss. They are classification metrics,
// so Validate(TaskClassification, ...) accepts them; Defaults stays the
// binary list.
func MulticlassDefaults() []string {
	return []string{nameAccuracy, nameBalancedAccuracy, namePrecisionMacro, nameRecallMacro, nameF1Macro, nameF1Weighted, nameROCAUC, nameLogLoss}
}

// Validate checks that every name is a metric of task and that none is listed
// twice. The error lists the valid names.
func Validate(task Task, names []string) error {
	valid := Names(task)
	if valid == nil {
		return fmt.Errorf("%w: unknown task %q (want %q or %q)", ErrUnknownMetric, task, TaskRegression, TaskClassification)
	}
	seen := make(map[string]bool, len(names))
	for _, name := range names {
		in, ok := Lookup(name)
		switch {
		case !ok:
			return fmt.Errorf("%w %q for %s; valid metrics: %s", ErrUnknownMetric, name, task, strings.Join(valid, ", "))
		case in.Task != task:
			return fmt.Errorf("%w: %q is a %s metric, not a %s one; valid metrics: %s", ErrUnknownMetric, name, in.Task, task, strings.Join(valid, ", "))
		case seen[name]:
			return fmt.Errorf("metric %q is listed more than once", name)
		}
		seen[name] = true
	}
	return nil
}

// resolve validates names for task, substituting the defaults for an empty
// list.
func resolve(task Task, names []string) ([]string, error) {
	if len(names) == 0 {
		return Defaults(task), nil
	}
	if err := Validate(task, names); err != nil {
		return nil, err
	}
	return names, nil
}

// result collects values and skips in the order the metrics were requested.
type result struct {
	values  []Value
	skipped []Skipped
}

// add records v for name, or a skip if v is not finite (e.g. an overflow).
func (r *result) add(name string, v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		r.skip(name, fmt.Sprintf("the result is not finite (%v): the inputs are too large for float64", v))
		return
	}
	in, _ := Lookup(name)
	r.values = append(r.values, Value{Name: name, Value: v, Direction: in.Direction})
}

func (r *result) skip(name, reason string) {
	r.skipped = append(r.skipped, Skipped{Name: name, Reason: reason})
}
