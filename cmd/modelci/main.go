// Command modelci trains, evaluates, compares and ships models from CI. See
// `modelci --help`.
package main

import (
	"context"
	"os"
	"os/exec"
	"syscall"

	"github.com/modelci/modelci/internal/cli"
	"github.com/modelci/modelci/internal/entrypoint"
	"github.com/modelci/modelci/internal/exitcode"
	"github.com/modelci/modelci/internal/proc"
)

// main builds the one environment of the process (stdio, getenv, files,
// commands, the clock, randomness, the HTTP client), runs, and maps the
// error to the exit code, once.
func main() {
	ctx, stop := cli.NotifyInterrupt(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, proc.System(), os.Args[1:])
	stop()
	os.Exit(exitcode.Of(cli.Interrupted(ctx, err)))
}

// run runs modelci's command line. `modelci entrypoint ARGS…` is the
// container image's ENTRYPOINT (see internal/entrypoint): it runs modelci
// or execs another program, as the CI system starting the container asks.
func run(ctx context.Context, env proc.Env, args []string) error {
	modelci := func(ctx context.Context, args []string) error { return cli.Run(ctx, env, args) }
	if len(args) > 0 && args[0] == entrypoint.Command {
		return entrypoint.Run(ctx, args[1:], entrypoint.Deps{
			Commands: cli.CommandNames(),
			Modelci:  modelci,
			LookPath: exec.LookPath,
			Exec:     syscall.Exec,
			Environ:  env.Environ,
			Stderr:   env.Stderr,
		})
	}
	return modelci(ctx, args)
}
