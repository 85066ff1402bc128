package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// releaseDir is a model directory written by `modelci train` of the release
// before checksums covered the bytes as written (see testdata/README.md).
const releaseDir = "testdata/release-v1"

// TestLoadReleaseModel: directories the current release wrote keep loading.
func TestLoadReleaseModel(t *testing.T) {
	t.Parallel()
	m, files, err := LoadFiles(releaseDir)
	if err != nil {
		t.Fatalf("a model written by the release does not load: %v", err)
	}
	if m.Name != "house-prices" || len(files) != 3 {
		t.Errorf("loaded %q with files %d", m.Name, len(files))
	}
	// Sealing the loaded model again gives the same bytes: the checksum
	// rule did not change for what Seal writes.
	again, err := m.Seal(map[string][]byte{FileMetrics: files[FileMetrics], FileProfile: files[FileProfile]})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, files[FileModel]) {
		t.Error("Seal does not reproduce the release's model.json")
	}
}

// TestChecksumCoversBytes: a model.json that decodes to the same model but
// whose bytes differ from what was sealed is corrupt.
func TestChecksumCoversBytes(t *testing.T) {
	t.Parallel()
	orig, err := os.ReadFile(filepath.Join(releaseDir, FileModel))
	if err != nil {
		t.Fatal(err)
	}
	reindent := func(b []byte) []byte {
		var out bytes.Buffer
		if err := json.Indent(&out, bytes.TrimSpace(b), "", "    "); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	compact := func(b []byte) []byte {
		var out bytes.Buffer
		if err := json.Compact(&out, b); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	cases := []struct {
		name string
		b    []byte
		msg  string
	}{
		{"trailing padding", append(bytes.Clone(orig), bytes.Repeat([]byte(" "), 4096)...), "bytes hash to"},
		{"padding inside", bytes.Replace(orig, []byte(`"name": `), []byte(`"name":            `), 1), "bytes hash to"},
		{"re-indented", reindent(orig), "bytes hash to"},
		{"compacted", compact(orig), "bytes hash to"},
		{"escaped letter", bytes.Replace(orig, []byte(`"house-prices"`), []byte(`"house-pric\u0065s"`), 1), "bytes hash to"},
		{"second checksum", bytes.Replace(orig, []byte(`"name": `), []byte(`"Checksum": "", "name": `), 1), "more than one checksum"},
		{"checksum not a string", bytes.Replace(orig, []byte(`"checksum": "`), []byte(`"checksum": 1, "x": "`), 1), "checksum"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if bytes.Equal(tc.b, orig) {
				t.Fatal("the edit changed nothing")
			}
			_, err := Parse(tc.b)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("Parse = %v, want ErrCorrupt mentioning %q", err, tc.msg)
			}
		})
	}
}

// FuzzParse: Parse never panics, and whatever it accepts re-seals to the
// same checksum (an accepted file is exactly what Seal would write, up to
// the bytes outside the checksum that SelfDigest hashes).
func FuzzParse(f *testing.F) {
	orig, err := os.ReadFile(filepath.Join(releaseDir, FileModel))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(orig)
	f.Add([]byte(`{"schema_version": 1, "checksum": ""}`))
	f.Add([]byte(`{"checksum": "a", "checksum": "b"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		got, err := SelfDigest(b)
		if err != nil || got != m.Checksum {
			t.Fatalf("accepted a model whose self digest is %q (%v), checksum %q", got, err, m.Checksum)
		}
	})
}
