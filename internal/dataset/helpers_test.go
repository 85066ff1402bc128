package dataset

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// variant is one way of reading the same bytes. All variants must produce
// the same frame (apart from Name) or the same error.
type variant struct {
	name      string
	how       string // stream | file | gzip
	chunkSize int
	workers   int
	rowScale  float64 // file: scales the estimated number of records (0: as estimated)
}

func variants() []variant {
	return []variant{
		{"stream", "stream", 1 << 20, 2, 0},
		{"file", "file", 1 << 20, 2, 0},
		{"stream-chunk1-w3", "stream", 1, 3, 0},
		{"file-chunk1-w1", "file", 1, 1, 0},
		{"file-chunk5-w4", "file", 5, 4, 0},
		{"stream-chunk13-w2", "stream", 13, 2, 0},
		{"gzip-chunk7-w2", "gzip", 7, 2, 0},
		// Estimates that are too short (the chunks that do not fit are
		// parsed into chunk-local storage) and too long.
		{"file-short-estimate-chunk6-w2", "file", 6, 2, 0.4},
		{"file-no-estimate-chunk3-w3", "file", 3, 3, 1e-9},
		{"file-long-estimate-chunk4-w2", "file", 4, 2, 3},
	}
}

// readVariant reads input one way. File-based variants write into dir and
// name the input data.csv, so error messages are comparable after
// normErr.
func readVariant(t *testing.T, dir string, input []byte, opts Options, tun tuning, v variant) (*Frame, error) {
	t.Helper()
	tun.chunkSize = v.chunkSize
	tun.rowScale = v.rowScale
	opts.Workers = v.workers
	ctx := context.Background()
	switch v.how {
	case "stream":
		return readStream(ctx, bytes.NewReader(input), "data.csv", opts, tun, false)
	case "gzip":
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		if _, err := zw.Write(input); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return readStream(ctx, &b, "data.csv", opts, tun, false)
	case "file":
		path := filepath.Join(dir, "data.csv")
		if err := os.WriteFile(path, input, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := loadFile(ctx, path, opts, tun)
		if f != nil {
			f.Name = "data.csv"
		}
		if err != nil {
			return nil, &renamedError{strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""), err}
		}
		return f, err
	}
	t.Fatalf("unknown variant %q", v.how)
	return nil, nil
}

// readAllWays reads input with every variant, checks that they agree and
// returns the result of the first.
func readAllWays(t *testing.T, input string, opts Options, tun tuning) (*Frame, error) {
	t.Helper()
	dir := t.TempDir()
	var first *Frame
	var firstErr error
	for i, v := range variants() {
		f, err := readVariant(t, dir, []byte(input), opts, tun, v)
		if i == 0 {
			first, firstErr = f, err
			continue
		}
		switch {
		case (err == nil) != (firstErr == nil):
			t.Fatalf("variant %s: err = %v, variant %s: err = %v", v.name, err, variants()[0].name, firstErr)
		case err != nil:
			if err.Error() != firstErr.Error() {
				t.Fatalf("variant %s error differs:\n got %v\nwant %v", v.name, err, firstErr)
			}
		default:
			if d := diffFrames(first, f); d != "" {
				t.Fatalf("variant %s differs from %s: %s", v.name, variants()[0].name, d)
			}
		}
	}
	return first, firstErr
}

// diffFrames describes the first difference between two frames, ignoring
// Name. NaNs compare equal to NaNs with the same bits.
func diffFrames(a, b *Frame) string {
	switch {
	case a.Rows != b.Rows:
		return fmt.Sprintf("rows %d vs %d", a.Rows, b.Rows)
	case strings.Join(a.Header, "\x00") != strings.Join(b.Header, "\x00"):
		return fmt.Sprintf("header %q vs %q", a.Header, b.Header)
	case a.Delimiter != b.Delimiter:
		return fmt.Sprintf("delimiter %q vs %q", a.Delimiter, b.Delimiter)
	case a.SHA256 != b.SHA256 || a.Bytes != b.Bytes:
		return fmt.Sprintf("hash %s/%d vs %s/%d", a.SHA256, a.Bytes, b.SHA256, b.Bytes)
	case len(a.Columns) != len(b.Columns):
		return fmt.Sprintf("%d vs %d columns", len(a.Columns), len(b.Columns))
	}
	for i, ca := range a.Columns {
		cb := b.Columns[i]
		if ca.Name != cb.Name || ca.Kind != cb.Kind || ca.Missing != cb.Missing {
			return fmt.Sprintf("column %d: %s/%v/%d vs %s/%v/%d", i, ca.Name, ca.Kind, ca.Missing, cb.Name, cb.Kind, cb.Missing)
		}
		if len(ca.Floats) != len(cb.Floats) || len(ca.Codes) != len(cb.Codes) || len(ca.Levels) != len(cb.Levels) {
			return fmt.Sprintf("column %s: lengths differ", ca.Name)
		}
		for r := range ca.Floats {
			if math.Float64bits(ca.Floats[r]) != math.Float64bits(cb.Floats[r]) {
				return fmt.Sprintf("column %s row %d: %v vs %v", ca.Name, r, ca.Floats[r], cb.Floats[r])
			}
		}
		for r := range ca.Codes {
			if ca.Codes[r] != cb.Codes[r] {
				return fmt.Sprintf("column %s row %d: code %d vs %d", ca.Name, r, ca.Codes[r], cb.Codes[r])
			}
		}
		for k := range ca.Levels {
			if ca.Levels[k] != cb.Levels[k] {
				return fmt.Sprintf("column %s level %d: %q vs %q", ca.Name, k, ca.Levels[k], cb.Levels[k])
			}
		}
	}
	return ""
}

// cells renders a frame's materialised columns row by row: numbers with %v
// ("NaN" for missing), categories as their text ("<nil>" for missing).
func cells(f *Frame) [][]string {
	out := make([][]string, f.Rows)
	for r := range out {
		for _, c := range f.Columns {
			switch c.Kind {
			case Numeric:
				out[r] = append(out[r], fmt.Sprint(c.Floats[r]))
			default:
				if c.Codes[r] < 0 {
					out[r] = append(out[r], "<nil>")
				} else {
					out[r] = append(out[r], c.Levels[c.Codes[r]])
				}
			}
		}
	}
	return out
}

func kinds(f *Frame) string {
	var s []string
	for _, c := range f.Columns {
		s = append(s, c.Kind.String())
	}
	return strings.Join(s, ",")
}

// renamedError rewrites an error's text but keeps its chain.
type renamedError struct {
	msg string
	err error
}

func (e *renamedError) Error() string { return e.msg }
func (e *renamedError) Unwrap() error { return e.err }
