// Package action provides `modelci run`, the entry point of the GitHub
// Action and of the same container in GitLab CI, Jenkins or any other CI:
// it reads the inputs and the build (internal/ci), then trains, compares,
// comments (a GitHub PR comment or a GitLab MR note), reports, ships the
// image and applies the gates as the build calls for.
//
// Training, the comparison (internal/compare) and the image are seams;
// see Deps.
package action

import (
	"github.com/modelci/modelci/internal/revision"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/modelci/modelci/internal/atomicfile"
	"github.com/modelci/modelci/internal/baseline"
	"github.com/modelci/modelci/internal/ci"
	"github.com/modelci/modelci/internal/compare"
	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/diff"
	"github.com/modelci/modelci/internal/exitcode"
	"github.com/modelci/modelci/internal/proc"
	"github.com/modelci/modelci/internal/workflow"
)

// Errors that decide the exit code.
var (
	// ErrUsage marks invalid inputs or flags, or an environment that is no
	// build modelci can run (exit 2). It is ci.ErrUsage, so the inputs
	// and the build detection fail alike.
	ErrUsage = ci.ErrUsage
	// ErrRefused marks an event modelci will not run on (exit 2).
	ErrRefused = exitcode.NewUsage("refused to run")
	// ErrGateFailed marks a failed quality gate with fail_on_gate (exit 3).
	ErrGateFailed = exitcode.NewGate("quality gate failed")
)

// Documentation the messages point to.
const (
	DocsWorkflowRun       = "https://docs.github.com/en/actions/writing-workflows/choosing-when-your-workflow-runs/events-that-trigger-workflows#workflow_run"
	DocsPullRequestTarget = "https://docs.github.com/en/actions/writing-workflows/choosing-when-your-workflow-runs/events-that-trigger-workflows#pull_request_target"
	DocsForkToken         = "https://docs.github.com/en/actions/writing-workflows/choosing-when-your-workflow-runs/events-that-trigger-workflows#workflows-in-forked-repositories"
	DocsPwnRequests       = "https://securitylab.github.com/resources/github-actions-preventing-pwn-requests/"
	DocsPermissions       = "https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/controlling-permissions-for-github_token"
	// DocsGitHubCommentToken lists the token permissions that create an
	// issue comment (fine-grained: Pull requests or Issues, write).
	DocsGitHubCommentToken = "https://docs.github.com/en/rest/issues/comments#create-an-issue-comment"
	DocsGitLabJobToken     = "https://docs.gitlab.com/ci/jobs/ci_job_token/"
	DocsGitLabProjectToken = "https://docs.gitlab.com/user/project/settings/project_access_tokens/"
	DocsGitLabMaskedVar    = "https://docs.gitlab.com/ci/variables/#mask-a-cicd-variable"
	DocsGitLabForkMR       = "https://docs.gitlab.com/ci/pipelines/merge_request_pipelines/#use-with-forked-projects"
)

// ReportFile is the report artifact outside GitHub Actions, written in the
// working directory.
const ReportFile = "modelci-report.md"

// Options are the flags of `modelci run` that describe the build:
// --event, --base-ref, --pr-number, --repo, --default-branch.
type Options struct {
	Overrides ci.Overrides
}

// StageTime is the wall time of one stage.
type StageTime struct {
	Name     string
	Duration time.Duration
}

// Outcome describes a run, for the caller and for tests.
type Outcome struct {
	Event    *ci.Event
	Baseline string
	// ModelDir is the trained challenger; ReportPath the Markdown report.
	ModelDir   string
	ReportPath string
	// ArtifactPath is modelci-report.md outside GitHub Actions.
	ArtifactPath string
	Metrics      map[string]float64
	Diff         *compare.Report
	// Comment is what happened to the PR comment or MR note (nil: not
	// attempted), CommentSkipped why it was not attempted, CommentErr why
	// it failed.
	Comment        *CommentResult
	CommentSkipped string
	CommentErr     error
	// Published is the pushed image (nil: none); PublishSkipped says why.
	Published      *PublishResult
	PublishSkipped string
	Stages         []StageTime
}

