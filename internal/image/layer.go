package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// layerTime is the modification time of every entry of every layer. It is
// fixed, not the build time, so that the same files always make the same
// layer: the runtime layer of two builds is shared, and an unchanged model
// makes an unchanged model layer.
var layerTime = time.Unix(0, 0).UTC()

// entry is one file or directory of a layer.
type entry struct {
	// Name is the slash-separated path without a leading slash; a
	// directory's name ends in "/".
	Name string
	Mode int64
	Data []byte
}

// layerFiles returns the entries of a layer holding files (path → content,
// with mode), with every parent directory added, sorted by path.
func layerFiles(files map[string][]byte, modes map[string]int64) ([]entry, error) {
	dirs := map[string]bool{}
	entries := make([]entry, 0, len(files))
	for p, data := range files {
		if p == "" || strings.HasPrefix(p, "/") || path.Clean(p) != p || strings.HasPrefix(p, "../") || p == ".." {
			return nil, fmt.Errorf("layer path %q is not a clean relative path", p)
		}
		mode := int64(0o644)
		if m, ok := modes[p]; ok {
			mode = m
		}
		entries = append(entries, entry{Name: p, Mode: mode, Data: data})
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	for d := range dirs {
		if _, clash := files[d]; clash {
			return nil, fmt.Errorf("layer path %q is both a file and a directory", d)
		}
		entries = append(entries, entry{Name: d + "/", Mode: 0o755})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
	return entries, nil
}

// tarEntries writes entries as a tar stream with fixed headers: a fixed
// modification time, owner 0:0 without names, and the given modes.
func tarEntries(entries []entry) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name:    e.Name,
			Mode:    e.Mode,
			ModTime: layerTime,
			Uid:     0,
			Gid:     0,
		}
		if strings.HasSuffix(e.Name, "/") {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.Data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tar %s: %w", e.Name, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(e.Data); err != nil {
				return nil, fmt.Errorf("tar %s: %w", e.Name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("tar: %w", err)
	}
	return buf.Bytes(), nil
}

// gzipBytes compresses b deterministically: best compression, and an
// empty gzip header (no name, no modification time).
func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return buf.Bytes(), nil
}

// staticLayer is a gzip-compressed tar layer held in memory. It
// implements v1.Layer.
//
// It stays hand-built: static.NewLayer takes its bytes as both compressed
// and uncompressed (its DiffID is its digest), and tarball.LayerFromReader
// compresses with its own gzip settings, which would change the layer
// digests; here the deterministic gzip bytes and both hashes are computed
// once.
type staticLayer struct {
	compressed []byte
	digest     v1.Hash
	diffID     v1.Hash
}

var _ v1.Layer = (*staticLayer)(nil)

// newLayer tars and compresses entries into a layer.
func newLayer(entries []entry) (*staticLayer, error) {
	raw, err := tarEntries(entries)
	if err != nil {
		return nil, err
	}
	gz, err := gzipBytes(raw)
	if err != nil {
		return nil, err
	}
	diffID, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	digest, _, err := v1.SHA256(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	return &staticLayer{compressed: gz, digest: digest, diffID: diffID}, nil
}

// newFilesLayer makes the layer of files (path → content) with their
// parent directories; see layerFiles.
func newFilesLayer(files map[string][]byte, modes map[string]int64) (*staticLayer, error) {
	entries, err := layerFiles(files, modes)
	if err != nil {
		return nil, err
	}
	return newLayer(entries)
}

func (l *staticLayer) Digest() (v1.Hash, error) { return l.digest, nil }
func (l *staticLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }
func (l *staticLayer) Size() (int64, error)     { return int64(len(l.compressed)), nil }
func (l *staticLayer) MediaType() (types.MediaType, error) {
	return types.OCILayer, nil
}

func (l *staticLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.compressed)), nil
}

func (l *staticLayer) Uncompressed() (io.ReadCloser, error) {
	zr, err := gzip.NewReader(bytes.NewReader(l.compressed))
	if err != nil {
		return nil, err
	}
	return zr, nil
}

func (l *staticLayer) descriptor(annotations map[string]string) v1.Descriptor {
	return v1.Descriptor{
		MediaType:   types.OCILayer,
		Size:        int64(len(l.compressed)),
		Digest:      l.digest,
		Annotations: annotations,
	}
}
