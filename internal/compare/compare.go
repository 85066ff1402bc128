// Package compare provides the champion-versus-challenger pipeline that
// `modelci diff` and `modelci run` share: resolve the champion (a model
// directory, a commit trained in a temporary worktree, the registry's
// image, or none), name the challenger's commit, score both on the
// challenger's test rows (internal/diff), and render the report
// (internal/report) as Markdown and JSON.
package compare

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/modelci/modelci/internal/baseline"
	"github.com/modelci/modelci/internal/ci"
	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/diff"
	"github.com/modelci/modelci/internal/exitcode"
	"github.com/modelci/modelci/internal/image"
	"github.com/modelci/modelci/internal/proc"
	"github.com/modelci/modelci/internal/report"
)

// Comparer compares challengers with their champions.
type Comparer struct {
	// Env runs git (Run; nil means the git binary) and reads the CI's
	// branch variables (Getenv; nil means none), which name a challenger
	// whose checkout is detached.
	Env proc.Env
	// Registry opens the registry baseline of an image repository with
	// explicit credentials (empty for the keychain's own); nil makes
	// registry baselines fail with baseline.ErrNotConfigured.
	Registry func(repository, username, password string) baseline.Registry
	// TempDir holds temporary worktrees and models ("" = system default).
	TempDir string
	// Workers bounds parallelism (0 = GOMAXPROCS).
	Workers int
}

// Request asks for one comparison.
type Request struct {
	Config *config.Config
	// Challenger is the model under review with its data and test rows.
	Challenger *diff.Challenger
	// Warnings go into the report as they are.
	Warnings []string
	// Baseline is the champion; Fallback, when not nil, is used while a
	// registry baseline has no image yet (the first release).
	Baseline baseline.Spec
	Fallback *baseline.Spec
	// Dir is the checkout that names the challenger (default: the
	// config's directory).
	Dir string
	// Ref and SHA name the challenger; both empty means Dir's HEAD, with
	// the CI's branch when the checkout is detached. On GitLab and
	// Jenkins pull requests they are the PR's head, since the checkout may
	// be a merge commit that exists only in CI.
	Ref, SHA string
	// Trained says the challenger was trained from Dir's working tree, so
	// uncommitted changes there are flagged in the report.
	Trained bool
	// Image is the image repository of a registry baseline (default:
	// image.repository of the config); Username and Password log in to it.
	Image              string
	Username, Password string
}

// Report is a comparison and its renderings.
type Report struct {
	// Result is the comparison itself; nil in reports that other
	// implementations of the pipeline return.
	Result *diff.Result
	// Markdown is the report. For the PR comment or MR note it contains
	// sticky.Marker(cfg.Name) and stays under GitHub's 65,536 characters.
	Markdown string
	// JSON is the machine-readable report.
	JSON []byte
	// Regressed says a metric got worse beyond noise.
	Regressed bool
	// GatesPassed says every quality gate passed.
	GatesPassed bool
}

// Compare runs the pipeline for req.
func (c *Comparer) Compare(ctx context.Context, req Request) (*Report, error) {
	if req.Config == nil || req.Challenger == nil {
		return nil, errors.New("compare: the request needs the config and the challenger")
	}
	cfg := req.Config
	r := &baseline.Resolver{Run: c.Env.Run, TempDir: c.TempDir, Workers: c.Workers}
	if c.Registry != nil && (req.Baseline.Kind == baseline.KindRegistry || req.Fallback != nil && req.Fallback.Kind == baseline.KindRegistry) {
		repo := req.Image
		if repo == "" {
			repo = cfg.Image.Repository
		}
		if repo != "" {
			r.Registry = c.Registry(repo, req.Username, req.Password)
		}
	}
	chal := *req.Challenger
	chal.Ref, chal.SHA = req.Ref, req.SHA
	if chal.Ref == "" && chal.SHA == "" {
		dir := req.Dir
		if dir == "" {
			dir = cfg.Dir
		}
		chal.Ref, chal.SHA = c.head(ctx, r, dir)
		if req.Trained && chal.SHA != "" {
			// A failed check says nothing.
			d, err := r.Dirty(ctx, dir)
			chal.UncommittedChanges = err == nil && d
		}
	}
	res, err := c.compare(ctx, r, req, &chal)
	if err != nil {
		return nil, err
	}
	md, err := report.Markdown(res, report.OptionsFromConfig(cfg.Report))
	if err != nil {
		return nil, err
	}
	js, err := report.JSON(res)
	if err != nil {
		return nil, err
	}
	return &Report{Result: res, Markdown: md, JSON: js, Regressed: res.Regressed(), GatesPassed: !res.Failed()}, nil
}

