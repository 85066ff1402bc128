package dataset

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/modelci/modelci/internal/synthetic"
)

func writeFile(b *testing.B, path string, gz bool, rows, features int) int64 {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var w io.Writer = f
	var zw *gzip.Writer
	if gz {
		zw, _ = gzip.NewWriterLevel(f, gzip.BestSpeed)
		w = zw
	}
	cw := &countingWriter{w: w}
	if err := synthetic.RegressionCSV(cw, rows, features, 1); err != nil {
		b.Fatal(err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			b.Fatal(err)
		}
	}
	return cw.n
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// BenchmarkLoad1Mx21 loads a generated 1,000,000-row × 21-column numeric
// file (~225 MB). The file is generated once; MB/s refers to the
// uncompressed size.
func BenchmarkLoad1Mx21(b *testing.B) {
	dir := b.TempDir()
	plain := filepath.Join(dir, "big.csv")
	size := writeFile(b, plain, false, 1_000_000, 20)
	load := func(path string) func(b *testing.B) {
		return func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for range b.N {
				f, err := Load(context.Background(), path, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if f.Rows != 1_000_000 || len(f.Columns) != 21 {
					b.Fatalf("rows %d columns %d", f.Rows, len(f.Columns))
				}
			}
		}
	}
	b.Run("plain", load(plain))
	if testing.Short() {
		return
	}
	gz := filepath.Join(dir, "big.csv.gz")
	writeFile(b, gz, true, 1_000_000, 20)
	b.Run("gzip", load(gz))
}

// BenchmarkParseChunk parses an in-memory 20,000-row × 21-column numeric
// chunk (no I/O, no hashing): the cost of the per-field parsing alone.
func BenchmarkParseChunk(b *testing.B) {
	var buf bytes.Buffer
	if err := synthetic.RegressionCSV(&buf, 20000, 20, 1); err != nil {
		b.Fatal(err)
	}
	in := buf.Bytes()
	tun := defaultTuning()
	rd, lay, err := newReader(in, true, "bench.csv", Options{}, tun)
	if err != nil {
		b.Fatal(err)
	}
	data := in[lay.dataStart:]
	rows := bytes.Count(data, []byte{'\n'})
	dst := newStorage(rd.plan, rows)
	cp := &chunkParser{rd: rd}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		j := &job{buf: data, data: data, line: lay.dataLine, rows: rows, quoteFree: true, final: true}
		cp.parse(j, dst)
		if j.err != nil || j.nrows != rows {
			b.Fatalf("rows %d err %v", j.nrows, j.err)
		}
	}
}
