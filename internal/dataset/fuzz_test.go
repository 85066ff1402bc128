package dataset

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// readStreamAndFile reads data with the streaming reader and, from a file,
// with the file reader, checks that both give the same frame or the same
// error, and returns the streaming reader's result.
func readStreamAndFile(t *testing.T, data []byte, opts Options, tun tuning) (*Frame, error) {
	t.Helper()
	ctx := context.Background()
	got, err := readStream(ctx, bytes.NewReader(data), "f.csv", opts, tun, false)
	path := filepath.Join(t.TempDir(), "f.csv")
	if werr := os.WriteFile(path, data, 0o600); werr != nil {
		t.Fatal(werr)
	}
	got2, err2 := loadFile(ctx, path, opts, tun)
	switch {
	case (err == nil) != (err2 == nil):
		t.Fatalf("stream err %v, file err %v", err, err2)
	case err != nil:
		if err.Error() != strings.ReplaceAll(err2.Error(), path, "f.csv") {
			t.Fatalf("stream err %v, file err %v", err, err2)
		}
	default:
		got2.Name = got.Name
		if d := diffFrames(got, got2); d != "" {
			t.Fatalf("stream and file differ: %s", d)
		}
	}
	return got, err
}

// FuzzRead checks that reading never panics, that the streaming and the
// file reader (with exact, short and long row estimates) agree, and that
// for input encoding/csv accepts the fields match encoding/csv's exactly
// (after trimming and missing-value mapping). Every column is read as text
// so that all field contents are compared.
func FuzzRead(f *testing.F) {
	seeds := []string{
		"a,b\n1,2\n3,4\n",
		"a,b\r\n\"x,y\",\"say \"\"hi\"\"\"\r\n\"multi\nline\",NA\r\n",
		"\xef\xbb\xbfa;b\n1;2\n",
		"a,b\n1,2,3\n",
		"a,b\n\"unterminated\n",
		"a,b\n1,ab\"c\n",
		"a,b\n\"ab\"c,1\n",
		"a\n\n\n1\n\r\n2\r",
		"a,a\n1,2\n",
		",b\n1,2\n",
		"a,b\n 1 , x \n",
		"a,b\n\"\r\n\",\"\"\n",
		"x\n\xff\n",
		"a,b\n1e5,inf\nNaN,-0\n",
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint8(i*7), uint8(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk, workers uint8) {
		tun := defaultTuning()
		tun.chunkSize = 1 + int(chunk)%64
		tun.rowScale = [...]float64{0, 0.5, 1e-9, 2}[chunk/64] // estimates of the file reader
		tun.allText = true
		opts := Options{Delimiter: ',', Workers: 1 + int(workers)%4}
		got, err := readStreamAndFile(t, data, opts, tun)

		in := bytes.TrimPrefix(data, []byte(bom))
		recs, cerr := csv.NewReader(bytes.NewReader(in)).ReadAll()
		if cerr != nil {
			if err == nil {
				t.Fatalf("encoding/csv fails (%v) but Read succeeds", cerr)
			}
			return
		}
		if len(recs) < 2 {
			if !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrHeader) && !errors.Is(err, ErrInvalidUTF8) {
				t.Fatalf("%d records: err = %v", len(recs), err)
			}
			return
		}
		valid := true
		names := map[string]bool{}
		for _, h := range recs[0] {
			h = string(trimSpace([]byte(h)))
			if h == "" || names[h] || !utf8.ValidString(h) || strings.IndexByte(h, 0) >= 0 {
				valid = false
			}
			names[h] = true
		}
		for _, rec := range recs[1:] {
			for _, v := range rec {
				if !utf8.Valid(trimSpace([]byte(v))) {
					valid = false
				}
			}
		}
		if !valid {
			if err == nil {
				t.Fatalf("invalid header or UTF-8 accepted")
			}
			return
		}
		if err != nil {
			t.Fatalf("encoding/csv accepts the input, Read fails: %v", err)
		}
		if got.Rows != len(recs)-1 || len(got.Columns) != len(recs[0]) {
			t.Fatalf("rows %d columns %d, encoding/csv has %d records of %d fields", got.Rows, len(got.Columns), len(recs), len(recs[0]))
		}
		for r, rec := range recs[1:] {
			for c, v := range rec {
				v := trimSpace([]byte(v))
				col := got.Columns[c]
				code := col.Codes[r]
				switch {
				case isMissing(v):
					if code != -1 {
						t.Fatalf("row %d col %d: %q should be missing, got %q", r, c, v, col.Levels[code])
					}
				case code < 0 || col.Levels[code] != string(v):
					t.Fatalf("row %d col %d: got code %d, want %q", r, c, code, v)
				}
			}
		}
	})
}

