package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/modelci/modelci/internal/action"
	"github.com/modelci/modelci/internal/atomicfile"
	"github.com/modelci/modelci/internal/baseline"
	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/diff"
	"github.com/modelci/modelci/internal/exitcode"
	"github.com/modelci/modelci/internal/report"
	"github.com/modelci/modelci/internal/train"
)

// diffDeps are the side effects of `modelci diff` that tests replace.
type diffDeps struct {
	// git runs git (nil: the git binary).
	git baseline.Git
	// registry fetches registry baselines (nil: not configured).
	registry baseline.Registry
	// tempDir holds temporary worktrees and models ("" = system default).
	tempDir string
}

func newDiffCmd(env Env) *cobra.Command { return newDiffCmdWith(env, diffDeps{}) }

func newDiffCmdWith(env Env, deps diffDeps) *cobra.Command {
	var (
		cfgPath, baselineSpec, modelDir, format, out string
		challengerRef, challengerSHA                 string
		workers                                      int
	)
	cmd := &cobra.Command{
		Use:   "diff",
		Short: "Compare this commit's model with the production model on the same test rows",
		Long: `Scores the champion (--baseline) and the challenger (--model, or the model
trained from --config) on the challenger's test rows, puts a paired bootstrap
interval on every metric change, measures drift against the champion's
training profile, checks the quality gates of modelci.yaml and renders a
report for a pull request (--format markdown) or for machines (--format json).

--baseline is a model directory, git:<ref> (the config and data at that
commit, trained in a temporary worktree), registry[:<tag>] or none (first
model). Without it, baseline.ref of modelci.yaml is used.

Exit codes: 0 ok, 1 failure, 2 usage or configuration error, 3 a quality
gate failed (the report is written first).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if format != "markdown" && format != "json" {
				return usageError("--format must be markdown or json, got %q", format)
			}
			cfg, err := loadConfig(cfgPath)
			if err != nil {
				return err
			}
			spec, err := chooseBaseline(baselineSpec, cfg)
			if err != nil {
				return err
			}
			var chal *diff.Challenger
			var warnings []string
			if modelDir != "" {
				chal, warnings, err = diff.ChallengerFromModel(ctx, cfg, modelDir, workers)
			} else {
				var res *train.Result
				var budget int64
				if budget, err = memoryBudget(env); err != nil {
					return err
				}
				res, err = train.Train(ctx, cfg, train.Options{Workers: workers, MemoryBudget: budget})
				if err == nil {
					chal = diff.ChallengerFromTraining(cfg, res)
				}
			}
			if err != nil {
				return err
			}
			reg := deps.registry
			if reg == nil && spec.Kind == baseline.KindRegistry {
				reg = registryFor(env, cfg, "", "", nil)
			}
			resolver := &baseline.Resolver{Git: deps.git, Registry: reg, TempDir: deps.tempDir, Workers: workers}
			chal.Ref, chal.SHA = challengerRef, challengerSHA
			if chal.Ref == "" && chal.SHA == "" {
				chal.Ref, chal.SHA = headOf(ctx, resolver, cfg.Dir, env)
				// A challenger trained here is the working tree, not HEAD.
				chal.UncommittedChanges = modelDir == "" && chal.SHA != "" && dirty(ctx, resolver, cfg.Dir)
			}
			res, err := compareWithBaseline(ctx, resolver, cfg, spec, nil, chal, warnings, workers)
			if err != nil {
				return err
			}
			var body []byte
			if format == "json" {
				body, err = report.JSON(res)
			} else {
				var md string
				md, err = report.Markdown(res, report.OptionsFromConfig(cfg.Report))
				body = []byte(md)
			}
			if err != nil {
				return err
			}
			if out == "" || out == "-" {
				if _, err := env.Stdout.Write(body); err != nil {
					return fmt.Errorf("write the report: %w", err)
				}
			} else {
				if err := atomicfile.WriteFile(out, body, 0o644); err != nil {
					return fmt.Errorf("write the report: %w", err)
				}
				fmt.Fprintf(env.Stdout, "wrote %s: %s\n", out, oneLine(res))
			}
			return gateError(res)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&cfgPath, "config", "c", "modelci.yaml", "path to modelci.yaml")
	f.StringVarP(&baselineSpec, "baseline", "b", "", "champion: a model directory, git:<ref>, registry[:<tag>] or none (default: baseline.ref of modelci.yaml)")
	f.StringVarP(&modelDir, "model", "m", "", "challenger model directory (default: train it from --config)")
	f.StringVarP(&format, "format", "f", "markdown", "report format: markdown or json")
	f.StringVarP(&out, "out", "o", "-", "file to write the report to (- = standard output)")
	f.StringVar(&challengerRef, "challenger-ref", "", "branch or ref of the challenger (default: from git)")
	f.StringVar(&challengerSHA, "challenger-sha", "", "commit of the challenger (default: from git)")
	workersFlag(cmd, &workers)
	return cmd
}

// chooseBaseline picks the baseline spec: the flag, else baseline.ref of
// the config. "auto" needs the context of `modelci run`, so diff asks for
// an explicit baseline. A relative directory from the config is relative
// to the config file.
func chooseBaseline(flag string, cfg *config.Config) (baseline.Spec, error) {
	s, fromConfig := strings.TrimSpace(flag), false
	if s == "" {
		s, fromConfig = strings.TrimSpace(cfg.Baseline.Ref), true
	}
	if s == "" || s == "auto" {
		return baseline.Spec{}, usageError("diff needs a baseline: pass --baseline with a model directory, git:<ref>, registry or none (baseline.ref in modelci.yaml is %q, and auto is only meaningful for modelci run)", cfg.Baseline.Ref)
	}
	spec, err := baseline.Parse(s)
	if err != nil {
		return spec, err
	}
	if fromConfig && spec.Kind == baseline.KindDir && !filepath.IsAbs(spec.Value) {
		spec.Value = filepath.Join(cfg.Dir, spec.Value)
	}
	return spec, nil
}

// headOf names the challenger's commit from git, falling back to the CI's
// branch variables when the checkout is detached.
func headOf(ctx context.Context, r *baseline.Resolver, dir string, env Env) (ref, sha string) {
	ref, sha, err := r.Head(ctx, dir)
	if err != nil {
		return "", ""
	}
	if ref == "HEAD" || ref == "" {
		ref = ""
		if env.Getenv != nil {
			for _, v := range []string{"GITHUB_HEAD_REF", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME"} {
				if ref = env.Getenv(v); ref != "" {
					break
				}
			}
		}
	}
	return ref, sha
}

// dirty says the working tree of dir has uncommitted changes; a failed
// check says nothing.
func dirty(ctx context.Context, r *baseline.Resolver, dir string) bool {
	d, err := r.Dirty(ctx, dir)
	return err == nil && d
}

// compareWithBaseline resolves the champion and compares the challenger
// with it.
func compareWithBaseline(ctx context.Context, r *baseline.Resolver, cfg *config.Config, spec baseline.Spec, fallback *baseline.Spec, chal *diff.Challenger, warnings []string, workers int) (*diff.Result, error) {
	champ, warning, err := r.ResolveWithFallback(ctx, spec, fallback, cfg)
	if err != nil {
		return nil, err
	}
	defer champ.Close()
	if warning != "" {
		warnings = append(warnings, warning)
	}
	in := diff.Input{
		Name:          cfg.Name,
		Baseline:      diff.BaselineInfo{Kind: champ.Kind, Spec: champ.Spec, Note: champ.Note},
		Challenger:    *chal,
		ChampionFrame: diff.ChampionFrameLoader(cfg, chal.Frame.Header, workers),
		Options:       diff.OptionsFromConfig(cfg, workers),
		Warnings:      warnings,
	}
	if champ.Dir != "" {
		c, err := diff.LoadChampion(champ.Dir)
		if err != nil {
			return nil, err
		}
		c.Ref, c.SHA, c.Digest = champ.Ref, champ.SHA, champ.Digest
		in.Champion = c
	}
	return diff.Compare(ctx, in)
}

// gateError is the exit-3 error of failed quality gates, nil if none.
func gateError(res *diff.Result) error {
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

// oneLine summarises a result for the terminal.
func oneLine(res *diff.Result) string {
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

// reportDiffer is the Differ of `modelci run`: the same comparison and
// report as `modelci diff`, for a challenger that was just trained.
type reportDiffer struct {
	env     Env
	deps    diffDeps
	workers int
}

var _ action.Differ = reportDiffer{}

// Diff implements action.Differ.
func (d reportDiffer) Diff(ctx context.Context, req action.DiffRequest) (*action.DiffResult, error) {
	if req.Config == nil || req.Challenger == nil {
		return nil, errors.New("diff: the request needs the config and the challenger's training run")
	}
	cfg := req.Config
	spec, err := baseline.Parse(req.Baseline)
	if err != nil {
		return nil, err
	}
	if spec.Kind == baseline.KindDir && !filepath.IsAbs(spec.Value) && req.WorkDir != "" {
		spec.Value = filepath.Join(req.WorkDir, spec.Value)
	}
	var fallback *baseline.Spec
	if req.Fallback != "" {
		fb, err := baseline.Parse(req.Fallback)
		if err != nil {
			return nil, err
		}
		fallback = &fb
	}
	reg := d.deps.registry
	if reg == nil && spec.Kind == baseline.KindRegistry {
		rc := *cfg
		if req.Image != "" {
			rc.Image.Repository = req.Image
		}
		reg = registryFor(d.env, &rc, req.Username, req.Password, nil)
	}
	r := &baseline.Resolver{Git: d.deps.git, Registry: reg, TempDir: d.deps.tempDir, Workers: d.workers}
	chal := diff.ChallengerFromTraining(cfg, req.Challenger)
	dir := req.WorkDir
	if dir == "" {
		dir = cfg.Dir
	}
	if ref, sha, err := r.Head(ctx, dir); err == nil {
		chal.Ref, chal.SHA = ref, sha
		chal.UncommittedChanges = dirty(ctx, r, dir)
	}
	// On GitLab and Jenkins pull requests the checkout may be a merge
	// commit that exists only in CI: the report names the PR's head.
	if req.ChallengerSHA != "" {
		chal.Ref, chal.SHA = req.ChallengerRef, req.ChallengerSHA
	}
	res, err := compareWithBaseline(ctx, r, cfg, spec, fallback, chal, nil, d.workers)
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
	return &action.DiffResult{Markdown: md, JSON: js, Regressed: res.Regressed(), GatesPassed: !res.Failed()}, nil
}
