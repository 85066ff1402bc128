package diff

import (
	"testing"

	"github.com/modelci/modelci/internal/dataset"
	"github.com/modelci/modelci/internal/model"
	"github.com/modelci/modelci/internal/profile"
)

// TestDriftSkipsDates: a date feature has no profile, so it is not
// reported as added on every diff; a new numeric feature still is.
func TestDriftSkipsDates(t *testing.T) {
	t.Parallel()
	prof := &profile.Profile{SchemaVersion: profile.SchemaVersion}
	chal := &model.Model{Features: []model.Feature{{Name: "when", Type: model.Date}, {Name: "x", Type: model.Numeric}}}
	f := &dataset.Frame{Name: "d.csv"}
	out, _ := drift(prof, f, nil, chal, chal)
	if len(out) != 1 || out[0].Feature != "x" || out[0].Status != DriftAdded {
		t.Errorf("drift = %+v, want only x added", out)
	}
}
