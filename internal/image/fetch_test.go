package image

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/modelci/modelci/internal/model"
)

// sameFiles checks that two model directories hold the same files.
func sameFiles(t *testing.T, a, b string) {
	t.Helper()
	for _, n := range []string{model.FileModel, model.FileMetrics, model.FileProfile} {
		x, err := os.ReadFile(filepath.Join(a, n))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, n))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs", n)
		}
	}
}

// TestRegistrySource fetches the champion from the registry: the model
// comes back byte for byte, only the model layer is downloaded (no runtime
// layer, no config), and a missing tag or repository is ErrNotFound.
func TestRegistrySource(t *testing.T) {
	t.Parallel()
	host, rec := testRegistry(t, "", "")
	repo := host + "/acme/house"
	ctx := context.Background()
	modelDir := filepath.Join(t.TempDir(), "model")
	writeModel(t, modelDir, "house", 7)
	b, err := Build(Spec{ModelDir: modelDir, Runtimes: testRuntimes(), Metadata: Metadata{Created: testCreated}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&RemotePublisher{Repository: repo, Tags: []string{"latest", "v1"}}).Publish(ctx, b); err != nil {
		t.Fatal(err)
	}
	rec.take()

	src := &RegistrySource{Repository: repo, Fetcher: &Fetcher{}}
	dst := filepath.Join(t.TempDir(), "champion")
	ref, dgst, err := src.FetchModel(ctx, "latest", dst)
	if err != nil {
		t.Fatal(err)
	}
	if ref != repo+"@"+b.Digest.String() || dgst != b.Digest.String() {
		t.Errorf("FetchModel = %s, %s; want %s@%s", ref, dgst, repo, b.Digest)
	}
	sameFiles(t, modelDir, dst)
	if _, err := model.Load(dst); err != nil {
		t.Errorf("the fetched model does not load: %v", err)
	}
	var blobGets []string
	for _, q := range rec.take() {
		if q.Method == http.MethodGet && strings.Contains(q.Path, "/blobs/") {
			blobGets = append(blobGets, q.Path[strings.LastIndex(q.Path, "/")+1:])
		}
	}
	if len(blobGets) != 1 || blobGets[0] != b.ModelLayer.String() {
		t.Errorf("downloaded blobs %v, want only the model layer %s", blobGets, b.ModelLayer)
	}

	for _, tc := range []struct{ repo, tag string }{{repo, "nope"}, {host + "/acme/none", "latest"}} {
		_, _, err := (&RegistrySource{Repository: tc.repo}).FetchModel(ctx, tc.tag, filepath.Join(t.TempDir(), "x"))
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s:%s: error %v is not ErrNotFound", tc.repo, tc.tag, err)
		}
	}
}

// TestFetchRegistryAuth: pulling with wrong credentials is an AuthError,
// not ErrNotFound, so a registry baseline does not silently fall back.
func TestFetchRegistryAuth(t *testing.T) {
	t.Parallel()
	host, _ := testRegistry(t, "ci", "pw")
	src := &RegistrySource{Repository: host + "/acme/house", Fetcher: &Fetcher{Keychain: NewKeychain(Credentials{Username: "ci", Password: "bad"})}}
	_, _, err := src.FetchModel(context.Background(), "latest", filepath.Join(t.TempDir(), "x"))
	var ae *AuthError
	if !errors.As(err, &ae) || errors.Is(err, ErrNotFound) {
		t.Fatalf("error %v, want an AuthError", err)
	}
	if ae.Action != "pull from" || !strings.Contains(err.Error(), host) {
		t.Errorf("error %q", err)
	}
}

