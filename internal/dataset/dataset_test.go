package dataset

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestDialect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		in         string
		opts       Options
		sampleRows int
		header     []string
		delim      rune
		kinds      string
		cells      [][]string
		missing    []int
	}{
		{
			name: "comma", in: "a,b\n1,2\n3,4\n",
			header: []string{"a", "b"}, delim: ',', kinds: "numeric,numeric",
			cells: [][]string{{"1", "2"}, {"3", "4"}}, missing: []int{0, 0},
		},
		{
			name: "no trailing newline", in: "a,b\n1,2\n3,4",
			header: []string{"a", "b"}, delim: ',', kinds: "numeric,numeric",
			cells: [][]string{{"1", "2"}, {"3", "4"}}, missing: []int{0, 0},
		},
		{
			name: "blank trailing lines", in: "a,b\n1,2\n3,4\n\n\r\n",
			header: []string{"a", "b"}, delim: ',', kinds: "numeric,numeric",
			cells: [][]string{{"1", "2"}, {"3", "4"}}, missing: []int{0, 0},
		},
		{
			name: "blank lines inside are skipped", in: "\n\na,b\n\n1,2\n\n\n3,4\n",
			header: []string{"a", "b"}, delim: ',', kinds: "numeric,numeric",
			cells: [][]string{{"1", "2"}, {"3", "4"}}, missing: []int{0, 0},
		},
		{
			name: "CRLF", in: "a,b\r\n1,x\r\n3,y\r\n",
			header: []string{"a", "b"}, delim: ',', kinds: "numeric,categorical",
			cells: [][]string{{"1", "x"}, {"3", "y"}}, missing: []int{0, 0},
		},
		{
			name: "CR before EOF is dropped", in: "a,b\r\n1,2\r\n3,4\r",
			header: []string{"a", "b"}, delim: ',', kinds: "numeric,numeric",
			cells: [][]string{{"1", "2"}, {"3", "4"}}, missing: []int{0, 0},
		},
		{
			name: "BOM and CRLF", in: "\xef\xbb\xbfid;name\r\n1;anna\r\n2;bob\r\n",
			header: []string{"id", "name"}, delim: ';', kinds: "numeric,categorical",
			cells: [][]string{{"1", "anna"}, {"2", "bob"}}, missing: []int{0, 0},
		},
		{
			name: "sniff semicolon with decimal commas in quotes", in: "a;b\n\"1,5\";2\n\"2,5\";3\n",
			header: []string{"a", "b"}, delim: ';', kinds: "categorical,numeric",
			cells: [][]string{{"1,5", "2"}, {"2,5", "3"}}, missing: []int{0, 0},
		},
		{
			name: "sniff tab", in: "a b\tc\n1\t2\n",
			header: []string{"a b", "c"}, delim: '\t', kinds: "numeric,numeric",
			cells: [][]string{{"1", "2"}}, missing: []int{0, 0},
		},
		{
			name: "sniff pipe", in: "a|b|c\n1|2|3\n",
			header: []string{"a", "b", "c"}, delim: '|', kinds: "numeric,numeric,numeric",
			cells: [][]string{{"1", "2", "3"}}, missing: []int{0, 0, 0},
		},
		{
			name: "sniff prefers the consistent delimiter", in: "a,b;c,d\n1,2;3,4\n5,6;7,8\n",
			header: []string{"a", "b;c", "d"}, delim: ',', kinds: "numeric,categorical,numeric",
			cells: [][]string{{"1", "2;3", "4"}, {"5", "6;7", "8"}}, missing: []int{0, 0, 0},
		},
		{
			name: "delimiter that can be part of a number", in: "a.b.c\n1.5.-2\n+3.4.5\n", opts: Options{Delimiter: '.'},
			header: []string{"a", "b", "c"}, delim: '.', kinds: "numeric,numeric,numeric",
			cells: [][]string{{"1", "5", "-2"}, {"3", "4", "5"}}, missing: []int{0, 0, 0},
		},
		{
			name: "single column", in: "y\n1\n2\n",
			header: []string{"y"}, delim: ',', kinds: "numeric",
			cells: [][]string{{"1"}, {"2"}}, missing: []int{0},
		},
		{
			name: "explicit delimiter", in: "a;b,c\n1;2,3\n", opts: Options{Delimiter: ','},
			header: []string{"a;b", "c"}, delim: ',', kinds: "categorical,numeric",
			cells: [][]string{{"1;2", "3"}}, missing: []int{0, 0},
		},
		{
			name: "quoted fields", in: "a,b\n\"x, y\",\"say \"\"hi\"\"\"\n\"\",\"line1\nline2\"\n",
			header: []string{"a", "b"}, delim: ',', kinds: "categorical,categorical",
			cells: [][]string{{"x, y", `say "hi"`}, {"<nil>", "line1\nline2"}}, missing: []int{1, 0},
		},
		{
			name: "CRLF inside quotes becomes LF", in: "a,b\r\n\"1\r\n2\",3\r\n",
			header: []string{"a", "b"}, delim: ',', kinds: "categorical,numeric",
			cells: [][]string{{"1\n2", "3"}}, missing: []int{0, 0},
		},
		{
			name: "quoted numbers are numbers", in: "a,b\n\"1.5\",\"-2\"\n",
			header: []string{"a", "b"}, delim: ',', kinds: "numeric,numeric",
			cells: [][]string{{"1.5", "-2"}}, missing: []int{0, 0},
		},
		{
			name: "header names trimmed", in: " a , b\t\n1,2\n",
			header: []string{"a", "b"}, delim: ',', kinds: "numeric,numeric",
			cells: [][]string{{"1", "2"}}, missing: []int{0, 0},
		},
		{
			name: "missing markers", in: "a,b\n,x\nNA,NA\nN/A,N/A\nNaN,NaN\nnan,nan\nNULL,NULL\nnull,null\nNone,None\n  NA  , y \n1,\n",
			header: []string{"a", "b"}, delim: ',', kinds: "numeric,categorical",
			cells: [][]string{
				{"NaN", "x"}, {"NaN", "<nil>"}, {"NaN", "<nil>"}, {"NaN", "<nil>"}, {"NaN", "<nil>"},
				{"NaN", "<nil>"}, {"NaN", "<nil>"}, {"NaN", "<nil>"}, {"NaN", "y"}, {"1", "<nil>"},
			},
			missing: []int{9, 8},
		},
		{
			name: "NaN spellings in numeric columns are missing", in: "a\n1\nNAN\nnAn\n",
			header: []string{"a"}, delim: ',', kinds: "numeric",
			cells: [][]string{{"1"}, {"NaN"}, {"NaN"}}, missing: []int{2},
		},
		{
			name: "number syntax", in: "a\n+1.5\n-0\n1e3\n2.5E-3\n.5\n5.\n 7 \n0001\n12345678901234567890\n",
			header: []string{"a"}, delim: ',', kinds: "numeric",
			cells:   [][]string{{"1.5"}, {"-0"}, {"1000"}, {"0.0025"}, {"0.5"}, {"5"}, {"7"}, {"1"}, {"1.2345678901234567e+19"}},
			missing: []int{0},
		},
		{
			name: "hex and digit separators are text", in: "a,b\n0x10,1_000\n",
			header: []string{"a", "b"}, delim: ',', kinds: "categorical,categorical",
			cells: [][]string{{"0x10", "1_000"}}, missing: []int{0, 0},
		},
		{
			name: "levels in first-seen order", in: "c\nb\na\nb\n\nc\na\n",
			header: []string{"c"}, delim: ',', kinds: "categorical",
			cells: [][]string{{"b"}, {"a"}, {"b"}, {"c"}, {"a"}}, missing: []int{0},
		},
		{
			name: "categorical override keeps the text", in: "zip,n\n02134,1\n10001,2\n", opts: Options{Categorical: []string{"zip"}},
			header: []string{"zip", "n"}, delim: ',', kinds: "categorical,numeric",
			cells: [][]string{{"02134", "1"}, {"10001", "2"}}, missing: []int{0, 0},
		},
		{
			name: "huge field limit is clamped", in: "a,b\n1,2\n", opts: Options{MaxFieldBytes: math.MaxInt},
			header: []string{"a", "b"}, delim: ',', kinds: "numeric,numeric",
			cells: [][]string{{"1", "2"}}, missing: []int{0, 0},
		},
		{
			name: "columns option", in: "a,b,c\n1,x,3\n4,y,6\n", opts: Options{Columns: []string{"c", "a"}},
			header: []string{"a", "b", "c"}, delim: ',', kinds: "numeric,numeric",
			cells: [][]string{{"1", "3"}, {"4", "6"}}, missing: []int{0, 0},
		},
		{
			name: "all missing in sample becomes numeric", in: "a,b\nNA,1\n,2\n3.5,3\n", sampleRows: 2,
			header: []string{"a", "b"}, delim: ',', kinds: "numeric,numeric",
			cells: [][]string{{"NaN", "1"}, {"NaN", "2"}, {"3.5", "3"}}, missing: []int{2, 0},
		},
		{
			name: "all missing in sample becomes categorical", in: "a,b\nNA,1\n,2\n3.5,3\nx,4\n", sampleRows: 2,
			header: []string{"a", "b"}, delim: ',', kinds: "categorical,numeric",
			cells: [][]string{{"<nil>", "1"}, {"<nil>", "2"}, {"3.5", "3"}, {"x", "4"}}, missing: []int{2, 0},
		},
		{
			name: "entirely missing column is numeric", in: "a,b\nNA,1\n,2\n",
			header: []string{"a", "b"}, delim: ',', kinds: "numeric,numeric",
			cells: [][]string{{"NaN", "1"}, {"NaN", "2"}}, missing: []int{2, 0},
		},
		{
			name: "text after the sample in a categorical column", in: "a\nx\n1\n2\n", sampleRows: 1,
			header: []string{"a"}, delim: ',', kinds: "categorical",
			cells: [][]string{{"x"}, {"1"}, {"2"}}, missing: []int{0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tun := defaultTuning()
			if tc.sampleRows > 0 {
				tun.sampleRows = tc.sampleRows
			}
			f, err := readAllWays(t, tc.in, tc.opts, tun)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f.Header, tc.header) {
				t.Errorf("header = %q, want %q", f.Header, tc.header)
			}
			if f.Delimiter != tc.delim {
				t.Errorf("delimiter = %q, want %q", f.Delimiter, tc.delim)
			}
			if k := kinds(f); k != tc.kinds {
				t.Errorf("kinds = %s, want %s", k, tc.kinds)
			}
			if got := cells(f); !reflect.DeepEqual(got, tc.cells) {
				t.Errorf("cells = %q, want %q", got, tc.cells)
			}
			var missing []int
			for _, c := range f.Columns {
				missing = append(missing, c.Missing)
			}
			if !reflect.DeepEqual(missing, tc.missing) {
				t.Errorf("missing = %v, want %v", missing, tc.missing)
			}
			if f.Rows != len(tc.cells) {
				t.Errorf("rows = %d, want %d", f.Rows, len(tc.cells))
			}
			sum := sha256.Sum256([]byte(tc.in))
			if f.SHA256 != hex.EncodeToString(sum[:]) || f.Bytes != int64(len(tc.in)) {
				t.Errorf("sha256/bytes = %s/%d, want sha256 of the input", f.SHA256, f.Bytes)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 40)
	tests := []struct {
		name       string
		in         string
		opts       Options
		sampleRows int
		is         error
		want       []string // substrings of the error text
	}{
		{name: "empty file", in: "", is: ErrEmpty, want: []string{"data.csv: file is empty", "no data rows"}},
		{name: "only BOM and blank lines", in: "\xef\xbb\xbf\n\r\n", is: ErrEmpty, want: []string{"file is empty"}},
		{name: "header only", in: "a,b\n", is: ErrEmpty, want: []string{"data.csv: header has 2 columns but there are no data rows"}},
		{name: "header only without newline", in: "a,b", is: ErrEmpty, want: []string{"no data rows"}},
		{name: "header and blank lines", in: "a,b\n\n\n", is: ErrEmpty, want: []string{"no data rows"}},
		{name: "too few fields", in: "a,b,c\n1,2,3\n4,5\n", is: ErrRagged, want: []string{`data.csv:3:3: column "c": wrong number of fields: row has 2 fields, header has 3`}},
		{name: "too many fields", in: "a,b,c\n1,2,3\n4,5,6,7,8\n", is: ErrRagged, want: []string{"data.csv:3:4: wrong number of fields: row has 5 fields, header has 3"}},
		{name: "ragged after quoted newline", in: "a,b\n\"x\ny\",1\n2\n", is: ErrRagged, want: []string{`data.csv:4:2: column "b"`, "row has 1 fields"}},
		{name: "ragged with a delimiter that can be part of a number", in: "a-b\n1-2\n1--5\n", opts: Options{Delimiter: '-'}, is: ErrRagged, want: []string{"data.csv:3:3: wrong number of fields: row has 3 fields, header has 2"}},
		{name: "ragged with a dot delimiter", in: "a.b\n1.2\n1.5.7\n", opts: Options{Delimiter: '.'}, is: ErrRagged, want: []string{"data.csv:3:3: wrong number of fields: row has 3 fields, header has 2"}},
		{name: "ragged in an unselected column", in: "a,b\n1,2\n3\n", opts: Options{Columns: []string{"a"}}, is: ErrRagged, want: []string{`data.csv:3:2: column "b"`}},
		{name: "unterminated quote", in: "a,b\n1,2\n3,\"abc\n4,5\n", is: ErrQuote, want: []string{`data.csv:3:2: column "b": bad quoting: unterminated quoted field`}},
		{name: "bare quote", in: "a,b\n1,ab\"c\n", is: ErrQuote, want: []string{`data.csv:2:2: column "b": bad quoting: bare quote`}},
		{name: "text after closing quote", in: "a,b\n1,\"ab\"c\n", is: ErrQuote, want: []string{`data.csv:2:2: column "b": bad quoting: unexpected 'c' after the closing quote`}},
		{name: "bad quote in header", in: "a,\"b\n", is: ErrQuote, want: []string{"data.csv:1:2: reading header: bad quoting: unterminated"}},
		{name: "field too long", in: "a,b\n1,2\n3," + long + "\n", opts: Options{MaxFieldBytes: 10}, is: ErrFieldTooLong, want: []string{`data.csv:3:2: column "b": field too long: field is 40 bytes, longer than 10`}},
		{name: "quoted field too long", in: "a,b\n1,\"" + long + "\"\n", opts: Options{MaxFieldBytes: 10}, is: ErrFieldTooLong, want: []string{`data.csv:2:2: column "b": field too long`}},
		{name: "numeric field too long", in: "a,b\n1,2\n3,123456789012\n", opts: Options{MaxFieldBytes: 10}, is: ErrFieldTooLong, want: []string{`data.csv:3:2: column "b": field too long`}},
		{name: "unterminated quote runs past the record limit", in: "a,b\n1,\"" + strings.Repeat("y\n", 200), opts: Options{MaxFieldBytes: 10}, is: ErrFieldTooLong, want: []string{`data.csv:2:2: column "b": field too long`, "never closed"}},
		{name: "invalid UTF-8 in header", in: "a,b\xff\n1,2\n", is: ErrInvalidUTF8, want: []string{`data.csv:1:2: invalid UTF-8 in header name "b\xff"`}},
		{name: "invalid UTF-8 in a category", in: "a,b\n1,x\n2,y\xfe\n", is: ErrInvalidUTF8, want: []string{`data.csv:3:2: column "b": invalid UTF-8 in value "y\xfe"`}},
		{name: "duplicate header", in: "a,b, a\n1,2,3\n", is: ErrHeader, want: []string{`data.csv:1:3: column "a": bad header: duplicate header name "a" (also column 1)`}},
		{name: "empty header", in: "a,,c\n1,2,3\n", is: ErrHeader, want: []string{"data.csv:1:2: bad header: header name of column 2 is empty"}},
		{name: "not a number after the sample", in: "a,price\n1,2\n3,4\n5,abc\n", sampleRows: 2, is: ErrNotNumeric, want: []string{`data.csv:4:2: column "price": not a number: value "abc"`, "data.categorical"}},
		{name: "not a number is truncated", in: "a\n1\n" + strings.Repeat("z", 100) + "\n", sampleRows: 1, is: ErrNotNumeric, want: []string{`data.csv:3:1: column "a": not a number: value "zzzz`, "… (100 bytes)"}},
		{name: "line numbers count quoted newlines", in: "a,b\n\"x\ny\",1\n\"p\nq\",2\nz,w\n", sampleRows: 1, is: ErrNotNumeric, want: []string{`data.csv:6:2: column "b"`}},
		{name: "Inf", in: "a,b\n1,2\n3,Inf\n", is: ErrNonFinite, want: []string{`data.csv:3:2: column "b": non-finite number: value "Inf"`}},
		{name: "-inf", in: "a\n1\n-inf\n", is: ErrNonFinite, want: []string{`data.csv:3:1: column "a": non-finite number`}},
		{name: "overflow", in: "a\n1\n1e999\n", is: ErrNonFinite, want: []string{`data.csv:3:1: column "a": non-finite number: value "1e999"`}},
		{name: "non-finite in a column missing from the sample", in: "a,b\n,1\n,2\n5,3\nInfinity,4\n", sampleRows: 2, is: ErrNonFinite, want: []string{`data.csv:5:1: column "a": non-finite number: value "Infinity"`}},
		{name: "unknown selected column", in: "a,b\n1,2\n", opts: Options{Columns: []string{"c"}}, is: ErrUnknownColumn, want: []string{`data.csv: unknown column "c" in the selected columns; available columns: "a", "b"`}},
		{name: "unknown categorical column", in: "a,b\n1,2\n", opts: Options{Categorical: []string{"z"}}, is: ErrUnknownColumn, want: []string{`unknown column "z" in the categorical columns; available columns: "a", "b"`}},
		{name: "bad delimiter option", in: "a,b\n1,2\n", opts: Options{Delimiter: '"'}, is: ErrOptions, want: []string{"delimiter '\"' is not supported"}},
		{name: "non-ASCII delimiter option", in: "a€b\n1€2\n", opts: Options{Delimiter: '€'}, is: ErrOptions, want: []string{"delimiter '€' is not supported"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tun := defaultTuning()
			if tc.sampleRows > 0 {
				tun.sampleRows = tc.sampleRows
			}
			f, err := readAllWays(t, tc.in, tc.opts, tun)
			if err == nil {
				t.Fatalf("no error; frame %q", cells(f))
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseErrorFormat(t *testing.T) {
	t.Parallel()
	inner := fmt.Errorf("%w: value %q", ErrNotNumeric, "x")
	tests := []struct {
		err  *ParseError
		want string
	}{
		{&ParseError{File: "data.csv", Line: 12, Col: 3, Column: "price", Err: inner}, `data.csv:12:3: column "price": not a number: value "x"`},
		{&ParseError{File: "data.csv", Line: 2, Col: 4, Err: ErrRagged}, "data.csv:2:4: wrong number of fields"},
		{&ParseError{File: "d.csv", Line: 7, Err: ErrQuote}, "d.csv:7: bad quoting"},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
		if got := errors.Unwrap(tc.err); got != tc.err.Err {
			t.Errorf("Unwrap() = %v, want %v", got, tc.err.Err)
		}
	}
	var pe *ParseError
	_, err := Read(context.Background(), strings.NewReader("a\nx\n1\nfoo bar\n"), "in.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Read(context.Background(), strings.NewReader("a,b\n1,2\n3\n"), "in.csv", Options{})
	if !errors.As(err, &pe) || pe.File != "in.csv" || pe.Line != 3 || pe.Col != 2 || pe.Column != "b" {
		t.Fatalf("got %#v", err)
	}
}

func TestKindString(t *testing.T) {
	t.Parallel()
	for k, want := range map[Kind]string{Numeric: "numeric", Categorical: "categorical", Kind(7): "Kind(7)"} {
		if got := k.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(k), got, want)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load(context.Background(), filepath.Join(t.TempDir(), "nope.csv"), Options{})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "nope.csv") {
		t.Fatalf("err = %v, want a not-exist error naming the file", err)
	}
}

func TestGzip(t *testing.T) {
	t.Parallel()
	plain := []byte("x,y,c\n1.5,2,a\n-3,4e2,b\nNA,5,a\n")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	dir := t.TempDir()
	for name, content := range map[string][]byte{"plain.csv": plain, "data.csv.gz": gz.Bytes(), "nosuffix.csv": gz.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sum := sha256.Sum256(plain)
	want, err := Load(context.Background(), filepath.Join(dir, "plain.csv"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want.SHA256 != hex.EncodeToString(sum[:]) || want.Bytes != int64(len(plain)) {
		t.Fatalf("plain file: sha256 %s bytes %d", want.SHA256, want.Bytes)
	}
	tests := []struct {
		name string
		read func() (*Frame, error)
	}{
		{"gz suffix", func() (*Frame, error) {
			return Load(context.Background(), filepath.Join(dir, "data.csv.gz"), Options{})
		}},
		{"gz magic", func() (*Frame, error) {
			return Load(context.Background(), filepath.Join(dir, "nosuffix.csv"), Options{})
		}},
		{"gz reader", func() (*Frame, error) {
			return Read(context.Background(), bytes.NewReader(gz.Bytes()), "stream", Options{})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.read()
			if err != nil {
				t.Fatal(err)
			}
			if d := diffFrames(want, got); d != "" {
				t.Fatal(d)
			}
		})
	}
	t.Run("corrupt", func(t *testing.T) {
		t.Parallel()
		bad := append([]byte(nil), gz.Bytes()...)
		bad[len(bad)-5] ^= 0xff // damage the CRC trailer
		_, err := Read(context.Background(), bytes.NewReader(bad), "bad.gz", Options{})
		if err == nil || !strings.Contains(err.Error(), "bad.gz") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("not gzip despite suffix", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "fake.csv.gz")
		os.WriteFile(path, plain, 0o600)
		_, err := Load(context.Background(), path, Options{})
		if err == nil || !strings.Contains(err.Error(), "fake.csv.gz: gzip") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestFrameColumn(t *testing.T) {
	t.Parallel()
	f, err := Read(context.Background(), strings.NewReader("a,b\n1,2\n"), "x", Options{Columns: []string{"b"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ok   bool
	}{{"b", true}, {"a", false}, {"zz", false}}
	for _, tc := range tests {
		c, ok := f.Column(tc.name)
		if ok != tc.ok || (ok && c.Name != tc.name) {
			t.Errorf("Column(%q) = %v, %v", tc.name, c, ok)
		}
	}
}

func TestContextCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	path := filepath.Join(t.TempDir(), "d.csv")
	os.WriteFile(path, []byte("a\n1\n2\n"), 0o600)
	tests := []struct {
		name string
		read func() error
	}{
		{"Load", func() error { _, err := Load(ctx, path, Options{}); return err }},
		{"Read", func() error { _, err := Read(ctx, strings.NewReader("a\n1\n"), "r", Options{}); return err }},
	}
	for _, tc := range tests {
		if err := tc.read(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v, want context.Canceled", tc.name, err)
		}
	}
}

// mixedCSV builds a deterministic data set with numeric, categorical,
// missing and quoted values, including quoted newlines.
func mixedCSV(rows int) string {
	var b strings.Builder
	b.WriteString("id,x,city,note,y\r\n")
	for i := range rows {
		x := fmt.Sprint(float64(i%97)/7 - 3)
		if i%13 == 0 {
			x = "NA"
		}
		city := fmt.Sprintf("c%d", (i*7919)%31)
		if i%17 == 0 {
			city = ""
		}
		note := "plain"
		switch i % 5 {
		case 1:
			note = fmt.Sprintf("\"multi\nline %d, with \"\"quotes\"\"\"", i%3)
		case 2:
			note = "\"a,b\""
		}
		fmt.Fprintf(&b, "%d,%s,%s,%s,%g\r\n", i, x, city, note, math.Sin(float64(i)))
		if i%50 == 49 {
			b.WriteString("\r\n")
		}
	}
	return b.String()
}

func TestDeterministicAcrossWorkersAndChunks(t *testing.T) {
	t.Parallel()
	in := mixedCSV(3000)
	tests := []struct {
		chunk, workers int
		rowScale       float64 // file: scales the estimated number of records
	}{{1 << 20, 1, 0}, {1 << 20, 4, 0}, {64, 1, 0}, {64, 4, 0}, {1, 3, 0}, {333, 2, 0}, {4096, 8, 0},
		{64, 2, 0.5}, {4096, 3, 0.9}, {333, 4, 1e-9}, {1, 2, 2}}
	dir := t.TempDir()
	var ref *Frame
	for i, tc := range tests {
		for _, how := range []string{"file", "stream"} {
			f, err := readVariant(t, dir, []byte(in), Options{}, defaultTuning(), variant{how: how, chunkSize: tc.chunk, workers: tc.workers, rowScale: tc.rowScale})
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 && how == "file" {
				ref = f
				continue
			}
			if d := diffFrames(ref, f); d != "" {
				t.Fatalf("chunk %d workers %d row scale %g %s: %s", tc.chunk, tc.workers, tc.rowScale, how, d)
			}
		}
	}
	if ref.Rows != 3000 || kinds(ref) != "numeric,numeric,categorical,categorical,numeric" {
		t.Fatalf("rows %d kinds %s", ref.Rows, kinds(ref))
	}
	var wantLevels []string
	seen := map[string]bool{}
	wantMissing := 0
	for i := range 3000 {
		if i%17 == 0 {
			wantMissing++
			continue
		}
		if c := fmt.Sprintf("c%d", (i*7919)%31); !seen[c] {
			seen[c] = true
			wantLevels = append(wantLevels, c)
		}
	}
	city, _ := ref.Column("city")
	if !reflect.DeepEqual(city.Levels, wantLevels) || city.Missing != wantMissing {
		t.Fatalf("city levels %q missing %d, want %q and %d", city.Levels, city.Missing, wantLevels, wantMissing)
	}
	x, _ := ref.Column("x")
	if x.Missing != (3000+12)/13 {
		t.Fatalf("x missing %d", x.Missing)
	}
}

func TestChunkBoundaries(t *testing.T) {
	t.Parallel()
	// Quoted fields with newlines and escaped quotes, CRLF, and blank lines,
	// read with every chunk size from 1 to 80 bytes: records and quoted
	// newlines straddle chunk boundaries at every offset.
	in := "k,v\r\n" +
		"1,\"a\r\nb\"\r\n" +
		"2,\"\"\"x\"\", \ny\"\r\n" +
		"\r\n" +
		"3,plain\r\n" +
		"4,\"\n\n\n\"\r\n" +
		"5,\"q\"\"\"\r\n" +
		"6,last"
	want := [][]string{{"1", "a\nb"}, {"2", "\"x\", \ny"}, {"3", "plain"}, {"4", "\n\n\n"}, {"5", "q\""}, {"6", "last"}}
	dir := t.TempDir()
	for chunk := 1; chunk <= 80; chunk++ {
		for _, how := range []string{"file", "stream", "gzip"} {
			f, err := readVariant(t, dir, []byte(in), Options{}, defaultTuning(), variant{how: how, chunkSize: chunk, workers: 1 + chunk%4, rowScale: []float64{0, 0.5, 1e-9}[chunk%3]})
			if err != nil {
				t.Fatalf("chunk %d %s: %v", chunk, how, err)
			}
			if got := cells(f); !reflect.DeepEqual(got, want) {
				t.Fatalf("chunk %d %s: cells %q", chunk, how, got)
			}
		}
	}
	// An error after multi-line records reports the physical line at every
	// chunk size.
	bad := "k,v\n1,\"a\nb\"\n2,\"c\n\nd\"\n3\n"
	for chunk := 1; chunk <= 40; chunk++ {
		for _, how := range []string{"file", "stream"} {
			_, err := readVariant(t, dir, []byte(bad), Options{}, defaultTuning(), variant{how: how, chunkSize: chunk, workers: 2, rowScale: []float64{0, 0.5, 1e-9}[chunk%3]})
			if !errors.Is(err, ErrRagged) || !strings.Contains(err.Error(), `data.csv:7:2: column "v"`) {
				t.Fatalf("chunk %d %s: err = %v", chunk, how, err)
			}
		}
	}
}

func TestFirstErrorWins(t *testing.T) {
	t.Parallel()
	// Many chunks, two errors: the one earlier in the file is reported,
	// whatever the scheduling.
	var b strings.Builder
	b.WriteString("a,b\n")
	for i := range 2000 {
		switch i {
		case 700:
			b.WriteString("1,2,3\n")
		case 1500:
			b.WriteString("x\n")
		default:
			fmt.Fprintf(&b, "%d,%d\n", i, i)
		}
	}
	for _, workers := range []int{1, 2, 8} {
		for _, rowScale := range []float64{0, 0.2, 0.5} {
			_, err := readVariant(t, t.TempDir(), []byte(b.String()), Options{}, defaultTuning(), variant{how: "file", chunkSize: 97, workers: workers, rowScale: rowScale})
			if !errors.Is(err, ErrRagged) || !strings.Contains(err.Error(), "data.csv:702:3") {
				t.Fatalf("workers %d row scale %g: err = %v", workers, rowScale, err)
			}
		}
	}
}

func TestLoadTestdata(t *testing.T) {
	t.Parallel()
	path := filepath.Join("testdata", "houses.csv")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	tests := []struct {
		name  string
		opts  Options
		kinds string
		cells [][]string
	}{
		{
			// sqft is mostly numbers but has a decimal comma: inferred
			// numeric it would fail (see TestMostlyNumericColumn), so it is
			// listed as categorical; every other kind is inferred.
			name:  "inferred",
			opts:  Options{Categorical: []string{"sqft"}},
			kinds: "numeric,categorical,categorical,numeric,numeric,numeric",
			cells: [][]string{
				{"1", "Springfield", "1200,5", "1999", "2134", "250000"},
				{"2", "Shelbyville", "<nil>", "NaN", "10001", "190000"},
				{"3", `North "Haverbrook"`, "980", "1987", "2134", "NaN"},
				{"4", "Ogdenville\nEast", "1500", "2005", "30301", "310000.5"},
			},
		},
		{
			name:  "zip as text, selected columns",
			opts:  Options{Categorical: []string{"zip"}, Columns: []string{"zip", "price"}},
			kinds: "categorical,numeric",
			cells: [][]string{{"02134", "250000"}, {"10001", "190000"}, {"02134", "NaN"}, {"30301", "310000.5"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := Load(context.Background(), path, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if f.Name != path || f.Delimiter != ';' || f.SHA256 != hex.EncodeToString(sum[:]) || f.Bytes != int64(len(raw)) {
				t.Errorf("frame %s %q %s %d", f.Name, f.Delimiter, f.SHA256, f.Bytes)
			}
			if k := kinds(f); k != tc.kinds {
				t.Errorf("kinds = %s, want %s", k, tc.kinds)
			}
			if got := cells(f); !reflect.DeepEqual(got, tc.cells) {
				t.Errorf("cells = %q, want %q", got, tc.cells)
			}
		})
	}
}

// TestMostlyNumericColumn: a column whose sample is mostly numbers is
// numeric, so a stray word fails at its position (with a hint) instead of
// silently turning the column into categories; a column that is mostly text
// is categorical.
func TestMostlyNumericColumn(t *testing.T) {
	t.Parallel()
	path := filepath.Join("testdata", "houses.csv")
	_, err := Load(context.Background(), path, Options{})
	if !errors.Is(err, ErrNotNumeric) {
		t.Fatalf("err = %v, want ErrNotNumeric", err)
	}
	for _, want := range []string{"houses.csv:2:3", `"sqft"`, `"1200,5"`, "data.categorical"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	f, err := Read(context.Background(), strings.NewReader("a,b\nx,1\ny,2\n3,4\n"), "t.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if k := kinds(f); k != "categorical,numeric" {
		t.Errorf("kinds = %s, want categorical,numeric", k)
	}
	if c, _ := f.Column("a"); fmt.Sprint(c.Levels) != "[x y 3]" {
		t.Errorf("levels of a = %q", c.Levels)
	}
}
