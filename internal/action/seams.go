package action

import (
	"context"
	"fmt"

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

// DiffRequest asks for the comparison of the challenger with a baseline.
type DiffRequest struct {
	Config *config.Config
	// ChallengerDir is the freshly trained model directory; Challenger is
	// its training run (frame and test rows included, so the baseline can
	// be scored on the same rows).
	ChallengerDir string
	Challenger    *train.Result
	// ChallengerRef and ChallengerSHA are the branch and commit the report
	// names for the challenger; empty means the checkout's HEAD. On GitLab
	// and Jenkins pull requests they are the PR's head, since the checkout
	// may be a merge commit that exists only in CI.
	ChallengerRef, ChallengerSHA string
	// Baseline is the resolved spec: "none" (no comparison: report the
	// challenger alone and check its absolute gates), "git:<sha or ref>",
	// "registry" or a model directory.
	Baseline string
	// Fallback is the spec to use when Baseline is "registry" and the
	// registry has no such image yet (the first release); empty for none.
	Fallback string
	// WorkDir is the project directory (the git checkout for git:).
	WorkDir string
	// Image is the image repository (the image input, else
	// image.repository), and Username/Password the registry credentials,
	// for the registry baseline.
	Image              string
	Username, Password string
}

// DiffResult is the comparison.
type DiffResult struct {
	// Markdown is the report. For the PR comment or MR note it must
	// contain sticky.Marker(cfg.Name) and stay under GitHub's 65,536
	// characters (GitLab allows 1,000,000).
	Markdown string
	// JSON is the machine-readable report.
	JSON []byte
	// Regressed says a metric got worse beyond noise.
	Regressed bool
	// GatesPassed says every quality gate passed.
	GatesPassed bool
}

// Differ compares the challenger with the baseline and renders the report.
// `modelci run`'s Differ (internal/cli) resolves the baseline with
// internal/baseline, compares with internal/diff and renders with
// internal/report, as `modelci diff` does.
type Differ interface {
	Diff(ctx context.Context, req DiffRequest) (*DiffResult, error)
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

// Publisher packages the model as an OCI image (internal/image in
// `modelci run`) and pushes it, or writes it to an OCI layout on a local
// run.
type Publisher interface {
	Publish(ctx context.Context, req PublishRequest) (*PublishResult, error)
}

// Deps are the implementations `modelci run` uses. Differ and Publisher
// may be nil in a build that lacks them: a run that needs the Differ
// fails with ErrNotWired, and a push to the default branch says that
// image push is not configured in this build instead of pretending.
type Deps struct {
	Trainer   Trainer
	Differ    Differ
	Publisher Publisher
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
	m := map[string]float64{}
	if res.Metrics != nil {
		for k, v := range res.Metrics.Metrics {
			m[k] = v
		}
	}
	return &TrainResult{ModelDir: outDir, Result: res, Metrics: m}, nil
}
