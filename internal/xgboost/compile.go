package xgboost

import (
	"fmt"
	"strconv"

	"github.com/modelci/modelci/internal/model"
)

// Compile builds a schema version 2 model.Model over NumFeature numeric
// features named features (nil: FeatureNames, or f0, f1, ... when the file
// has none), in the model's column order, which model.NewProgram scores:
// Raw gives XGBoost's margins, and the link gives its prediction.
//
// Each feature is fed as it is (Scale 1, Center 0). A tree model keeps
// missing values (policy keep: NaN takes each split's default child). A
// gblinear model adds nothing for a missing value, which is imputing 0, so
// its features impute 0 (policy mean with Impute 0), because modelci's
// linear blocks cannot keep NaN. A categorical feature (feature_types "c")
// is fed as its category code, the number XGBoost splits on (pandas'
// cat.codes); it is a numeric feature to modelci. A classifier's classes
// are "0" to "K-1", XGBoost's labels.
func (m *Model) Compile(features []string) (*model.Model, error) {
	if features == nil {
		features = m.FeatureNames
	}
	if len(features) == 0 {
		features = make([]string, m.NumFeature)
		for j := range features {
			features[j] = "f" + strconv.Itoa(j)
		}
	}
	if len(features) != m.NumFeature {
		return nil, fmt.Errorf("xgboost: %d feature names for a model of %d features", len(features), m.NumFeature)
	}
	out := &model.Model{
		SchemaVersion: model.MaxSchemaVersion,
		Name:          "xgboost",
		Task:          m.Task,
		Algorithm:     "xgboost_" + m.Booster,
		Target:        "y",
		Columns:       append([]string(nil), features...),
		Outputs:       m.Outputs,
		Link:          m.Link,
		Predictor:     &m.Block,
	}
	zero := 0.0
	for _, name := range features {
		f := model.Feature{Name: name, Type: model.Numeric, Missing: model.MissingKeep, Scale: 1}
		if m.Block.Linear != nil {
			f.Missing, f.Impute = "mean", &zero
		}
		out.Features = append(out.Features, f)
	}
	for c := range m.Classes {
		out.Classes = append(out.Classes, strconv.Itoa(c))
	}
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("xgboost: compile %s model: %w", m.Objective, err)
	}
	return out, nil
}
