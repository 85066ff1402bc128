//go:build unix

package model

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/modelci/modelci/internal/inputfile"
)

// TestLoadRefusesSpecialFiles: a model.json, metrics.json or listed
// sibling that is a FIFO, a device or a directory is refused without
// blocking or reading without bound.
func TestLoadRefusesSpecialFiles(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		make func(t *testing.T, path string)
	}{
		{"fifo", func(t *testing.T, path string) {
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"dev zero", func(t *testing.T, path string) {
			if err := os.Symlink("/dev/zero", path); err != nil {
				t.Fatal(err)
			}
		}},
		{"directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			tc.make(t, filepath.Join(dir, FileModel))
			if _, err := Load(dir); !errors.Is(err, inputfile.ErrNotRegular) {
				t.Errorf("Load: error %v, want ErrNotRegular", err)
			}
			tc.make(t, filepath.Join(dir, FileMetrics))
			if _, err := ReadMetrics(dir); !errors.Is(err, inputfile.ErrNotRegular) {
				t.Errorf("ReadMetrics: error %v, want ErrNotRegular", err)
			}
		})
	}
}
