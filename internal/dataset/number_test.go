package dataset

import (
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// checkFloat verifies every float parser against strconv.ParseFloat on s.
func checkFloat(t *testing.T, s string) {
	t.Helper()
	b := []byte(s)
	if v, n, ok := fastFloat(b); ok {
		want, err := strconv.ParseFloat(s[:n], 64)
		if err != nil || math.Float64bits(v) != math.Float64bits(want) {
			t.Fatalf("fastFloat(%q) = %v (%d bytes), strconv = %v, %v", s, v, n, want, err)
		}
	}
	if v, end, ok := scanDecimal(b, 0); ok {
		want, err := strconv.ParseFloat(s[:end], 64)
		if err != nil || math.Float64bits(v) != math.Float64bits(want) {
			t.Fatalf("scanDecimal(%q) = %v (%d bytes), strconv = %v, %v", s, v, end, want, err)
		}
	}
	checkPlain(t, s)
	v, err := parseNumber(b)
	want, serr := strconv.ParseFloat(s, 64)
	special := strings.ContainsAny(s, "xX_")
	switch {
	case err == nil:
		if math.IsInf(v, 0) || math.IsNaN(v) || math.Float64bits(v) != math.Float64bits(want) {
			t.Fatalf("parseNumber(%q) = %v, strconv = %v, %v", s, v, want, serr)
		}
	case errors.Is(err, ErrNonFinite):
		if !math.IsInf(want, 0) {
			t.Fatalf("parseNumber(%q) non-finite, strconv = %v, %v", s, want, serr)
		}
	case err == errNaN:
		if !math.IsNaN(want) || serr != nil {
			t.Fatalf("parseNumber(%q) NaN, strconv = %v, %v", s, want, serr)
		}
	case err == errNotNumber:
		if serr == nil && !special {
			t.Fatalf("parseNumber(%q) not a number, strconv = %v", s, want)
		}
	default:
		t.Fatalf("parseNumber(%q): unexpected error %v", s, err)
	}
}

// plainShape reports whether s is a number plainNumbers must parse: a
// plain decimal of at most 15 bytes with at most 8 integer digits.
func plainShape(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	id, fd := 0, 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		id++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			fd++
		}
	}
	return i == len(s) && len(s) <= 15 && id <= 8 && id+fd > 0
}

// checkPlain runs plainNumbers on s as a field of a one-column file, after
// other fields and followed by each record end, and checks the value
// against strconv.ParseFloat; a plain number (plainShape) must be parsed,
// anything else must be parsed correctly or left alone.
func checkPlain(t *testing.T, s string) {
	t.Helper()
	const before = "1,22,333,4444,5,"
	const after = ",1.5,2.5,3.5,4.5,5.5\n"
	for _, end := range []string{",", "\n", "\r\n"} {
		in := []byte(before + s + end + after)
		col := plainCol{dst: make([]float64, 1), end: uint16(end[0]), endMask: 0xFF, endLen: len(end)}
		if end == "\r\n" {
			col.end, col.endMask = '\r'|'\n'<<8, 0xFFFF
		}
		at := len(before)
		start, p, c, row := plainNumbers(in, at, at, 0, 0, 1, []plainCol{col})
		if row == 0 {
			if start != at || p != at || c != 0 {
				t.Fatalf("plainNumbers(%q + %q) stopped at %d/%d/%d without a value", s, end, start, p, c)
			}
			if plainShape(s) {
				t.Fatalf("plainNumbers(%q + %q) did not parse a plain number", s, end)
			}
			continue
		}
		n := p - at - len(end)
		if start != p || c != 0 || row != 1 || n < 1 || string(in[at+n:p]) != end {
			t.Fatalf("plainNumbers(%q + %q) = %d/%d/%d/%d", s, end, start, p, c, row)
		}
		want, err := strconv.ParseFloat(string(in[at:at+n]), 64)
		if v := col.dst[0]; err != nil || math.Float64bits(v) != math.Float64bits(want) {
			t.Fatalf("plainNumbers(%q + %q) = %v from %q, strconv = %v, %v", s, end, v, in[at:at+n], want, err)
		}
	}
}

