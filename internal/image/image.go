// Package image builds the OCI image that packages a model with the serving
// runtime, publishes it to an OCI layout directory or a registry through a
// chain of publishers (NewPublisher), and reads the model back out of an
// image.
//
// The image is built the way ko builds images, without a Docker daemon: FROM
// scratch, three gzip layers per platform (a few base files; the static
// runtime binary; the model directory at /models/<name>/), an OCI config, one
// OCI manifest per platform and an OCI index over them. Builds are
// reproducible: layer tar headers are fixed and sorted, compression is
// deterministic and the created time comes from the caller (SOURCE_DATE_EPOCH
// or the commit time), so the same model, runtime and metadata give the same
// digest.
package image

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/modelci/modelci/internal/model"
)

// Paths and settings inside the image.
const (
	// ModelsDir holds one directory per model, following KServe's
	// /mnt/models convention of a fixed model root.
	ModelsDir = "/models"
	// RuntimePath is where the serving runtime is installed.
	RuntimePath = "/usr/local/bin/modelci-serve"
	// User is the numeric user and group the runtime runs as (distroless's
	// "nonroot").
	User = "65532:65532"
	// Port is the port the runtime listens on.
	Port = "8080/tcp"
	// EnvModelDir and EnvAddr are the runtime's environment variables.
	EnvModelDir = "MODELCI_MODEL_DIR"
	EnvAddr     = "MODELCI_ADDR"
)

// Annotation and label keys.
const (
	// AnnotationLayer marks each layer descriptor as LayerBase,
	// LayerRuntime or LayerModel.
	AnnotationLayer = "io.modelci.layer"
	LayerBase       = "base"
	LayerRuntime    = "runtime"
	LayerModel      = "model"

	AnnotationModelName     = "io.modelci.model.name"
	AnnotationModelType     = "io.modelci.model.type"
	AnnotationModelTask     = "io.modelci.model.task"
	AnnotationModelChecksum = "io.modelci.model.checksum"
	AnnotationMetrics       = "io.modelci.metrics"
	AnnotationDataSHA256    = "io.modelci.data.sha256"

	AnnotationSource      = "org.opencontainers.image.source"
	AnnotationRevision    = "org.opencontainers.image.revision"
	AnnotationCreated     = "org.opencontainers.image.created"
	AnnotationTitle       = "org.opencontainers.image.title"
	AnnotationDescription = "org.opencontainers.image.description"
	AnnotationVersion     = "org.opencontainers.image.version"
	AnnotationLicenses    = "org.opencontainers.image.licenses"
	// AnnotationRefName names a descriptor in an OCI layout's index.json.
	AnnotationRefName = "org.opencontainers.image.ref.name"
)

// DefaultPlatforms are the platforms of the index when none are asked for.
var DefaultPlatforms = []string{"linux/amd64", "linux/arm64"}

// Metadata describes where an image comes from. Empty fields are left out
// of labels and annotations.
type Metadata struct {
	// Created is the image's creation time. It must come from
	// SOURCE_DATE_EPOCH or the commit time (see CreatedTime), never from
	// the clock, or builds are not reproducible.
	Created time.Time
	// Source is the URL of the source repository.
	Source string
	// Revision is the commit the model was trained from.
	Revision string
	// Version is the release version, e.g. "1.2.3".
	Version string
	// Licenses is an SPDX expression.
	Licenses string
	// Labels are extra config labels and annotations. They may override
	// the org.opencontainers.image.* values but not io.modelci.* ones.
	Labels map[string]string
}

// Runtime is the serving runtime binary for one platform.
type Runtime struct {
	Platform v1.Platform
	Binary   []byte
	// Origin says where the binary came from, for messages.
	Origin string
}

// Spec is everything that goes into an image.
type Spec struct {
	// ModelDir is a model directory written by `modelci train`.
	ModelDir string
	// Runtimes holds one runtime per platform, in index order.
	Runtimes []Runtime
	Metadata Metadata
}

// ModelInfo summarises the packaged model.
type ModelInfo struct {
	Name       string
	Type       string
	Task       string
	Checksum   string
	DataSHA256 string
	Metrics    map[string]float64
}

// PlatformImage is the image of one platform in the index.
type PlatformImage struct {
	Platform v1.Platform
	Digest   v1.Hash
	// Size is the compressed size of the image: its manifest, config and
	// layers.
	Size int64
	// RuntimeLayer is the digest of the runtime layer.
	RuntimeLayer v1.Hash
	RuntimeSize  int64
	RuntimeFrom  string
}

// Built is a built image index.
type Built struct {
	Index  v1.ImageIndex
	Digest v1.Hash
	Model  ModelInfo
	Images []PlatformImage
	// ModelLayer is the digest of the model layer, which every platform
	// shares.
	ModelLayer     v1.Hash
	ModelLayerSize int64
	// Size is the compressed size of everything a registry stores for the
	// index: each distinct blob and manifest once.
	Size int64
}

var modelNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Build builds the multi-platform image of spec. It validates the model
// directory (checksums included) and packs exactly the files model.json
// lists, so a stray file in the directory never ends up in the image.
func Build(spec Spec) (*Built, error) {
	if len(spec.Runtimes) == 0 {
		return nil, errors.New("build image: no platforms")
	}
	files, info, err := readModelDir(spec.ModelDir)
	if err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}
	if spec.Metadata.Created.IsZero() {
		return nil, errors.New("build image: no created time (use CreatedTime: SOURCE_DATE_EPOCH or the commit time)")
	}
	seen := map[string]bool{}
	for _, rt := range spec.Runtimes {
		p := rt.Platform.String()
		if seen[p] {
			return nil, fmt.Errorf("build image: platform %s is listed twice", p)
		}
		seen[p] = true
		if len(rt.Binary) == 0 {
			return nil, fmt.Errorf("build image: the runtime for %s is empty", p)
		}
	}

	base, err := baseLayer()
	if err != nil {
		return nil, fmt.Errorf("build image: base layer: %w", err)
	}
	modelLayer, err := newModelLayer(info.Name, files)
	if err != nil {
		return nil, fmt.Errorf("build image: model layer: %w", err)
	}
	annotations := imageAnnotations(spec.Metadata, info)
	b := &Built{Model: info, ModelLayer: modelLayer.digest, ModelLayerSize: int64(len(modelLayer.compressed))}
	index := v1.IndexManifest{
		SchemaVersion: 2,
		MediaType:     types.OCIImageIndex,
		Annotations:   annotations,
	}
	images := map[v1.Hash]v1.Image{}
	blobs := map[v1.Hash]int64{}
	for _, rt := range spec.Runtimes {
		rtPath := strings.TrimPrefix(RuntimePath, "/")
		rtLayer, err := newFilesLayer(map[string][]byte{rtPath: rt.Binary}, map[string]int64{rtPath: 0o755})
		if err != nil {
			return nil, fmt.Errorf("build image: runtime layer for %s: %w", rt.Platform, err)
		}
		img, err := newPlatformImage(rt.Platform, spec.Metadata, info, annotations, base, rtLayer, modelLayer)
		if err != nil {
			return nil, fmt.Errorf("build image for %s: %w", rt.Platform, err)
		}
		images[img.digest] = img.image
		p := rt.Platform
		index.Manifests = append(index.Manifests, v1.Descriptor{
			MediaType: types.OCIManifestSchema1,
			Size:      int64(len(img.manifest)),
			Digest:    img.digest,
			Platform:  &p,
		})
		size := int64(len(img.manifest)) + int64(len(img.config))
		for _, l := range []*staticLayer{base, rtLayer, modelLayer} {
			size += int64(len(l.compressed))
			blobs[l.digest] = int64(len(l.compressed))
		}
		blobs[img.configDigest] = int64(len(img.config))
		blobs[img.digest] = int64(len(img.manifest))
		b.Images = append(b.Images, PlatformImage{
			Platform:     p,
			Digest:       img.digest,
			Size:         size,
			RuntimeLayer: rtLayer.digest,
			RuntimeSize:  int64(len(rtLayer.compressed)),
			RuntimeFrom:  rt.Origin,
		})
	}
	raw, err := json.Marshal(&index)
	if err != nil {
		return nil, fmt.Errorf("build image: encode index: %w", err)
	}
	idx := &memIndex{raw: raw, manifest: &index, images: images}
	if b.Digest, err = idx.Digest(); err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}
	b.Index = idx
	b.Size = int64(len(raw))
	for _, n := range blobs {
		b.Size += n
	}
	return b, nil
}

// readModelDir loads and verifies a model directory and returns the files
// to pack: model.json and every file it lists with a checksum.
func readModelDir(dir string) (map[string][]byte, ModelInfo, error) {
	var info ModelInfo
	if dir == "" {
		return nil, info, errors.New("no model directory given")
	}
	// The bytes packed are the bytes whose checksums were verified.
	m, files, err := model.LoadFiles(dir)
	if err != nil {
		return nil, info, err
	}
	if !modelNameRE.MatchString(m.Name) || len(m.Name) > 128 {
		return nil, info, fmt.Errorf("model name %q cannot be a directory name in the image: use letters, digits, '.', '_' and '-' (set name: in modelci.yaml and retrain)", m.Name)
	}
	info = ModelInfo{Name: m.Name, Type: m.Algorithm, Task: m.Task, Checksum: m.Checksum, DataSHA256: m.Training.DataSHA256}
	if b, ok := files[model.FileMetrics]; ok {
		mf, err := model.ParseMetrics(b, filepath.Join(dir, model.FileMetrics))
		if err != nil {
			return nil, info, err
		}
		info.Metrics = mf.Metrics
		if info.DataSHA256 == "" {
			info.DataSHA256 = mf.Data.SHA256
		}
	}
	return files, info, nil
}

