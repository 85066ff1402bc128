package dataset

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// numericCell returns a random numeric cell: mostly plain decimals of every
// length plainNumbers handles and just beyond it, and sometimes a shape it
// leaves to the general path (exponents, long numbers, spaces, missing
// markers).
func numericCell(r *rand.Rand) string {
	switch r.IntN(20) {
	case 0:
		return strconv.FormatFloat(r.NormFloat64()*1e-6, 'g', 1+r.IntN(9), 64) // exponent
	case 1:
		return []string{"", "NA", "NaN", "null", " ", "N/A"}[r.IntN(6)]
	case 2:
		return " " + strconv.FormatFloat(r.NormFloat64(), 'f', r.IntN(6), 64) + "\t"
	case 3:
		return strconv.FormatInt(r.Int64N(1e18), 10) // up to 18 digits
	}
	var b []byte
	switch r.IntN(4) {
	case 0:
		b = append(b, '-')
	case 1:
		b = append(b, '+')
	}
	id, fd := r.IntN(11), r.IntN(16)
	for range id {
		b = append(b, byte('0'+r.IntN(10)))
	}
	if fd > 0 || r.IntN(8) == 0 {
		b = append(b, '.')
	}
	for range fd {
		b = append(b, byte('0'+r.IntN(10)))
	}
	if id+fd == 0 {
		b = append(b, '7')
	}
	return string(b)
}

// numericCSV builds a file of rows records of numeric cells (and a
// categorical column after the second if withText) with blank lines here
// and there, and the values every reader must produce: strconv.ParseFloat
// of each trimmed cell, or NaN for a missing one.
func numericCSV(rows int, eol string, withText bool, seed uint64) (string, [][]float64) {
	r := rand.New(rand.NewPCG(seed, 3))
	const ncols = 6
	var b strings.Builder
	for c := range ncols {
		if c > 0 {
			b.WriteByte(',')
		}
		if withText && c == 2 {
			b.WriteString("k,")
		}
		fmt.Fprintf(&b, "x%d", c)
	}
	b.WriteString(eol)
	// A plain first record, so that no column is inferred from blanks.
	want := make([][]float64, ncols)
	for i := range rows {
		for c := range ncols {
			cell := numericCell(r)
			if i == 0 {
				cell = "1.5"
			}
			if c > 0 {
				b.WriteByte(',')
			}
			if withText && c == 2 {
				fmt.Fprintf(&b, "k%d,", r.IntN(5))
			}
			b.WriteString(cell)
			v := math.NaN()
			if t := trimSpace([]byte(cell)); !isMissing(t) {
				var err error
				if v, err = strconv.ParseFloat(string(t), 64); err != nil {
					panic(err)
				}
			}
			want[c] = append(want[c], v)
		}
		b.WriteString(eol)
		if r.IntN(50) == 0 {
			b.WriteString(eol) // a blank line
		}
	}
	return b.String(), want
}

func TestPlainNumbersInFrames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		eol      string
		withText bool
	}{
		{"LF", "\n", false},
		{"CRLF", "\r\n", false},
		{"LF with a categorical column", "\n", true},
		{"CRLF with a categorical column", "\r\n", true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in, want := numericCSV(2500, tc.eol, tc.withText, uint64(i))
			f, err := readAllWays(t, in, Options{}, defaultTuning())
			if err != nil {
				t.Fatal(err)
			}
			if f.Rows != len(want[0]) {
				t.Fatalf("rows = %d, want %d", f.Rows, len(want[0]))
			}
			for c, w := range want {
				col, ok := f.Column(fmt.Sprintf("x%d", c))
				if !ok || col.Kind != Numeric {
					t.Fatalf("column x%d missing or not numeric", c)
				}
				for r, v := range w {
					got := col.Floats[r]
					if math.Float64bits(got) != math.Float64bits(v) && !(math.IsNaN(got) && math.IsNaN(v)) {
						t.Fatalf("x%d row %d = %v, want %v", c, r, got, v)
					}
				}
			}
		})
	}
}

