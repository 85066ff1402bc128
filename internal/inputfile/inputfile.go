// Package inputfile provides bounded reads of the files modelci reads from
// outside: a file read whole must be a regular file of at most a given size,
// so that /dev/zero, a FIFO or a directory given as a path fails with a
// clear error instead of growing memory without bound or blocking forever.
//
// The serving runtime imports this package (through internal/model and
// internal/profile), so it depends on the standard library only.
package inputfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"

	"github.com/modelci/modelci/internal/exitcode"
)

// Limits of the files modelci reads whole.
const (
	// MaxJSON bounds model.json, metrics.json and profile.json.
	MaxJSON = 256 << 20
	// MaxConfig bounds modelci.yaml.
	MaxConfig = 16 << 20
	// MaxEvent bounds the CI event payload (GITHUB_EVENT_PATH).
	MaxEvent = 64 << 20
)

// Errors callers can match with errors.Is.
var (
	// ErrTooLarge means a file or stream is larger than its limit.
	ErrTooLarge = exitcode.NewUsage("too large")
	// ErrNotRegular means a path names a directory, device, FIFO or socket
	// where a regular file is expected.
	ErrNotRegular = exitcode.NewUsage("not a regular file")
)

// ReadFile reads the regular file at path whole. It refuses anything but a
// regular file (without opening a FIFO, which could block) and a file of
// more than limit bytes, without reading more than limit+1 bytes. The
// error wraps ErrNotRegular or ErrTooLarge and names the path and the
// limit.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, fi, err := open(path, false)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi.Size() > limit {
		return nil, tooLarge(path, limit)
	}
	// Files in /proc report size 0 and may be larger; the read is bounded
	// either way.
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, tooLarge(path, limit)
	}
	return b, nil
}

// Open opens path for reading. It must name a regular file, or a FIFO if
// allowFIFO is set (opening a FIFO blocks until a writer opens it). The
// returned FileInfo describes the opened file.
func Open(path string, allowFIFO bool) (*os.File, fs.FileInfo, error) {
	return open(path, allowFIFO)
}

func open(path string, allowFIFO bool) (*os.File, fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if fi.Mode()&fs.ModeNamedPipe != 0 && allowFIFO {
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, err
		}
		return f, fi, nil
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, notRegular(path, fi.Mode(), allowFIFO)
	}
	// Opened without blocking, in case path was replaced by a FIFO since
	// the Stat; the file itself is checked again.
	f, err := os.OpenFile(path, os.O_RDONLY|nonBlock, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err = f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		_ = f.Close()
		return nil, nil, notRegular(path, fi.Mode(), allowFIFO)
	}
	return f, fi, nil
}

func notRegular(path string, m fs.FileMode, allowFIFO bool) error {
	what := "a special file"
	switch {
	case m.IsDir():
		what = "a directory"
	case m&fs.ModeNamedPipe != 0:
		what = "a FIFO"
		if !allowFIFO {
			what += " (reading a FIFO must be allowed explicitly)"
		}
	case m&fs.ModeCharDevice != 0:
		what = "a character device"
	case m&fs.ModeDevice != 0:
		what = "a device"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	}
	return &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: it is %s", ErrNotRegular, what)}
}

func tooLarge(path string, limit int64) error {
	return &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: larger than the limit of %s", ErrTooLarge, FormatSize(limit))}
}

// FormatSize renders a byte count for a message: "64 GiB", "1.5 MiB",
// "100 bytes".
func FormatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " bytes"
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v := float64(n) / unit
	i := 0
	for v >= unit && i < len(units)-1 {
		v /= unit
		i++
	}
	return strconv.FormatFloat(v, 'g', 4, 64) + " " + units[i]
}
