package xgboost

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// Both decoders produce the same generic values: nil, bool, float64,
// string, []float64 (an array of numbers only), []any (any other array) and
// map[string]any. An array of numbers becomes a []float64 without boxing
// each element, because a model's node arrays are most of its size.
//
// Every count and length is checked against the bytes that remain before
// anything is allocated, and containers nest at most maxDepth deep, so a
// crafted file gets an error, never a panic or an allocation out of
// proportion to its size.

// maxDepth bounds the nesting of arrays and objects (an XGBoost model nests
// about six deep).
const maxDepth = 64

// decodeJSON parses a JSON document. It is a small parser of its own rather
// than encoding/json because XGBoost writes non-finite floats as the bare
// tokens NaN, Infinity and -Infinity (the thresholds of categorical splits
// are NaN), which encoding/json refuses.
func decodeJSON(b []byte) (any, error) {
	p := &jsonParser{b: b}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.b) {
		return nil, p.errorf("data after the document")
	}
	return v, nil
}

type jsonParser struct {
	b []byte
	i int
}

func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: JSON at byte %d: %s", ErrFormat, p.i, fmt.Sprintf(format, args...))
}

func (p *jsonParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) literal(s string) bool {
	if len(p.b)-p.i >= len(s) && string(p.b[p.i:p.i+len(s)]) == s {
		p.i += len(s)
		return true
	}
	return false
}

func (p *jsonParser) value(depth int) (any, error) {
	p.space()
	if p.i >= len(p.b) {
		return nil, p.errorf("unexpected end")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		if depth >= maxDepth {
			return nil, p.errorf("nested deeper than %d", maxDepth)
		}
		return p.object(depth + 1)
	case c == '[':
		if depth >= maxDepth {
			return nil, p.errorf("nested deeper than %d", maxDepth)
		}
		return p.array(depth + 1)
	case c == '"':
		return p.str()
	case p.literal("true"):
		return true, nil
	case p.literal("false"):
		return false, nil
	case p.literal("null"):
		return nil, nil
	default:
		return p.number()
	}
}

func (p *jsonParser) number() (float64, error) {
	switch {
	case p.literal("NaN"):
		return math.NaN(), nil
	case p.literal("Infinity"):
		return math.Inf(1), nil
	case p.literal("-Infinity"):
		return math.Inf(-1), nil
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			p.i++
			continue
		}
		break
	}
	if start == p.i {
		return 0, p.errorf("unexpected character %q", p.b[p.i])
	}
	f, err := strconv.ParseFloat(string(p.b[start:p.i]), 64)
	if err != nil && !isRange(err) {
		p.i = start
		return 0, p.errorf("bad number %q", p.b[start:min(len(p.b), start+32)])
	}
	return f, nil
}

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

func (p *jsonParser) str() (string, error) {
	start := p.i
	p.i++
	escaped := false
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '\\':
			escaped = true
			p.i += 2
			continue
		case c == '"':
			p.i++
			raw := p.b[start:p.i]
			if !escaped {
				if !utf8.Valid(raw) {
					return "", p.errorf("string is not UTF-8")
				}
				return string(raw[1 : len(raw)-1]), nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", p.errorf("bad string: %v", err)
			}
			return s, nil
		case c < 0x20:
			return "", p.errorf("control character in a string")
		}
		p.i++
	}
	return "", p.errorf("unterminated string")
}

func (p *jsonParser) array(depth int) (any, error) {
	p.i++ // [
	var nums []float64
	var vals []any
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return []float64{}, nil
	}
	for {
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		if f, ok := v.(float64); ok && vals == nil {
			nums = append(nums, f)
		} else {
			if vals == nil {
				vals = make([]any, len(nums), len(nums)+1)
				for j, f := range nums {
					vals[j] = f
				}
				nums = nil
			}
			vals = append(vals, v)
		}
		p.space()
		if p.i >= len(p.b) {
			return nil, p.errorf("unterminated array")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			if vals != nil {
				return vals, nil
			}
			return nums, nil
		default:
			return nil, p.errorf("want , or ] in an array")
		}
	}
}

func (p *jsonParser) object(depth int) (any, error) {
	p.i++ // {
	m := map[string]any{}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return m, nil
	}
	for {
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, p.errorf("want a member name")
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, p.errorf("want : after a member name")
		}
		p.i++
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		m[k] = v
		p.space()
		if p.i >= len(p.b) {
			return nil, p.errorf("unterminated object")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return m, nil
		default:
			return nil, p.errorf("want , or } in an object")
		}
	}
}

// decodeUBJSON parses a UBJSON document (https://ubjson.org, draft 12, with
// the optimized $type and #count containers that XGBoost writes for its
// node arrays). There is no maintained Go UBJSON library to depend on, and
// the format is small, so this is its own decoder: big-endian numbers,
// object keys without the S marker, and no-op (N) markers skipped.
func decodeUBJSON(b []byte) (any, error) {
	d := &ubjDecoder{b: b}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if d.i != len(d.b) {
		return nil, d.errorf("data after the document")
	}
	return v, nil
}

type ubjDecoder struct {
	b []byte
	i int
}

func (d *ubjDecoder) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: UBJSON at byte %d: %s", ErrFormat, d.i, fmt.Sprintf(format, args...))
}

func (d *ubjDecoder) marker() (byte, error) {
	for d.i < len(d.b) {
		c := d.b[d.i]
		d.i++
		if c != 'N' {
			return c, nil
		}
	}
	return 0, d.errorf("unexpected end")
}

func (d *ubjDecoder) take(n int) ([]byte, error) {
	if n < 0 || n > len(d.b)-d.i {
		return nil, d.errorf("%d bytes wanted, %d left", n, len(d.b)-d.i)
	}
	s := d.b[d.i : d.i+n]
	d.i += n
	return s, nil
}