// TestPlainNumbersErrors: a bad cell or record deep inside a numeric file is
// reported at its exact line and column by every reader (readAllWays
// compares their errors).
func TestPlainNumbersErrors(t *testing.T) {
	t.Parallel()
	in, _ := numericCSV(2000, "\n", false, 9)
	lines := strings.Split(in, "\n")
	tests := []struct {
		name    string
		line    int // 1-based line to change
		replace func(string) string
		is      error
		want    string
	}{
		{"short record", 1234, func(l string) string { return l[:strings.LastIndexByte(l, ',')] }, ErrRagged, ":1234:6: column \"x5\": wrong number of fields"},
		{"long record", 1700, func(l string) string { return l + ",1" }, ErrRagged, ":1700:7: wrong number of fields"},
		{"text", 1900, func(l string) string { return "abc" + l[strings.IndexByte(l, ','):] }, ErrNotNumeric, `:1900:1: column "x0": not a number: value "abc"`},
		{"infinite", 800, func(l string) string { return l[:strings.LastIndexByte(l, ',')] + ",-1e400" }, ErrNonFinite, `:800:6: column "x5": non-finite number: value "-1e400"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ls := append([]string(nil), lines...)
			if ls[tc.line-1] == "" {
				t.Fatalf("line %d is blank; pick another", tc.line)
			}
			ls[tc.line-1] = tc.replace(ls[tc.line-1])
			_, err := readAllWays(t, strings.Join(ls, "\n"), Options{}, defaultTuning())
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.is, tc.want)
			}
		})
	}
}

func TestEstimateRows(t *testing.T) {
	t.Parallel()
	// Records of equal length, and files whose records get shorter or
	// longer after the first part.
	rows := func(n, digits int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "%0*d,%d\n", digits, i, i%7)
		}
		return b.String()
	}
	even := "a,b\n" + rows(20000, 8)
	shorter := "a,b\n" + rows(3000, 40) + rows(17000, 8)
	longer := "a,b\n" + rows(3000, 8) + rows(17000, 40)
	quoted := "a,b\n" + strings.Repeat("\"x\ny\",1\n", 20000)
	blank := "a,b,c\n\n\n\n\n1,2,3\n" + strings.Repeat("\n", 10000)
	tests := []struct {
		name     string
		file     string
		head     int     // bytes of the file in head
		min, max float64 // the estimate's bounds
	}{
		{"whole file", "a\n1\n2\n", 6, 2, 2},
		{"whole file without final newline", "a\n1\n2", 5, 2, 2},
		{"whole file: blank lines count", "a\n1\n\n2\n", 7, 3, 3},
		{"whole file: quoted newlines do not", "a\n\"x\ny\"\n2\n", 10, 2, 2},
		{"whole file without records", "a\n", 2, 0, 0},
		{"records of equal length", even, 1 << 14, 20000, 20000*1.03 + 16},
		{"records get shorter", shorter, 1 << 14, 20000, 30000},
		{"records get longer", longer, 1 << 14, 20000, 45000},
		{"quoted newlines", quoted, 1 << 14, 20000, 20000*1.03 + 16},
		{"no complete record in head", "a\n123" + strings.Repeat("4", 1000) + "\n", 10, 0, 0},
		{"at least ncols bytes per record", blank, 16, 0, float64((len(blank)-6)/3 + 1 + 16)},
	}
	for _, tc := range tests {
		head := tc.file[:tc.head]
		nl := strings.IndexByte(head, '\n')
		got := estimateRows(strings.NewReader(tc.file), []byte(head), nl+1, tc.head == len(tc.file), int64(len(tc.file)), strings.Count(head[:nl], ",")+1)
		if float64(got) < tc.min || float64(got) > tc.max {
			t.Errorf("%s: estimate %d, want %g…%g", tc.name, got, tc.min, tc.max)
		}
	}
}

// TestLoadFromEstimate reads files whose records change length after the
// first bytes with a small head, so that the columns are sized from a real
// estimate (short, long or about right), and checks the result against the
// streaming reader.
func TestLoadFromEstimate(t *testing.T) {
	t.Parallel()
	rows := func(n, digits int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "%0*d,%d.5\n", digits, i, i%7)
		}
		return b.String()
	}
	tests := []struct {
		name string
		data string
	}{
		{"records get shorter", "a,b\n" + rows(2000, 30) + rows(8000, 3)},
		{"records get longer", "a,b\n" + rows(2000, 3) + rows(8000, 30)},
		{"records get shorter between samples", "a,b\n" + rows(4000, 30) + rows(3000, 1) + rows(3000, 30)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "d.csv")
			if err := os.WriteFile(path, []byte(tc.data), 0o600); err != nil {
				t.Fatal(err)
			}
			want, err := readStream(context.Background(), strings.NewReader(tc.data), path, Options{}, defaultTuning(), false)
			if err != nil {
				t.Fatal(err)
			}
			for _, workers := range []int{1, 3} {
				tun := defaultTuning()
				tun.headBytes, tun.chunkSize = 2048, 4096
				got, err := loadFile(context.Background(), path, Options{Workers: workers}, tun)
				if err != nil {
					t.Fatal(err)
				}
				if d := diffFrames(want, got); d != "" {
					t.Fatalf("workers %d: %s", workers, d)
				}
			}
		})
	}
}
