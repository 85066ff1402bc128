package image

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"path"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/modelci/modelci/internal/atomicfile"
	"github.com/modelci/modelci/internal/model"
)

// ErrNotFound means the image (or its tag, or its repository) does not
// exist: for a registry baseline, the first release.
var ErrNotFound = errors.New("image not found")

// maxModelBytes caps the uncompressed model layer.
const maxModelBytes = 1 << 30

// Fetcher reads the model out of an image. From a registry it downloads
// the manifests and the model layer only, never the runtime layers.
type Fetcher struct {
	// Keychain provides credentials. Nil means anonymous.
	Keychain *Keychain
	// Transport is the HTTP transport. Nil means remote.DefaultTransport.
	Transport http.RoundTripper
	// Insecure allows plain HTTP registries.
	Insecure bool
	// UserAgent is sent to the registry.
	UserAgent string
}

// Fetched describes a model read out of an image.
type Fetched struct {
	// Ref is the image by digest: "repo@sha256:…" or "oci:DIR@sha256:…".
	Ref string
	// Digest is the digest the reference resolved to (the index's, for a
	// multi-platform image).
	Digest string
	// Model is the model's name.
	Model string
	// Layer and LayerSize describe the model layer.
	Layer     v1.Hash
	LayerSize int64
}

// Fetch reads the model of image src into dstDir, replacing it. src is
// "oci:DIR", "oci:DIR:TAG", "oci:DIR@sha256:…" or a registry reference
// ("ghcr.io/acme/model:latest", "…@sha256:…"). The model is verified
// (checksums of every file) before anything is written.
func (f *Fetcher) Fetch(ctx context.Context, src, dstDir string) (*Fetched, error) {
	if dir, ok := strings.CutPrefix(src, "oci:"); ok {
		return f.fetchLayout(dir, dstDir)
	}
	return f.fetchRemote(ctx, src, dstDir)
}

func (f *Fetcher) remoteOptions(ctx context.Context) []remote.Option {
	tr := f.Transport
	if tr == nil {
		tr = remote.DefaultTransport
	}
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(keychainOrAnon{f.Keychain}),
		remote.WithTransport(tr),
	}
	if f.UserAgent != "" {
		opts = append(opts, remote.WithUserAgent(f.UserAgent))
	}
	return opts
}

func (f *Fetcher) fetchRemote(ctx context.Context, src, dstDir string) (*Fetched, error) {
	var nopts []name.Option
	if f.Insecure {
		nopts = append(nopts, name.Insecure)
	}
	ref, err := name.ParseReference(src, nopts...)
	if err != nil {
		return nil, fmt.Errorf("image %q: %w", src, err)
	}
	opts := f.remoteOptions(ctx)
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return nil, f.remoteError(ref, err)
	}
	repo := ref.Context()
	out := &Fetched{Ref: repo.Digest(desc.Digest.String()).String(), Digest: desc.Digest.String()}
	img, err := imageOf(desc.MediaType, desc.ImageIndex, desc.Image)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ref, err)
	}
	ld, modelName, err := modelLayerDescriptor(img)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ref, err)
	}
	layer, err := remote.Layer(repo.Digest(ld.Digest.String()), opts...)
	if err != nil {
		return nil, fmt.Errorf("read model layer of %s: %w", ref, f.remoteError(ref, err))
	}
	rc, err := layer.Compressed()
	if err != nil {
		return nil, fmt.Errorf("read model layer of %s: %w", ref, f.remoteError(ref, err))
	}
	if err := extractModel(rc, ld, modelName, dstDir); err != nil {
		return nil, fmt.Errorf("read model layer of %s: %w", ref, err)
	}
	out.Model, out.Layer, out.LayerSize = modelName, ld.Digest, ld.Size
	return out, nil
}

func (f *Fetcher) remoteError(ref name.Reference, err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		if te.StatusCode == http.StatusNotFound {
			return fmt.Errorf("%w: %s: %w", ErrNotFound, ref, err)
		}
		for _, d := range te.Errors {
			if d.Code == transport.ManifestUnknownErrorCode || d.Code == transport.NameUnknownErrorCode {
				return fmt.Errorf("%w: %s: %w", ErrNotFound, ref, err)
			}
		}
	}
	return fmt.Errorf("%s: %w", ref, asAuthError(err, ref.Context().RegistryStr(), "pull from", f.Keychain))
}

