// Package ci provides the one detection of the CI environment that modelci
// runs in — GitHub Actions, GitLab CI, Jenkins or any other CI driven by
// flags — and normalises it into an Event: what kind of build this is (a
// pull or merge request, a push to the default branch, anything else), the
// PR or MR number, the base to compare with, the commits, the repository,
// where the PR lives and the API that reaches it, the registry, and whether
// the build is untrusted (a fork).
//
// `modelci run` (internal/action) acts on the Event; the image packaging
// (internal/image) derives its push-blocking rules from it.
package ci

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/modelci/modelci/internal/exitcode"
	"github.com/modelci/modelci/internal/proc"
)

// ErrUsage marks an environment or flags that do not describe a build
// modelci can run (exit 2).
var ErrUsage = exitcode.NewUsage("invalid input")

// Platform is the CI system.
type Platform string

// Platforms.
const (
	GitHub  Platform = "github"
	GitLab  Platform = "gitlab"
	Jenkins Platform = "jenkins"
	// Generic is any other CI (or none): the build is described by flags
	// and MODELCI_* variables.
	Generic Platform = "generic"
)

// Kind is what `modelci run` does for a build. The flag --event names them
// pr, push and other.
type Kind string

// Kinds of builds.
const (
	// KindPullRequest: a pull request (GitHub, Jenkins) or merge request
	// (GitLab): train the challenger, compare it with the baseline,
	// comment, report, gate. --event pr.
	KindPullRequest Kind = "pull_request"
	// KindPullRequestTarget is GitHub's pull_request_target, refused unless
	// allowed; then handled like KindPullRequest.
	KindPullRequestTarget Kind = "pull_request_target"
	// KindPushDefault is a push to (a build of) the repository's default
	// branch: train, evaluate, report, then package and push the image.
	// --event push.
	KindPushDefault Kind = "push_default_branch"
	// KindOther is everything else (other branches, tags, manual and
	// scheduled builds): train, evaluate, report. --event other.
	KindOther Kind = "other"
	// KindLocal is a run outside any CI with no --event: train, evaluate,
	// report, and write the image as an OCI layout on disk; nothing is
	// posted or pushed.
	KindLocal Kind = "local"
)

// Forge is where the pull or merge request lives, and so which API the
// report comment goes to.
type Forge string

// Forges.
const (
	ForgeGitHub Forge = "github"
	ForgeGitLab Forge = "gitlab"
)

// ContainerRegistry is the CI's container registry, when it has one (GitLab:
// CI_REGISTRY, CI_REGISTRY_IMAGE). Its credentials stay in the environment
// (image.NewKeychain reads them).
type ContainerRegistry struct {
	// Host is the registry, e.g. registry.gitlab.com.
	Host string
	// Image is the project's image repository, e.g.
	// registry.gitlab.com/acme/house-prices.
	Image string
}

