package dataset

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// FuzzRead checks that reading never panics, that the streaming and the
// two-pass file reader agree, and that for input encoding/csv accepts the
// fields match encoding/csv's exactly (after trimming and missing-value
// mapping). Every column is read as text so that all field contents are
// compared.
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
		tun.allText = true
		opts := Options{Delimiter: ',', Workers: 1 + int(workers)%4}
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
		case err == nil:
			got2.Name = got.Name
			if d := diffFrames(got, got2); d != "" {
				t.Fatalf("stream and file differ: %s", d)
			}
		}

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
			if h == "" || names[h] || !utf8.ValidString(h) {
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