func (f *Fetcher) fetchLayout(spec, dstDir string) (*Fetched, error) {
	dir, tag, dgst := splitLayoutRef(spec)
	lp, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("open OCI layout %s: %w", dir, err)
	}
	top, err := lp.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("open OCI layout %s: %w", dir, err)
	}
	im, err := top.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("open OCI layout %s: %w", dir, err)
	}
	d, err := pickLayoutDescriptor(im, tag, dgst)
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	img, err := imageOf(d.MediaType,
		func() (v1.ImageIndex, error) { return top.ImageIndex(d.Digest) },
		func() (v1.Image, error) { return top.Image(d.Digest) })
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	ld, modelName, err := modelLayerDescriptor(img)
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	rc, err := lp.Blob(ld.Digest)
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: model layer: %w", dir, err)
	}
	if err := extractModel(rc, ld, modelName, dstDir); err != nil {
		return nil, fmt.Errorf("OCI layout %s: model layer: %w", dir, err)
	}
	return &Fetched{Ref: "oci:" + dir + "@" + d.Digest.String(), Digest: d.Digest.String(), Model: modelName, Layer: ld.Digest, LayerSize: ld.Size}, nil
}

// splitLayoutRef splits "DIR", "DIR:TAG" or "DIR@sha256:…".
func splitLayoutRef(s string) (dir, tag, dgst string) {
	if i := strings.LastIndex(s, "@sha256:"); i >= 0 {
		return s[:i], "", s[i+1:]
	}
	if i := strings.LastIndex(s, ":"); i > strings.LastIndex(s, "/") && i >= 0 && ValidTag(s[i+1:]) {
		return s[:i], s[i+1:], ""
	}
	return s, "", ""
}

func pickLayoutDescriptor(im *v1.IndexManifest, tag, dgst string) (v1.Descriptor, error) {
	var tags []string
	distinct := map[v1.Hash]v1.Descriptor{}
	for _, d := range im.Manifests {
		distinct[d.Digest] = d
		t := d.Annotations[AnnotationRefName]
		if t != "" {
			tags = append(tags, t)
		}
		if dgst != "" && d.Digest.String() == dgst {
			return d, nil
		}
		if tag != "" && t == tag {
			return d, nil
		}
	}
	sort.Strings(tags)
	switch {
	case dgst != "":
		return v1.Descriptor{}, fmt.Errorf("no image %s", dgst)
	case tag != "":
		return v1.Descriptor{}, fmt.Errorf("no image tagged %q (tags: %s)", tag, strings.Join(tags, ", "))
	case len(distinct) == 1:
		for _, d := range distinct {
			return d, nil
		}
	case len(distinct) == 0:
		return v1.Descriptor{}, fmt.Errorf("%w: the layout holds no image", ErrNotFound)
	}
	for _, d := range im.Manifests {
		if d.Annotations[AnnotationRefName] == "latest" {
			return d, nil
		}
	}
	return v1.Descriptor{}, fmt.Errorf("the layout holds %d images; name one as oci:DIR:TAG (tags: %s)", len(distinct), strings.Join(tags, ", "))
}

// imageOf returns the image a descriptor of media type mt names: the
// image itself, or the one pickImage picks from an index.
func imageOf(mt types.MediaType, index func() (v1.ImageIndex, error), image func() (v1.Image, error)) (v1.Image, error) {
	switch {
	case mt.IsIndex():
		idx, err := index()
		if err != nil {
			return nil, err
		}
		return pickImage(idx)
	case mt.IsImage():
		return image()
	}
	return nil, fmt.Errorf("media type %s is neither an image nor an index", mt)
}

// pickImage picks the image of an index to read the model from. Every
// platform holds the same model layer, so the first one does; it prefers
// linux/amd64 to be predictable.
func pickImage(idx v1.ImageIndex) (v1.Image, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var chosen *v1.Descriptor
	for i := range im.Manifests {
		d := &im.Manifests[i]
		if !d.MediaType.IsImage() {
			continue
		}
		if chosen == nil {
			chosen = d
		}
		if d.Platform != nil && d.Platform.OS == "linux" && d.Platform.Architecture == "amd64" {
			chosen = d
			break
		}
	}
	if chosen == nil {
		return nil, errors.New("the index holds no image")
	}
	return idx.Image(chosen.Digest)
}

// modelLayerDescriptor finds the model layer by its annotation.
func modelLayerDescriptor(img v1.Image) (v1.Descriptor, string, error) {
	m, err := img.Manifest()
	if err != nil {
		return v1.Descriptor{}, "", err
	}
	for _, l := range m.Layers {
		if l.Annotations[AnnotationLayer] == LayerModel {
			return l, l.Annotations[AnnotationModelName], nil
		}
	}
	return v1.Descriptor{}, "", fmt.Errorf("no layer is annotated %s=%s: not an image built by modelci package", AnnotationLayer, LayerModel)
}

