package dataset

import (
	"errors"
	"math"
	"strconv"

	"github.com/modelci/modelci/internal/model"
)

// isMissing and trimSpace are the one missing-value rule of package model
// (model.IsMissingBytes, model.TrimSpace), which serving applies too. In a
// numeric column a NaN spelling is missing as well (parseNumber's errNaN,
// the same spellings as model.IsNaNSpelling).
func isMissing(b []byte) bool { return model.IsMissingBytes(b) }

func trimSpace(b []byte) []byte { return model.TrimSpace(b) }

// maxExactMantissa is 2^53: every integer up to it is exactly representable
// in a float64.
const maxExactMantissa = 1 << 53

// fastFloat parses a plain decimal number ([+-]digits[.digits][(e|E)[+-]digits])
// at the start of b and returns its value and length. ok is false when the
// bytes at the start of b are not such a number or when the value cannot be
// computed exactly with Clinger's fast path; callers then fall back to
// strconv.ParseFloat. When ok is true the value is bit-identical to
// strconv.ParseFloat(string(b[:n]), 64): the decimal mantissa is an integer
// ≤ 2^53 and the power of ten is ≤ 10^22, so both are exact float64 values
// and a single IEEE-754 multiplication or division rounds correctly.
func fastFloat(b []byte) (v float64, n int, ok bool) {
	i := 0
	neg := false
	if len(b) > 0 {
		switch b[0] {
		case '-':
			neg = true
			i = 1
		case '+':
			i = 1
		}
	}
	var mant uint64
	sig := 0 // significant digits accumulated in mant
	digits := 0
	for ; i < len(b); i++ {
		d := b[i] - '0'
		if d > 9 {
			break
		}
		digits++
		if mant == 0 && d == 0 {
			continue
		}
		if sig == 19 {
			return 0, 0, false
		}
		mant = mant*10 + uint64(d)
		sig++
	}
	exp := 0
	if i < len(b) && b[i] == '.' {
		i++
		for ; i < len(b); i++ {
			d := b[i] - '0'
			if d > 9 {
				break
			}
			digits++
			exp--
			if mant == 0 && d == 0 {
				continue
			}
			if sig == 19 {
				return 0, 0, false
			}
			mant = mant*10 + uint64(d)
			sig++
		}
	}
	if digits == 0 || i > 64 {
		return 0, 0, false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := false
		if i < len(b) && (b[i] == '-' || b[i] == '+') {
			eneg = b[i] == '-'
			i++
		}
		e, ed := 0, 0
		for ; i < len(b); i++ {
			d := b[i] - '0'
			if d > 9 {
				break
			}
			if ed == 6 {
				return 0, 0, false
			}
			e = e*10 + int(d)
			ed++
		}
		if ed == 0 {
			return 0, 0, false
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if mant == 0 {
		if neg {
			return math.Copysign(0, -1), i, true
		}
		return 0, i, true
	}
	if mant > maxExactMantissa {
		return 0, 0, false
	}
	f := float64(mant)
	switch {
	case exp == 0:
	case exp < 0 && exp >= -22:
		f /= math.Pow10(-exp)
	case exp > 0 && exp <= 22:
		f *= math.Pow10(exp)
	case exp > 22 && exp <= 22+15:
		// Move the excess power into the (integer) mantissa while it stays exact.
		for ; exp > 22; exp-- {
			mant *= 10
			if mant > maxExactMantissa {
				return 0, 0, false
			}
		}
		f = float64(mant) * math.Pow10(22)
	default:
		return 0, 0, false
	}
	if neg {
		f = -f
	}
	return f, i, true
}

// errNotNumber and errNaN are internal results of parseNumber.
var (
	errNotNumber = errors.New("not a number")
	errNaN       = errors.New("NaN")
)

// parseNumber parses a trimmed, non-missing cell as a float64. It accepts
// decimal syntax only (no hexadecimal floats, no digit separators) plus the
// special values strconv.ParseFloat knows. It returns errNotNumber for text
// that is not a number, errNaN for a NaN spelling (callers treat it as
// missing), and the parsed ±Inf together with ErrNonFinite for non-finite
// values (including overflow such as 1e999).
func parseNumber(b []byte) (float64, error) {
	if v, n, ok := fastFloat(b); ok && n == len(b) {
		return v, nil
	}
	for _, c := range b {
		if c == 'x' || c == 'X' || c == '_' {
			return 0, errNotNumber
		}
	}
	v, err := strconv.ParseFloat(string(b), 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange):
		return 0, errNotNumber
	case math.IsNaN(v):
		return v, errNaN
	case math.IsInf(v, 0): // "Inf", or an overflow (ErrRange)
		return v, ErrNonFinite
	}
	return v, nil // an underflow (ErrRange) is the rounded value
}

// scanDecimal parses a plain decimal number [+-]digits[.digits] at data[p:]
// without an exponent, the shape of nearly every cell in numeric CSV files.
// It returns the value and the offset just past the number; ok is false if
// there is no such number or it has more than 19 digits or a mantissa above
// 2^53 (callers then use the general path). Like fastFloat, the result is
// correctly rounded: mantissa and 10^digits are exact float64 values and one
// division rounds once. It is written for speed: one pass, no allocation.
func scanDecimal(data []byte, p int) (v float64, end int, ok bool) {
	n := len(data)
	if p >= n {
		return 0, p, false
	}
	var neg uint64
	if b := data[p]; b == '-' || b == '+' {
		if b == '-' {
			neg = 1 << 63
		}
		p++
	}
	var mant uint64
	start := p
	for p < n {
		d := data[p] - '0'
		if d > 9 {
			break
		}
		mant = mant*10 + uint64(d)
		p++
	}
	nd := p - start
	fd := 0
	if p < n && data[p] == '.' {
		p++
		fs := p
		for p < n {
			d := data[p] - '0'
			if d > 9 {
				break
			}
			mant = mant*10 + uint64(d)
			p++
		}
		fd = p - fs
		nd += fd
	}
	// A mantissa of more than 19 digits may have wrapped; 19 digits and
	// fd <= 19 keep 10^fd exact.
	if nd == 0 || nd > 19 || mant > maxExactMantissa || (p < n && data[p]|0x20 == 'e') {
		return 0, p, false
	}
	v = float64(mant)
	if fd > 0 {
		v /= math.Pow10(fd)
	}
	return math.Float64frombits(math.Float64bits(v) | neg), p, true
}
