package diff

import (
	"github.com/modelci/modelci/internal/revision"

	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/dataset"
	"github.com/modelci/modelci/internal/model"
	"github.com/modelci/modelci/internal/profile"
	"github.com/modelci/modelci/internal/train"
)

// LoadChampion reads a model directory as the champion: model.json with its
// checksums verified, metrics.json and profile.json.
func LoadChampion(dir string) (*Champion, error) {
	m, err := model.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("champion %s: %w", dir, err)
	}
	mf, err := model.ReadMetrics(dir)
	if err != nil {
		return nil, fmt.Errorf("champion %s: %w", dir, err)
	}
	prof, err := profile.Load(filepath.Join(dir, model.FileProfile))
	if err != nil {
		return nil, fmt.Errorf("champion %s: %w", dir, err)
	}
	return &Champion{Model: m, Metrics: mf, Profile: prof}, nil
}

// ChallengerFromTraining is the challenger of a training run that just
// happened.
func ChallengerFromTraining(cfg *config.Config, res *train.Result) *Challenger {
	return &Challenger{
		Model:     res.Model,
		Frame:     res.Frame,
		Selection: res.Selection,
		DataPath:  cfg.Data.Path,
	}
}

// ChallengerFromModel loads a trained model directory and recomputes its
// test rows from the config's data, as training selected them. The
// warnings say when the model does not match the config's data or split,
// because then the recomputed test rows may include its training rows.
func ChallengerFromModel(ctx context.Context, cfg *config.Config, dir string, workers int) (*Challenger, []string, error) {
	m, err := model.Load(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("challenger %s: %w", dir, err)
	}
	f, err := train.LoadData(ctx, cfg, workers)
	if err != nil {
		return nil, nil, err
	}
	sel, err := train.Rows(cfg, f)
	if err != nil {
		return nil, nil, err
	}
	var warnings []string
	tr := m.Training
	if tr.DataSHA256 != f.SHA256 {
		warnings = append(warnings, fmt.Sprintf("DATA MISMATCH: the challenger model in %s was trained on data with sha256 %s, but %s now has sha256 %s; its test rows were recomputed from the current data and may include rows it was trained on, so its figures may be optimistic", dir, revision.Short(tr.DataSHA256), cfg.Data.Path, revision.Short(f.SHA256)))
	}
	if tr.Seed != *cfg.Split.Seed || tr.TestSize != *cfg.Split.TestSize {
		warnings = append(warnings, fmt.Sprintf("SPLIT MISMATCH: the challenger model in %s was split with seed %d and test_size %g, the config says seed %d and test_size %g; its test rows were recomputed from the config and may include rows it was trained on", dir, tr.Seed, tr.TestSize, *cfg.Split.Seed, *cfg.Split.TestSize))
	} else if tr.DataSHA256 == f.SHA256 && tr.TestRows != len(sel.Test) {
		warnings = append(warnings, fmt.Sprintf("the challenger model in %s was evaluated on %d test rows, but the config selects %d; check data.missing and data.features", dir, tr.TestRows, len(sel.Test)))
	}
	if m.Name != cfg.Name {
		warnings = append(warnings, fmt.Sprintf("the challenger model in %s is named %q, the config %q", dir, m.Name, cfg.Name))
	}
	return &Challenger{Model: m, Frame: f, Selection: sel, DataPath: cfg.Data.Path}, warnings, nil
}

// ChampionFrameLoader returns a FrameLoader that re-reads the config's data
// file for a model: its categorical features (and a classifier's target) as
// categorical, and only the columns it needs that header has.
func ChampionFrameLoader(cfg *config.Config, header []string, workers int) FrameLoader {
	return func(ctx context.Context, m *model.Model) (*dataset.Frame, error) {
		opts := dataset.Options{Delimiter: cfg.DelimiterRune(), Workers: workers, DecimalComma: cfg.DecimalComma()}
		opts.MaxBytes, opts.MaxRows = cfg.Data.Limits()
		for _, feat := range m.Features {
			if !slices.Contains(header, feat.Name) {
				continue
			}
			opts.Columns = append(opts.Columns, feat.Name)
			if feat.IsText() {
				opts.Categorical = append(opts.Categorical, feat.Name)
			}
		}
		if slices.Contains(header, m.Target) {
			opts.Columns = append(opts.Columns, m.Target)
			if m.IsClassifier() {
				opts.Categorical = append(opts.Categorical, m.Target)
			}
		}
		f, err := dataset.Load(ctx, cfg.DataPath(), opts)
		if err != nil {
			return nil, fmt.Errorf("load data: %w", err)
		}
		return f, nil
	}
}