// digestReader hashes what is read through it.
type digestReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (d *digestReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.h.Write(p[:n])
	d.n += int64(n)
	return n, err
}

// extractModel reads a gzip model layer, checks its digest and size,
// verifies the model and writes its files to dstDir atomically.
func extractModel(rc io.ReadCloser, ld v1.Descriptor, modelName, dstDir string) error {
	defer rc.Close()
	if ld.Digest.Algorithm != "sha256" {
		return fmt.Errorf("unsupported digest algorithm %s", ld.Digest.Algorithm)
	}
	dr := &digestReader{r: rc, h: sha256.New()}
	zr, err := gzip.NewReader(dr)
	if err != nil {
		return fmt.Errorf("not a gzip layer: %w", err)
	}
	files := map[string][]byte{}
	var total int64
	var name string
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read tar: %w", err)
		}
		p := path.Clean(strings.TrimPrefix(h.Name, "./"))
		parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
		if parts[0] != strings.TrimPrefix(ModelsDir, "/") || len(parts) > 3 {
			return fmt.Errorf("unexpected entry %q in the model layer", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			continue
		case tar.TypeReg:
		default:
			return fmt.Errorf("entry %q in the model layer is not a regular file", h.Name)
		}
		if len(parts) != 3 || parts[2] == "" || parts[2] == "." || parts[2] == ".." {
			return fmt.Errorf("unexpected entry %q in the model layer", h.Name)
		}
		if name == "" {
			name = parts[1]
		} else if parts[1] != name {
			return fmt.Errorf("the model layer holds two models, %q and %q", name, parts[1])
		}
		total += h.Size
		if h.Size < 0 || total > maxModelBytes {
			return fmt.Errorf("the model layer is larger than %d bytes", maxModelBytes)
		}
		b, err := io.ReadAll(io.LimitReader(tr, h.Size))
		if err != nil {
			return fmt.Errorf("read %s: %w", h.Name, err)
		}
		files[parts[2]] = b
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return fmt.Errorf("read layer: %w", err)
	}
	if _, err := io.Copy(io.Discard, dr); err != nil {
		return fmt.Errorf("read layer: %w", err)
	}
	if got := "sha256:" + hex.EncodeToString(dr.h.Sum(nil)); got != ld.Digest.String() || dr.n != ld.Size {
		return fmt.Errorf("layer content (%d bytes, %s) does not match its descriptor (%d bytes, %s)", dr.n, got, ld.Size, ld.Digest)
	}
	if modelName != "" && name != "" && name != modelName {
		return fmt.Errorf("the layer is annotated as model %q but holds %q", modelName, name)
	}
	mb, ok := files[model.FileModel]
	if !ok {
		return fmt.Errorf("the model layer has no %s", model.FileModel)
	}
	m, err := model.Parse(mb)
	if err != nil {
		return err
	}
	keep := map[string][]byte{model.FileModel: mb}
	for fname, want := range m.Files {
		b, ok := files[fname]
		if !ok {
			return fmt.Errorf("%w: the model layer lacks %s, which %s lists", model.ErrCorrupt, fname, model.FileModel)
		}
		if got := model.Digest(b); got != want {
			return fmt.Errorf("%w: %s hashes to %s, %s expects %s", model.ErrCorrupt, fname, got, model.FileModel, want)
		}
		keep[fname] = b
	}
	if err := atomicfile.WriteDir(dstDir, keep); err != nil {
		return err
	}
	return nil
}

// RegistrySource reads the champion model from the registry: the image
// tagged "latest" (or another tag) of Repository. It downloads only the
// model layer. It is the registry baseline of the diff machinery.
type RegistrySource struct {
	// Repository is e.g. "ghcr.io/acme/house-prices".
	Repository string
	Fetcher    *Fetcher
}

// FetchModel writes the model of Repository:tag into dstDir and returns the
// image reference by digest and its digest. A missing tag or repository
// gives an error that matches ErrNotFound.
func (s *RegistrySource) FetchModel(ctx context.Context, tag, dstDir string) (ref, digest string, err error) {
	if tag == "" {
		tag = "latest"
	}
	f := s.Fetcher
	if f == nil {
		f = &Fetcher{}
	}
	repo, err := ParseRepository(s.Repository, f.Insecure)
	if err != nil {
		return "", "", err
	}
	if !ValidTag(tag) {
		return "", "", fmt.Errorf("registry baseline: invalid tag %q", tag)
	}
	got, err := f.Fetch(ctx, repo.Tag(tag).String(), dstDir)
	if err != nil {
		return "", "", err
	}
	return got.Ref, got.Digest, nil
}