// Run executes `modelci run`. See the package documentation. From env it
// uses Getenv (INPUT_*, MODELCI_*, and the variables of GitHub Actions,
// GitLab CI and Jenkins) and Stdout (the log and GitHub's workflow
// commands), both required; HTTPClient for the GitHub and GitLab APIs;
// Clock for the stage timings and the waits between API retries; Rand for
// the retry jitter; and Run for git in the workspace (Jenkins' merge
// commit, a generic build's commit; nil means git is not consulted). The
// event payload is read with ReadEvent, whatever env.ReadFile is.
func Run(ctx context.Context, env proc.Env, opts Options, deps Deps) (*Outcome, error) {
	if env.Getenv == nil || env.Stdout == nil {
		return nil, errors.New("modelci run: the environment needs Getenv and Stdout")
	}
	if env.Clock == nil {
		env.Clock = proc.SystemClock{}
	}
	if env.Rand == nil {
		env.Rand = rand.Float64
	}
	env.ReadFile = ReadEvent
	if deps.Trainer == nil {
		deps.Trainer = LocalTrainer{}
	}
	if deps.Comparer == nil || deps.Shipper == nil {
		return nil, errors.New("modelci run: Deps needs a Comparer and a Shipper")
	}
	platform := ci.DetectPlatform(env.Getenv)
	r := &runner{env: env, opts: opts, deps: deps, platform: platform, out: &Outcome{}}
	if platform == ci.GitHub {
		r.a = workflow.New(env.Getenv, env.Stdout)
		r.log = r.a
	} else {
		r.log = &plainLog{w: env.Stdout, sections: platform == ci.GitLab, now: env.Clock.Now}
	}
	counted := &errorCountingLog{logger: r.log}
	r.log = counted
	err := r.run(ctx)
	logErr := r.log.Err()
	if logErr != nil && err == nil {
		err = fmt.Errorf("write the log: %w", logErr)
	}
	if err != nil && counted.errors > 0 && logErr == nil {
		err = &LoggedError{Err: err}
	}
	return r.out, err
}

type runner struct {
	env      proc.Env
	opts     Options
	deps     Deps
	platform ci.Platform
	// a is GitHub's workflow commands on GitHub Actions, nil elsewhere.
	a   *workflow.Commands
	log logger
	out *Outcome
	// fallback is the baseline spec used when the registry has no image yet.
	fallback string

	in        Inputs
	ev        *ci.Event
	cfg       *config.Config
	workspace string
	workDir   string
	notes     []string
	trained   *TrainResult
}

func (r *runner) getenv(k string) string { return r.env.Getenv(k) }

// reportWhere says where the full report is, for messages.
func (r *runner) reportWhere() string {
	if r.platform == ci.GitHub {
		return "the job summary"
	}
	return "the job log and " + ReportFile
}

// run is `modelci run`: prepare (inputs, build, config, baseline), train
// and compare, then report, ship and gate. Every failure is logged once,
// where it happens.
func (r *runner) run(ctx context.Context) error {
	if err := r.prepare(ctx); err != nil {
		var logged *LoggedError
		if errors.As(err, &logged) {
			return logged.Err
		}
		r.log.Errorf("%v", err)
		return err
	}
	outDir := filepath.Join(r.workDir, "dist", "modelci")
	if err := r.stage("Train "+r.cfg.Name, func() error { return r.train(ctx, filepath.Join(outDir, "model")) }); err != nil {
		r.log.Errorf("training failed: %v", err)
		return err
	}
	if err := r.stage("Compare with baseline "+r.out.Baseline, func() error { return r.diff(ctx, outDir) }); err != nil {
		r.log.Errorf("comparison failed: %v", err)
		return err
	}
	if r.ev.IsPullRequest() {
		_ = r.stage(r.commentStage(), func() error { r.comment(ctx); return r.out.CommentErr })
	}
	snk := r.sink()
	if err := r.report(snk); err != nil {
		return err
	}
	if err := r.ship(ctx, snk, outDir); err != nil {
		return err
	}
	r.logStages()
	return r.gate()
}