// head names the challenger's commit from git, falling back to the CI's
// branch when the checkout is detached; a failed lookup names nothing.
func (c *Comparer) head(ctx context.Context, r *baseline.Resolver, dir string) (ref, sha string) {
	ref, sha, err := r.Head(ctx, dir)
	if err != nil {
		return "", ""
	}
	if (ref == "HEAD" || ref == "") && c.Env.Getenv != nil {
		ref = ci.HeadBranch(c.Env.Getenv)
	}
	return ref, sha
}

// compare resolves the champion and compares the challenger with it.
func (c *Comparer) compare(ctx context.Context, r *baseline.Resolver, req Request, chal *diff.Challenger) (*diff.Result, error) {
	cfg := req.Config
	champ, warning, err := r.ResolveWithFallback(ctx, req.Baseline, req.Fallback, cfg)
	if err != nil {
		return nil, err
	}
	defer champ.Close()
	warnings := append([]string(nil), req.Warnings...)
	if warning != "" {
		warnings = append(warnings, warning)
	}
	in := diff.Input{
		Name:          cfg.Name,
		Baseline:      diff.BaselineInfo{Kind: champ.Kind, Spec: champ.Spec, Note: champ.Note},
		Challenger:    *chal,
		ChampionFrame: diff.ChampionFrameLoader(cfg, chal.Frame.Header, c.Workers),
		Options:       diff.OptionsFromConfig(cfg, c.Workers),
		Warnings:      warnings,
	}
	if champ.Dir != "" {
		m, err := diff.LoadChampion(champ.Dir)
		if err != nil {
			return nil, err
		}
		m.Ref, m.SHA, m.Digest = champ.Ref, champ.SHA, champ.Digest
		in.Champion = m
	}
	return diff.Compare(ctx, in)
}

// GateError is the exit-3 error of failed quality gates, nil if none
// failed.
func (r *Report) GateError() error {
	if r.Result == nil {
		if r.GatesPassed {
			return nil
		}
		return exitcode.AsGate(errors.New("quality gates failed"))
	}
	res := r.Result
	if !res.Failed() {
		return nil
	}
	var failed []string
	for _, g := range res.Gates {
		if g.Status == diff.GateFailed {
			failed = append(failed, fmt.Sprintf("%s %s %s", g.Metric, g.Rule, g.Limit))
		}
	}
	return exitcode.AsGate(fmt.Errorf("%d quality gate(s) failed: %s", res.GatesFailed, strings.Join(failed, "; ")))
}

// Summary says in one line what the comparison found, for a terminal.
func (r *Report) Summary() string {
	res := r.Result
	if res == nil {
		return fmt.Sprintf("regressed: %v, gates passed: %v", r.Regressed, r.GatesPassed)
	}
	var parts []string
	switch {
	case res.Champion == nil:
		parts = append(parts, "no baseline")
	case !res.Comparable:
		parts = append(parts, "not comparable")
	default:
		better, worse := 0, 0
		for _, m := range res.Metrics {
			switch m.Status {
			case diff.StatusBetter:
				better++
			case diff.StatusWorse:
				worse++
			}
		}
		parts = append(parts, fmt.Sprintf("%d better, %d worse, %d within noise or unchanged", better, worse, len(res.Metrics)-better-worse))
	}
	switch {
	case len(res.Gates) == 0:
		parts = append(parts, "no gates")
	case res.Failed():
		parts = append(parts, fmt.Sprintf("%d gate check(s) FAILED", res.GatesFailed))
	default:
		parts = append(parts, "gates passed")
	}
	return strings.Join(parts, "; ")
}

// RegistrySource is the registry baseline of an image repository: the
// model layer of its images, fetched with the keychain of creds (whose
// explicit username and password are limited to the repository's
// registry). A tag that does not exist yet (the first release) is
// baseline.ErrNoModel, so the resolver can fall back. It is nil when the
// repository is not a valid reference.
func RegistrySource(repository string, creds image.Credentials, userAgent string) baseline.Registry {
	repo, err := image.ParseRepository(repository, false)
	if err != nil {
		return nil
	}
	creds.Registry = repo.RegistryStr()
	return registrySource{src: &image.RegistrySource{
		Repository: repository,
		Fetcher:    &image.Fetcher{Keychain: image.NewKeychain(creds), UserAgent: userAgent},
	}}
}

// registrySource adapts the image package's fetcher to baseline.Registry.
type registrySource struct {
	src *image.RegistrySource
}

// FetchModel implements baseline.Registry.
func (r registrySource) FetchModel(ctx context.Context, tag, dstDir string) (string, string, error) {
	ref, digest, err := r.src.FetchModel(ctx, tag, dstDir)
	if errors.Is(err, image.ErrNotFound) {
		return "", "", fmt.Errorf("%w: %w", baseline.ErrNoModel, err)
	}
	return ref, digest, err
}
