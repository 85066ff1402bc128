// Command modelci-serve is the slim serving runtime that goes into the
// model's OCI image: it serves one model directory over HTTP (KServe V2,
// MLflow scoring, Prometheus metrics). See `modelci-serve -h`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/modelci/modelci/internal/exitcode"
	"github.com/modelci/modelci/internal/proc"
	"github.com/modelci/modelci/internal/serve"
)

// main builds the one environment of the process and maps run's error to
// the exit code; everything else happens in run.
func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, serve.Env{Env: proc.System()}, os.Args[1:])
	stop()
	os.Exit(exitcode.Of(err))
}

func run(ctx context.Context, env serve.Env, args []string) error {
	cfg, err := serve.ParseArgs(args, env.Getenv, env.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err == nil {
		err = serve.Run(ctx, cfg, env)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "modelci-serve: %v\n", err)
	}
	return err
}
