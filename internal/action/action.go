// Package action provides `modelci run`, the GitHub Action's entry point:
// it reads the inputs and the event, then trains, compares, comments,
// summarises, sets outputs, ships the image and applies the gates as the
// event calls for.
//
// The comparison (Differ) and the image (Publisher) are seams filled by
// other packages; see Deps.
package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/modelci/modelci/internal/atomicfile"
	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/github"
)

// Errors that decide the exit code.
var (
	// ErrUsage marks invalid inputs or an environment that is not a GitHub
	// Actions run (exit 2).
	ErrUsage = errors.New("invalid action input")
	// ErrRefused marks an event modelci will not run on (exit 2).
	ErrRefused = errors.New("refused to run")
	// ErrGateFailed marks a failed quality gate with fail_on_gate (exit 3).
	ErrGateFailed = errors.New("quality gate failed")
	// ErrNotWired marks a stage whose implementation this build lacks.
	ErrNotWired = errors.New("not available in this build")
)

// Documentation the messages point to.
const (
	DocsWorkflowRun       = "https://docs.github.com/en/actions/writing-workflows/choosing-when-your-workflow-runs/events-that-trigger-workflows#workflow_run"
	DocsPullRequestTarget = "https://docs.github.com/en/actions/writing-workflows/choosing-when-your-workflow-runs/events-that-trigger-workflows#pull_request_target"
	DocsForkToken         = "https://docs.github.com/en/actions/writing-workflows/choosing-when-your-workflow-runs/events-that-trigger-workflows#workflows-in-forked-repositories"
	DocsPwnRequests       = "https://securitylab.github.com/resources/github-actions-preventing-pwn-requests/"
	DocsPermissions       = "https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/controlling-permissions-for-github_token"
)

// Env is everything Run touches outside its arguments.
type Env struct {
	// Getenv reads the environment: INPUT_*, GITHUB_* and RUNNER_*.
	Getenv func(string) string
	// Stdout receives the log and the workflow commands.
	Stdout io.Writer
	// HTTPClient talks to the GitHub API.
	HTTPClient *http.Client
	// Clock times the stages and waits between API retries.
	Clock github.Clock
	// Rand returns numbers in [0, 1) for the retry jitter.
	Rand func() float64
}

// StageTime is the wall time of one stage.
type StageTime struct {
	Name     string
	Duration time.Duration
}

// Outcome describes a run, for the caller and for tests.
type Outcome struct {
	Event    *Event
	Baseline string
	// ModelDir is the trained challenger; ReportPath the Markdown report.
	ModelDir   string
	ReportPath string
	Metrics    map[string]float64
	Diff       *DiffResult
	// Comment is what happened to the PR comment (nil: not attempted),
	// CommentSkipped why it was not attempted, CommentErr why it failed.
	Comment        *github.Result
	CommentSkipped string
	CommentErr     error
	// Published is the pushed image (nil: none); PublishSkipped says why.
	Published      *PublishResult
	PublishSkipped string
	Stages         []StageTime
}

// Run executes `modelci run`. See the package documentation.
func Run(ctx context.Context, env Env, deps Deps) (*Outcome, error) {
	if env.Getenv == nil || env.Stdout == nil {
		return nil, errors.New("modelci run: Env needs Getenv and Stdout")
	}
	if env.Clock == nil {
		env.Clock = github.SystemClock{}
	}
	if deps.Trainer == nil {
		deps.Trainer = LocalTrainer{}
	}
	w := &stickyWriter{w: env.Stdout}
	r := &runner{
		env:  env,
		deps: deps,
		a:    newAction(env, w),
		out:  &Outcome{},
	}
	err := r.run(ctx)
	if w.err != nil && err == nil {
		err = fmt.Errorf("write the log: %w", w.err)
	}
	return r.out, err
}

// newAction wraps the injected environment and writer in go-githubactions.
func newAction(env Env, w io.Writer) *githubactions.Action {
	return githubactions.New(githubactions.WithGetenv(env.Getenv), githubactions.WithWriter(w))
}

// stickyWriter keeps the first write error instead of returning it, since
// go-githubactions panics on one.
type stickyWriter struct {
	w   io.Writer
	err error
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	if s.err == nil {
		if _, err := s.w.Write(p); err != nil {
			s.err = err
		}
	}
	return len(p), nil
}

type runner struct {
	env  Env
	deps Deps
	a    *githubactions.Action
	out  *Outcome
	// fallback is the baseline spec used when the registry has no image yet.
	fallback string

	in        Inputs
	ev        *Event
	cfg       *config.Config
	workspace string
	workDir   string
	notes     []string
	trained   *TrainResult
}