// prepare reads the inputs and the build, refuses what modelci will not
// run on, and loads the config and the baseline spec. Masks go out before
// anything else is printed, even an input error.
func (r *runner) prepare(ctx context.Context) error {
	in, inErr := readInputs(r.env.Getenv)
	seen := map[string]bool{}
	for _, s := range in.secrets() {
		if s != "" && !seen[s] {
			seen[s] = true
			r.log.AddMask(s)
		}
	}
	if inErr != nil {
		return inErr
	}
	r.in = in
	ev, err := r.detect(ctx)
	if ev != nil {
		r.ev, r.out.Event = ev, ev
	}
	if err != nil {
		return err
	}
	r.logEvent()
	if err := r.refuseUntrusted(); err != nil {
		return err
	}
	if err := r.resolvePaths(); err != nil {
		return err
	}
	cfgPath := in.Config
	if !filepath.IsAbs(cfgPath) {
		cfgPath = filepath.Join(r.workDir, cfgPath)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("%w: %v (set the config input or working_directory)", ErrUsage, err)
		}
		return err
	}
	r.cfg = cfg
	r.out.Baseline, r.fallback, err = r.resolveBaseline()
	return err
}

// refuseUntrusted refuses pull_request_target unless it is allowed, and
// warns where a fork's checkout runs with a token bound.
func (r *runner) refuseUntrusted() error {
	ev, in := r.ev, r.in
	if ev.Kind == ci.KindPullRequestTarget {
		if !in.AllowPullRequestTarget {
			err := fmt.Errorf("%w: pull_request_target runs with a read/write GITHUB_TOKEN and the repository's secrets, while modelci reads modelci.yaml and the data from the checkout; with a pull request from a fork those are the fork author's, who could point them at files and have their content posted with a write token. Run on pull_request instead (and comment on fork PRs from a workflow_run workflow: %s), or set allow_pull_request_target: true if this workflow checks out only trusted code. See %s and %s", ErrRefused, DocsWorkflowRun, DocsPullRequestTarget, DocsPwnRequests)
			r.log.ErrorTitled("modelci refuses pull_request_target", "%v", err)
			return &LoggedError{Err: err}
		}
		r.log.WarningTitled("modelci on pull_request_target", "allow_pull_request_target is true: this run has a write token; make sure the workflow checks out only trusted code (%s)", DocsPwnRequests)
	}
	if ev.Platform == ci.Jenkins && ev.Fork && in.GitHubToken != "" {
		r.log.Warningf("this pull request comes from a fork (CHANGE_FORK), and a GitHub token is bound: modelci reads modelci.yaml and the data from the fork's checkout, whose author could point them at files on this agent and have their content posted with that token. Build fork pull requests only from trusted contributors (GitHub Branch Source: Discover pull requests from forks, Trust), or do not bind the token for them (%s)", DocsPwnRequests)
	}
	return nil
}

// report hands the report to the platform and sets the outputs that
// describe it.
func (r *runner) report(snk sink) error {
	if err := snk.report(r.notes, r.out.Diff.Markdown); err != nil {
		return err
	}
	d := r.out.Diff
	metrics, err := json.Marshal(r.out.Metrics)
	if err != nil {
		return fmt.Errorf("encode the metrics output: %w", err)
	}
	for _, o := range [][2]string{
		{"metrics", string(metrics)},
		{"report_path", r.relToWorkspace(r.out.ReportPath)},
		{"regressed", fmt.Sprint(d.Regressed)},
		{"gates_passed", fmt.Sprint(d.GatesPassed)},
	} {
		if err := snk.setOutput(o[0], o[1]); err != nil {
			return err
		}
	}
	return nil
}

// ship pushes the image where the build calls for it (a model that failed
// a gate with fail_on_gate is not pushed), writes it to an OCI layout on
// a local run, and sets the image_digest output.
func (r *runner) ship(ctx context.Context, snk sink, outDir string) error {
	gateFailed := !r.out.Diff.GatesPassed && r.in.FailOnGate
	if r.shouldPublish() {
		if err := r.stage("Package and push the image", func() error { return r.publish(ctx, gateFailed) }); err != nil {
			r.log.Errorf("image push failed: %v", err)
			return err
		}
	}
	if r.ev.Kind == ci.KindLocal {
		if err := r.stage("Package the image", func() error { return r.packageLocal(ctx, filepath.Join(outDir, "image")) }); err != nil {
			r.log.Errorf("packaging failed: %v", err)
			return err
		}
	}
	digest := ""
	if r.out.Published != nil {
		digest = r.out.Published.Digest
	}
	return snk.setOutput("image_digest", digest)
}

