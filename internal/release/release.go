// Package release provides the release of a model as an OCI image, shared
// by `modelci package` and `modelci run`: it chooses the platforms, finds
// the serving runtimes, fills the metadata from the flags, the config, the
// CI and git, builds the image (internal/image) and publishes it through
// image.NewPublisher's chain (the OCI layout and the registry, refused
// from pull requests and forks, with the step outputs recorded).
package release

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/modelci/modelci/internal/action"
	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/exitcode"
	"github.com/modelci/modelci/internal/image"
	"github.com/modelci/modelci/internal/proc"
	"github.com/modelci/modelci/internal/workflow"
)

// Releaser releases models in one environment.
type Releaser struct {
	// Env is where the release runs: Getenv (the CI's variables,
	// SOURCE_DATE_EPOCH, MODELCI_RUNTIME_DIR), Stdout (the report),
	// Environ and Run (git, and go to build a runtime).
	Env proc.Env
	// Keychain resolves registry credentials from the explicit ones.
	Keychain func(image.Credentials) *image.Keychain
	// UserAgent names modelci to registries.
	UserAgent string
}

// Request is what `modelci package` (and `modelci run` on a push) asks
// for.
type Request struct {
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

// Result is what Release built and where it went.
type Result struct {
	Built *image.Built
	// Published has one result per destination that got the image, in
	// order (the OCI layout, then the registry).
	Published []*image.Published
}

// Release builds the image of req and publishes it through the chain of
// image.NewPublisher, which refuses to push from pull requests and forks
// (the image is still built, and written to the OCI layout if one is asked
// for). It reports on r.Env.Stdout; the last line is the last reference
// published.
func (r *Releaser) Release(ctx context.Context, req Request) (*Result, error) {
	env := r.Env
	w := env.Stdout
	ci := image.DetectCI(env.Getenv, action.ReadEvent)
	platforms, err := Platforms(w, req)
	if err != nil {
		return nil, err
	}
	meta, err := metadata(ctx, env, req, ci)
	if err != nil {
		return nil, err
	}
	out := &Result{}
	pub, err := image.NewPublisher(r.publishOptions(req, ci, func(p *image.Published) { out.Published = append(out.Published, p) }))
	if err != nil {
		return nil, exitcode.AsUsage(err)
	}
	res, err := image.Package(ctx, image.PackageOptions{
		ModelDir:  req.ModelDir,
		Platforms: platforms,
		Runtimes:  runtimeFinder(env, req),
		Metadata:  meta,
		Publisher: pub,
	})
	if res != nil && res.Built != nil {
		out.Built = res.Built
		printBuilt(w, res.Built)
	}
	if err != nil {
		return out, err
	}
	for _, p := range out.Published {
		printPublished(w, p)
	}
	return out, nil
}

// Platforms are the image's platforms: --platform, else image.platforms of
// modelci.yaml, else (a local build) the host's or those named by
// --runtime, else image.DefaultPlatforms. A bad one is a usage error that
// says where it was given.
func Platforms(w io.Writer, req Request) ([]v1.Platform, error) {
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
		return nil, exitcode.Usagef("%s: %v", from, err)
	}
	return platforms, nil
}

// publishOptions maps req onto the publisher chain: the layout, the
// registry with its credentials, and, inside GitHub Actions, the masking
// of secrets and the image and image_digest step outputs (unless
// req.NoOutputs).
func (r *Releaser) publishOptions(req Request, ci image.CIInfo, onPublished func(*image.Published)) image.PublishOptions {
	env := r.Env
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
		Keychain:    r.Keychain,
		UserAgent:   r.UserAgent,
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
func runtimeFinder(env proc.Env, req Request) *image.RuntimeFinder {
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
			fmt.Fprintf(w, "skipped platform %s (a local build packages the platforms it can): %s\n", p, strings.ReplaceAll(strings.TrimRight(reason.Error(), "\n"), "\n", "\n  "))
		}
	}
	return finder
}

// metadata fills the image metadata from flags, the config, the CI
// environment and git.
func metadata(ctx context.Context, env proc.Env, req Request, ci image.CIInfo) (image.Metadata, error) {
	created, from, err := image.CreatedTime(ctx, env.Getenv, env.Run, "")
	if err != nil {
		return image.Metadata{}, exitcode.AsUsage(err)
	}
	fmt.Fprintf(env.Stdout, "created %s (%s)\n", created.Format("2006-01-02T15:04:05Z"), from)
	meta := image.Metadata{
		Created:  created,
		Source:   cmp.Or(req.Source, ci.Source),
		Revision: cmp.Or(req.Revision, ci.SHA),
		Version:  cmp.Or(req.Version, image.SemverVersion(ci.Tag)),
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

// Shipper is the action.Shipper of `modelci run`: the same build and push
// as `modelci package`. action.Run sets the image_digest output itself.
type Shipper struct {
	Releaser *Releaser
	// Runtimes are the --runtime values of `modelci run`.
	Runtimes []string
}

var _ action.Shipper = Shipper{}

// Publish implements action.Shipper.
func (p Shipper) Publish(ctx context.Context, req action.PublishRequest) (*action.PublishResult, error) {
	// The commit `modelci run` detected (GIT_COMMIT on Jenkins, git HEAD
	// in another CI) tags the image even where image.DetectCI, which reads
	// only the platform's variables, finds none.
	var tags []string
	if req.SHA != "" && (req.Config == nil || len(req.Config.Image.Tags) == 0) {
		tags = image.DefaultTags(image.CIInfo{SHA: req.SHA})
	}
	res, err := p.Releaser.Release(ctx, Request{
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
		RuntimeFlags: p.Runtimes,
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
