//go:build unix

package inputfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	small := filepath.Join(dir, "small.json")
	if err := os.WriteFile(small, []byte(`{"a":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, make([]byte, 1025), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		path    string
		limit   int64
		want    string
		wantErr error
		msg     string
	}{
		{"regular", small, 1024, `{"a":1}`, nil, ""},
		{"at the limit", small, 7, `{"a":1}`, nil, ""},
		{"over the limit", big, 1024, "", ErrTooLarge, "larger than the limit of 1 KiB"},
		{"a directory", dir, 1024, "", ErrNotRegular, "it is a directory"},
		{"a FIFO does not block", fifo, 1024, "", ErrNotRegular, "it is a FIFO"},
		{"/dev/zero", "/dev/zero", 1024, "", ErrNotRegular, "it is a character device"},
		{"missing", filepath.Join(dir, "nope"), 1024, "", os.ErrNotExist, "nope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := ReadFile(tc.path, tc.limit)
			if tc.wantErr == nil {
				if err != nil || string(b) != tc.want {
					t.Fatalf("ReadFile = %q, %v; want %q", b, err, tc.want)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("ReadFile error %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not name %s and %q", err, tc.path, tc.msg)
			}
		})
	}
}

// TestReadFileProcBounded reads a /proc file, which reports size 0, with a
// limit smaller than its content: the read stops at the limit.
func TestReadFileProcBounded(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil || len(b) < 64 {
		t.Skip("no /proc/self/maps")
	}
	if _, err := ReadFile("/proc/self/maps", 16); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("ReadFile(/proc/self/maps, 16) error %v, want ErrTooLarge", err)
	}
}

func TestOpenFIFO(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Open(fifo, false); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "allowed explicitly") {
		t.Fatalf("Open(fifo, false) error %v", err)
	}
	done := make(chan error, 1)
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err == nil {
			_, err = w.WriteString("a,b\n1,2\n")
			if cerr := w.Close(); err == nil {
				err = cerr
			}
		}
		done <- err
	}()
	f, fi, err := Open(fifo, true)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("mode %v, want a FIFO", fi.Mode())
	}
	buf := make([]byte, 64)
	n, _ := f.Read(buf)
	if got := string(buf[:n]); got != "a,b\n1,2\n" {
		t.Errorf("read %q", got)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestFormatSize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n    int64
		want string
	}{{0, "0 bytes"}, {1023, "1023 bytes"}, {1024, "1 KiB"}, {1536 << 10, "1.5 MiB"}, {64 << 30, "64 GiB"}} {
		if got := FormatSize(tc.n); got != tc.want {
			t.Errorf("FormatSize(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
