//go:build unix

package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/modelci/modelci/internal/inputfile"
)

// TestLoadRefusesSpecialFiles: --config /dev/zero, a FIFO or a directory
// fails at once, naming the path, instead of growing memory or blocking;
// a config above the size limit is refused without being read whole.
func TestLoadRefusesSpecialFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "modelci.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(inputfile.MaxConfig + 1); err != nil { // sparse
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want error
	}{{"/dev/zero", inputfile.ErrNotRegular}, {fifo, inputfile.ErrNotRegular}, {dir, inputfile.ErrNotRegular}, {big, inputfile.ErrTooLarge}} {
		_, err := Load(tc.path)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.path) {
			t.Errorf("Load(%s): error %v, want %v", tc.path, err, tc.want)
		}
	}
}
