package image

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/modelci/modelci/internal/atomicfile"
)

// Publisher puts a built image somewhere, the way ko's publishers do. A
// nil *Published with a nil error means it published nowhere (Refusing).
// Publishers combine by decorators: see Tee, Recorder, RecordOutputs and
// NewPublisher.
type Publisher interface {
	Publish(ctx context.Context, b *Built) (*Published, error)
}

// Published says where an image went.
type Published struct {
	// Ref is the image by digest: "repo@sha256:…" or "oci:dir@sha256:…".
	Ref    string
	Digest v1.Hash
	// Tags are the tagged references, e.g. "repo:latest".
	Tags []string
	// Uploaded lists the blobs sent to a registry (layers and configs);
	// Mounted the blobs mounted from another repository; Existing counts
	// the blobs the registry already had.
	Uploaded      []v1.Hash
	UploadedBytes int64
	Mounted       []v1.Hash
	Existing      int
}

// LayoutPublisher writes the image to an OCI image layout directory that
// umoci, skopeo (oci:DIR:TAG) and `modelci serve --image oci:DIR` read. The
// directory is replaced as a whole, atomically.
type LayoutPublisher struct {
	Dir string
	// Tags name the index in index.json (org.opencontainers.image.ref.name).
	// Empty means "latest".
	Tags []string
}

// Publish implements Publisher.
func (p *LayoutPublisher) Publish(_ context.Context, b *Built) (*Published, error) {
	if p.Dir == "" {
		return nil, errors.New("write OCI layout: no directory given")
	}
	tags := p.Tags
	if len(tags) == 0 {
		tags = []string{"latest"}
	}
	for _, t := range tags {
		if !ValidTag(t) {
			return nil, fmt.Errorf("write OCI layout %s: invalid tag %q", p.Dir, t)
		}
	}
	dir := filepath.Clean(p.Dir)
	// ReplaceDir refuses a directory that is neither empty nor an OCI
	// layout, and leaves it untouched.
	err := atomicfile.ReplaceDir(dir, atomicfile.OCILayout, func(tmp string) error {
		lp, err := layout.Write(tmp, empty.Index)
		if err != nil {
			return err
		}
		for _, t := range tags {
			if err := lp.AppendIndex(b.Index, layout.WithAnnotations(map[string]string{AnnotationRefName: t})); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// ReplaceDir's error names the directory.
		return nil, fmt.Errorf("OCI layout: %w", err)
	}
	out := &Published{Ref: "oci:" + dir + "@" + b.Digest.String(), Digest: b.Digest}
	for _, t := range tags {
		out.Tags = append(out.Tags, "oci:"+dir+":"+t)
	}
	return out, nil
}

// RemotePublisher pushes the image to a registry: the index and its images
// by digest first, then each tag, so a tag never points at a half-pushed
// image. Blobs the repository already has are not uploaded again.
type RemotePublisher struct {
	// Repository is e.g. "ghcr.io/acme/house-prices".
	Repository string
	// Tags to set after the push; may be empty (digest only).
	Tags []string
	// Insecure allows plain HTTP (it is allowed for localhost and
	// 127.0.0.1 anyway).
	Insecure bool
	// Keychain provides credentials. Nil means anonymous.
	Keychain *Keychain
	// Transport is the HTTP transport. Nil means remote.DefaultTransport.
	Transport http.RoundTripper
	// Backoff for retries of transient errors. Zero means 1s, 3s, 9s.
	Backoff remote.Backoff
	// UserAgent is sent to the registry.
	UserAgent string
	// MountFrom is another repository of the same registry, e.g. an image
	// of another model: blobs it holds (the runtime and base layers) are
	// mounted from it instead of uploaded. Empty means none.
	MountFrom string
}

// ParseRepository parses a repository name such as ghcr.io/acme/model. A
// tag or digest in it is an error: tags are given separately.
func ParseRepository(s string, insecure bool) (name.Repository, error) {
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return name.Repository{}, errors.New("no image repository given")
	}
	repo, err := name.NewRepository(s, opts...)
	if err != nil {
		if _, rerr := name.ParseReference(s, opts...); rerr == nil {
			return name.Repository{}, fmt.Errorf("image %q: give the repository without a tag or digest (e.g. ghcr.io/acme/model) and tags with --tag", s)
		}
		return name.Repository{}, fmt.Errorf("image %q is not a valid repository name: %w", s, err)
	}
	return repo, nil
}

func (p *RemotePublisher) options(ctx context.Context, tr http.RoundTripper) []remote.Option {
	backoff := p.Backoff
	if backoff.Steps == 0 {
		backoff = remote.Backoff{Duration: time.Second, Factor: 3, Jitter: 0.1, Steps: 4}
	}
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(keychainOrAnon{p.Keychain}),
		remote.WithTransport(tr),
		remote.WithJobs(4),
		remote.WithRetryBackoff(backoff),
		remote.WithRetryStatusCodes(http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout),
	}
	if p.UserAgent != "" {
		opts = append(opts, remote.WithUserAgent(p.UserAgent))
	}
	return opts
}

