package cli

import (
	"errors"
	"math/rand/v2"

	"github.com/spf13/cobra"

	"github.com/modelci/modelci/internal/action"
	"github.com/modelci/modelci/internal/github"
)

func newRunCmd(env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Run as the GitHub Action: train, compare, comment, summarise and ship, as the event calls for",
		Long: `The entry point of the modelci GitHub Action. It reads the action's inputs
(INPUT_* variables) and the event (GITHUB_EVENT_NAME, GITHUB_EVENT_PATH), then:

  pull_request         train, compare with the base commit's model, upsert one
                       PR comment, write the job summary and outputs, apply the
                       quality gates (exit 3 on failure);
  push (default branch) train, evaluate, summary and outputs, then package and
                       push the model image;
  anything else        train, evaluate and write the summary.

pull_request_target is refused unless allow_pull_request_target is true. On a
pull request from a fork the token is read-only: no comment, a warning, and
the report in the job summary.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := action.Run(cmd.Context(), action.Env{
				Getenv:     env.Getenv,
				Stdout:     env.Stdout,
				HTTPClient: env.HTTPClient,
				Clock:      github.SystemClock{},
				Rand:       rand.Float64,
			}, runDeps(env))
			return runExitError(err)
		},
	}
}

// runDeps are the implementations `modelci run` uses: local training, the
// same comparison and report as `modelci diff`, and (issue 5) the image
// publisher; without a publisher action.Run says the push is not configured
// instead of pretending.
func runDeps(env Env) action.Deps {
	return action.Deps{
		Trainer:   action.LocalTrainer{},
		Differ:    reportDiffer{env: env},
		Publisher: imagePublisher{env: env},
	}
}

// runExitError maps the errors of action.Run to exit codes.
func runExitError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, action.ErrGateFailed):
		return &ExitError{Code: ExitGate, Err: err}
	case errors.Is(err, action.ErrUsage), errors.Is(err, action.ErrRefused):
		return &ExitError{Code: ExitUsage, Err: err}
	}
	return err
}
