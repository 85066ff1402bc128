package action

import (
	"fmt"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/modelci/modelci/internal/github"
)

// InputNames are the inputs of action.yml, in its order.
var InputNames = []string{
	"config", "github_token", "comment", "baseline", "fail_on_gate", "push",
	"image", "registry_username", "registry_password", "working_directory",
	"allow_pull_request_target",
}

// OutputNames are the outputs of action.yml, in its order.
var OutputNames = []string{"metrics", "report_path", "regressed", "gates_passed", "image_digest"}

// Inputs are the action's inputs (INPUT_<NAME> variables), with the same
// defaults as action.yml so that `modelci run` behaves the same when an
// input is unset.
type Inputs struct {
	// Config is the path of modelci.yaml, relative to WorkingDirectory.
	Config string
	// GitHubToken talks to the GitHub API; INPUT_GITHUB_TOKEN, else
	// GITHUB_TOKEN.
	GitHubToken string
	// Comment is the comment mode.
	Comment github.Mode
	// Baseline is "auto", "none", "registry", "git:<ref>" or a directory.
	Baseline string
	// FailOnGate makes a failed quality gate fail the step (exit 3).
	FailOnGate bool
	// Push packages and pushes the image on pushes to the default branch.
	Push bool
	// Image overrides image.repository of modelci.yaml.
	Image string
	// RegistryUsername and RegistryPassword log in to the image registry.
	RegistryUsername string
	RegistryPassword string
	// WorkingDirectory is where the project is, relative to
	// GITHUB_WORKSPACE.
	WorkingDirectory string
	// AllowPullRequestTarget lifts the refusal of pull_request_target.
	AllowPullRequestTarget bool
}

// secrets returns the input values that must be masked in the log.
func (in Inputs) secrets() []string { return []string{in.GitHubToken, in.RegistryPassword} }

// readInputs reads the inputs. Secrets are returned even when another
// input is invalid, so the caller can mask them before printing the error.
func readInputs(a *githubactions.Action) (Inputs, error) {
	in := Inputs{
		Config:                 a.GetInput("config"),
		GitHubToken:            a.GetInput("github_token"),
		Baseline:               a.GetInput("baseline"),
		Image:                  a.GetInput("image"),
		RegistryUsername:       a.GetInput("registry_username"),
		RegistryPassword:       a.GetInput("registry_password"),
		WorkingDirectory:       a.GetInput("working_directory"),
		FailOnGate:             true,
		Push:                   true,
		AllowPullRequestTarget: false,
	}
	if in.GitHubToken == "" {
		in.GitHubToken = strings.TrimSpace(a.Getenv("GITHUB_TOKEN"))
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
	mode, err := github.ParseMode(a.GetInput("comment"))
	if err != nil {
		errs = append(errs, err.Error())
	}
	in.Comment = mode
	for _, b := range []struct {
		name string
		dst  *bool
	}{
		{"fail_on_gate", &in.FailOnGate},
		{"push", &in.Push},
		{"allow_pull_request_target", &in.AllowPullRequestTarget},
	} {
		v := a.GetInput(b.name)
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
	if len(errs) > 0 {
		return in, fmt.Errorf("%w: %s", ErrUsage, strings.Join(errs, "; "))
	}
	return in, nil
}
