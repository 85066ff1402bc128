package action

import (
	"fmt"
	"strings"

	"github.com/modelci/modelci/internal/sticky"
)

// InputNames are the inputs of action.yml, in its order.
var InputNames = []string{
	"config", "github_token", "comment", "baseline", "fail_on_gate", "push",
	"image", "registry_username", "registry_password", "working_directory",
	"allow_pull_request_target",
}

// OutputNames are the outputs of action.yml, in its order.
var OutputNames = []string{"metrics", "report_path", "regressed", "gates_passed", "image_digest"}

// Environment variables read besides the inputs.
const (
	// EnvGitLabToken holds the token for the merge request note: a project
	// (or group, or personal) access token with the api scope.
	EnvGitLabToken = "MODELCI_GITLAB_TOKEN"
	// EnvGitHubToken holds the GitHub token where GITHUB_TOKEN is taken.
	EnvGitHubToken = "MODELCI_GITHUB_TOKEN"
	// EnvGitHubAuthor names the account a GitHub App token comments as
	// ("<app-slug>[bot]"), which GET /user cannot tell.
	EnvGitHubAuthor = "MODELCI_GITHUB_AUTHOR"
	// EnvJobToken is GitLab's CI/CD job token, which cannot write notes.
	EnvJobToken = "CI_JOB_TOKEN"
)

// Inputs are the action's inputs (INPUT_<NAME> variables, or
// MODELCI_<NAME> outside GitHub Actions), with the same defaults as
// action.yml so that `modelci run` behaves the same when an input is
// unset.
type Inputs struct {
	// Config is the path of modelci.yaml, relative to WorkingDirectory.
	Config string
	// GitHubToken talks to the GitHub API; INPUT_GITHUB_TOKEN, else
	// MODELCI_GITHUB_TOKEN, else GITHUB_TOKEN.
	GitHubToken string
	// GitLabToken talks to the GitLab API: MODELCI_GITLAB_TOKEN.
	GitLabToken string
	// GitHubAuthor is MODELCI_GITHUB_AUTHOR.
	GitHubAuthor string
	// Comment is the comment mode.
	Comment sticky.Mode
	// Baseline is "auto", "none", "registry", "git:<ref>" or a directory.
	Baseline string
	// FailOnGate makes a failed quality gate fail the step (exit 3).
	FailOnGate bool
	// Push is auto, true or false: whether to package and push the image.
	// auto defers to image.push of modelci.yaml (itself auto by default:
	// push on pushes to the default branch and of tags); true pushes from
	// every build that is not a pull request; false never pushes.
	Push string
	// Image overrides image.repository of modelci.yaml.
	Image string
	// RegistryUsername and RegistryPassword log in to the image registry.
	RegistryUsername string
	RegistryPassword string
	// WorkingDirectory is where the project is, relative to the workspace.
	WorkingDirectory string
	// AllowPullRequestTarget lifts the refusal of pull_request_target.
	AllowPullRequestTarget bool
}

// secrets returns the input values that must be masked in the log.
func (in Inputs) secrets() []string {
	return []string{in.GitHubToken, in.RegistryPassword, in.GitLabToken}
}

// readInputs reads the inputs: INPUT_<NAME> (what GitHub Actions passes),
// else MODELCI_<NAME>. Secrets are returned even when another input is
// invalid, so the caller can mask them before printing the error.
func readInputs(getenv func(string) string) (Inputs, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	input := func(name string) string {
		key := strings.ToUpper(name)
		if v := get("INPUT_" + key); v != "" {
			return v
		}
		return get("MODELCI_" + key)
	}
	in := Inputs{
		Config:                 input("config"),
		GitHubToken:            get("INPUT_GITHUB_TOKEN"),
		GitLabToken:            get(EnvGitLabToken),
		GitHubAuthor:           get(EnvGitHubAuthor),
		Baseline:               input("baseline"),
		Image:                  input("image"),
		RegistryUsername:       input("registry_username"),
		RegistryPassword:       input("registry_password"),
		WorkingDirectory:       input("working_directory"),
		FailOnGate:             true,
		Push:                   "auto",
		AllowPullRequestTarget: false,
	}
	if in.GitHubToken == "" {
		in.GitHubToken = get(EnvGitHubToken)
	}
	if in.GitHubToken == "" {
		in.GitHubToken = get("GITHUB_TOKEN")
	}
	if in.Config == "" {
		in.Config = "modelci.yaml"
	}
	if in.Baseline == "" {
		in.Baseline = "auto"
	}
	if in.WorkingDirectory == "" {
		in.WorkingDirectory = "."
	}
	var errs []string
	mode, err := sticky.ParseMode(input("comment"))
	if err != nil {
		errs = append(errs, err.Error())
	}
	in.Comment = mode
	for _, b := range []struct {
		name string
		dst  *bool
	}{
		{"fail_on_gate", &in.FailOnGate},
		{"allow_pull_request_target", &in.AllowPullRequestTarget},
	} {
		v := input(b.name)
		if v == "" {
			continue
		}
		switch strings.ToLower(v) {
		case "true":
			*b.dst = true
		case "false":
			*b.dst = false
		default:
			errs = append(errs, fmt.Sprintf("%s: want true or false, got %q", b.name, v))
		}
	}
	switch v := strings.ToLower(input("push")); v {
	case "", "auto":
	case "true", "false":
		in.Push = v
	default:
		errs = append(errs, fmt.Sprintf("push: want auto, true or false, got %q", v))
	}
	if len(errs) > 0 {
		return in, fmt.Errorf("%w: %s", ErrUsage, strings.Join(errs, "; "))
	}
	return in, nil
}