// FuzzReadNumeric checks the numeric paths (plainNumbers and the per-cell
// fallback) on arbitrary records after a numeric header: the streaming and
// the file reader agree, and when encoding/csv reads the input, every cell
// is strconv.ParseFloat of the trimmed field (NaN for a missing one), or
// the read fails because some cell is not a finite number.
func FuzzReadNumeric(f *testing.F) {
	seeds := []string{
		"1,2,3\n",
		"-0.5,+.5,5.\n12345678.123456,-1234567.123456,9.9999999999999\n",
		"1e5,NA, 2 \n,,\n",
		"1.5,2.5\n",
		"1.5,2.5,3.5,4.5\n",
		"1.5,2.5,3.5\r\n4.5,5.5,6.5\r\n",
		"1..5,2,3\n",
		"123456789012345678,0.1234567890123456,-.\n",
		"\"1.5\",2,3\n",
		"inf,1,2\n",
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint8(i*37), uint8(i))
	}
	f.Fuzz(func(t *testing.T, body []byte, chunk, workers uint8) {
		// Numeric records around the fuzzed ones: the columns are inferred
		// numeric from the first two, and plainNumbers has room around the
		// fuzzed records.
		in := []byte("a,b,c\n1.25,-2.5,3.75\n4.125,5.5,-6.75\n")
		in = append(in, body...)
		in = append(in, "\n7.5,8.25,9.125\n10.5,11.25,12.125\n"...)
		tun := defaultTuning()
		tun.chunkSize = 1 + int(chunk)%64*4
		tun.rowScale = [...]float64{0, 0.5, 1e-9, 2}[chunk/64]
		tun.sampleRows = 2
		opts := Options{Delimiter: ',', Workers: 1 + int(workers)%4}
		got, err := readStreamAndFile(t, in, opts, tun)

		recs, cerr := csv.NewReader(bytes.NewReader(in)).ReadAll()
		if cerr != nil {
			if err == nil {
				t.Fatalf("encoding/csv fails (%v) but Read succeeds", cerr)
			}
			return
		}
		var want [3][]float64
		numbers := true
		for _, rec := range recs[1:] {
			for c, cell := range rec {
				v := trimSpace([]byte(cell))
				w := math.NaN()
				if !isMissing(v) {
					switch _, perr := parseNumber(v); perr {
					case nil:
						w, _ = strconv.ParseFloat(string(v), 64)
					case errNaN:
					default:
						numbers = false
					}
				}
				want[c] = append(want[c], w)
			}
		}
		if !numbers {
			if err == nil {
				t.Fatalf("a cell is not a finite number, but Read succeeds")
			}
			return
		}
		if err != nil {
			t.Fatalf("every cell is a number, Read fails: %v", err)
		}
		for c, col := range got.Columns {
			if col.Kind != Numeric || len(col.Floats) != len(want[c]) {
				t.Fatalf("column %s: %v with %d rows, want numeric with %d", col.Name, col.Kind, len(col.Floats), len(want[c]))
			}
			for r, w := range want[c] {
				if g := col.Floats[r]; math.Float64bits(g) != math.Float64bits(w) && !(math.IsNaN(g) && math.IsNaN(w)) {
					t.Fatalf("column %s row %d = %v, want %v (%q)", col.Name, r, g, w, recs[r+1][c])
				}
			}
		}
	})
}