func (r *runner) run(ctx context.Context) error {
	in, inErr := readInputs(r.a)
	// Masks go out before anything else is printed, even an input error.
	seen := map[string]bool{}
	for _, s := range in.secrets() {
		if s != "" && !seen[s] {
			seen[s] = true
			r.a.AddMask(s)
		}
	}
	if inErr != nil {
		r.a.Errorf("%v", inErr)
		return inErr
	}
	r.in = in
	gc, err := r.a.Context()
	if err != nil {
		return fmt.Errorf("%w: read the GitHub context: %v", ErrUsage, err)
	}
	ev, err := ParseEvent(gc)
	if err != nil {
		r.a.Errorf("%v", err)
		return err
	}
	r.ev, r.out.Event = ev, ev
	r.a.Infof("modelci run: %s event (%s) in %s/%s at %s", ev.Name, ev.Kind, ev.Owner, ev.Repo, short(ev.SHA))
	if ev.Kind == KindPullRequestTarget {
		if !in.AllowPullRequestTarget {
			err := fmt.Errorf("%w: pull_request_target runs with a read/write GITHUB_TOKEN and the repository's secrets, while modelci reads modelci.yaml and the data from the checkout; with a pull request from a fork those are the fork author's, who could point them at files and have their content posted with a write token. Run on pull_request instead (and comment on fork PRs from a workflow_run workflow: %s), or set allow_pull_request_target: true if this workflow checks out only trusted code. See %s and %s", ErrRefused, DocsWorkflowRun, DocsPullRequestTarget, DocsPwnRequests)
			r.a.WithFieldsMap(map[string]string{"title": "modelci refuses pull_request_target"}).Errorf("%v", err)
			return err
		}
		r.a.WithFieldsMap(map[string]string{"title": "modelci on pull_request_target"}).Warningf("allow_pull_request_target is true: this run has a write token; make sure the workflow checks out only trusted code (%s)", DocsPwnRequests)
	}
	if err := r.resolvePaths(); err != nil {
		r.a.Errorf("%v", err)
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
		r.a.Errorf("%v", err)
		return err
	}
	r.cfg = cfg
	baseline, fallback, err := r.resolveBaseline()
	if err != nil {
		r.a.Errorf("%v", err)
		return err
	}
	r.out.Baseline = baseline
	r.fallback = fallback
	if r.deps.Differ == nil {
		err := fmt.Errorf("%w: the report (baseline comparison and gates, issue 3) is not wired into this modelci build", ErrNotWired)
		r.a.Errorf("%v", err)
		return err
	}
	outDir := filepath.Join(r.workDir, "dist", "modelci")
	if err := r.stage("Train "+cfg.Name, func() error { return r.train(ctx, filepath.Join(outDir, "model")) }); err != nil {
		r.a.Errorf("training failed: %v", err)
		return err
	}
	if err := r.stage("Compare with baseline "+baseline, func() error { return r.diff(ctx, outDir) }); err != nil {
		r.a.Errorf("comparison failed: %v", err)
		return err
	}
	if ev.IsPullRequest() {
		_ = r.stage("Pull request comment", func() error { r.comment(ctx); return r.out.CommentErr })
	}
	if err := r.summary(); err != nil {
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
		if err := r.setOutput(o[0], o[1]); err != nil {
			return err
		}
	}
	gateFailed := !d.GatesPassed && in.FailOnGate
	if ev.Kind == KindPushDefault {
		if err := r.stage("Package and push the image", func() error { return r.publish(ctx, gateFailed) }); err != nil {
			r.a.Errorf("image push failed: %v", err)
			return err
		}
	}
	digest := ""
	if r.out.Published != nil {
		digest = r.out.Published.Digest
	}
	if err := r.setOutput("image_digest", digest); err != nil {
		return err
	}
	r.logStages()
	if !d.GatesPassed {
		msg := fmt.Sprintf("quality gates failed for model %s; see the report in the job summary", cfg.Name)
		if in.FailOnGate {
			r.a.WithFieldsMap(map[string]string{"title": "modelci: quality gate failed"}).Errorf("%s", msg)
			return fmt.Errorf("%w: %s", ErrGateFailed, msg)
		}
		r.a.WithFieldsMap(map[string]string{"title": "modelci: quality gate failed"}).Warningf("%s (fail_on_gate is false)", msg)
	}
	return nil
}

