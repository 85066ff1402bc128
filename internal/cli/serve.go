package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/modelci/modelci/internal/exitcode"
	"github.com/modelci/modelci/internal/image"
	"github.com/modelci/modelci/internal/serve"
)

func newServeCmd(env Env) *cobra.Command {
	cfg := serve.DefaultConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	flags := cfg.Flags(fs)
	var imageRef string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve a model over HTTP: KServe V2, MLflow scoring, Prometheus metrics",
		Long: `Serves a model directory with the same runtime as the model's OCI image
(modelci-serve): KServe Open Inference Protocol V2 under /v2, MLflow scoring
at /invocations, Prometheus metrics with data drift at /metrics.
Every flag can also be set by its environment variable; a flag wins.
Stops gracefully on SIGINT/SIGTERM.`,
		Example: `  modelci serve --model dist/model
  modelci serve --image oci:dist/image          # a packaged model, from an OCI layout
  modelci serve --image ghcr.io/acme/house-prices:latest
  MODELCI_ADDR=:9000 modelci serve --model dist/model --log-format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := flags.ApplyEnv(env.Getenv); err != nil {
				return exitcode.AsUsage(err)
			}
			dir, cleanup, err := resolveServeModel(cmd.Context(), env, cfg.ModelDir, cmd.Flags().Changed("model"), imageRef)
			if err != nil {
				return err
			}
			defer cleanup()
			cfg.ModelDir = dir
			return serve.Run(cmd.Context(), cfg, serve.Env{Env: env})
		},
	}
	cmd.Flags().AddGoFlagSet(fs)
	cmd.Flags().StringVar(&imageRef, "image", "", "serve the model packaged in an image: oci:DIR[:TAG] (an OCI layout from modelci package) or a registry reference; only the model layer is downloaded")
	return cmd
}

// resolveServeModel returns the model directory to serve: modelDir (from
// --model or MODELCI_MODEL_DIR), or the model layer of --image extracted
// into a temporary directory (removed by the returned cleanup); --image
// wins over the variable but not over the flag (modelFlag).
func resolveServeModel(ctx context.Context, env Env, modelDir string, modelFlag bool, imageRef string) (string, func(), error) {
	noop := func() {}
	switch {
	case imageRef != "" && modelFlag:
		return "", noop, usageError("serve takes --model or --image, not both")
	case imageRef != "":
		tmp, err := os.MkdirTemp("", "modelci-serve-*")
		if err != nil {
			return "", noop, fmt.Errorf("serve --image: %w", err)
		}
		cleanup := func() { _ = os.RemoveAll(tmp) }
		f := &image.Fetcher{
			Keychain:  keychain(env, image.Credentials{}),
			UserAgent: userAgent(),
		}
		dst := filepath.Join(tmp, "model")
		got, err := f.Fetch(ctx, imageRef, dst)
		if err != nil {
			cleanup()
			return "", noop, fmt.Errorf("serve --image %s: %w", imageRef, err)
		}
		fmt.Fprintf(env.Stderr, "modelci: serving the model of %s\n", got.Ref)
		return dst, cleanup, nil
	case modelDir == "":
		return "", noop, usageError("serve needs --model DIR, --image REF (or MODELCI_MODEL_DIR)")
	}
	return modelDir, noop, nil
}
