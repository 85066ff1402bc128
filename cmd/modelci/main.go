// Command modelci trains, evaluates, compares and ships linear models from
// CI. See `modelci --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/modelci/modelci/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	os.Exit(cli.ExitCode(err))
}

func run(ctx context.Context, args []string) error {
	return cli.Run(ctx, cli.System(), args)
}
