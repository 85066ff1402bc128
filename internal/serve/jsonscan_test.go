package serve

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"unicode/utf8"
)

// TestScannerValidity: the scanner accepts exactly the documents
// encoding/json accepts (plus the NaN/Infinity tokens, tested below).
func TestScannerValidity(t *testing.T) {
	t.Parallel()
	docs := []string{
		`{}`, `[]`, ` {"a" : [1, -2.5e+3, 0, -0, 0.5, 1E2, true, false, null, "x"]} `,
		`{"a":{"b":{"c":[[[]]]}}}`, `"\u00e9\ud83d\ude00\n\t\\\/\""`, `-0.0e-0`,
		`{"a":1,}`, `[1,]`, `[01]`, `[1.]`, `[.5]`, `[1e]`, `[+1]`, `[-]`, `{"a" 1}`, `{a:1}`, `["\x"]`,
		`["\u12"]`, "[\"a\tb\"]", `["unterminated]`, `[1 2]`, `{"a":1}}`, `[tru]`, `[nul]`, `{"a":[}`,
		`[1,2,3`, `"\ud800"`, `"\udc00\ud800x"`, "\"\xff\"", `[1e400]`,
	}
	for _, d := range docs {
		var s scanner
		s.reset([]byte(d))
		err := s.skip(1)
		if err == nil {
			err = s.end()
		}
		if got, want := err == nil, json.Valid([]byte(d)); got != want {
			t.Errorf("%q: scanner accepts=%v (%v), encoding/json accepts=%v", d, got, err, want)
		}
	}
}

// TestScannerStrings: unescaping agrees with encoding/json.
func TestScannerStrings(t *testing.T) {
	t.Parallel()
	for _, d := range []string{`""`, `"plain"`, `"a\"b\\c\/d\be\ff\ng\rh\ti"`, `"\u0041\u00e9\u4e2d"`,
		`"\ud83d\ude00"`, `"\ud800"`, `"\ud800\u0041"`, `"\udc00"`, `"mixed é 中 \u00e9"`} {
		var want string
		if err := json.Unmarshal([]byte(d), &want); err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		var s scanner
		s.reset([]byte(d))
		got, err := s.str()
		if err != nil || string(got) != want || s.i != len(d) {
			t.Errorf("%s: got %q (%v), want %q", d, got, err, want)
		}
	}
}

// TestParseNumber: the fast path rounds exactly like strconv.ParseFloat.
func TestParseNumber(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	var texts []string
	for range 200000 {
		f := math.Float64frombits(rng.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		switch rng.IntN(5) {
		case 0:
			texts = append(texts, strconv.FormatFloat(f, 'g', -1, 64))
		case 1:
			texts = append(texts, strconv.FormatFloat(rng.NormFloat64()*math.Pow(10, float64(rng.IntN(12))), 'f', rng.IntN(8), 64))
		case 2:
			texts = append(texts, strconv.FormatFloat(rng.Float64()*1e6, 'e', rng.IntN(16), 64))
		case 3:
			texts = append(texts, strconv.FormatInt(rng.Int64N(1<<62)-1<<61, 10))
		default:
			texts = append(texts, strconv.FormatFloat(float64(rng.IntN(100000))/100, 'f', -1, 64))
		}
	}
	texts = append(texts, "0", "-0", "1e22", "1e23", "9007199254740993", "123456789012345", "1234567890123456",
		"0.000000000000000000001", "4.9e-324", "1.7976931348623157e308", "2.2250738585072014e-308", "0.1", "1.5e-22", "100000000000000000000000")
	for _, txt := range texts {
		want, err := strconv.ParseFloat(txt, 64)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseNumber([]byte(txt))
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("%s: got %v (%v), want %v", txt, got, err, want)
		}
	}
	if _, err := parseNumber([]byte("1e309")); err == nil {
		t.Error("1e309 parsed")
	}
}

// TestParseText: numbers written as text, as pandas reads them.
func TestParseText(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{" 12.5 ", 12.5, true}, {"+1", 1, true}, {".5", .5, true}, {"1.", 1, true}, {"-3e2", -300, true},
		{"", math.NaN(), true}, {"NA", math.NaN(), true}, {" nan", math.NaN(), true}, {"None", math.NaN(), true},
		{"inf", 0, false}, {"1e999", 0, false}, {"abc", 0, false}, {"1,5", 0, false},
	} {
		got, err := parseText([]byte(c.in))
		if (err == nil) != c.ok || (c.ok && !(got == c.want || math.IsNaN(got) && math.IsNaN(c.want))) {
			t.Errorf("%q: %v, %v; want %v ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

// TestAppendString: encoded strings decode back (invalid UTF-8 as U+FFFD).
func TestAppendString(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", "quote\" back\\slash", "ctl\x00\x01\x1f\n\r\t", "é中😀", "bad\xffutf8\xc3", "</script>&"} {
		b := appendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q encodes to invalid JSON %s: %v", s, b, err)
		}
		want := s
		if !utf8.ValidString(s) {
			want = string([]rune(s)) // invalid bytes become U+FFFD
		}
		if got != want {
			t.Errorf("%q round-trips to %q", s, got)
		}
	}
}

func TestAppendFloat(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		f := math.Float64frombits(rng.Uint64())
		if rng.IntN(2) == 0 {
			f = math.Round(rng.NormFloat64() * 1e6)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		b := appendFloat(nil, f)
		var got float64
		if err := json.Unmarshal(b, &got); err != nil || got != f {
			t.Fatalf("%v encodes to %s, reads back %v (%v)", f, b, got, err)
		}
	}
}