// baseLayer holds /etc/passwd and /etc/group with the nonroot user, so
// that tools resolving the numeric user find a name.
func baseLayer() (*staticLayer, error) {
	return newFilesLayer(map[string][]byte{
		"etc/passwd": []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n"),
		"etc/group":  []byte("root:x:0:\nnonroot:x:65532:\n"),
	}, nil)
}

// newModelLayer puts the model files at /models/<name>/.
func newModelLayer(name string, files map[string][]byte) (*staticLayer, error) {
	inLayer := make(map[string][]byte, len(files))
	for f, b := range files {
		inLayer[path.Join(strings.TrimPrefix(ModelsDir, "/"), name, f)] = b
	}
	return newFilesLayer(inLayer, nil)
}

// ModelDir returns the directory of a model inside the image.
func ModelDir(name string) string { return path.Join(ModelsDir, name) }

func imageAnnotations(meta Metadata, info ModelInfo) map[string]string {
	a := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			a[k] = v
		}
	}
	set(AnnotationCreated, meta.Created.UTC().Format(time.RFC3339))
	set(AnnotationTitle, info.Name)
	set(AnnotationDescription, fmt.Sprintf("%s: %s %s model served by modelci-serve (KServe V2 on port 8080)", info.Name, info.Type, info.Task))
	set(AnnotationSource, meta.Source)
	set(AnnotationRevision, meta.Revision)
	set(AnnotationVersion, meta.Version)
	set(AnnotationLicenses, meta.Licenses)
	for k, v := range meta.Labels {
		if !strings.HasPrefix(k, "io.modelci.") {
			a[k] = v
		}
	}
	set(AnnotationModelName, info.Name)
	set(AnnotationModelType, info.Type)
	set(AnnotationModelTask, info.Task)
	set(AnnotationModelChecksum, info.Checksum)
	set(AnnotationDataSHA256, info.DataSHA256)
	if len(info.Metrics) > 0 {
		if b, err := json.Marshal(info.Metrics); err == nil {
			a[AnnotationMetrics] = string(b)
		}
	}
	return a
}

type platformImage struct {
	image        v1.Image
	manifest     []byte
	config       []byte
	digest       v1.Hash
	configDigest v1.Hash
}

func newPlatformImage(p v1.Platform, meta Metadata, info ModelInfo, annotations map[string]string, base, runtime, mdl *staticLayer) (*platformImage, error) {
	created := v1.Time{Time: meta.Created.UTC()}
	cfg := v1.ConfigFile{
		Architecture: p.Architecture,
		OS:           p.OS,
		Variant:      p.Variant,
		Created:      created,
		History: []v1.History{
			{Created: created, CreatedBy: "modelci package: /etc/passwd and /etc/group (nonroot 65532)", Comment: LayerBase},
			{Created: created, CreatedBy: "modelci package: " + RuntimePath + " (static serving runtime)", Comment: LayerRuntime},
			{Created: created, CreatedBy: "modelci package: " + ModelDir(info.Name) + "/ (model.json, metrics.json, profile.json)", Comment: LayerModel},
		},
		RootFS: v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{base.diffID, runtime.diffID, mdl.diffID}},
		Config: v1.Config{
			Entrypoint:   []string{RuntimePath},
			Env:          []string{EnvModelDir + "=" + ModelDir(info.Name), EnvAddr + "=:8080"},
			User:         User,
			WorkingDir:   "/",
			ExposedPorts: map[string]struct{}{Port: {}},
			Labels:       annotations,
			StopSignal:   "SIGTERM",
		},
	}
	rawCfg, err := json.Marshal(&cfg)
	if err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	cfgDigest, cfgSize, err := v1.SHA256(bytes.NewReader(rawCfg))
	if err != nil {
		return nil, err
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: types.OCIConfigJSON, Size: cfgSize, Digest: cfgDigest},
		Layers: []v1.Descriptor{
			base.descriptor(map[string]string{AnnotationLayer: LayerBase}),
			runtime.descriptor(map[string]string{AnnotationLayer: LayerRuntime}),
			mdl.descriptor(map[string]string{AnnotationLayer: LayerModel, AnnotationModelName: info.Name}),
		},
		Annotations: annotations,
	}
	rawManifest, err := json.Marshal(&m)
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	core := &memImage{
		manifest: rawManifest,
		config:   rawCfg,
		layers:   map[v1.Hash]*staticLayer{base.digest: base, runtime.digest: runtime, mdl.digest: mdl},
	}
	img, err := partial.CompressedToImage(core)
	if err != nil {
		return nil, err
	}
	digest, _, err := v1.SHA256(bytes.NewReader(rawManifest))
	if err != nil {
		return nil, err
	}
	return &platformImage{image: img, manifest: rawManifest, config: rawCfg, digest: digest, configDigest: cfgDigest}, nil
}