// width is the payload size of a number marker, 0 for other markers.
func width(m byte) int {
	switch m {
	case 'i', 'U':
		return 1
	case 'I':
		return 2
	case 'l', 'd':
		return 4
	case 'L', 'D':
		return 8
	}
	return 0
}

// num reads the payload of number marker m.
func (d *ubjDecoder) num(m byte) (float64, error) {
	s, err := d.take(width(m))
	if err != nil {
		return 0, err
	}
	switch m {
	case 'i':
		return float64(int8(s[0])), nil
	case 'U':
		return float64(s[0]), nil
	case 'I':
		return float64(int16(binary.BigEndian.Uint16(s))), nil
	case 'l':
		return float64(int32(binary.BigEndian.Uint32(s))), nil
	case 'L':
		return float64(int64(binary.BigEndian.Uint64(s))), nil
	case 'd':
		return float64(math.Float32frombits(binary.BigEndian.Uint32(s))), nil
	}
	return math.Float64frombits(binary.BigEndian.Uint64(s)), nil
}

// length reads an integer length (a count or a string length).
func (d *ubjDecoder) length() (int, error) {
	m, err := d.marker()
	if err != nil {
		return 0, err
	}
	if m != 'i' && m != 'U' && m != 'I' && m != 'l' && m != 'L' {
		return 0, d.errorf("length has marker %q, want an integer", m)
	}
	f, err := d.num(m)
	if err != nil {
		return 0, err
	}
	if f < 0 || f > float64(len(d.b)-d.i) {
		return 0, d.errorf("length %g with %d bytes left", f, len(d.b)-d.i)
	}
	return int(f), nil
}

func (d *ubjDecoder) str() (string, error) {
	n, err := d.length()
	if err != nil {
		return "", err
	}
	s, err := d.take(n)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(s) {
		return "", d.errorf("string is not UTF-8")
	}
	return string(s), nil
}

func (d *ubjDecoder) value(depth int) (any, error) {
	m, err := d.marker()
	if err != nil {
		return nil, err
	}
	return d.typed(m, depth)
}

// typed reads a value whose marker m is already read.
func (d *ubjDecoder) typed(m byte, depth int) (any, error) {
	switch m {
	case 'Z':
		return nil, nil
	case 'T':
		return true, nil
	case 'F':
		return false, nil
	case 'i', 'U', 'I', 'l', 'L', 'd', 'D':
		return d.num(m)
	case 'H':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && !isRange(err) {
			return nil, d.errorf("bad high-precision number %q", s)
		}
		return f, nil
	case 'C':
		s, err := d.take(1)
		if err != nil {
			return nil, err
		}
		return string(rune(s[0])), nil
	case 'S':
		return d.str()
	case '[', '{':
		if depth >= maxDepth {
			return nil, d.errorf("nested deeper than %d", maxDepth)
		}
		if m == '[' {
			return d.array(depth + 1)
		}
		return d.object(depth + 1)
	}
	return nil, d.errorf("unknown marker %q", m)
}

// header reads the optional $type and #count of a container: typ is 0
// without $, n is -1 without #.
func (d *ubjDecoder) header() (typ byte, n int, err error) {
	n = -1
	if d.i < len(d.b) && d.b[d.i] == '$' {
		d.i++
		if d.i >= len(d.b) {
			return 0, 0, d.errorf("unexpected end")
		}
		typ = d.b[d.i]
		d.i++
		if d.i >= len(d.b) || d.b[d.i] != '#' {
			return 0, 0, d.errorf("$type without #count")
		}
	}
	if d.i < len(d.b) && d.b[d.i] == '#' {
		d.i++
		if n, err = d.length(); err != nil {
			return 0, 0, err
		}
		// Each element takes at least one byte, or its type's width.
		if w := max(1, width(typ)); n > (len(d.b)-d.i)/w {
			return 0, 0, d.errorf("%d elements with %d bytes left", n, len(d.b)-d.i)
		}
	}
	return typ, n, nil
}

func (d *ubjDecoder) array(depth int) (any, error) {
	typ, n, err := d.header()
	if err != nil {
		return nil, err
	}
	if n >= 0 && width(typ) > 0 {
		out := make([]float64, n)
		for j := range out {
			if out[j], err = d.num(typ); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	var nums []float64
	var vals []any
	for j := 0; n < 0 || j < n; j++ {
		var v any
		if typ != 0 {
			v, err = d.typed(typ, depth)
		} else {
			var m byte
			if m, err = d.marker(); err != nil {
				return nil, err
			}
			if m == ']' && n < 0 {
				break
			}
			v, err = d.typed(m, depth)
		}
		if err != nil {
			return nil, err
		}
		if f, ok := v.(float64); ok && vals == nil {
			nums = append(nums, f)
			continue
		}
		if vals == nil {
			vals = make([]any, len(nums), len(nums)+1)
			for k, f := range nums {
				vals[k] = f
			}
			nums = nil
		}
		vals = append(vals, v)
	}
	if vals != nil {
		return vals, nil
	}
	if nums == nil {
		nums = []float64{}
	}
	return nums, nil
}

func (d *ubjDecoder) object(depth int) (any, error) {
	typ, n, err := d.header()
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	for j := 0; n < 0 || j < n; j++ {
		if n < 0 {
			// Skip no-ops, then stop at }.
			for d.i < len(d.b) && d.b[d.i] == 'N' {
				d.i++
			}
			if d.i < len(d.b) && d.b[d.i] == '}' {
				d.i++
				break
			}
		}
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		var v any
		if typ != 0 {
			v, err = d.typed(typ, depth)
		} else {
			v, err = d.value(depth)
		}
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, nil
}
