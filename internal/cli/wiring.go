package cli

import (
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/modelci/modelci/internal/atomicfile"
	"github.com/modelci/modelci/internal/image"
)

// credentials completes the registry credentials of every command: the
// explicit ones in c, the variables of env (GITHUB_TOKEN for ghcr.io,
// GitLab's CI_REGISTRY_*), then the Docker config and credential helpers.
// go-containerregistry's Docker keychain reads $DOCKER_CONFIG and runs the
// credential helpers itself; this is the one place modelci hands it over.
func credentials(env Env, c image.Credentials) image.Credentials {
	c.Getenv = env.Getenv
	c.Docker = authn.DefaultKeychain
	return c
}

// keychain is the registry keychain of credentials(env, c).
func keychain(env Env, c image.Credentials) *image.Keychain {
	return image.NewKeychain(credentials(env, c))
}

// userAgent names modelci to registries.
func userAgent() string { return "modelci/" + Version() }

// writeOut writes body to the file out atomically, or to standard output
// when out is "" or "-".
func writeOut(env Env, out string, body []byte, what string) error {
	if out == "" || out == "-" {
		if _, err := env.Stdout.Write(body); err != nil {
			return fmt.Errorf("write %s: %w", what, err)
		}
		return nil
	}
	if err := atomicfile.WriteFile(out, body, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	return nil
}
