package dataset

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// This file holds the loop that nearly every cell of a numeric file goes
// through: plainNumbers. It parses "plain" numbers, [+-]digits[.digits] of
// at most 15 bytes with at most 8 integer digits, eight bytes at a time
// ("SWAR", SIMD within a register), and leaves everything else to the
// general per-cell code.
//
// Why it is written this way: on a plain numeric file the time goes into
// the per-cell work, and a byte loop over a number spends most of it on
// branches that depend on the length of the number, which varies from cell
// to cell and so is mispredicted. Here the field is read as two 8-byte
// words, its non-digit bytes are found with a few bit operations (the first
// non-digit is the decimal point or the end of the field, the second the
// end), and the digits are converted from words loaded so that they end
// where the digits end. There are no loops per byte, and the only branches
// depend on the shape of a column (is there a decimal point) rather than of
// a cell. The loop over fields is a single function, without calls, so that
// its state stays in registers.

// plainBefore and plainAfter are the bytes plainNumbers needs before and
// from the start of a field (it reads 8-byte words around the field).
const (
	plainBefore = 16
	plainAfter  = 18
)

// SWAR constants: one byte per lane.
const (
	swarZeros = 0x3030303030303030 // '0' in every byte
	swarLow7  = 0x7F7F7F7F7F7F7F7F
	swarTops  = 0x8080808080808080
	swarAbove = 0x7676767676767676 // 0x7F - 9
)

// nonDigitTops returns a word with the top bit of byte i set if byte i of x
// is not a digit value 0–9 (x is the input XOR '0' in every byte). It is
// exact for every byte: no carry crosses from one byte into the next.
func nonDigitTops(x uint64) uint64 {
	return ((x&swarLow7 + swarAbove) | x) & swarTops
}

// eightDigits returns the value of the eight decimal digits in v, one digit
// value (0–9) per byte, the most significant digit in the lowest byte (the
// first in memory); bytes that are 0 act as leading zeros. The technique is
// from simdjson and fast_float.
func eightDigits(v uint64) uint64 {
	v = v*10 + v>>8 // pairs of digits
	const mask = 0x000000FF000000FF
	const mul1 = 100 + 1000000<<32
	const mul2 = 1 + 10000<<32
	return ((v&mask)*mul1 + (v>>16&mask)*mul2) >> 32
}

// highBytes[k] masks the k (0–8) highest bytes of a word.
var highBytes = [16]uint64{
	0, 0xFF << 56, 0xFFFF << 48, 0xFFFFFF << 40, 0xFFFFFFFF << 32,
	0xFFFFFFFFFF << 24, 0xFFFFFFFFFFFF << 16, 0xFFFFFFFFFFFFFF << 8, 0xFFFFFFFFFFFFFFFF,
}

// fracPlan says, for fd ≤ 15 fraction digits, how they are split between
// the word that ends with the last digit (the last min(fd, 8)) and the word
// before it (the rest), and the power of ten to divide by.
type fracPlan struct {
	maskLow, maskHigh uint64  // highBytes of the digits in each word
	pow10Low          uint64  // 10^(digits in the last word)
	shift             uint    // 8 × (digits in the word before)
	div               float64 // 10^fd, exact
}

// fracPlans is indexed by the number of fraction digits.
var fracPlans = func() (t [16]fracPlan) {
	pow := 1.0
	for fd := range t {
		fl := min(fd, 8)
		fh := fd - fl
		t[fd] = fracPlan{maskLow: highBytes[fl], maskHigh: highBytes[fh], pow10Low: uint64(math.Pow10(fl)), shift: uint(8 * fh), div: pow}
		pow *= 10
	}
	return t
}()

// b2u converts a bool to 0 or 1; it compiles to SETcc, without a branch.
func b2u(b bool) uint {
	var u uint
	if b {
		u = 1
	}
	return u
}

