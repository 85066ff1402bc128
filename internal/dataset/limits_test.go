//go:build unix

package dataset

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// zeros is an endless CSV: a header and then "0" rows forever.
type zeros struct{ header bool }

func (z *zeros) Read(p []byte) (int, error) {
	n := 0
	if !z.header {
		n = copy(p, "a\n")
		z.header = true
	}
	for ; n+1 < len(p); n += 2 {
		p[n], p[n+1] = '0', '\n'
	}
	return n, nil
}

// TestGzipBomb: a gzip stream that expands without end stops at
// Options.MaxBytes with an error that names the limit and its key.
func TestGzipBomb(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	go func() {
		zw := gzip.NewWriter(pw)
		_, err := io.Copy(zw, &zeros{}) // ends when the reader closes the pipe
		pw.CloseWithError(err)
	}()
	defer pr.Close()
	_, err := Read(context.Background(), pr, "bomb.csv.gz", Options{MaxBytes: 1 << 20})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "data.max_bytes") || !strings.Contains(err.Error(), "1 MiB") || !strings.Contains(err.Error(), "bomb.csv.gz") {
		t.Fatalf("err = %v", err)
	}
}

// TestMaxBytes: files and streams larger than MaxBytes (after
// decompression) are refused, whichever way they are read; at the limit
// they are read.
func TestMaxBytes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := "a,b\n" + strings.Repeat("1,2\n", 25_000) // 100,004 bytes
	plain := filepath.Join(dir, "plain.csv")
	if err := os.WriteFile(plain, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(data))
	_ = zw.Close()
	packed := filepath.Join(dir, "packed.csv.gz")
	if err := os.WriteFile(packed, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{plain, packed} {
		for _, tc := range []struct {
			limit int64
			ok    bool
		}{{int64(len(data)), true}, {int64(len(data)) - 1, false}, {1000, false}} {
			f, err := Load(context.Background(), path, Options{MaxBytes: tc.limit})
			if tc.ok {
				if err != nil || f.Rows != 25_000 {
					t.Errorf("%s, limit %d: %v", path, tc.limit, err)
				}
				continue
			}
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "data.max_bytes") || !strings.Contains(err.Error(), path) {
				t.Errorf("%s, limit %d: err = %v", path, tc.limit, err)
			}
		}
	}
	// An endless stream that is not compressed stops too.
	if _, err := Read(context.Background(), &zeros{}, "endless", Options{MaxBytes: 1 << 20}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("endless stream: err = %v", err)
	}
}

// TestMaxRows: more data rows than MaxRows is an error, the same for every
// way of reading; exactly MaxRows (blank lines do not count) is fine.
func TestMaxRows(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("x,y\n")
	for i := range 300 {
		fmt.Fprintf(&b, "%d,%d\n", i, 2*i)
		if i%50 == 0 {
			b.WriteString("\n")
		}
	}
	input := b.String()
	f, err := readAllWays(t, input, Options{MaxRows: 300}, defaultTuning())
	if err != nil || f.Rows != 300 {
		t.Fatalf("at the limit: rows %v, err %v", f, err)
	}
	_, err = readAllWays(t, input, Options{MaxRows: 299}, defaultTuning())
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "more than 299 data rows") || !strings.Contains(err.Error(), "data.max_rows") {
		t.Fatalf("over the limit: err = %v", err)
	}
}

// TestLoadNotRegular: Load refuses a directory, a device and (unless
// allowed) a FIFO, without blocking; an allowed FIFO is read.
func TestLoadNotRegular(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "data.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{dir, "/dev/zero", fifo} {
		_, err := Load(context.Background(), path, Options{})
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "allow_fifo") {
			t.Errorf("Load(%s): err = %v", path, err)
		}
	}
	done := make(chan error, 1)
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err == nil {
			_, err = w.WriteString("a,b\n1,2\n3,4\n")
			if cerr := w.Close(); err == nil {
				err = cerr
			}
		}
		done <- err
	}()
	f, err := Load(context.Background(), fifo, Options{AllowFIFO: true})
	if err != nil || f.Rows != 2 {
		t.Fatalf("allowed FIFO: %v, %v", f, err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestProcEnviron: data.path /proc/self/environ with delimiter "=" does not
// print the environment: the header is refused for its NUL bytes without
// echoing it.
func TestProcEnviron(t *testing.T) {
	t.Parallel()
	env, err := os.ReadFile("/proc/self/environ")
	if err != nil || bytes.Count(env, []byte{0}) < 2 {
		t.Skip("no /proc/self/environ with two variables")
	}
	_, err = Load(context.Background(), "/proc/self/environ", Options{Delimiter: '=', Columns: []string{"nope"}})
	if !errors.Is(err, ErrHeader) || !strings.Contains(err.Error(), "NUL") {
		t.Fatalf("err = %v", err)
	}
	for _, kv := range bytes.Split(env, []byte{0}) {
		if _, v, ok := bytes.Cut(kv, []byte("=")); ok && len(v) >= 8 && strings.Contains(err.Error(), string(v)) {
			t.Fatalf("the error shows an environment value: %v", err)
		}
	}
}

// TestUnknownColumnListCapped: the "available columns" of an error are
// quoted and at most MaxListed.
func TestUnknownColumnListCapped(t *testing.T) {
	t.Parallel()
	names := make([]string, 30)
	for i := range names {
		names[i] = fmt.Sprintf("c%d", i)
	}
	names[3] = "has\ttab"
	input := strings.Join(names, ",") + "\n" + strings.Repeat("1,", 29) + "1\n"
	_, err := Read(context.Background(), strings.NewReader(input), "wide.csv", Options{Delimiter: ',', Columns: []string{"missing"}})
	if !errors.Is(err, ErrUnknownColumn) {
		t.Fatalf("err = %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, `"c19", and 10 more`) || strings.Contains(msg, `"c20"`) || !strings.Contains(msg, `"has\ttab"`) {
		t.Errorf("message %q", msg)
	}
}

func TestQuoteList(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 100)
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"a", "b c"}, `"a", "b c"`},
		{[]string{"nul\x00here"}, `"nul\x00here"`},
		{[]string{long}, `"` + long[:40] + `"… (100 bytes)`},
		{strings.Split(strings.Repeat("n,", 21)+"n", ","), strings.Repeat(`"n", `, 20) + "and 2 more"},
	} {
		if got := QuoteList(tc.in); got != tc.want {
			t.Errorf("QuoteList(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
