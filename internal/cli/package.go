package cli

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/modelci/modelci/internal/image"
	"github.com/modelci/modelci/internal/release"
)

func newPackageCmd(env Env) *cobra.Command {
	var (
		req           release.Request
		cfgPath       string
		labels        []string
		passwordStdin bool
	)
	cmd := &cobra.Command{
		Use:   "package",
		Short: "Package the model and the serving runtime as an OCI image; write it or push it",
		Long: `Builds a multi-platform OCI image (linux/amd64 and linux/arm64 by default)
without Docker: FROM scratch, the static serving runtime, and the model at
/models/<name>/. The same model and runtime give the same digest: the created
time comes from SOURCE_DATE_EPOCH or the commit time.

--oci-layout DIR writes an OCI image layout (the default, dist/image, when
--image is not given). --image REPO pushes by digest, then sets the tags (by
default the commit sha and latest, plus semver tags on a release tag). It
never pushes from a pull request or a fork.

Registry credentials, in order: --registry-username/--registry-password
(or INPUT_REGISTRY_USERNAME/INPUT_REGISTRY_PASSWORD, MODELCI_REGISTRY_USERNAME/
MODELCI_REGISTRY_PASSWORD), GITHUB_TOKEN for ghcr.io, CI_REGISTRY_USER/
CI_REGISTRY_PASSWORD for $CI_REGISTRY, then the Docker config.

The runtime binary comes from --runtime, a modelci-serve-linux-<arch> (or a
modelci-serve of that architecture) next to the modelci executable, the action
container's /usr/local/lib/modelci/runtime/linux-<arch>/modelci-serve
($MODELCI_RUNTIME_DIR), or a reproducible go build of ./cmd/modelci-serve from
the modelci module at or above the working directory, else from the module
cache at this modelci's own version (go mod download).

The last line printed is the image reference by digest.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("config") || fileExists(cfgPath) {
				cfg, err := loadConfig(cfgPath)
				if err != nil {
					return err
				}
				req.Config = cfg
			}
			if req.Layout == "" && req.Repository == "" {
				req.Layout = filepath.Join("dist", "image")
			}
			if err := registryLogin(env, &req, passwordStdin); err != nil {
				return err
			}
			var err error
			if req.Labels, err = parseLabels(labels); err != nil {
				return err
			}
			_, err = releaser(env).Release(cmd.Context(), req)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVarP(&req.ModelDir, "model", "m", filepath.Join("dist", "model"), "model directory to package")
	f.StringVarP(&cfgPath, "config", "c", "modelci.yaml", "modelci.yaml for image settings (used when it exists)")
	f.StringVar(&req.Layout, "oci-layout", "", "write the image to this OCI layout directory (default dist/image when --image is not given)")
	f.StringVar(&req.Repository, "image", "", "push to this repository, e.g. ghcr.io/acme/house-prices")
	f.StringArrayVarP(&req.Tags, "tag", "t", nil, "tag to set (repeatable; default: the commit sha and latest, plus semver on a release tag)")
	f.StringSliceVar(&req.Platforms, "platform", nil, "platforms, e.g. linux/amd64,linux/arm64 (default: image.platforms or both)")
	f.StringArrayVar(&req.RuntimeFlags, "runtime", nil, "serving runtime binary: PATH (static ELF, used for its own platform) or linux/ARCH=PATH (repeatable)")
	f.StringVar(&req.Username, "registry-username", "", "registry username")
	f.StringVar(&req.Password, "registry-password", "", "registry password or token (prefer --registry-password-stdin)")
	f.BoolVar(&passwordStdin, "registry-password-stdin", false, "read the registry password from standard input")
	f.StringVar(&req.MountFrom, "mount-from", "", "mount blobs the registry already has in this repository (same registry), e.g. another model's image")
	f.BoolVar(&req.Insecure, "insecure", false, "allow a plain-HTTP registry (always allowed for localhost and 127.0.0.1)")
	f.StringVar(&req.Source, "source", "", "org.opencontainers.image.source (default: the CI repository URL)")
	f.StringVar(&req.Revision, "revision", "", "org.opencontainers.image.revision (default: the commit sha)")
	f.StringVar(&req.Version, "version", "", "org.opencontainers.image.version (default: the semver of a release tag)")
	f.StringVar(&req.Licenses, "licenses", "", "org.opencontainers.image.licenses, an SPDX expression (default: image.licenses)")
	f.StringArrayVar(&labels, "label", nil, "extra label and annotation KEY=VALUE (repeatable)")
	return cmd
}

// registryLogin completes the explicit registry credentials of req: the
// flags, the password from stdin, else INPUT_REGISTRY_* (the action's
// inputs) or MODELCI_REGISTRY_*. A username needs a password and back.
func registryLogin(env Env, req *release.Request, passwordStdin bool) error {
	if req.Username == "" {
		req.Username = cmp.Or(env.Getenv("INPUT_REGISTRY_USERNAME"), env.Getenv("MODELCI_REGISTRY_USERNAME"))
	}
	if passwordStdin {
		if req.Password != "" {
			return usageError("give --registry-password or --registry-password-stdin, not both")
		}
		b, err := io.ReadAll(io.LimitReader(env.Stdin, 1<<20))
		if err != nil {
			return fmt.Errorf("read password from stdin: %w", err)
		}
		req.Password = strings.TrimRight(string(b), "\r\n")
	}
	if req.Password == "" {
		req.Password = cmp.Or(env.Getenv("INPUT_REGISTRY_PASSWORD"), env.Getenv("MODELCI_REGISTRY_PASSWORD"))
	}
	if (req.Username == "") != (req.Password == "") {
		return usageError("registry credentials need both a username and a password")
	}
	return nil
}

func parseLabels(kvs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, usageError("--label %q: want KEY=VALUE", kv)
		}
		if strings.HasPrefix(k, "io.modelci.") {
			return nil, usageError("--label %q: io.modelci.* labels are set by modelci", kv)
		}
		out[k] = v
	}
	return out, nil
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// releaser is the image release of every command.
func releaser(env Env) *release.Releaser {
	return &release.Releaser{
		Env:       env,
		Keychain:  func(c image.Credentials) *image.Keychain { return keychain(env, c) },
		UserAgent: userAgent(),
	}
}
