//go:build unix

package profile

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/modelci/modelci/internal/inputfile"
)

// TestLoadRefusesSpecialFiles: /dev/zero, a FIFO or a directory given as
// profile.json fails at once instead of growing memory or blocking.
func TestLoadRefusesSpecialFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "profile.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/dev/zero", fifo, dir} {
		if _, err := Load(path); !errors.Is(err, inputfile.ErrNotRegular) {
			t.Errorf("Load(%s): error %v, want ErrNotRegular", path, err)
		}
	}
}
