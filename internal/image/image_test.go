package image

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", p, got, want)
	}
}

// TestReproducible: the same model, runtimes and metadata give the same
// index digest, byte for byte, even from different directories; a
// different created time changes the configs but not one layer; a changed
// model changes only the model layer.
func TestReproducible(t *testing.T) {
	t.Parallel()
	meta := Metadata{Source: "https://example.com/acme/repo", Revision: "abc123", Licenses: "Apache-2.0"}
	a := buildTest(t, "house", 1, meta)
	b := buildTest(t, "house", 1, meta)
	if a.Digest != b.Digest {
		t.Fatalf("same inputs, different digests: %s and %s", a.Digest, b.Digest)
	}
	rawA, _ := a.Index.RawManifest()
	rawB, _ := b.Index.RawManifest()
	if !bytes.Equal(rawA, rawB) {
		t.Fatal("same inputs, different index bytes")
	}
	for i := range a.Images {
		la := imageLayers(t, a.Index, a.Images[i].Digest)
		lb := imageLayers(t, b.Index, b.Images[i].Digest)
		for j := range la {
			if !bytes.Equal(la[j], lb[j]) {
				t.Errorf("%s layer %d: compressed bytes differ between identical builds", a.Images[i].Platform, j)
			}
		}
	}

	later := meta
	later.Created = testCreated.Add(time.Hour)
	c := buildTest(t, "house", 1, later)
	if c.Digest == a.Digest {
		t.Error("a different created time kept the digest")
	}
	if c.ModelLayer != a.ModelLayer {
		t.Error("a different created time changed the model layer")
	}
	for i := range a.Images {
		if c.Images[i].RuntimeLayer != a.Images[i].RuntimeLayer {
			t.Errorf("%s: a different created time changed the runtime layer", a.Images[i].Platform)
		}
	}

	d := buildTest(t, "house", 2, meta)
	if d.ModelLayer == a.ModelLayer {
		t.Error("a different model kept the model layer")
	}
	for i := range a.Images {
		if d.Images[i].RuntimeLayer != a.Images[i].RuntimeLayer {
			t.Errorf("%s: a different model changed the runtime layer", a.Images[i].Platform)
		}
	}
}

