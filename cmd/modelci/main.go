// Command modelci trains, evaluates, compares and ships linear models from
// CI. See `modelci --help`.
package main

import (
	"context"
	"errors"
	"os"
	"syscall"

	"github.com/modelci/modelci/internal/cli"
	"github.com/modelci/modelci/internal/entrypoint"
)

func main() {
	ctx, stop := cli.NotifyInterrupt(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	os.Exit(exitCode(ctx, err))
}

// run runs modelci's command line. `modelci entrypoint ARGS…` is the
// container image's ENTRYPOINT (see internal/entrypoint): it runs modelci
// or execs another program, as the CI system starting the container asks.
func run(ctx context.Context, args []string) error {
	modelci := func(ctx context.Context, args []string) error { return cli.Run(ctx, cli.System(), args) }
	if len(args) > 0 && args[0] == entrypoint.Command {
		return entrypoint.Run(ctx, args[1:], entrypoint.System(cli.CommandNames(), modelci))
	}
	return modelci(ctx, args)
}

func exitCode(ctx context.Context, err error) int {
	var ee *entrypoint.ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return cli.ExitCode(cli.Interrupted(ctx, err))
}