// Event is the build, normalised.
type Event struct {
	Platform Platform
	// Name is the platform's own name of the trigger: GITHUB_EVENT_NAME,
	// CI_PIPELINE_SOURCE, "change-request", "branch" or "tag" on Jenkins,
	// "flags" for a generic CI.
	Name string
	Kind Kind
	// Owner and Repo name the repository: "owner/name" on GitHub (and for a
	// GitHub PR built by Jenkins or another CI), namespace and project name
	// on GitLab.
	Owner, Repo string
	// SHA is the commit the build checked out (on a PR possibly a merge
	// commit the CI made; see HeadSHA), Ref its full ref when known.
	SHA, Ref string
	// Actor triggered the build, when known.
	Actor string
	// DefaultBranch is the repository's default branch.
	DefaultBranch string

	// Pull or merge request builds.
	//
	// Number is the PR number or the MR IID.
	Number int
	// BaseSHA is the commit to compare with when known (GitHub's base sha,
	// GitLab's CI_MERGE_REQUEST_DIFF_BASE_SHA, the target commit Jenkins
	// merged); BaseRef the target branch.
	BaseSHA, BaseRef string
	// HeadSHA is the PR's own head commit; HeadRef its branch.
	HeadSHA, HeadRef string
	// BaseRepo and HeadRepo name the target and source repositories.
	BaseRepo, HeadRepo string
	// Fork says the head lives in another repository than the base.
	Fork bool
	// ReadOnly says the platform gives this build a read-only token (a
	// GitHub pull_request from a fork or from Dependabot), with the reason.
	ReadOnly       bool
	ReadOnlyReason string
	// InPullRequest says the build runs for a pull or merge request, also
	// for GitHub events such as pull_request_review whose Kind is other.
	// Images are never pushed from such builds.
	InPullRequest bool
	// ForkRepository says the repository the build runs in is itself a
	// fork (GitHub's payload repository.fork). Images are never pushed
	// from forks.
	ForkRepository bool

	// Forge is where the PR lives (empty: unknown, no comment).
	Forge Forge
	// APIURL is the API of the Forge: GITHUB_API_URL (or api.github.com),
	// CI_API_V4_URL.
	APIURL string
	// ProjectID names the GitLab project of the MR for the API: its
	// numeric ID (CI_MERGE_REQUEST_PROJECT_ID, else CI_PROJECT_ID) or its
	// path.
	ProjectID string
	// WebURL is the web page of the repository or project.
	WebURL string
	// PRURL is the web page of the pull or merge request, when known.
	PRURL string

	// ReportSHA and ReportRef are the commit and branch the report names
	// as the challenger. Empty means the checkout's HEAD (GitHub keeps
	// naming what it checked out); on GitLab and Jenkins PRs they are the
	// PR's head, because the checkout may be a merge commit that exists
	// only in CI.
	ReportSHA, ReportRef string
	// Workspace is the checkout: GITHUB_WORKSPACE, CI_PROJECT_DIR,
	// WORKSPACE, or "" (the current directory).
	Workspace string
	// Registry is the CI's container registry, if any.
	Registry ContainerRegistry
	// Notes explain how the event was derived, for the log.
	Notes []string

	// baseVerbatim says BaseRef came from --base-ref and is used as given;
	// a detected target branch is compared at origin/<branch>.
	baseVerbatim bool
}

// BaseSpec is the baseline a PR is compared with by default: git:<BaseSHA>
// when the base commit is known, else git:origin/<BaseRef> for a detected
// target branch (a local branch of that name may be stale in a reused CI
// checkout), or git:<ref> as given to --base-ref; "" when neither is known.
func (e *Event) BaseSpec() string {
	switch {
	case e.BaseSHA != "":
		return "git:" + e.BaseSHA
	case e.BaseRef == "":
		return ""
	case e.baseVerbatim || strings.HasPrefix(e.BaseRef, "origin/") || strings.HasPrefix(e.BaseRef, "refs/"):
		return "git:" + e.BaseRef
	}
	return "git:origin/" + e.BaseRef
}

// WorkspaceDir is the checkout the platform names: GITHUB_WORKSPACE,
// CI_PROJECT_DIR, WORKSPACE, or "" (the current directory).
func WorkspaceDir(getenv func(string) string) string {
	switch DetectPlatform(getenv) {
	case GitHub:
		return getenv("GITHUB_WORKSPACE")
	case GitLab:
		return getenv("CI_PROJECT_DIR")
	case Jenkins:
		return getenv("WORKSPACE")
	}
	return ""
}

// IsPullRequest says `modelci run` treats the build as a pull request.
func (e *Event) IsPullRequest() bool {
	return e.Kind == KindPullRequest || e.Kind == KindPullRequestTarget
}

// Branch is the branch of Ref, or "".
func (e *Event) Branch() string {
	b, _ := strings.CutPrefix(e.Ref, "refs/heads/")
	if b == e.Ref {
		return ""
	}
	return b
}

// Tag is the tag of Ref, or "".
func (e *Event) Tag() string {
	t, _ := strings.CutPrefix(e.Ref, "refs/tags/")
	if t == e.Ref {
		return ""
	}
	return t
}

