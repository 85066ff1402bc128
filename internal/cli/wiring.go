package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/modelci/modelci/internal/action"
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

// imagePublisher is the Publisher of `modelci run`: the same build and push
// as `modelci package`. action.Run sets the image_digest output itself.
type imagePublisher struct {
	env Env
	// runtimes are the --runtime values of `modelci run`.
	runtimes []string
}

var _ action.Publisher = imagePublisher{}

// Publish implements action.Publisher.
func (p imagePublisher) Publish(ctx context.Context, req action.PublishRequest) (*action.PublishResult, error) {
	// The commit `modelci run` detected (GIT_COMMIT on Jenkins, git HEAD
	// in another CI) tags the image even where image.DetectCI, which reads
	// only the platform's variables, finds none.
	var tags []string
	if req.SHA != "" && (req.Config == nil || len(req.Config.Image.Tags) == 0) {
		tags = image.DefaultTags(image.CIInfo{SHA: req.SHA})
	}
	res, err := packageImage(ctx, p.env, packageRequest{
		Layout:     req.Layout,
		ModelDir:   req.ModelDir,
		Config:     req.Config,
		Repository: req.Repository,
		Tags:       tags,
		Username:   req.Username,
		Password:   req.Password,
		Revision:   req.SHA,
		NoOutputs:  true,
		// A local run writes only the layout: the host's platform by
		// default, and platforms without a runtime are skipped. A push
		// (in CI) fails instead of shipping part of the platforms.
		Local:        req.Layout != "" && req.Repository == "",
		RuntimeFlags: p.runtimes,
	})
	if err != nil {
		return nil, err
	}
	out := &action.PublishResult{Digest: res.Built.Digest.String()}
	for _, pub := range res.Published {
		out.References = append(out.References, pub.Ref)
	}
	if len(res.Published) == 0 {
		return nil, errors.New("image push: nothing was pushed (see the log above)")
	}
	return out, nil
}