// memImage is an image held in memory with its exact manifest and config
// bytes; partial.CompressedToImage completes it to a v1.Image.
//
// It stays hand-built instead of mutate.ConfigFile and mutate.Append on
// empty.Image: mutate re-encodes the manifest from the config and layers
// on each access (and empty.Image starts as a Docker manifest), so the
// bytes, and the digests the reproducibility tests and
// scripts/e2e-image.sh pin, would follow go-containerregistry's encoding
// instead of the one written here.
type memImage struct {
	manifest []byte
	config   []byte
	layers   map[v1.Hash]*staticLayer
}

func (i *memImage) RawConfigFile() ([]byte, error)      { return i.config, nil }
func (i *memImage) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (i *memImage) RawManifest() ([]byte, error)        { return i.manifest, nil }

func (i *memImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if l, ok := i.layers[h]; ok {
		return l, nil
	}
	return nil, fmt.Errorf("image has no layer %s", h)
}

// memIndex is an OCI image index held in memory. It implements
// v1.ImageIndex.
//
// It stays hand-built instead of mutate.AppendManifests on empty.Index for
// the reason memImage does: the index digest is the hash of the exact
// bytes encoded in Build, which mutate would re-derive from the images'
// descriptors on its own terms.
type memIndex struct {
	raw      []byte
	manifest *v1.IndexManifest
	images   map[v1.Hash]v1.Image
}

var _ v1.ImageIndex = (*memIndex)(nil)

func (x *memIndex) MediaType() (types.MediaType, error) { return types.OCIImageIndex, nil }
func (x *memIndex) Digest() (v1.Hash, error) {
	h, _, err := v1.SHA256(bytes.NewReader(x.raw))
	return h, err
}
func (x *memIndex) Size() (int64, error)         { return int64(len(x.raw)), nil }
func (x *memIndex) RawManifest() ([]byte, error) { return x.raw, nil }
func (x *memIndex) IndexManifest() (*v1.IndexManifest, error) {
	return x.manifest.DeepCopy(), nil
}

func (x *memIndex) Image(h v1.Hash) (v1.Image, error) {
	if img, ok := x.images[h]; ok {
		return img, nil
	}
	return nil, fmt.Errorf("index has no image %s", h)
}

func (x *memIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	return nil, fmt.Errorf("index has no child index %s", h)
}

// ParsePlatforms parses "os/arch[/variant]" strings. Only linux platforms
// are accepted: the runtime is a static Linux binary.
func ParsePlatforms(specs []string) ([]v1.Platform, error) {
	if len(specs) == 0 {
		specs = DefaultPlatforms
	}
	var out []v1.Platform
	seen := map[string]bool{}
	for _, s := range specs {
		for _, part := range strings.Split(s, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			p, err := parsePlatform(part)
			if err != nil {
				return nil, err
			}
			if seen[p.String()] {
				continue
			}
			seen[p.String()] = true
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no platforms given")
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// parsePlatform parses one "os/arch[/variant]" with v1.ParsePlatform and
// checks that the serving runtime can be built for it.
func parsePlatform(s string) (v1.Platform, error) {
	// v1.ParsePlatform reads "os/arch:osversion" and ignores anything after
	// a second ':'; a Linux image has no OS version, so any ':' is refused.
	if _, version, ok := strings.Cut(s, ":"); ok {
		return v1.Platform{}, fmt.Errorf("platform %q: an OS version (%q) is not supported; want os/arch or os/arch/variant, e.g. linux/arm64", s, version)
	}
	p, err := v1.ParsePlatform(s)
	if err != nil {
		return v1.Platform{}, fmt.Errorf("platform %q: %w (want os/arch or os/arch/variant, e.g. linux/arm64)", s, err)
	}
	switch {
	case p.OS == "" || p.Architecture == "":
		return v1.Platform{}, fmt.Errorf("platform %q: want os/arch or os/arch/variant, e.g. linux/arm64", s)
	case p.OS != "linux":
		return v1.Platform{}, fmt.Errorf("platform %q: the serving runtime is a Linux binary; use linux/<arch>", s)
	}
	if _, ok := elfMachines[p.Architecture]; !ok {
		return v1.Platform{}, fmt.Errorf("platform %q: unsupported architecture %q (supported: %s)", s, p.Architecture, strings.Join(supportedArches(), ", "))
	}
	return *p, nil
}
