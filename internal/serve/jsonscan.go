package serve

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/modelci/modelci/internal/model"
)

// maxDepth bounds the nesting of JSON values the scanner accepts.
const maxDepth = 64

// scanner reads JSON from a byte slice without reflection and, on the
// common paths, without allocating. It validates what it reads: a value it
// accepts is valid JSON (RFC 8259), except that the bare tokens NaN,
// Infinity and -Infinity, which Python's json module writes, are
// recognised as elements so that they can be answered precisely.
type scanner struct {
	b   []byte
	i   int
	buf []byte // unescaped strings; valid until the next str call
}

// kind is the kind of a scalar element.
type kind uint8

const (
	kNumber kind = iota + 1
	kString
	kNull
	kNaN // the bare token NaN
	kInf // Infinity or -Infinity
	kBool
	kArray  // '[' not consumed
	kObject // '{' not consumed
)

func (k kind) String() string {
	switch k {
	case kNumber:
		return "a number"
	case kString:
		return "a string"
	case kNull:
		return "null"
	case kNaN:
		return "NaN"
	case kInf:
		return "an infinite number"
	case kBool:
		return "a boolean"
	case kArray:
		return "an array"
	case kObject:
		return "an object"
	}
	return "nothing"
}

// syntaxError is malformed JSON.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.off, e.msg)
}

func (s *scanner) reset(b []byte) {
	s.b = b
	s.i = 0
}

func (s *scanner) fail(msg string) error {
	return &syntaxError{off: s.i, msg: msg}
}

func (s *scanner) failf(format string, args ...any) error {
	return &syntaxError{off: s.i, msg: fmt.Sprintf(format, args...)}
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek skips white space and returns the next byte, 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *scanner) describe() string {
	if s.i >= len(s.b) {
		return "the end of the body"
	}
	c := s.b[s.i]
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func (s *scanner) consume(c byte) error {
	if s.peek() != c {
		return s.failf("expected %q, found %s", c, s.describe())
	}
	s.i++
	return nil
}

// more is called before each element of an array or object whose opening
// bracket was consumed; n is the element's index. It consumes the comma or
// the closing bracket and reports whether an element follows.
func (s *scanner) more(closing byte, n int) (bool, error) {
	c := s.peek()
	if c == closing {
		s.i++
		return false, nil
	}
	if n > 0 {
		if c != ',' {
			return false, s.failf("expected ',' or %q, found %s", closing, s.describe())
		}
		s.i++
		if s.peek() == closing {
			return false, s.fail("trailing comma")
		}
	}
	return true, nil
}

// key reads an object key and the colon after it.
func (s *scanner) key() ([]byte, error) {
	if s.peek() != '"' {
		return nil, s.failf("expected an object key, found %s", s.describe())
	}
	k, err := s.str()
	if err != nil {
		return nil, err
	}
	return k, s.consume(':')
}

// str reads a string whose opening quote is next and returns its content
// unescaped. Without escapes it is a slice of the input; with escapes it
// is s.buf, valid until the next call.
func (s *scanner) str() ([]byte, error) {
	s.i++ // opening quote
	start := s.i
	b := s.b
	for j := start; j < len(b); j++ {
		c := b[j]
		if c == '"' {
			s.i = j + 1
			return b[start:j], nil
		}
		if c == '\\' {
			s.i = j
			return s.strEscaped(start)
		}
		if c < 0x20 {
			s.i = j
			return nil, s.fail("control character in string")
		}
	}
	s.i = len(b)
	return nil, s.fail("unterminated string")
}

func (s *scanner) strEscaped(start int) ([]byte, error) {
	out := append(s.buf[:0], s.b[start:s.i]...)
	b := s.b
	for s.i < len(b) {
		c := b[s.i]
		switch {
		case c == '"':
			s.i++
			s.buf = out
			return out, nil
		case c < 0x20:
			return nil, s.fail("control character in string")
		case c != '\\':
			out = append(out, c)
			s.i++
			continue
		}
		if s.i+1 >= len(b) {
			return nil, s.fail("unterminated string")
		}
		e := b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return nil, s.fail(`invalid \u escape`)
			}
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				save := s.i
				if s.i+1 < len(b) && b[s.i] == '\\' && b[s.i+1] == 'u' {
					s.i += 2
					if lo, ok := s.hex4(); ok {
						if d := utf16.DecodeRune(r, lo); d != utf8.RuneError {
							r2 = d
						} else {
							s.i = save
						}
					} else {
						return nil, s.fail(`invalid \u escape`)
					}
				}
				r = r2
			}
			out = utf8.AppendRune(out, r)
		default:
			s.i -= 2
			return nil, s.failf("invalid escape \\%c", e)
		}
	}
	return nil, s.fail("unterminated string")
}

func (s *scanner) hex4() (rune, bool) {
	if s.i+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	s.i += 4
	return r, true
}

// number reads a JSON number and returns its text.
func (s *scanner) number() ([]byte, error) {
	b := s.b
	start := s.i
	j := s.i
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && b[j] >= '1' && b[j] <= '9':
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
	default:
		s.i = j
		return nil, s.fail("invalid number")
	}
	if j < len(b) && b[j] == '.' {
		j++
		d := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j == d {
			s.i = j
			return nil, s.fail("invalid number: no digits after the decimal point")
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		d := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j == d {
			s.i = j
			return nil, s.fail("invalid number: no digits in the exponent")
		}
	}
	s.i = j
	return b[start:j], nil
}