// gate fails the run on a failed quality gate with fail_on_gate, and warns
// without it.
func (r *runner) gate() error {
	if r.out.Diff.GatesPassed {
		return nil
	}
	msg := fmt.Sprintf("quality gates failed for model %s; see the report in %s", r.cfg.Name, r.reportWhere())
	if r.in.FailOnGate {
		r.log.ErrorTitled("modelci: quality gate failed", "%s", msg)
		return fmt.Errorf("%w: %s", ErrGateFailed, msg)
	}
	r.log.WarningTitled("modelci: quality gate failed", "%s (fail_on_gate is false)", msg)
	return nil
}

// detect reads the build. On GitHub Actions the event comes from the
// GITHUB_* variables and the payload; elsewhere from the platform's
// variables and git, and the flags override both.
func (r *runner) detect(ctx context.Context) (*ci.Event, error) {
	return ci.Detect(ctx, r.env, r.opts.Overrides)
}

// logEvent says what modelci is about to do, and why.
func (r *runner) logEvent() {
	ev := r.ev
	if r.platform == ci.GitHub {
		r.log.Infof("modelci run: %s event (%s) in %s/%s at %s", ev.Name, ev.Kind, ev.Owner, ev.Repo, revision.Short(ev.SHA))
	} else {
		where := strings.Trim(ev.Owner+"/"+ev.Repo, "/")
		if where == "" {
			where = "an unnamed repository"
		}
		what := string(ev.Kind)
		if ev.IsPullRequest() && ev.Number > 0 {
			what = fmt.Sprintf("%s #%d into %s", ev.Kind, ev.Number, ev.BaseRef)
		}
		r.log.Infof("modelci run on %s: %s (%s) in %s at %s", ev.Platform, ev.Name, what, where, revision.Short(ev.SHA))
		if ev.ReportSHA != "" && ev.ReportSHA != ev.SHA {
			r.log.Infof("the report names the pull request's head %s, not the checked-out commit %s", revision.Short(ev.ReportSHA), revision.Short(ev.SHA))
		}
	}
	for _, n := range ev.Notes {
		r.log.Infof("  %s", n)
	}
}

// resolvePaths finds the project directory: working_directory relative to
// the workspace (GITHUB_WORKSPACE, CI_PROJECT_DIR, WORKSPACE, else the
// current directory). Nothing changes the process's directory.
func (r *runner) resolvePaths() error {
	r.workspace = r.ev.Workspace
	wd := r.in.WorkingDirectory
	if !filepath.IsAbs(wd) && r.workspace != "" {
		wd = filepath.Join(r.workspace, wd)
	}
	wd = filepath.Clean(wd)
	st, err := os.Stat(wd)
	if err != nil || !st.IsDir() {
		return fmt.Errorf("%w: working_directory %q: not a directory in the checkout (%s)", ErrUsage, r.in.WorkingDirectory, wd)
	}
	r.workDir = wd
	return nil
}

// relToWorkspace turns a path inside the workspace into one relative to
// it: a Docker action sees the checkout at another path than later steps,
// which run with the workspace as their working directory.
func (r *runner) relToWorkspace(p string) string {
	if r.workspace == "" {
		return p
	}
	rel, err := filepath.Rel(r.workspace, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return p
	}
	return filepath.ToSlash(rel)
}

