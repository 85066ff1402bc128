package cli

import (
	"github.com/modelci/modelci/internal/release"

	"strings"

	"github.com/spf13/cobra"

	"github.com/modelci/modelci/internal/action"
	"github.com/modelci/modelci/internal/ci"
)

func newRunCmd(env Env) *cobra.Command {
	var (
		ov       ci.Overrides
		runtimes []string
		inputs   = map[string]*string{"config": new(string), "working_directory": new(string), "baseline": new(string)}
	)
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run in CI: train, compare, comment, report and ship, as the build calls for",
		Long: `The entry point of the modelci GitHub Action, and of the same container in
GitLab CI, Jenkins or any other CI. It detects the build — GitHub Actions
(GITHUB_EVENT_NAME and the event payload), GitLab CI (GITLAB_CI and the
CI_* variables), Jenkins (JENKINS_URL, CHANGE_* and GIT_*) — reads the inputs
(INPUT_* in the action, MODELCI_* elsewhere: MODELCI_CONFIG,
MODELCI_WORKING_DIRECTORY, MODELCI_COMMENT, MODELCI_BASELINE,
MODELCI_FAIL_ON_GATE, MODELCI_PUSH, MODELCI_IMAGE), then:

  pull/merge request   train, compare with the base commit's model (or the
                       image in the registry), keep one sticky PR comment (a
                       GitHub comment, or a GitLab MR note with
                       MODELCI_GITLAB_TOKEN), report, apply the quality gates
                       (exit 3 on failure);
  push to the default  train, evaluate, report, then package and push the
  branch               model image (GitLab: to CI_REGISTRY_IMAGE unless
                       image.repository is set);
  anything else        train, evaluate and report.

Outside CI (a local run) the image is written to the OCI layout
dist/modelci/image for the host's platform, unless image.platforms asks for
more; a platform whose serving runtime cannot be had is skipped, and said so.
In CI a missing runtime fails the push instead.

The report goes to the job summary on GitHub Actions; elsewhere to the job
log and modelci-report.md in the working directory. Any CI can describe the
build with the flags below (each also a MODELCI_* variable); they override
detection. pull_request_target is refused unless allow_pull_request_target is
true; on a GitHub pull request from a fork the token is read-only: no comment,
a warning, and the report in the job summary.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// A flag for an input wins over INPUT_<NAME> and MODELCI_<NAME>.
			getenv := func(k string) string {
				for name, v := range inputs {
					if *v != "" && (k == "INPUT_"+strings.ToUpper(name) || k == "MODELCI_"+strings.ToUpper(name)) {
						return *v
					}
				}
				return env.Getenv(k)
			}
			runEnv := env
			runEnv.Getenv = getenv
			_, err := action.Run(cmd.Context(), runEnv, action.Options{Overrides: ov}, runDeps(env, runtimes))
			return err
		},
	}
	f := cmd.Flags()
	f.StringVarP(inputs["config"], "config", "c", "", "path of modelci.yaml, relative to the working directory (input config, $MODELCI_CONFIG; default modelci.yaml)")
	f.StringVar(inputs["working_directory"], "working-directory", "", "project directory (input working_directory, $MODELCI_WORKING_DIRECTORY; default .)")
	f.StringVarP(inputs["baseline"], "baseline", "b", "", "champion: auto, none, git:<ref>, registry or a model directory (input baseline, $MODELCI_BASELINE)")
	f.StringVar(&ov.Event, "event", "", "the kind of build: pr, push (a build of the default branch: package and push the image), other, or local (the default outside CI: report, and the image as an OCI layout in dist/modelci/image) ($"+ci.EnvEvent+")")
	f.StringVar(&ov.BaseRef, "base-ref", "", "git ref a pull request is compared with, e.g. origin/main ($"+ci.EnvBaseRef+")")
	f.StringVar(&ov.PRNumber, "pr-number", "", "pull request number; alone it makes the build a pull request ($"+ci.EnvPRNumber+")")
	f.StringVar(&ov.Repository, "repo", "", "GitHub repository owner/name of the pull request comment ($"+ci.EnvRepository+")")
	f.StringArrayVar(&runtimes, "runtime", nil, "serving runtime binary for the image: PATH (static ELF, used for its own platform) or linux/ARCH=PATH (repeatable); default: modelci-serve next to modelci, the action image's, or built with go")
	f.StringVar(&ov.DefaultBranch, "default-branch", "", "default branch where the CI does not name it (Jenkins, other CIs); default main ($"+ci.EnvDefaultBranch+")")
	return cmd
}

// runDeps are the implementations `modelci run` uses: local training, the
// same comparison and report as `modelci diff`, and the same image as
// `modelci package`.
func runDeps(env Env, runtimes []string) action.Deps {
	return action.Deps{
		Trainer:  action.LocalTrainer{},
		Comparer: comparer(env, 0),
		Shipper:  release.Shipper{Releaser: releaser(env), Runtimes: runtimes},
	}
}