// literal consumes word, which must be next.
func (s *scanner) literal(word string) error {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return s.failf("invalid literal, found %s", s.describe())
	}
	s.i += len(word)
	return nil
}

// elem reads a scalar element: its kind and, for numbers and strings, its
// text (unescaped for strings). For arrays and objects it returns kArray
// or kObject without consuming anything.
func (s *scanner) elem() (kind, []byte, error) {
	switch c := s.peek(); c {
	case '"':
		v, err := s.str()
		return kString, v, err
	case 'n':
		return kNull, nil, s.literal("null")
	case 't':
		return kBool, nil, s.literal("true")
	case 'f':
		return kBool, nil, s.literal("false")
	case 'N':
		return kNaN, nil, s.literal("NaN")
	case 'I':
		return kInf, nil, s.literal("Infinity")
	case '[':
		return kArray, nil, nil
	case '{':
		return kObject, nil, nil
	case '-':
		if s.i+1 < len(s.b) && s.b[s.i+1] == 'I' {
			s.i++
			return kInf, nil, s.literal("Infinity")
		}
		v, err := s.number()
		return kNumber, v, err
	default:
		if c >= '0' && c <= '9' {
			v, err := s.number()
			return kNumber, v, err
		}
		return 0, nil, s.failf("expected a value, found %s", s.describe())
	}
}

// skip reads and discards one value of any kind.
func (s *scanner) skip(depth int) error {
	if depth > maxDepth {
		return s.fail("nested too deeply")
	}
	k, _, err := s.elem()
	if err != nil || (k != kArray && k != kObject) {
		return err
	}
	closing := byte(']')
	if k == kObject {
		closing = '}'
	}
	s.i++
	for n := 0; ; n++ {
		ok, err := s.more(closing, n)
		if err != nil || !ok {
			return err
		}
		if k == kObject {
			if _, err := s.key(); err != nil {
				return err
			}
		}
		if err := s.skip(depth + 1); err != nil {
			return err
		}
	}
}

// span skips one value and returns its start and end offsets.
func (s *scanner) span() (int, int, error) {
	s.ws()
	start := s.i
	if err := s.skip(1); err != nil {
		return 0, 0, err
	}
	return start, s.i, nil
}

// end checks that nothing but white space follows.
func (s *scanner) end() error {
	if s.peek() != 0 {
		return s.failf("unexpected %s after the JSON value", s.describe())
	}
	return nil
}

// pow10 holds the exactly representable powers of ten.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseNumber converts the text of a valid JSON number to the nearest
// float64. Numbers with at most 15 significant digits and a small exponent
// take an exact fast path (Clinger's: both the mantissa and the power of
// ten are exact, so one IEEE division or multiplication rounds correctly);
// the rest go through strconv. A number out of range is an error.
func parseNumber(t []byte) (float64, error) {
	if f, ok := fastNumber(t); ok {
		return f, nil
	}
	f, err := strconv.ParseFloat(string(t), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, fmt.Errorf("number %s is out of range", t)
	}
	return f, nil
}

func fastNumber(t []byte) (float64, bool) {
	i := 0
	neg := false
	if i < len(t) && t[i] == '-' {
		neg = true
		i++
	}
	var mant uint64
	digits := 0
	exp := 0
	for ; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
		if mant != 0 || t[i] != '0' {
			digits++
		}
		mant = mant*10 + uint64(t[i]-'0')
	}
	if i < len(t) && t[i] == '.' {
		i++
		for ; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
			if mant != 0 || t[i] != '0' {
				digits++
			}
			mant = mant*10 + uint64(t[i]-'0')
			exp--
		}
	}
	if digits > 15 {
		return 0, false
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		i++
		eneg := false
		if i < len(t) && (t[i] == '+' || t[i] == '-') {
			eneg = t[i] == '-'
			i++
		}
		e := 0
		for ; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
			if e > 1000 {
				return 0, false
			}
			e = e*10 + int(t[i]-'0')
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if i != len(t) {
		return 0, false
	}
	f := float64(mant)
	switch {
	case mant == 0:
	case exp == 0:
	case exp > 0 && exp <= 22:
		f *= pow10[exp]
	case exp < 0 && exp >= -22:
		f /= pow10[-exp]
	default:
		return 0, false
	}
	if neg {
		f = -f
	}
	return f, true
}

// parseText parses a number written as text (a CSV cell, a JSON string):
// surrounding space is ignored, the missing-value tokens give NaN, and the
// forms strconv accepts besides JSON's ("+1", ".5", "1.") are allowed.
// Infinite values are rejected.
func parseText(t []byte) (float64, error) {
	t = model.TrimSpace(t)
	if model.IsMissingBytes(t) || model.IsNaNSpelling(t) {
		return math.NaN(), nil
	}
	if f, ok := fastNumber(t); ok {
		return f, nil
	}
	f, err := strconv.ParseFloat(string(t), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("%q is not a finite number", t)
	}
	return f, nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD.
func appendString[T string | []byte](dst []byte, s T) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendFloat appends a finite float in the shortest form that reads back
// exactly.
func appendFloat(dst []byte, f float64) []byte {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.AppendInt(dst, int64(f), 10)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}
