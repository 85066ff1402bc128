package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/modelci/modelci/internal/action"
	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/image"
	"github.com/modelci/modelci/internal/workflow"
)

// packageRequest is what `modelci package` (and `modelci run` on a push)
// asks for.
type packageRequest struct {
	ModelDir string
	// Config supplies image.platforms, tags, labels and licenses; may be
	// nil.
	Config *config.Config
	// Layout is an OCI layout directory to write; may be empty.
	Layout string
	// Repository is the registry repository to push to; empty means no
	// push.
	Repository string
	// Tags override the default tags (sha, latest, semver).
	Tags         []string
	Platforms    []string
	RuntimeFlags []string
	Username     string
	Password     string
	Insecure     bool
	// MountFrom is a repository of the same registry to mount shared
	// blobs (the runtime layer) from.
	MountFrom string
	Source    string
	Revision  string
	Version   string
	Licenses  string
	Labels    map[string]string
	// NoOutputs leaves the GitHub Actions step outputs to the caller.
	NoOutputs bool
	// Local is a build outside CI that writes only an OCI layout: the
	// platforms default to the host's, and a platform whose runtime
	// cannot be had is skipped (and said so) instead of failing.
	Local bool
}

// hostPlatform is the image platform of the machine modelci runs on.
func hostPlatform() string {
	return "linux/" + runtime.GOARCH
}

// localPlatforms are the platforms of a local build with none configured:
// those named by --runtime os/arch=PATH flags, else the host's.
func localPlatforms(runtimeFlags []string) []string {
	var out []string
	for _, fl := range runtimeFlags {
		if plat, _, ok := strings.Cut(fl, "="); ok && !slices.Contains(out, plat) {
			out = append(out, plat)
		}
	}
	if len(out) == 0 {
		out = []string{hostPlatform()}
	}
	return out
}

// packaged is what packageImage built and where it went.
type packaged struct {
	built *image.Built
	// published has one result per destination that got the image, in
	// order (the OCI layout, then the registry).
	published []*image.Published
}

// packageImage builds the image of req and publishes it through the chain
// of image.NewPublisher, which refuses to push from pull requests and
// forks (the image is still built, and written to the OCI layout if one is
// asked for).
func packageImage(ctx context.Context, env Env, req packageRequest) (*packaged, error) {
	w := env.Stdout
	ci := image.DetectCI(env.Getenv, action.ReadEvent)
	platforms, err := packagePlatforms(w, req)
	if err != nil {
		return nil, err
	}
	meta, err := packageMetadata(ctx, env, req, ci)
	if err != nil {
		return nil, err
	}
	out := &packaged{}
	pub, err := image.NewPublisher(publishOptions(env, req, ci, func(p *image.Published) { out.published = append(out.published, p) }))
	if err != nil {
		return nil, usageError("%v", err)
	}
	res, err := image.Package(ctx, image.PackageOptions{
		ModelDir:  req.ModelDir,
		Platforms: platforms,
		Runtimes:  runtimeFinder(env, req),
		Metadata:  meta,
		Publisher: pub,
	})
	if res != nil && res.Built != nil {
		out.built = res.Built
		printBuilt(w, res.Built)
	}
	if err != nil {
		return out, err
	}
	for _, p := range out.published {
		printPublished(w, p)
	}
	return out, nil
}

// packagePlatforms are the image's platforms: --platform, else
// image.platforms of modelci.yaml, else (a local build) the host's or those
// named by --runtime, else image.DefaultPlatforms.
func packagePlatforms(w io.Writer, req packageRequest) ([]v1.Platform, error) {
	specs, from := req.Platforms, "--platform"
	if len(specs) == 0 && req.Config != nil {
		specs, from = req.Config.Image.Platforms, "image.platforms in modelci.yaml"
	}
	if len(specs) == 0 && req.Local {
		specs, from = localPlatforms(req.RuntimeFlags), "--runtime"
		fmt.Fprintf(w, "platforms %s (a local build: the host's, or those named by --runtime; set image.platforms in modelci.yaml or --platform for more)\n", strings.Join(specs, ", "))
	}
	platforms, err := image.ParsePlatforms(specs)
	if err != nil {
		return nil, usageError("%s: %v", from, err)
	}
	return platforms, nil
}

// publishOptions maps req onto the publisher chain: the layout, the
// registry with its credentials, and, inside GitHub Actions, the masking
// of secrets and the image and image_digest step outputs (unless
// req.NoOutputs).
func publishOptions(env Env, req packageRequest, ci image.CIInfo, onPublished func(*image.Published)) image.PublishOptions {
	var masker func(string)
	var outputs image.OutputWriter
	if env.Getenv("GITHUB_ACTIONS") == "true" {
		wf := workflow.New(env.Getenv, env.Stdout)
		masker = wf.AddMask
		if !req.NoOutputs && env.Getenv("GITHUB_OUTPUT") != "" {
			outputs = wf
		}
	}
	o := image.PublishOptions{
		Layout:      req.Layout,
		Tags:        req.Tags,
		Repository:  req.Repository,
		Insecure:    req.Insecure,
		MountFrom:   req.MountFrom,
		Credentials: image.Credentials{Username: req.Username, Password: req.Password, Masker: masker},
		Keychain:    func(c image.Credentials) *image.Keychain { return keychain(env, c) },
		UserAgent:   userAgent(),
		CI:          ci,
		Logf:        func(format string, args ...any) { fmt.Fprintf(env.Stdout, format+"\n", args...) },
		OnPublished: onPublished,
		Outputs:     outputs,
	}
	if req.Config != nil {
		o.ConfiguredTags = req.Config.Image.Tags
	}
	return o
}