func imageLayers(t *testing.T, idx v1.ImageIndex, h v1.Hash) [][]byte {
	t.Helper()
	img, err := idx.Image(h)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, l := range ls {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// TestImageLayout checks the built index against the contract: OCI media
// types everywhere, one image per platform with its own runtime, the model
// at /models/<name>/, fixed tar headers, the config and the annotations.
// The config and layer listings are golden files.
func TestImageLayout(t *testing.T) {
	t.Parallel()
	b := buildTest(t, "house", 1, Metadata{Source: "https://example.com/acme/repo", Revision: "abc123", Version: "1.2.3", Licenses: "MIT", Labels: map[string]string{"team": "pricing", "io.modelci.model.type": "spoofed"}})
	if err := validate.Index(b.Index); err != nil {
		t.Fatalf("validate.Index: %v", err)
	}
	if mt, _ := b.Index.MediaType(); mt != types.OCIImageIndex {
		t.Errorf("index media type %s", mt)
	}
	im, err := b.Index.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 2 || im.Manifests[0].Platform.String() != "linux/amd64" || im.Manifests[1].Platform.String() != "linux/arm64" {
		t.Fatalf("index manifests %+v", im.Manifests)
	}
	rts := testRuntimes()
	var listing strings.Builder
	for i, d := range im.Manifests {
		if d.MediaType != types.OCIManifestSchema1 {
			t.Errorf("%s: manifest media type %s", d.Platform, d.MediaType)
		}
		img, err := b.Index.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if err := validate.Image(img); err != nil {
			t.Fatalf("validate.Image %s: %v", d.Platform, err)
		}
		m, err := img.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		if m.Config.MediaType != types.OCIConfigJSON {
			t.Errorf("%s: config media type %s", d.Platform, m.Config.MediaType)
		}
		wantKinds := []string{LayerBase, LayerRuntime, LayerModel}
		if len(m.Layers) != 3 {
			t.Fatalf("%s: %d layers", d.Platform, len(m.Layers))
		}
		for j, l := range m.Layers {
			if l.MediaType != types.OCILayer {
				t.Errorf("%s layer %d: media type %s", d.Platform, j, l.MediaType)
			}
			if got := l.Annotations[AnnotationLayer]; got != wantKinds[j] {
				t.Errorf("%s layer %d: %s=%q, want %q", d.Platform, j, AnnotationLayer, got, wantKinds[j])
			}
		}
		if m.Annotations[AnnotationModelType] != "linear" || m.Annotations[AnnotationDataSHA256] != "ab12" || m.Annotations["team"] != "pricing" {
			t.Errorf("%s: manifest annotations %v", d.Platform, m.Annotations)
		}
		var metrics map[string]float64
		if err := json.Unmarshal([]byte(m.Annotations[AnnotationMetrics]), &metrics); err != nil || metrics["rmse"] != 1.5 || metrics["r2"] != 0.75 {
			t.Errorf("%s: metrics annotation %q (%v)", d.Platform, m.Annotations[AnnotationMetrics], err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.Architecture != d.Platform.Architecture || cf.OS != "linux" {
			t.Errorf("%s: config platform %s/%s", d.Platform, cf.OS, cf.Architecture)
		}
		ls, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		for j, l := range ls {
			entries := tarListing(t, l)
			fmt.Fprintf(&listing, "%s layer %d (%s):\n", d.Platform, j, wantKinds[j])
			for _, e := range entries {
				fmt.Fprintf(&listing, "  %s\n", e.line)
				if e.path == strings.TrimPrefix(RuntimePath, "/") && !bytes.Equal(e.data, rts[i].Binary) {
					t.Errorf("%s: the runtime in the image is not the %s runtime", d.Platform, rts[i].Platform)
				}
			}
		}
		if i == 0 {
			raw, err := img.RawConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, raw, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteString("\n")
			golden(t, "config-amd64.json", pretty.Bytes())
		}
	}
	golden(t, "layers.txt", []byte(listing.String()))
	if im.Annotations[AnnotationModelType] != "linear" || im.Annotations[AnnotationVersion] != "1.2.3" || im.Annotations[AnnotationCreated] != "2023-11-14T22:13:20Z" {
		t.Errorf("index annotations %v", im.Annotations)
	}
}

type tarEntry struct {
	path string
	line string
	data []byte
}

// tarListing lists a layer's entries with their headers, and checks the
// entries are sorted.
func tarListing(t *testing.T, l v1.Layer) []tarEntry {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	var out []tarEntry
	prev := ""
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name <= prev {
			t.Errorf("tar entries not sorted: %q after %q", h.Name, prev)
		}
		prev = h.Name
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		line := fmt.Sprintf("%c %04o %d:%d %q %q mtime=%d size=%d %s", h.Typeflag, h.Mode, h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime.Unix(), h.Size, h.Name)
		out = append(out, tarEntry{path: h.Name, line: line, data: data})
	}
	return out
}

// TestGzipDeterministic: compressing the same tar twice gives the same
// bytes, and the gzip header carries no name or time.
func TestGzipDeterministic(t *testing.T) {
	t.Parallel()
	entries, err := layerFiles(map[string][]byte{"a/b.txt": []byte("hello"), "a/c.bin": bytes.Repeat([]byte{1, 2, 3}, 10000)}, map[string]int64{"a/c.bin": 0o755})
	if err != nil {
		t.Fatal(err)
	}
	l1, err := newLayer(entries)
	if err != nil {
		t.Fatal(err)
	}
	l2, err := newLayer(entries)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(l1.compressed, l2.compressed) {
		t.Fatal("gzip output differs between runs")
	}
	// gzip header: ID1 ID2 CM FLG MTIME(4) XFL OS; no FNAME flag, MTIME 0.
	h := l1.compressed[:10]
	if h[3] != 0 || h[4] != 0 || h[5] != 0 || h[6] != 0 || h[7] != 0 {
		t.Errorf("gzip header has flags or a time: % x", h)
	}
}

// TestBuildRejects: bad inputs give clear errors, never an image.
func TestBuildRejects(t *testing.T) {
	t.Parallel()
	good := filepath.Join(t.TempDir(), "m")
	writeModel(t, good, "house", 1)
	corrupt := filepath.Join(t.TempDir(), "m")
	writeModel(t, corrupt, "house", 1)
	if err := os.WriteFile(filepath.Join(corrupt, "metrics.json"), []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badName := filepath.Join(t.TempDir(), "m")
	writeModel(t, badName, "../etc", 1)
	dup := append(testRuntimes(), testRuntimes()[0])
	cases := []struct {
		name string
		spec Spec
		want string
	}{
		{"no model dir", Spec{Runtimes: testRuntimes(), Metadata: Metadata{Created: testCreated}}, "no model directory"},
		{"missing model", Spec{ModelDir: filepath.Join(t.TempDir(), "nope"), Runtimes: testRuntimes(), Metadata: Metadata{Created: testCreated}}, "no such file"},
		{"corrupt model", Spec{ModelDir: corrupt, Runtimes: testRuntimes(), Metadata: Metadata{Created: testCreated}}, "metrics.json hashes to"},
		{"unsafe name", Spec{ModelDir: badName, Runtimes: testRuntimes(), Metadata: Metadata{Created: testCreated}}, "cannot be a directory name"},
		{"no created time", Spec{ModelDir: good, Runtimes: testRuntimes()}, "no created time"},
		{"no platforms", Spec{ModelDir: good, Metadata: Metadata{Created: testCreated}}, "no platforms"},
		{"duplicate platform", Spec{ModelDir: good, Runtimes: dup, Metadata: Metadata{Created: testCreated}}, "listed twice"},
		{"empty runtime", Spec{ModelDir: good, Runtimes: []Runtime{{Platform: v1.Platform{OS: "linux", Architecture: "amd64"}}}, Metadata: Metadata{Created: testCreated}}, "empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := Build(tc.spec)
			if err == nil || b != nil {
				t.Fatalf("Build succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

// TestParsePlatforms covers defaults, lists, order and errors.
func TestParsePlatforms(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   []string
		want string
		err  string
	}{
		{nil, "linux/amd64 linux/arm64", ""},
		{[]string{"linux/arm64,linux/amd64"}, "linux/amd64 linux/arm64", ""},
		{[]string{"linux/arm64", "linux/arm64"}, "linux/arm64", ""},
		{[]string{"linux/arm/v7"}, "linux/arm/v7", ""},
		{[]string{"windows/amd64"}, "", "Linux binary"},
		{[]string{"linux/mips"}, "", "unsupported architecture"},
		{[]string{"amd64"}, "", "want os/arch"},
		{[]string{"/amd64"}, "", "want os/arch"},
		{[]string{"linux/arm/v7/x"}, "", "too many slashes"},
		{[]string{"linux/amd64:10.0"}, "", "OS version"},
		{[]string{","}, "", "no platforms"},
	}
	for _, tc := range cases {
		ps, err := ParsePlatforms(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		var got []string
		for _, p := range ps {
			got = append(got, p.String())
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%q: got %v, want %s", tc.in, got, tc.want)
		}
	}
}