// plainCol is a column as plainNumbers sees it.
type plainCol struct {
	dst []float64 // the chunk's rows of a numeric column; nil for other columns
	// The bytes that end the field (the delimiter; "\n" or "\r\n" after
	// the last column), little-endian in the bits of endMask, and their
	// number.
	end, endMask uint16
	endLen       int
}

// plainNumbers parses the fields from data[p] on for as long as every field
// is a plain number of a numeric column followed by the expected bytes. p
// is field c of the record that starts at data[start], the chunk's row row;
// it goes on over as many records as there are, but does not begin the
// record of row rows (the chunk's capacity). It returns where it stopped:
// the start of the record, the position and column of the field it did not
// parse, and the record's row.
// The values are bit-identical to strconv.ParseFloat's: the mantissa has at
// most 15 digits, so it and 10^(fraction digits) are exact float64 values,
// and a single division rounds correctly (Clinger's fast path).
func plainNumbers(data []byte, start, p, c, row, rows int, cols []plainCol) (int, int, int, int) {
	if c == 0 && row >= rows {
		return start, p, c, row
	}
	last := len(data) - plainAfter
	for p >= plainBefore && p <= last && c < len(cols) {
		col := &cols[c]
		if col.dst == nil {
			break
		}
		b := data[p-plainBefore : p+plainAfter : p+plainAfter]
		const at = plainBefore // the field starts at b[at]
		w1 := binary.LittleEndian.Uint64(b[at:])
		w2 := binary.LittleEndian.Uint64(b[at+8:])
		// A branch on the sign would be mispredicted half of the time.
		sign := byte(w1)
		neg := uint64(b2u(sign == '-')) << 63
		skip := b2u((sign-'+')&^2 == 0) // '+' or '-'
		// The non-digits of the 16 bytes: a sign is not one.
		n1 := nonDigitTops(w1^swarZeros) &^ (uint64(skip) << 7)
		n2 := nonDigitTops(w2 ^ swarZeros)
		// The first non-digit is the decimal point or the end of the field.
		z1 := uint(bits.TrailingZeros64(n1))
		end := (z1 + uint(bits.TrailingZeros64(n2))&-(z1>>6)) >> 3 // 16: none
		dot := end
		if b[(at+end)&31] == '.' {
			// The second non-digit ends the field: clear the lowest bit of
			// n2:n1 and look again.
			n2 &= n2 - 1 | -uint64(b2u(n1 != 0))
			n1 &= n1 - 1
			z1 = uint(bits.TrailingZeros64(n1))
			end = (z1 + uint(bits.TrailingZeros64(n2))&-(z1>>6)) >> 3
		}
		id := dot - skip                              // integer digits
		fd := (end - dot - 1) & -uint(b2u(end > dot)) // fraction digits
		if end >= 16 || id > 8 || id+fd == 0 {
			break
		}
		if binary.LittleEndian.Uint16(b[at+end:])&col.endMask != col.end {
			break
		}
		// Words that end with the last integer digit, with the last
		// fraction digit, and eight bytes before that; the masks keep the
		// digits and clear the bytes before them.
		wi := binary.LittleEndian.Uint64(b[(at+dot-8)&31:]) ^ swarZeros
		wl := binary.LittleEndian.Uint64(b[(at+end-8)&31:]) ^ swarZeros
		wh := binary.LittleEndian.Uint64(b[(at+end-16)&31:]) ^ swarZeros
		fp := &fracPlans[fd&15]
		// The integer digits followed by the fraction digits of wh: at
		// most eight, as a field has at most 15 digits.
		head := (wi&highBytes[id&15])>>(fp.shift&63) | wh&fp.maskHigh
		mant := eightDigits(head)*fp.pow10Low + eightDigits(wl&fp.maskLow)
		v := float64(int64(mant)) / fp.div
		col.dst[row] = math.Float64frombits(math.Float64bits(v) | neg)
		p += int(end) + col.endLen
		c++
		if c == len(cols) {
			c = 0
			row++
			start = p
			if row >= rows {
				break
			}
		}
	}
	return start, p, c, row
}