// Check verifies, before anything is built, that the registry accepts the
// credentials for a push to the repository: the token exchange with push
// scope, then an authenticated HEAD of the manifest "latest" (200 or 404
// are fine). A refusal is an *AuthError.
func (p *RemotePublisher) Check(ctx context.Context) error {
	repo, err := ParseRepository(p.Repository, p.Insecure)
	if err != nil {
		return err
	}
	base := p.Transport
	if base == nil {
		base = remote.DefaultTransport
	}
	auth, err := authn.Resolve(ctx, keychainOrAnon{p.Keychain}, repo)
	if err != nil {
		return fmt.Errorf("push to %s: %w", repo, err)
	}
	tr, err := transport.NewWithContext(ctx, repo.Registry, auth, base, []string{repo.Scope(transport.PushScope)})
	if err != nil {
		return fmt.Errorf("push to %s: %w", repo, asAuthError(err, repo.RegistryStr(), "push to", p.Keychain))
	}
	u := url.URL{Scheme: repo.Scheme(), Host: repo.RegistryStr(), Path: "/v2/" + repo.RepositoryStr() + "/manifests/latest"}
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", string(types.OCIImageIndex)+", "+string(types.OCIManifestSchema1))
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return fmt.Errorf("push to %s: %w", repo, err)
	}
	resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusOK, http.StatusNotFound); err != nil {
		return fmt.Errorf("push to %s: %w", repo, asAuthError(err, repo.RegistryStr(), "push to", p.Keychain))
	}
	return nil
}

// Publish implements Publisher.
func (p *RemotePublisher) Publish(ctx context.Context, b *Built) (*Published, error) {
	repo, err := ParseRepository(p.Repository, p.Insecure)
	if err != nil {
		return nil, err
	}
	var tags []name.Tag
	for _, t := range p.Tags {
		if !ValidTag(t) {
			return nil, fmt.Errorf("push %s: invalid tag %q (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')", repo, t)
		}
		tags = append(tags, repo.Tag(t))
	}
	base := p.Transport
	if base == nil {
		base = remote.DefaultTransport
	}
	counter := &blobCounter{next: base, sizes: blobSizes(b)}
	pusher, err := remote.NewPusher(p.options(ctx, counter)...)
	if err != nil {
		return nil, fmt.Errorf("push %s: %w", repo, err)
	}
	var idx v1.ImageIndex = b.Index
	if p.MountFrom != "" {
		from, err := ParseRepository(p.MountFrom, p.Insecure)
		if err != nil {
			return nil, fmt.Errorf("mount from: %w", err)
		}
		if from.RegistryStr() != repo.RegistryStr() {
			return nil, fmt.Errorf("mount from %s: blobs can only be mounted from a repository of the same registry (%s)", from, repo.RegistryStr())
		}
		if from.RepositoryStr() != repo.RepositoryStr() {
			idx = &mountIndex{inner: b.Index, from: from}
		}
	}
	byDigest := repo.Digest(b.Digest.String())
	if err := pusher.Push(ctx, byDigest, idx); err != nil {
		return nil, fmt.Errorf("push to %s: %w", repo, asAuthError(err, repo.RegistryStr(), "push to", p.Keychain))
	}
	out := &Published{Ref: byDigest.String(), Digest: b.Digest}
	for _, t := range tags {
		if err := pusher.Push(ctx, t, idx); err != nil {
			return nil, fmt.Errorf("tag %s (the image is pushed as %s): %w", t, byDigest, asAuthError(err, repo.RegistryStr(), "push to", p.Keychain))
		}
		out.Tags = append(out.Tags, t.String())
	}
	out.Uploaded, out.UploadedBytes, out.Mounted, out.Existing = counter.result()
	return out, nil
}