// resolveBaseline picks the champion: the baseline input, else
// baseline.ref of modelci.yaml, else (auto) for pull requests the image in
// the registry when one is configured — falling back to the PR's base
// while the registry has no such tag yet (the first release) — or the base
// when no image is configured; no comparison for other builds. The base is
// the base commit when known (git:<sha>), else the target branch
// (git:origin/<branch>) or --base-ref.
func (r *runner) resolveBaseline() (spec, fallback string, err error) {
	spec = strings.TrimSpace(r.in.Baseline)
	if spec == "" || spec == "auto" {
		spec = strings.TrimSpace(r.cfg.Baseline.Ref)
	}
	if spec != "" && spec != "auto" {
		return spec, "", nil
	}
	if r.ev.IsPullRequest() {
		base := r.ev.BaseSpec()
		if base == "" {
			return "", "", fmt.Errorf("%w: baseline auto needs the pull request's base sha or target branch; pass --base-ref (or MODELCI_BASE_REF), or set the baseline input (MODELCI_BASELINE)", ErrUsage)
		}
		if r.imageRepository() != "" {
			return "registry", base, nil
		}
		return base, "", nil
	}
	return "none", "", nil
}

// imageRepository is the image input, else image.repository of the config,
// else the CI's own image repository (GitLab's CI_REGISTRY_IMAGE).
func (r *runner) imageRepository() string {
	if repo := strings.TrimSpace(r.in.Image); repo != "" {
		return repo
	}
	if r.cfg.Image.Repository != "" {
		return r.cfg.Image.Repository
	}
	return r.ev.Registry.Image
}

// stage runs fn inside a log group and reports its time.
func (r *runner) stage(name string, fn func() error) error {
	r.log.Group(name)
	start := r.env.Clock.Now()
	err := fn()
	d := r.env.Clock.Now().Sub(start)
	r.out.Stages = append(r.out.Stages, StageTime{Name: name, Duration: d})
	if err != nil {
		r.log.Infof("%s: failed after %s", name, d.Round(time.Millisecond))
	} else {
		r.log.Infof("%s: done in %s", name, d.Round(time.Millisecond))
	}
	r.log.EndGroup()
	return err
}

func (r *runner) logStages() {
	parts := make([]string, len(r.out.Stages))
	for i, s := range r.out.Stages {
		parts[i] = fmt.Sprintf("%s %s", s.Name, s.Duration.Round(time.Millisecond))
	}
	r.log.Infof("stages: %s", strings.Join(parts, ", "))
}

func (r *runner) train(ctx context.Context, dir string) error {
	res, err := r.deps.Trainer.Train(ctx, r.cfg, dir)
	if err != nil {
		return err
	}
	r.out.ModelDir, r.out.Metrics = res.ModelDir, res.Metrics
	if res.Result != nil {
		for _, s := range res.Result.Stages {
			r.log.Infof("  %-10s %s", s.Name, s.Duration.Round(time.Millisecond))
		}
		if res.Result.Metrics != nil {
			for _, w := range res.Result.Metrics.Warnings {
				r.log.Warningf("%s", w)
			}
		}
	}
	names := make([]string, 0, len(res.Metrics))
	for n := range res.Metrics {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r.log.Infof("  %-10s %.6g", n, res.Metrics[n])
	}
	r.log.Infof("model written to %s", r.relToWorkspace(res.ModelDir))
	r.trained = res
	return nil
}

func (r *runner) diff(ctx context.Context, outDir string) error {
	req, err := r.compareRequest()
	if err != nil {
		return err
	}
	d, err := r.deps.Comparer.Compare(ctx, req)
	if err != nil {
		return err
	}
	if d == nil {
		return errors.New("the comparison returned no report")
	}
	r.out.Diff = d
	r.out.ReportPath = filepath.Join(outDir, "report.md")
	if err := atomicfile.WriteFile(r.out.ReportPath, []byte(d.Markdown), 0o644); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	if len(d.JSON) > 0 {
		if err := atomicfile.WriteFile(filepath.Join(outDir, "report.json"), d.JSON, 0o644); err != nil {
			return fmt.Errorf("write the report: %w", err)
		}
	}
	r.log.Infof("regressed: %v, gates passed: %v; report at %s", d.Regressed, d.GatesPassed, r.relToWorkspace(r.out.ReportPath))
	return nil
}