// runtimeFinder finds the serving runtimes of req: --runtime, next to the
// executable, $MODELCI_RUNTIME_DIR, or a go build. A local build skips the
// platforms it cannot have.
func runtimeFinder(env Env, req packageRequest) *image.RuntimeFinder {
	w := env.Stdout
	finder := &image.RuntimeFinder{
		Dir:   env.Getenv("MODELCI_RUNTIME_DIR"),
		Flags: req.RuntimeFlags,
		// HOME may be unset or read-only (a CI job's arbitrary uid): the
		// cache then goes to RUNNER_TEMP or TMPDIR.
		CacheDirFunc: func() string { return image.RuntimeCacheDir(env.Getenv, os.UserCacheDir, os.TempDir) },
		Environ:      env.Environ(),
		Run:          env.Run,
		Logf:         func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) },
	}
	if req.Local {
		finder.Skip = func(p v1.Platform, reason error) {
			fmt.Fprintf(w, "skipped platform %s (a local build packages the platforms it can): %s\n", p, indentLines(reason.Error()))
		}
	}
	return finder
}

// packageMetadata fills the image metadata from flags, the config, the CI
// environment and git.
func packageMetadata(ctx context.Context, env Env, req packageRequest, ci image.CIInfo) (image.Metadata, error) {
	created, from, err := image.CreatedTime(ctx, env.Getenv, env.Run, "")
	if err != nil {
		return image.Metadata{}, usageError("%v", err)
	}
	fmt.Fprintf(env.Stdout, "created %s (%s)\n", created.Format("2006-01-02T15:04:05Z"), from)
	meta := image.Metadata{
		Created:  created,
		Source:   firstNonEmpty(req.Source, ci.Source),
		Revision: firstNonEmpty(req.Revision, ci.SHA),
		Version:  firstNonEmpty(req.Version, image.SemverVersion(ci.Tag)),
		Licenses: req.Licenses,
		Labels:   map[string]string{},
	}
	if meta.Revision == "" {
		meta.Revision = image.HeadRevision(ctx, env.Run, "")
	}
	if req.Config != nil {
		if meta.Licenses == "" {
			meta.Licenses = req.Config.Image.Licenses
		}
		for k, v := range req.Config.Image.Labels {
			meta.Labels[k] = v
		}
	}
	for k, v := range req.Labels {
		meta.Labels[k] = v
	}
	return meta, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func printBuilt(w io.Writer, b *image.Built) {
	fmt.Fprintf(w, "image %s: %s %s model, index %s\n", b.Model.Name, b.Model.Type, b.Model.Task, b.Digest)
	for _, img := range b.Images {
		fmt.Fprintf(w, "  %-14s %s  %s (runtime %s from %s)\n", img.Platform.String(), img.Digest, image.FormatSize(img.Size), image.FormatSize(img.RuntimeSize), img.RuntimeFrom)
	}
	fmt.Fprintf(w, "  model layer    %s  %s at %s/\n", b.ModelLayer, image.FormatSize(b.ModelLayerSize), image.ModelDir(b.Model.Name))
	fmt.Fprintf(w, "  total          %s compressed (every blob once)\n", image.FormatSize(b.Size))
}

func printPublished(w io.Writer, p *image.Published) {
	if strings.HasPrefix(p.Ref, "oci:") {
		fmt.Fprintf(w, "wrote %s\n", strings.Join(p.Tags, ", "))
	} else {
		fmt.Fprintf(w, "pushed %d blob(s) (%s), %d mounted, %d already present\n", len(p.Uploaded), image.FormatSize(p.UploadedBytes), len(p.Mounted), p.Existing)
		if len(p.Tags) > 0 {
			fmt.Fprintf(w, "tagged %s\n", strings.Join(p.Tags, ", "))
		}
	}
	fmt.Fprintln(w, p.Ref)
}

func newPackageCmd(env Env) *cobra.Command {
	var (
		req           packageRequest
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
			_, err = packageImage(cmd.Context(), env, req)
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
func registryLogin(env Env, req *packageRequest, passwordStdin bool) error {
	if req.Username == "" {
		req.Username = firstNonEmpty(env.Getenv("INPUT_REGISTRY_USERNAME"), env.Getenv("MODELCI_REGISTRY_USERNAME"))
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
		req.Password = firstNonEmpty(env.Getenv("INPUT_REGISTRY_PASSWORD"), env.Getenv("MODELCI_REGISTRY_PASSWORD"))
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