func TestFloatParsersMatchStrconv(t *testing.T) {
	t.Parallel()
	cases := []string{
		"0", "-0", "+0", "0.0", "-0.0", "00000", "0e0", "-0e-999", "1", "-1", "+1", ".5", "5.", "-.5", ".", "-", "+", "",
		"1e", "1e+", "e5", "1.2.3", "--1", "1-", "1e5", "1E5", "1e-5", "1e+5", "2.5E-3",
		"9007199254740992", "9007199254740993", "9007199254740991", "900719925474099.3",
		"1e22", "1e23", "9007199254740991e22", "1e37", "1234567e30", "123456789012345678901234567890",
		"0.1", "0.2", "0.3", "1.7976931348623157e308", "1.7976931348623159e308", "4.9e-324", "2.4e-324", "1e-400",
		"2.2250738585072011e-308", "2.2250738585072012e-308", "-1.234567", "0.00123456789", "3.14159265358979323846",
		"123456789.123456789", "0.000000000000000000000000000001", "1e000000000000001", "7e-22", "7e-23",
		"inf", "-Inf", "+INF", "infinity", "NaN", "nan", "-nan", "0x1p-2", "1_000", "1e999", "-1e999", " 1", "1 ",
		"99999999999999999999", "18446744073709551615", "18446744073709551616", "1.8446744073709551616e19",
		// At the limits of plainNumbers: 15 bytes, 8 integer digits.
		"12345678.123456", "-1234567.123456", "+1234567.123456", "12345678", "-12345678", "123456789", "-123456789.1",
		"9.9999999999999", "9.99999999999999", "0.12345678901234", ".12345678901234", "-.1234567890123", "999999999999999",
		"00000001.5", "000000001.5", "+.1", "-.", "+.", "-0.000000000000", "1.", "-1.", "+-1", "1-", "1.2.3", "1..2",
		"1,5", "1\n2", "1\r\n", "1\r", "\xff1", "1\xff", "١", "1 ", " 1",
	}
	for _, s := range cases {
		checkFloat(t, s)
	}
	r := rand.New(rand.NewPCG(7, 11))
	n := 300000
	if testing.Short() {
		n = 20000
	}
	var b []byte
	for range n {
		// Random decimal strings of up to 24 digits with a dot and an
		// exponent somewhere.
		b = b[:0]
		switch r.IntN(3) {
		case 0:
			b = append(b, '-')
		case 1:
			b = append(b, '+')
		}
		digits := 1 + r.IntN(24)
		dot := r.IntN(digits + 1)
		for i := range digits {
			if i == dot {
				b = append(b, '.')
			}
			b = append(b, byte('0'+r.IntN(10)))
		}
		if r.IntN(3) == 0 {
			b = append(b, 'e')
			b = strconv.AppendInt(b, int64(r.IntN(80)-40), 10)
		}
		checkFloat(t, string(b))
		// Shortest and fixed-precision renderings of random float64s.
		f := math.Float64frombits(r.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		checkFloat(t, strconv.FormatFloat(f, 'g', -1, 64))
		checkFloat(t, strconv.FormatFloat(f, 'g', 1+r.IntN(17), 64))
		g := r.NormFloat64() * math.Pow10(r.IntN(20)-10)
		checkFloat(t, strconv.FormatFloat(g, 'f', r.IntN(12), 64))
		checkFloat(t, strconv.FormatFloat(g, 'g', 6+r.IntN(4), 64))
	}
}

func TestScanDecimalStopsAtTerminator(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		p    int
		v    float64
		end  int
		fast bool
	}{
		{"1.5,2", 0, 1.5, 3, true},
		{"x,-2.25\n", 2, -2.25, 7, true},
		{"12\r\n", 0, 12, 2, true},
		{"1e5,", 0, 0, 1, false}, // exponents take the general path
		{",", 0, 0, 0, false},
		{"", 0, 0, 0, false},
		{"12345678901234567890", 0, 0, 20, false},
	}
	for _, tc := range tests {
		v, end, ok := scanDecimal([]byte(tc.in), tc.p)
		if ok != tc.fast || (ok && (v != tc.v || end != tc.end)) {
			t.Errorf("scanDecimal(%q, %d) = %v, %d, %v; want %v, %d, %v", tc.in, tc.p, v, end, ok, tc.v, tc.end, tc.fast)
		}
	}
}

func TestMissingMarkers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{"", true}, {"NA", true}, {"N/A", true}, {"NaN", true}, {"nan", true}, {"NULL", true}, {"null", true}, {"None", true},
		{"na", false}, {"NAN", false}, {"none", false}, {"0", false}, {"-", false}, {"NA ", false},
	}
	for _, tc := range tests {
		if got := isMissing([]byte(tc.in)); got != tc.want {
			t.Errorf("isMissing(%q) = %v", tc.in, got)
		}
	}
}

func FuzzParseFloat(f *testing.F) {
	for _, s := range []string{"1.5", "-0", "1e22", "9007199254740993", "0.1", "1e-400", "inf", "1_0", ".5", "-1.234567", "0.00123456789", "123456789012345678901"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkFloat(t, s)
	})
}
