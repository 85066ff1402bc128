package action

import (
	"context"
	"fmt"
	"maps"

	"github.com/modelci/modelci/internal/compare"
	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/train"
)

// Trainer trains the challenger from the checkout.
type Trainer interface {
	// Train fits the model that cfg describes and writes its model
	// directory to outDir.
	Train(ctx context.Context, cfg *config.Config, outDir string) (*TrainResult, error)
}

// TrainResult is a trained challenger.
type TrainResult struct {
	// ModelDir holds model.json, metrics.json and profile.json.
	ModelDir string
	// Result is the training run (model, metrics, frame, split rows).
	Result *train.Result
	// Metrics are the test-split metrics by name: the `metrics` output.
	Metrics map[string]float64
}

// Comparer compares the challenger with the baseline and renders the
// report. `modelci run` uses *compare.Comparer, the same pipeline as
// `modelci diff`.
type Comparer interface {
	Compare(ctx context.Context, req compare.Request) (*compare.Report, error)
}

// PublishRequest asks for the model image to be built and pushed.
type PublishRequest struct {
	Config   *config.Config
	ModelDir string
	// Repository is the image repository: the image input, else
	// image.repository of modelci.yaml. Never empty.
	Repository string
	// Username and Password log in to the registry.
	Username, Password string
	// SHA and Ref are the commit being shipped.
	SHA, Ref string
	// Layout, when set, is an OCI layout directory to write the image to
	// instead of pushing it (a local run); Repository is then empty.
	Layout string
}

// PublishResult is the pushed image.
type PublishResult struct {
	// Digest is the manifest (index) digest, sha256:….
	Digest string
	// References are the pushed tags.
	References []string
}

// Shipper packages the model as an OCI image and pushes it, or writes it
// to an OCI layout on a local run: in `modelci run`, the same image
// pipeline as `modelci package` (internal/image).
type Shipper interface {
	Publish(ctx context.Context, req PublishRequest) (*PublishResult, error)
}

// Deps are the implementations `modelci run` uses; all are required but
// Trainer (nil means LocalTrainer).
type Deps struct {
	Trainer  Trainer
	Comparer Comparer
	Shipper  Shipper
}

// LocalTrainer trains in-process with internal/train.
type LocalTrainer struct {
	// Workers bounds parallelism (0 = GOMAXPROCS).
	Workers int
}

// Train runs train.Train and writes the model directory atomically.
func (t LocalTrainer) Train(ctx context.Context, cfg *config.Config, outDir string) (*TrainResult, error) {
	res, err := train.Train(ctx, cfg, train.Options{Workers: t.Workers})
	if err != nil {
		return nil, err
	}
	if err := train.Write(outDir, res); err != nil {
		return nil, fmt.Errorf("write the model to %s: %w", outDir, err)
	}
	var m map[string]float64
	if res.Metrics != nil {
		m = maps.Clone(res.Metrics.Metrics)
	}
	if m == nil {
		m = map[string]float64{}
	}
	return &TrainResult{ModelDir: outDir, Result: res, Metrics: m}, nil
}