// Overrides are the flags of `modelci run`; each falls back to a MODELCI_*
// variable, and wins over detection on every platform.
type Overrides struct {
	// Event is pr, push or other (MODELCI_EVENT).
	Event string
	// BaseRef is the ref to compare a PR with (MODELCI_BASE_REF); it
	// replaces the detected base sha.
	BaseRef string
	// PRNumber is the PR number (MODELCI_PR_NUMBER); with no Event it makes
	// the build a PR.
	PRNumber string
	// Repository is the GitHub repository, owner/name (MODELCI_REPOSITORY).
	Repository string
	// DefaultBranch is the default branch (MODELCI_DEFAULT_BRANCH) where
	// the platform does not say (Jenkins, generic; GitHub and GitLab name
	// theirs); default main.
	DefaultBranch string
}

// Environment variables of the overrides.
const (
	EnvEvent         = "MODELCI_EVENT"
	EnvBaseRef       = "MODELCI_BASE_REF"
	EnvPRNumber      = "MODELCI_PR_NUMBER"
	EnvRepository    = "MODELCI_REPOSITORY"
	EnvDefaultBranch = "MODELCI_DEFAULT_BRANCH"
)

// gitFunc runs git in the checkout and returns its standard output.
type gitFunc func(ctx context.Context, args ...string) ([]byte, error)

// DetectPlatform says which CI this is: GitHub Actions (GITHUB_ACTIONS or
// GITHUB_EVENT_NAME), GitLab CI (GITLAB_CI=true), Jenkins (JENKINS_URL),
// else Generic.
func DetectPlatform(getenv func(string) string) Platform {
	switch {
	case getenv("GITHUB_ACTIONS") == "true" || getenv("GITHUB_EVENT_NAME") != "":
		return GitHub
	case getenv("GITLAB_CI") == "true":
		return GitLab
	case getenv("JENKINS_URL") != "":
		return Jenkins
	}
	return Generic
}

// Detect reads the build from the environment, then applies the
// overrides (the flags; empty fields fall back to MODELCI_*). From env it
// uses Getenv (required), ReadFile for GitHub's event payload
// (GITHUB_EVENT_PATH; nil means no payload) and Run for git in the
// workspace (Jenkins' local merge commit, the commit of a generic build;
// nil means git is not consulted). It always returns an Event with what it
// could learn; the error says the build cannot be run by `modelci run` (bad
// flags, a GitHub PR event without its payload, no CI and no --event).
func Detect(ctx context.Context, env proc.Env, overrides Overrides) (*Event, error) {
	if env.Getenv == nil {
		return nil, errors.New("ci: Detect needs Getenv")
	}
	getenv := func(k string) string { return strings.TrimSpace(env.Getenv(k)) }
	ov := overrides.withEnv(getenv)
	var git gitFunc
	if env.Run != nil {
		dir := WorkspaceDir(env.Getenv)
		git = func(ctx context.Context, args ...string) ([]byte, error) { return env.Git(ctx, dir, args...) }
	}
	var (
		ev  *Event
		err error
	)
	switch DetectPlatform(getenv) {
	case GitHub:
		ev, err = fromGitHub(getenv, env.ReadFile)
	case GitLab:
		ev = fromGitLab(getenv)
	case Jenkins:
		ev = fromJenkins(ctx, getenv, git, ov)
	default:
		ev = fromGeneric(ctx, getenv, git, ov)
	}
	if oerr := ov.apply(ev); oerr != nil {
		return ev, oerr
	}
	if err != nil {
		return ev, err
	}
	if ev.Platform == Generic && ev.Kind == "" {
		// No CI detected and no --event: a local run.
		ev.Kind, ev.Name = KindLocal, "local"
	}
	return ev, nil
}

func (ov Overrides) withEnv(getenv func(string) string) Overrides {
	pick := func(flag, env string) string {
		if s := strings.TrimSpace(flag); s != "" {
			return s
		}
		return getenv(env)
	}
	return Overrides{
		Event:         pick(ov.Event, EnvEvent),
		BaseRef:       pick(ov.BaseRef, EnvBaseRef),
		PRNumber:      pick(ov.PRNumber, EnvPRNumber),
		Repository:    pick(ov.Repository, EnvRepository),
		DefaultBranch: pick(ov.DefaultBranch, EnvDefaultBranch),
	}
}

