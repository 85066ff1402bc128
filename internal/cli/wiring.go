package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/modelci/modelci/internal/baseline"
	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/image"
)

// registrySource adapts the image package's registry fetcher to the
// baseline resolver: a tag that does not exist yet (the first release) is
// "no baseline model", so the resolver can fall back.
type registrySource struct {
	src *image.RegistrySource
}

// FetchModel implements baseline.Registry.
func (r registrySource) FetchModel(ctx context.Context, tag, dstDir string) (string, string, error) {
	ref, digest, err := r.src.FetchModel(ctx, tag, dstDir)
	if errors.Is(err, image.ErrNotFound) {
		return "", "", fmt.Errorf("%w: %w", baseline.ErrNoModel, err)
	}
	return ref, digest, err
}

// registryFor returns the registry baseline of the configured image
// repository, or nil when no image is configured. Credentials come from the
// same keychain as `modelci package` (explicit, GITHUB_TOKEN for ghcr.io,
// GitLab's CI_REGISTRY_*, the Docker config).
func registryFor(env Env, cfg *config.Config, username, password string, mask func(string)) baseline.Registry {
	if cfg == nil || cfg.Image.Repository == "" {
		return nil
	}
	repo, err := image.ParseRepository(cfg.Image.Repository, false)
	if err != nil {
		return nil
	}
	kc := image.NewKeychain(image.Credentials{
		Username: username,
		Password: password,
		Registry: repo.RegistryStr(),
		Getenv:   env.Getenv,
		Docker:   authn.DefaultKeychain,
		Masker:   mask,
	})
	return registrySource{src: &image.RegistrySource{
		Repository: cfg.Image.Repository,
		Fetcher:    &image.Fetcher{Keychain: kc, UserAgent: "modelci/" + Version()},
	}}
}
