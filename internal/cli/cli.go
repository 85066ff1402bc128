// Package cli provides the modelci command line: a thin cobra layer over the
// library packages. Every side effect (environment, writers, working
// directory) comes in through Env, so commands are testable in-process.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/modelci/modelci/internal/action"
	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/dataset"
	"github.com/modelci/modelci/internal/exitcode"
	"github.com/modelci/modelci/internal/model"
	"github.com/modelci/modelci/internal/proc"
)

// gcPercent is the garbage collector's target heap growth (GOGC) that
// modelci runs with unless GOGC is set.
const gcPercent = 25

// Env is everything a command may touch outside its arguments: the one
// environment main builds (proc.System) and passes down.
type Env = proc.Env

// usageError marks a command-line mistake (exit code 2).
func usageError(format string, args ...any) error { return exitcode.Usagef(format, args...) }

// Run executes the modelci command line with args (without the program
// name). Errors are printed to env.Stderr and returned; main maps them to
// the exit code with exitcode.Of.
func Run(ctx context.Context, env Env, args []string) error {
	if env.Getenv("GOGC") == "" {
		// modelci's heap is dominated by large pointer-free column arrays,
		// which the collector does not scan, so collecting more often is
		// cheap, and it keeps the peak memory near the data's own size
		// instead of twice it. GOGC overrides this.
		debug.SetGCPercent(gcPercent)
	}
	root := newRoot(env)
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := Interrupted(ctx, root.ExecuteContext(ctx))
	if err != nil {
		if isFlagError(err) {
			err = exitcode.AsUsage(err)
		}
		// `modelci run` has already written its error to the job log.
		var logged *action.LoggedError
		if !errors.As(err, &logged) {
			fmt.Fprintf(env.Stderr, "modelci: %s\n", indentLines(err.Error()))
		}
	}
	return err
}

// isFlagError recognises cobra's argument and flag errors, which are usage
// errors.
func isFlagError(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown flag", "unknown shorthand flag", "unknown command", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "required flag"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

func indentLines(s string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}

func newRoot(env Env) *cobra.Command {
	root := &cobra.Command{
		Use:           "modelci",
		Short:         "Train, evaluate, compare and ship linear models from CI",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version(),
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return exitcode.AsUsage(err)
	})
	root.AddCommand(
		newTrainCmd(env),
		newEvaluateCmd(env),
		newDiffCmd(env),
		newPredictCmd(env),
		newServeCmd(env),
		newPackageCmd(env),
		newRunCmd(env),
	)
	return root
}

// loadConfig reads the config named by --config.
func loadConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, exitcode.AsUsage(fmt.Errorf("%w (pass --config or create modelci.yaml; a minimal one holds data.path and data.target)", err))
		}
		return nil, err
	}
	return cfg, nil
}

// loadForModel reads a data file for scoring with a model: the model's
// categorical and date features (and a classifier's target) are read as
// categorical (text).
// Columns in text that are not numeric features are read as text too, so
// their raw values can be copied (predict --keep).
func loadForModel(ctx context.Context, path string, m *model.Model, delimiter rune, text ...string) (*dataset.Frame, error) {
	opts := dataset.Options{Delimiter: delimiter, DecimalComma: m.Training.Decimal == ","}
	numeric := map[string]bool{}
	for _, f := range m.Features {
		if f.IsText() {
			opts.Categorical = append(opts.Categorical, f.Name)
		} else {
			numeric[f.Name] = true
		}
	}
	for _, c := range text {
		if !numeric[c] {
			opts.Categorical = append(opts.Categorical, c)
		}
	}
	if m.IsClassifier() {
		opts.Categorical = append(opts.Categorical, m.Target)
	}
	f, err := dataset.Load(ctx, path, opts)
	if err != nil {
		return nil, fmt.Errorf("load data: %w", err)
	}
	return f, nil
}

// loadModelAndData loads a model directory and a data file to score with it,
// and returns every row of the file.
func loadModelAndData(ctx context.Context, command, modelDir, dataPath, delimiter string, text ...string) (*model.Predictor, *dataset.Frame, []int, error) {
	if modelDir == "" || dataPath == "" {
		return nil, nil, nil, usageError("%s needs --model DIR and --data FILE", command)
	}
	delim, err := parseDelimiterFlag(delimiter)
	if err != nil {
		return nil, nil, nil, err
	}
	m, err := model.Load(modelDir)
	if err != nil {
		return nil, nil, nil, err
	}
	p, err := model.NewPredictor(m)
	if err != nil {
		return nil, nil, nil, err
	}
	f, err := loadForModel(ctx, dataPath, m, delim, text...)
	if err != nil {
		return nil, nil, nil, err
	}
	rows := make([]int, f.Rows)
	for i := range rows {
		rows[i] = i
	}
	return p, f, rows, nil
}