// apply lays the overrides over a detected event.
func (ov Overrides) apply(ev *Event) error {
	var errs []string
	if ev.Kind == KindPullRequestTarget && (ov.Event != "" || ov.PRNumber != "") {
		// The refusal of pull_request_target (or its explicit allowance)
		// is not something a variable may lift.
		errs = append(errs, "--event and --pr-number cannot change GitHub's pull_request_target event")
		ov.Event, ov.PRNumber = "", ""
	}
	if ov.Repository != "" {
		owner, repo, ok := splitRepository(ov.Repository)
		if !ok {
			errs = append(errs, fmt.Sprintf("--repo %q: want owner/name", ov.Repository))
		} else {
			ev.Owner, ev.Repo = owner, repo
			if ev.Forge == "" || ev.Platform == Generic {
				ev.Forge = ForgeGitHub
			}
			if ev.BaseRepo == "" {
				ev.BaseRepo = owner + "/" + repo
			}
			ev.Notes = append(ev.Notes, "repository "+ov.Repository+" from --repo/"+EnvRepository)
		}
	}
	if ov.PRNumber != "" {
		n, err := strconv.Atoi(ov.PRNumber)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Sprintf("--pr-number %q: want a positive whole number", ov.PRNumber))
		} else {
			ev.Number = n
			if ov.Event == "" && !ev.IsPullRequest() {
				ev.Kind, ev.InPullRequest = KindPullRequest, true
			}
		}
	}
	switch strings.ToLower(ov.Event) {
	case "":
	case "pr", "pull_request", "merge_request":
		ev.Kind, ev.InPullRequest = KindPullRequest, true
	case "push":
		ev.Kind = KindPushDefault
	case "other":
		ev.Kind = KindOther
	case "local":
		ev.Kind = KindLocal
	default:
		errs = append(errs, fmt.Sprintf("--event %q: want pr, push, other or local", ov.Event))
	}
	if ov.Event != "" && len(errs) == 0 {
		ev.Notes = append(ev.Notes, "kind "+string(ev.Kind)+" from --event/"+EnvEvent)
	}
	if ov.BaseRef != "" {
		ev.BaseRef, ev.BaseSHA, ev.baseVerbatim = ov.BaseRef, "", true
		ev.Notes = append(ev.Notes, "base "+ov.BaseRef+" from --base-ref/"+EnvBaseRef)
	}
	if ev.Platform == Generic && ev.Forge == "" && ev.IsPullRequest() && ev.Owner != "" {
		ev.Forge = ForgeGitHub
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrUsage, strings.Join(errs, "; "))
	}
	return nil
}

// splitRepository splits owner/name.
func splitRepository(s string) (owner, repo string, ok bool) {
	owner, repo, ok = strings.Cut(strings.TrimSuffix(strings.TrimSpace(s), ".git"), "/")
	if !ok || owner == "" || repo == "" || strings.ContainsAny(repo, "/ ") || strings.Contains(owner, " ") {
		return "", "", false
	}
	return owner, repo, true
}

// fromGeneric is a build outside the known CIs: described by the flags.
func fromGeneric(ctx context.Context, getenv func(string) string, git gitFunc, ov Overrides) *Event {
	ev := &Event{Platform: Generic, Name: "flags", DefaultBranch: ov.DefaultBranch, APIURL: strings.TrimRight(getenv("GITHUB_API_URL"), "/")}
	if ev.DefaultBranch == "" {
		ev.DefaultBranch = "main"
	}
	ev.SHA = gitHead(ctx, git)
	return ev
}

// webURL strips credentials, query and a .git suffix from a repository URL.
func webURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return ""
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	u.Path = strings.TrimSuffix(strings.TrimRight(u.Path, "/"), ".git")
	u.RawPath = ""
	return u.String()
}

// HeadBranch is the branch the CI builds, from its variables: a pull
// request's source branch (GITHUB_HEAD_REF, GitLab's
// CI_MERGE_REQUEST_SOURCE_BRANCH_NAME), else the branch or tag being built
// (GITHUB_REF_NAME, CI_COMMIT_REF_NAME); empty outside a CI that sets
// them. It names a commit whose checkout is detached.
func HeadBranch(getenv func(string) string) string {
	for _, v := range []string{"GITHUB_HEAD_REF", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME"} {
		if ref := getenv(v); ref != "" {
			return ref
		}
	}
	return ""
}