// TestFetchLayout reads the model from an OCI layout by default tag, tag
// and digest.
func TestFetchLayout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	modelDir := filepath.Join(t.TempDir(), "model")
	writeModel(t, modelDir, "house", 3)
	b, err := Build(Spec{ModelDir: modelDir, Runtimes: testRuntimes(), Metadata: Metadata{Created: testCreated}})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "image")
	if _, err := (&LayoutPublisher{Dir: dir, Tags: []string{"v1", "latest"}}).Publish(ctx, b); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{"oci:" + dir, "oci:" + dir + ":v1", "oci:" + dir + "@" + b.Digest.String()} {
		dst := filepath.Join(t.TempDir(), "m")
		got, err := (&Fetcher{}).Fetch(ctx, src, dst)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if got.Model != "house" || got.Layer != b.ModelLayer || got.Digest != b.Digest.String() {
			t.Errorf("%s: fetched %+v", src, got)
		}
		sameFiles(t, modelDir, dst)
	}
	if _, err := (&Fetcher{}).Fetch(ctx, "oci:"+dir+":v9", t.TempDir()); err == nil || !strings.Contains(err.Error(), "latest, v1") {
		t.Errorf("unknown tag: %v", err)
	}
	if _, err := (&Fetcher{}).Fetch(ctx, "oci:"+t.TempDir(), t.TempDir()); err == nil {
		t.Error("an empty directory is not a layout")
	}
}

// layerOf gzips a tar of entries for extractModel.
func layerOf(t *testing.T, entries []*tar.Header, data map[string][]byte) ([]byte, v1.Descriptor) {
	t.Helper()
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, shared := range entries {
		h := *shared // the cases share headers; do not write to them
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(data[h.Name]))
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(data[h.Name]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	gz, err := gzipBytes(raw.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	h, n, err := v1.SHA256(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	return gz, v1.Descriptor{MediaType: types.OCILayer, Digest: h, Size: n}
}

// TestExtractModelRejects: a hostile or damaged model layer is refused and
// nothing is written.
func TestExtractModelRejects(t *testing.T) {
	t.Parallel()
	src := filepath.Join(t.TempDir(), "m")
	writeModel(t, src, "house", 1)
	files := map[string][]byte{}
	for _, n := range []string{model.FileModel, model.FileMetrics, model.FileProfile} {
		b, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			t.Fatal(err)
		}
		files["models/house/"+n] = b
	}
	reg := func(name string) *tar.Header { return &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644} }
	good := []*tar.Header{reg("models/house/model.json"), reg("models/house/metrics.json"), reg("models/house/profile.json")}
	tampered := map[string][]byte{}
	for k, v := range files {
		tampered[k] = v
	}
	tampered["models/house/profile.json"] = []byte("{}\n")
	cases := []struct {
		name    string
		entries []*tar.Header
		data    map[string][]byte
		corrupt bool // the descriptor names other content
		want    string
	}{
		{"path traversal", append(good, reg("models/house/../../etc/passwd")), files, false, "unexpected entry"},
		{"outside /models", append(good, reg("etc/passwd")), files, false, "unexpected entry"},
		{"symlink", append(good, &tar.Header{Name: "models/house/link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}), files, false, "not a regular file"},
		{"two models", append(good, reg("models/other/model.json")), map[string][]byte{"models/other/model.json": files["models/house/model.json"], "models/house/model.json": files["models/house/model.json"], "models/house/metrics.json": files["models/house/metrics.json"], "models/house/profile.json": files["models/house/profile.json"]}, false, "two models"},
		{"tampered file", good, tampered, false, "profile.json hashes to"},
		{"missing file", good[:2], files, false, "lacks profile.json"},
		{"digest mismatch", good, files, true, "does not match its descriptor"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			gz, desc := layerOf(t, tc.entries, tc.data)
			if tc.corrupt {
				h, _, err := v1.SHA256(strings.NewReader("other content"))
				if err != nil {
					t.Fatal(err)
				}
				desc.Digest = h
			}
			dst := filepath.Join(t.TempDir(), "out")
			err := extractModel(io.NopCloser(bytes.NewReader(gz)), desc, "house", dst)
			if err == nil {
				t.Fatal("extractModel accepted the layer")
			}
			if tc.want != "" && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			if _, serr := os.Stat(dst); !errors.Is(serr, os.ErrNotExist) {
				t.Errorf("something was written to %s", dst)
			}
		})
	}
	gz, desc := layerOf(t, good, files)
	dst := filepath.Join(t.TempDir(), "out")
	if err := extractModel(io.NopCloser(bytes.NewReader(gz)), desc, "house", dst); err != nil {
		t.Fatalf("a good layer: %v", err)
	}
}