// blobSizes maps every blob of the built image to its size.
func blobSizes(b *Built) map[v1.Hash]int64 {
	sizes := map[v1.Hash]int64{}
	im, err := b.Index.IndexManifest()
	if err != nil {
		return sizes
	}
	for _, d := range im.Manifests {
		img, err := b.Index.Image(d.Digest)
		if err != nil {
			continue
		}
		m, err := img.Manifest()
		if err != nil {
			continue
		}
		sizes[m.Config.Digest] = m.Config.Size
		for _, l := range m.Layers {
			sizes[l.Digest] = l.Size
		}
	}
	return sizes
}

// blobCounter watches registry requests to report which blobs were
// uploaded, mounted or already present.
type blobCounter struct {
	next  http.RoundTripper
	sizes map[v1.Hash]int64

	mu       sync.Mutex
	uploaded map[v1.Hash]bool
	mounted  map[v1.Hash]bool
	existing map[v1.Hash]bool
}

func (c *blobCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	path := req.URL.Path
	q := req.URL.Query()
	record := func(m *map[v1.Hash]bool, s string) {
		h, herr := v1.NewHash(s)
		if herr != nil {
			return
		}
		c.mu.Lock()
		if *m == nil {
			*m = map[v1.Hash]bool{}
		}
		(*m)[h] = true
		c.mu.Unlock()
	}
	switch {
	case req.Method == http.MethodPut && strings.Contains(path, "/blobs/uploads/") && q.Get("digest") != "" && resp.StatusCode == http.StatusCreated:
		record(&c.uploaded, q.Get("digest"))
	case req.Method == http.MethodPost && strings.Contains(path, "/blobs/uploads/") && q.Get("mount") != "" && resp.StatusCode == http.StatusCreated:
		record(&c.mounted, q.Get("mount"))
	case req.Method == http.MethodHead && strings.Contains(path, "/blobs/sha256:") && resp.StatusCode == http.StatusOK:
		record(&c.existing, path[strings.LastIndex(path, "/")+1:])
	}
	return resp, nil
}

func (c *blobCounter) result() (uploaded []v1.Hash, bytes int64, mounted []v1.Hash, existing int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h := range c.uploaded {
		uploaded = append(uploaded, h)
		bytes += c.sizes[h]
	}
	for h := range c.mounted {
		mounted = append(mounted, h)
	}
	sortHashes(uploaded)
	sortHashes(mounted)
	return uploaded, bytes, mounted, len(c.existing)
}

func sortHashes(hs []v1.Hash) {
	sort.Slice(hs, func(i, j int) bool { return hs[i].String() < hs[j].String() })
}

// mountIndex offers every layer of its images for a cross-repository mount
// from another repository; the registry uploads normally when the blob is
// not there.
//
// It wraps the index by hand because go-containerregistry mounts a blob
// only for a layer that is a remote.MountableLayer, and has no option to
// name a mount source for a whole index push.
type mountIndex struct {
	inner v1.ImageIndex
	from  name.Repository
}

func (x *mountIndex) MediaType() (types.MediaType, error)       { return x.inner.MediaType() }
func (x *mountIndex) Digest() (v1.Hash, error)                  { return x.inner.Digest() }
func (x *mountIndex) Size() (int64, error)                      { return x.inner.Size() }
func (x *mountIndex) IndexManifest() (*v1.IndexManifest, error) { return x.inner.IndexManifest() }
func (x *mountIndex) RawManifest() ([]byte, error)              { return x.inner.RawManifest() }
func (x *mountIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	return x.inner.ImageIndex(h)
}

func (x *mountIndex) Image(h v1.Hash) (v1.Image, error) {
	img, err := x.inner.Image(h)
	if err != nil {
		return nil, err
	}
	return &mountImage{Image: img, from: x.from}, nil
}

type mountImage struct {
	v1.Image
	from name.Repository
}

func (m *mountImage) mountable(l v1.Layer) (v1.Layer, error) {
	d, err := l.Digest()
	if err != nil {
		return nil, err
	}
	return &remote.MountableLayer{Layer: l, Reference: m.from.Digest(d.String())}, nil
}

func (m *mountImage) Layers() ([]v1.Layer, error) {
	ls, err := m.Image.Layers()
	if err != nil {
		return nil, err
	}
	out := make([]v1.Layer, len(ls))
	for i, l := range ls {
		if out[i], err = m.mountable(l); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (m *mountImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	l, err := m.Image.LayerByDigest(h)
	if err != nil {
		return nil, err
	}
	return m.mountable(l)
}
