//go:build unix

package action

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/modelci/modelci/internal/inputfile"
	"github.com/modelci/modelci/internal/proc"
)

// TestRunEventPathNotRegular: a GITHUB_EVENT_PATH that is /dev/zero, a FIFO
// or a directory is refused at once (the read is neither unbounded nor
// blocking), as a usage error that names the path.
func TestRunEventPathNotRegular(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "event.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/dev/zero", fifo, dir} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, "pull_request_opened.json")
			h.env["GITHUB_EVENT_PATH"] = path
			var out bytes.Buffer
			_, err := Run(context.Background(), proc.Env{Getenv: func(k string) string { return h.env[k] }, Stdout: &out, HTTPClient: h.srv.Client(), Clock: h.clock}, Options{}, Deps{Comparer: h.differ, Shipper: h.publisher})
			if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), inputfile.ErrNotRegular.Error()) {
				t.Fatalf("err = %v\n%s", err, out.String())
			}
		})
	}
}