// compareRequest asks for the comparison of the trained challenger with
// the resolved baseline. A relative baseline directory is relative to the
// working directory.
func (r *runner) compareRequest() (compare.Request, error) {
	if r.trained == nil || r.trained.Result == nil {
		return compare.Request{}, errors.New("the trainer returned no training run to compare")
	}
	spec, err := baseline.Parse(r.out.Baseline)
	if err != nil {
		return compare.Request{}, err
	}
	if spec.Kind == baseline.KindDir && !filepath.IsAbs(spec.Value) {
		spec.Value = filepath.Join(r.workDir, spec.Value)
	}
	req := compare.Request{
		Config:     r.cfg,
		Challenger: diff.ChallengerFromTraining(r.cfg, r.trained.Result),
		Baseline:   spec,
		Dir:        r.workDir,
		Trained:    true,
		Ref:        r.ev.ReportRef,
		SHA:        r.ev.ReportSHA,
		Image:      r.imageRepository(),
		Username:   r.in.RegistryUsername,
		Password:   r.in.RegistryPassword,
	}
	if req.SHA == "" {
		req.Ref = ""
	}
	if r.fallback != "" {
		fb, err := baseline.Parse(r.fallback)
		if err != nil {
			return compare.Request{}, err
		}
		req.Fallback = &fb
	}
	return req, nil
}

func (r *runner) publish(ctx context.Context, gateFailed bool) error {
	skip := func(level func(string, ...any), reason string) error {
		r.out.PublishSkipped = reason
		level("image push skipped: %s", reason)
		return nil
	}
	repo := r.imageRepository()
	switch {
	case gateFailed:
		return skip(r.log.Warningf, "the model failed its quality gates")
	case r.pushMode() == "false":
		return skip(r.log.Infof, "push is false")
	case repo == "":
		return skip(r.log.Noticef, "no image repository (set image.repository in modelci.yaml or the image input)")
	}
	if repo == r.ev.Registry.Image && r.in.Image == "" && r.cfg.Image.Repository == "" {
		r.log.Infof("image repository %s from CI_REGISTRY_IMAGE", repo)
	}
	res, err := r.deps.Shipper.Publish(ctx, PublishRequest{
		Config:     r.cfg,
		ModelDir:   r.out.ModelDir,
		Repository: repo,
		Username:   r.in.RegistryUsername,
		Password:   r.in.RegistryPassword,
		SHA:        r.ev.SHA,
		Ref:        r.ev.Ref,
	})
	if err != nil {
		return err
	}
	r.out.Published = res
	r.log.Infof("pushed %s@%s (%s)", repo, res.Digest, strings.Join(res.References, ", "))
	return nil
}

// pushMode is the push input, or image.push of modelci.yaml when the input
// is auto: "auto", "true" or "false".
func (r *runner) pushMode() string {
	if r.in.Push != "" && r.in.Push != "auto" {
		return r.in.Push
	}
	if m := strings.ToLower(strings.TrimSpace(r.cfg.Image.Push)); m == "true" || m == "false" {
		return m
	}
	return "auto"
}

// shouldPublish says whether this build packages and pushes the image: a
// push to the default branch or of a tag (auto), any build that is not a
// pull request (true), never (false). The image packaging refuses pull
// requests and forks on its own as well.
func (r *runner) shouldPublish() bool {
	switch r.pushMode() {
	case "false":
		// Still reported as skipped on the default branch.
		return r.ev.Kind == ci.KindPushDefault
	case "true":
		return r.ev.Kind == ci.KindPushDefault || r.ev.Kind == ci.KindOther
	}
	return r.ev.Kind == ci.KindPushDefault || (r.ev.Kind == ci.KindOther && strings.HasPrefix(r.ev.Ref, "refs/tags/"))
}

// packageLocal writes the image as an OCI layout on disk: the local run's
// stand-in for a push, with no registry involved.
func (r *runner) packageLocal(ctx context.Context, layout string) error {
	if r.pushMode() == "false" {
		r.out.PublishSkipped = "push is false"
		r.log.Infof("image skipped: push is false")
		return nil
	}
	res, err := r.deps.Shipper.Publish(ctx, PublishRequest{
		Config:   r.cfg,
		ModelDir: r.out.ModelDir,
		SHA:      r.ev.SHA,
		Ref:      r.ev.Ref,
		Layout:   layout,
	})
	if err != nil {
		return err
	}
	r.out.Published = res
	r.log.Infof("wrote the image to the OCI layout %s (%s)", r.relToWorkspace(layout), res.Digest)
	return nil
}
