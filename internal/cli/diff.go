package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/modelci/modelci/internal/baseline"
	"github.com/modelci/modelci/internal/compare"
	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/diff"
	"github.com/modelci/modelci/internal/image"
	"github.com/modelci/modelci/internal/train"
)

func newDiffCmd(env Env) *cobra.Command {
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
			req := compare.Request{Config: cfg, Baseline: spec, Ref: challengerRef, SHA: challengerSHA}
			if req.Challenger, req.Warnings, err = challenger(cmd.Context(), env, cfg, modelDir, workers); err != nil {
				return err
			}
			// A challenger trained here is the working tree, not HEAD.
			req.Trained = modelDir == ""
			rep, err := comparer(env, workers).Compare(cmd.Context(), req)
			if err != nil {
				return err
			}
			body := rep.JSON
			if format == "markdown" {
				body = []byte(rep.Markdown)
			}
			if err := writeOut(env, out, body, "the report"); err != nil {
				return err
			}
			if out != "" && out != "-" {
				fmt.Fprintf(env.Stdout, "wrote %s: %s\n", out, rep.Summary())
			}
			return rep.GateError()
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

// challenger is the model under review: the directory --model names,
// scored on the config's test rows, or the model trained from the config.
func challenger(ctx context.Context, env Env, cfg *config.Config, modelDir string, workers int) (*diff.Challenger, []string, error) {
	if modelDir != "" {
		return diff.ChallengerFromModel(ctx, cfg, modelDir, workers)
	}
	budget, err := memoryBudget(env)
	if err != nil {
		return nil, nil, err
	}
	res, err := train.Train(ctx, cfg, train.Options{Workers: workers, MemoryBudget: budget})
	if err != nil {
		return nil, nil, err
	}
	return diff.ChallengerFromTraining(cfg, res), nil, nil
}

// comparer is the champion-versus-challenger pipeline of `modelci diff`
// and `modelci run`: git through env, registry baselines through the
// keychain of every command.
func comparer(env Env, workers int) *compare.Comparer {
	return &compare.Comparer{
		Env:     env,
		Workers: workers,
		Registry: func(repository, username, password string) baseline.Registry {
			return compare.RegistrySource(repository, credentials(env, image.Credentials{Username: username, Password: password}), userAgent())
		},
	}
}
