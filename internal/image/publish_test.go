package image

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// allBlobs lists the layer and config digests of a built index.
func allBlobs(t *testing.T, b *Built) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for h := range blobSizes(b) {
		out[h.String()] = true
	}
	return out
}

func configDigests(t *testing.T, b *Built) []string {
	t.Helper()
	var out []string
	for _, pi := range b.Images {
		img, err := b.Index.Image(pi.Digest)
		if err != nil {
			t.Fatal(err)
		}
		h, err := img.ConfigName()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, h.String())
	}
	return out
}

// TestPushUploadsOnlyWhatChanged pushes to an in-memory registry and counts
// the uploads at the registry, independently of the publisher: the first
// push uploads every blob once (the model layer is shared by both
// platforms), pushing the same image again uploads nothing, and pushing a
// new model uploads only its model layer and the two configs.
func TestPushUploadsOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	host, rec := testRegistry(t, "", "")
	repo := host + "/acme/house"
	ctx := context.Background()
	a := buildTest(t, "house", 1, Metadata{})
	pub := &RemotePublisher{Repository: repo, Tags: []string{"sha1", "latest"}}

	got, err := pub.Publish(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	up := uploadedBlobs(rec.take())
	want := allBlobs(t, a)
	if len(want) != 6 {
		t.Fatalf("the image has %d distinct blobs, want 6 (base, 2 runtimes, model, 2 configs)", len(want))
	}
	if len(up) != len(want) {
		t.Errorf("first push uploaded %d blobs, want %d: %v", len(up), len(want), up)
	}
	for _, d := range up {
		if !want[d] {
			t.Errorf("uploaded unknown blob %s", d)
		}
	}
	if len(got.Uploaded) != len(up) {
		t.Errorf("the publisher reports %d uploads, the registry saw %d", len(got.Uploaded), len(up))
	}
	if got.Ref != repo+"@"+a.Digest.String() {
		t.Errorf("ref %s", got.Ref)
	}
	checkRemote(t, repo, "latest", a)
	checkRemote(t, repo, "sha1", a)

	// The same image again: nothing is uploaded.
	again, err := pub.Publish(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if up := uploadedBlobs(rec.take()); len(up) != 0 {
		t.Errorf("re-push uploaded %d blobs: %v", len(up), up)
	}
	if len(again.Uploaded) != 0 {
		t.Errorf("the publisher reports %d uploads on a re-push", len(again.Uploaded))
	}

	// A new model: only its layer and the configs go up.
	b := buildTest(t, "house", 2, Metadata{})
	pubB := &RemotePublisher{Repository: repo, Tags: []string{"sha2", "latest"}}
	gotB, err := pubB.Publish(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	reqs := rec.take()
	up = uploadedBlobs(reqs)
	wantB := append([]string{b.ModelLayer.String()}, configDigests(t, b)...)
	slices.Sort(up)
	slices.Sort(wantB)
	if !slices.Equal(up, wantB) {
		t.Errorf("second model uploaded %v, want only the model layer and the configs %v", up, wantB)
	}
	if gotB.Existing < 3 {
		t.Errorf("the publisher saw %d existing blobs, want the base and both runtime layers", gotB.Existing)
	}
	checkRemote(t, repo, "latest", b)
	checkRemote(t, repo, "sha1", a)

	// Push by digest, then tag: every manifest PUT by digest comes before
	// the first PUT of a tag.
	firstTag, lastDigest := -1, -1
	for i, q := range reqs {
		if q.Method != http.MethodPut || !strings.Contains(q.Path, "/manifests/") {
			continue
		}
		if strings.Contains(q.Path, "/manifests/sha256:") {
			lastDigest = i
		} else if firstTag < 0 {
			firstTag = i
		}
	}
	if firstTag < 0 || lastDigest < 0 || lastDigest > firstTag {
		t.Errorf("manifest PUT order: last by digest at %d, first tag at %d", lastDigest, firstTag)
	}
}

// checkRemote checks that repo:tag is the built index and validates what
// the registry serves.
func checkRemote(t *testing.T, repo, tag string, b *Built) {
	t.Helper()
	ref, err := name.ParseReference(repo + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(ref)
	if err != nil {
		t.Fatal(err)
	}
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if d != b.Digest {
		t.Errorf("%s is %s, want %s", ref, d, b.Digest)
	}
	if err := validate.Index(idx); err != nil {
		t.Errorf("validate.Index(%s): %v", ref, err)
	}
}

// TestPushWrongPassword: a registry that refuses the credentials gives an
// error naming the registry and the credentials' source, never the
// password, and nothing is uploaded. The right password works.
func TestPushWrongPassword(t *testing.T) {
	t.Parallel()
	host, rec := testRegistry(t, "ci", "s3cret-right")
	repo := host + "/acme/house"
	b := buildTest(t, "house", 1, Metadata{})
	var masked []string
	kc := NewKeychain(Credentials{Username: "ci", Password: "wr0ng-pass", Getenv: func(string) string { return "" }, Masker: func(s string) { masked = append(masked, s) }})
	_, err := (&RemotePublisher{Repository: repo, Tags: []string{"latest"}, Keychain: kc}).Publish(context.Background(), b)
	if err == nil {
		t.Fatal("push with a wrong password succeeded")
	}
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Fatalf("error %v is not a 401 AuthError", err)
	}
	msg := err.Error()
	for _, s := range []string{host, SourceExplicit, "401"} {
		if !strings.Contains(msg, s) {
			t.Errorf("error %q does not name %q", msg, s)
		}
	}
	if strings.Contains(msg, "wr0ng-pass") {
		t.Error("the error prints the password")
	}
	if !slices.Equal(masked, []string{"wr0ng-pass"}) {
		t.Errorf("masked %q, want the password", masked)
	}
	for _, q := range rec.take() {
		if q.Method == http.MethodPost || q.Method == http.MethodPut || q.Method == http.MethodPatch {
			t.Errorf("the registry received %s %s after refusing the credentials", q.Method, q.Path)
		}
	}

	kc = NewKeychain(Credentials{Username: "ci", Password: "s3cret-right"})
	if _, err := (&RemotePublisher{Repository: repo, Tags: []string{"latest"}, Keychain: kc}).Publish(context.Background(), b); err != nil {
		t.Fatalf("push with the right password: %v", err)
	}
	if up := uploadedBlobs(rec.take()); len(up) != 6 {
		t.Errorf("push with the right password uploaded %d blobs, want 6", len(up))
	}
}

// TestPushNoCredentials: a registry that wants credentials when none are
// configured says so and tells where credentials come from.
func TestPushNoCredentials(t *testing.T) {
	t.Parallel()
	host, _ := testRegistry(t, "ci", "pw")
	b := buildTest(t, "house", 1, Metadata{})
	_, err := (&RemotePublisher{Repository: host + "/acme/house", Keychain: NewKeychain(Credentials{})}).Publish(context.Background(), b)
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Source != SourceNone {
		t.Fatalf("error %v, want an AuthError without credentials", err)
	}
	if !strings.Contains(err.Error(), "--registry-username") {
		t.Errorf("error %q does not say how to pass credentials", err)
	}
}

func TestPublisherRejects(t *testing.T) {
	t.Parallel()
	b := buildTest(t, "house", 1, Metadata{})
	cases := []struct {
		name string
		pub  Publisher
		want string
	}{
		{"repository with a tag", &RemotePublisher{Repository: "127.0.0.1:1/acme/house:v1"}, "without a tag or digest"},
		{"bad repository", &RemotePublisher{Repository: "Not A Repo"}, "not a valid repository"},
		{"empty repository", &RemotePublisher{}, "no image repository"},
		{"bad tag", &RemotePublisher{Repository: "127.0.0.1:1/acme/house", Tags: []string{"-bad"}}, "invalid tag"},
		{"layout bad tag", &LayoutPublisher{Dir: filepath.Join(t.TempDir(), "img"), Tags: []string{"a b"}}, "invalid tag"},
		{"layout no dir", &LayoutPublisher{}, "no directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.pub.Publish(context.Background(), b)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestLayoutPublisher writes an OCI layout, replaces it, and refuses to
// replace a directory that is not a layout.
func TestLayoutPublisher(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "dist", "image")
	a := buildTest(t, "house", 1, Metadata{})
	got, err := (&LayoutPublisher{Dir: dir, Tags: []string{"v1", "latest"}}).Publish(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	if got.Ref != "oci:"+dir+"@"+a.Digest.String() || len(got.Tags) != 2 {
		t.Errorf("published %+v", got)
	}
	b := buildTest(t, "house", 2, Metadata{})
	if _, err := (&LayoutPublisher{Dir: dir}).Publish(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	f := &Fetcher{}
	out := filepath.Join(t.TempDir(), "m")
	fetched, err := f.Fetch(context.Background(), "oci:"+dir, out)
	if err != nil {
		t.Fatal(err)
	}
	if fetched.Digest != b.Digest.String() {
		t.Errorf("the layout holds %s, want the second image %s", fetched.Digest, b.Digest)
	}
	if _, err := f.Fetch(context.Background(), "oci:"+dir+":v1", out); err == nil || !strings.Contains(err.Error(), `no image tagged "v1"`) {
		t.Errorf("the replaced layout still has v1: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("temporary directories left behind: %v", entries)
	}

	notLayout := t.TempDir()
	writeFile(t, notLayout, "precious.txt", []byte("keep"), 0o644)
	if _, err := (&LayoutPublisher{Dir: notLayout}).Publish(context.Background(), a); err == nil || !strings.Contains(err.Error(), "not an OCI image layout") {
		t.Errorf("replacing a non-layout directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(notLayout, "precious.txt")); err != nil {
		t.Error("a non-layout directory was touched")
	}
}

// repoBlobs stores blobs per repository, as real registries do (the
// default in-memory handler shares blobs between repositories).
type repoBlobs struct {
	mu sync.Mutex
	m  map[string][]byte
}

// key names a blob of a repository. pkg/registry passes "acme/x/blobs" for
// uploads and "acme/x" for reads, so the suffix is dropped.
func (r *repoBlobs) key(repo string, h v1.Hash) string {
	return strings.TrimSuffix(repo, "/blobs") + "@" + h.String()
}

func (r *repoBlobs) Stat(_ context.Context, repo string, h v1.Hash) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.m[r.key(repo, h)]
	if !ok {
		return 0, registry.ErrNotFound
	}
	return int64(len(b)), nil
}

func (r *repoBlobs) Get(_ context.Context, repo string, h v1.Hash) (io.ReadCloser, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.m[r.key(repo, h)]
	if !ok {
		return nil, registry.ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (r *repoBlobs) Put(_ context.Context, repo string, h v1.Hash, rc io.ReadCloser) error {
	b, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[r.key(repo, h)] = b
	return nil
}

// TestPushMountFrom: with MountFrom, every blob the target repository
// lacks is offered for a cross-repository mount from the other repository
// (this test registry does not mount, so the client falls back to an
// upload; the e2e script checks real mounts with docker-registry).
func TestPushMountFrom(t *testing.T) {
	t.Parallel()
	rec := &recorder{next: registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithBlobHandler(&repoBlobs{m: map[string][]byte{}}))}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()
	a := buildTest(t, "house", 1, Metadata{})
	if _, err := (&RemotePublisher{Repository: host + "/acme/house"}).Publish(ctx, a); err != nil {
		t.Fatal(err)
	}
	rec.take()
	b := buildTest(t, "churn", 1, Metadata{})
	if _, err := (&RemotePublisher{Repository: host + "/acme/churn", MountFrom: host + "/acme/house", Tags: []string{"latest"}}).Publish(ctx, b); err != nil {
		t.Fatal(err)
	}
	offered := map[string]bool{}
	plain := 0
	for _, q := range rec.take() {
		if q.Method == http.MethodPost && strings.Contains(q.Path, "/acme/churn/blobs/uploads") {
			vals, err := url.ParseQuery(q.Query)
			if err != nil {
				t.Fatal(err)
			}
			if vals.Get("mount") == "" {
				plain++ // configs are not offered for a mount
				continue
			}
			if vals.Get("from") != "acme/house" {
				t.Errorf("mount offer not from acme/house: %s", q.Query)
			}
			offered[vals.Get("mount")] = true
		}
	}
	if plain != len(b.Images) {
		t.Errorf("%d uploads without a mount offer, want one per config (%d)", plain, len(b.Images))
	}
	for _, pi := range b.Images {
		if !offered[pi.RuntimeLayer.String()] {
			t.Errorf("%s: the runtime layer was not offered for a mount", pi.Platform)
		}
	}
	if !offered[b.ModelLayer.String()] || len(offered) != 4 {
		t.Errorf("offered %d layers for a mount, want 4 (base, 2 runtimes, model)", len(offered))
	}
	checkRemote(t, host+"/acme/churn", "latest", b)

	_, err := (&RemotePublisher{Repository: host + "/acme/churn", MountFrom: "ghcr.io/acme/house"}).Publish(ctx, b)
	if err == nil || !strings.Contains(err.Error(), "same registry") {
		t.Errorf("mount from another registry: %v", err)
	}
}

// TestPackageChecksCredentialsFirst: Package asks the registry before it
// builds anything, so a wrong password fails fast (here the runtime flag
// points nowhere: the build would fail differently).
func TestPackageChecksCredentialsFirst(t *testing.T) {
	t.Parallel()
	host, rec := testRegistry(t, "ci", "right")
	modelDir := filepath.Join(t.TempDir(), "m")
	writeModel(t, modelDir, "house", 1)
	opts := func(pw string) PackageOptions {
		return PackageOptions{
			ModelDir: modelDir,
			Runtimes: &RuntimeFinder{Flags: []string{"/nonexistent/modelci-serve"}},
			Metadata: Metadata{Created: testCreated},
			Publisher: &RemotePublisher{
				Repository: host + "/acme/house",
				Keychain:   NewKeychain(Credentials{Username: "ci", Password: pw}),
			},
		}
	}
	_, err := Package(context.Background(), opts("wrong"))
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v, want an AuthError before the build", err)
	}
	for _, q := range rec.take() {
		if q.Method != http.MethodGet && q.Method != http.MethodHead {
			t.Errorf("the check sent %s %s", q.Method, q.Path)
		}
	}
	_, err = Package(context.Background(), opts("right"))
	if err == nil || errors.As(err, &ae) || !strings.Contains(err.Error(), "/nonexistent/modelci-serve") {
		t.Errorf("with the right password the check passes and the build fails on the runtime; got %v", err)
	}
}