// resolvePaths finds the project directory: working_directory relative to
// GITHUB_WORKSPACE (the checkout). Nothing changes the process's
// directory.
func (r *runner) resolvePaths() error {
	r.workspace = r.a.Getenv("GITHUB_WORKSPACE")
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

// relToWorkspace turns a path inside GITHUB_WORKSPACE into one relative to
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
// the registry when one is configured — falling back to the PR's base commit
// while the registry has no such tag yet (the first release) — or the base
// commit when no image is configured; no comparison for other events.
func (r *runner) resolveBaseline() (spec, fallback string, err error) {
	spec = strings.TrimSpace(r.in.Baseline)
	if spec == "" || spec == "auto" {
		spec = strings.TrimSpace(r.cfg.Baseline.Ref)
	}
	if spec != "" && spec != "auto" {
		return spec, "", nil
	}
	if r.ev.IsPullRequest() {
		if r.ev.BaseSHA == "" {
			return "", "", fmt.Errorf("%w: baseline auto needs the pull request's base sha", ErrUsage)
		}
		if r.imageRepository() != "" {
			return "registry", "git:" + r.ev.BaseSHA, nil
		}
		return "git:" + r.ev.BaseSHA, "", nil
	}
	return "none", "", nil
}

// imageRepository is the image input, else image.repository of the config.
func (r *runner) imageRepository() string {
	if repo := strings.TrimSpace(r.in.Image); repo != "" {
		return repo
	}
	return r.cfg.Image.Repository
}

// stage runs fn inside a log group and reports its time.
func (r *runner) stage(name string, fn func() error) error {
	r.a.Group(name)
	start := r.env.Clock.Now()
	err := fn()
	d := r.env.Clock.Now().Sub(start)
	r.out.Stages = append(r.out.Stages, StageTime{Name: name, Duration: d})
	if err != nil {
		r.a.Infof("%s: failed after %s", name, d.Round(time.Millisecond))
	} else {
		r.a.Infof("%s: done in %s", name, d.Round(time.Millisecond))
	}
	r.a.EndGroup()
	return err
}

func (r *runner) logStages() {
	parts := make([]string, len(r.out.Stages))
	for i, s := range r.out.Stages {
		parts[i] = fmt.Sprintf("%s %s", s.Name, s.Duration.Round(time.Millisecond))
	}
	r.a.Infof("stages: %s", strings.Join(parts, ", "))
}

func (r *runner) train(ctx context.Context, dir string) error {
	res, err := r.deps.Trainer.Train(ctx, r.cfg, dir)
	if err != nil {
		return err
	}
	r.out.ModelDir, r.out.Metrics = res.ModelDir, res.Metrics
	if res.Result != nil {
		for _, s := range res.Result.Stages {
			r.a.Infof("  %-10s %s", s.Name, s.Duration.Round(time.Millisecond))
		}
		if res.Result.Metrics != nil {
			for _, w := range res.Result.Metrics.Warnings {
				r.a.Warningf("%s", w)
			}
		}
	}
	names := make([]string, 0, len(res.Metrics))
	for n := range res.Metrics {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r.a.Infof("  %-10s %.6g", n, res.Metrics[n])
	}
	r.a.Infof("model written to %s", r.relToWorkspace(res.ModelDir))
	r.trained = res
	return nil
}

func (r *runner) diff(ctx context.Context, outDir string) error {
	d, err := r.deps.Differ.Diff(ctx, DiffRequest{
		Config:        r.cfg,
		ChallengerDir: r.out.ModelDir,
		Challenger:    r.trained.Result,
		Baseline:      r.out.Baseline,
		Fallback:      r.fallback,
		WorkDir:       r.workDir,
		Image:         r.imageRepository(),
		Username:      r.in.RegistryUsername,
		Password:      r.in.RegistryPassword,
	})
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
	r.a.Infof("regressed: %v, gates passed: %v; report at %s", d.Regressed, d.GatesPassed, r.relToWorkspace(r.out.ReportPath))
	return nil
}

// comment upserts the PR comment. Failing to comment never fails the
// run: the report is in the job summary either way.
func (r *runner) comment(ctx context.Context) {
	ev, in := r.ev, r.in
	skip := func(reason string) {
		r.out.CommentSkipped = reason
		r.a.Infof("no PR comment: %s", reason)
	}
	switch {
	case in.Comment == github.ModeNever:
		skip("comment: never")
		return
	case ev.ReadOnly:
		reason := fmt.Sprintf("%s, so GitHub gives this workflow a read-only token (%s)", ev.ReadOnlyReason, DocsForkToken)
		skip(reason)
		r.a.WithFieldsMap(map[string]string{"title": "modelci: no PR comment on a fork"}).Warningf(
			"%s: modelci wrote the report to the job summary and did not comment. To comment on pull requests from forks, keep this workflow on pull_request (read-only, untrusted code) with the report uploaded as an artifact, and post it from a second workflow triggered by workflow_run, which runs in the base repository with a write token and never checks out the fork's code: %s (background: %s)",
			reason, DocsWorkflowRun, DocsPwnRequests)
		r.notes = append(r.notes, fmt.Sprintf("No PR comment: %s. See the workflow_run pattern: %s", reason, DocsWorkflowRun))
		return
	case in.GitHubToken == "":
		skip("no github_token")
		r.a.Warningf("no PR comment: the github_token input is empty")
		return
	}
	client, err := github.NewClient(github.Options{
		Token:      in.GitHubToken,
		APIURL:     r.a.Getenv("GITHUB_API_URL"),
		HTTPClient: r.env.HTTPClient,
		Clock:      r.env.Clock,
		Rand:       r.env.Rand,
		Logf:       r.a.Infof,
		UserAgent:  "modelci",
	})
	if err != nil {
		r.out.CommentErr = err
		r.a.Warningf("no PR comment: %v", err)
		return
	}
	res, err := client.Upsert(ctx, ev.Owner, ev.Repo, ev.Number, r.cfg.Name, r.out.Diff.Markdown, in.Comment)
	if err != nil {
		r.out.CommentErr = err
		var pe *github.PermissionError
		if errors.As(err, &pe) {
			r.a.WithFieldsMap(map[string]string{"title": "modelci: missing permission " + pe.Permission}).Warningf(
				"could not %s: the workflow's token lacks `%s`. Add `permissions: { %s }` to the job (%s). The report is in the job summary. (%s)",
				pe.Op, pe.Permission, pe.Permission, DocsPermissions, pe.GitHubSaid())
			r.notes = append(r.notes, fmt.Sprintf("No PR comment: the token lacks `%s`; add it to the job's `permissions`.", pe.Permission))
			return
		}
		r.a.Warningf("could not write the PR comment: %v. The report is in the job summary.", err)
		r.notes = append(r.notes, "No PR comment: the GitHub API call failed; see the log.")
		return
	}
	r.out.Comment = res
	switch res.Outcome {
	case github.Skipped:
		r.a.Infof("PR comment skipped: %s", res.Reason)
	default:
		r.a.Infof("PR comment %s: %s (as %s)", res.Outcome, res.URL, res.Author.Login)
	}
	if res.Truncated {
		r.a.Warningf("the report was longer than GitHub's comment limit and was cut in the PR comment; the job summary has all of it")
	}
}

// summary writes the notes and the report to the job summary.
func (r *runner) summary() error {
	var b strings.Builder
	for _, n := range r.notes {
		b.WriteString("> [!NOTE]\n> " + n + "\n\n")
	}
	b.WriteString(r.out.Diff.Markdown)
	if r.a.Getenv("GITHUB_STEP_SUMMARY") == "" {
		r.a.Infof("GITHUB_STEP_SUMMARY is not set: no job summary written")
		return nil
	}
	text := b.String()
	if len(text) > maxSummaryBytes {
		text = github.Truncate(text, github.Marker(r.cfg.Name), maxSummaryBytes, "> [!NOTE]\n> This report was cut to fit GitHub's 1 MiB job summary limit; the report file has all of it.")
		r.a.Warningf("the report is larger than GitHub's 1 MiB job summary limit and was cut there; %s has all of it", r.relToWorkspace(r.out.ReportPath))
	}
	return catch("write the job summary", func() { r.a.AddStepSummary(text) })
}

// maxSummaryBytes keeps the job summary under GitHub's limit of 1 MiB per
// step, with room to spare.
const maxSummaryBytes = 1000 * 1024

// fileCommandDelimiter is the fixed heredoc delimiter go-githubactions
// writes multi-line values with. A value containing it could end the value
// early and inject other outputs, so such values are refused.
const fileCommandDelimiter = "_GitHubActionsFileCommandDelimeter_"

func (r *runner) setOutput(name, value string) error {
	if r.a.Getenv("GITHUB_OUTPUT") == "" {
		r.a.Infof("GITHUB_OUTPUT is not set: output %s not written", name)
		return nil
	}
	if strings.Contains(value, fileCommandDelimiter) {
		return fmt.Errorf("output %s: the value contains the file command delimiter %q", name, fileCommandDelimiter)
	}
	return catch("write output "+name, func() { r.a.SetOutput(name, value) })
}

// catch turns the panics go-githubactions raises on I/O errors into
// errors.
func catch(op string, fn func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%s: %v", op, v)
		}
	}()
	fn()
	return nil
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
		return skip(r.a.Warningf, "the model failed its quality gates")
	case !r.in.Push:
		return skip(r.a.Infof, "push is false")
	case repo == "":
		return skip(r.a.Noticef, "no image repository (set image.repository in modelci.yaml or the image input)")
	case r.deps.Publisher == nil:
		return skip(r.a.Warningf, "image push: not configured in this build (the OCI packaging is not part of this modelci binary); no image was pushed")
	}
	res, err := r.deps.Publisher.Publish(ctx, PublishRequest{
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
	r.a.Infof("pushed %s@%s (%s)", repo, res.Digest, strings.Join(res.References, ", "))
	return nil
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
