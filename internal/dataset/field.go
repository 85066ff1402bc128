package dataset

import (
	"bytes"
	"errors"
	"fmt"
)

// Field terminators returned by fieldReader.next.
const (
	termDelim = iota // the field ended at a delimiter; more fields follow
	termEOL          // the field ended at a line ending (LF or CRLF)
	termEOF          // the field ended at the end of the data
)

// errTruncated reports that a record ran past the end of a chunk that was cut
// short because the record exceeded the maximum record size.
var errTruncated = errors.New("record exceeds the maximum record size")

// fieldReader tokenizes RFC 4180 fields from an in-memory chunk that starts at
// a record boundary.
type fieldReader struct {
	data  []byte
	pos   int
	line  int  // physical line number of data[pos]
	delim byte // field delimiter
	atEOF bool // data ends at the end of the input (not at a truncation)
	max   int  // longest accepted field in bytes

	scratch []byte // unescaped quoted fields
	errLine int    // line of the last error returned by next
}

// next returns the next field and how it ended. The returned slice aliases
// the chunk or the reader's scratch buffer and is valid until the next call.
// Errors wrap ErrQuote, ErrFieldTooLong or errTruncated; errLine holds their
// line.
func (fr *fieldReader) next() (val []byte, term int, err error) {
	data := fr.data
	start := fr.pos
	if start < len(data) && data[start] == '"' {
		return fr.quoted()
	}
	for i := start; i < len(data); i++ {
		switch data[i] {
		case fr.delim:
			fr.pos = i + 1
			return fr.checkLen(data[start:i], termDelim)
		case '\n':
			end := i
			if end > start && data[end-1] == '\r' {
				end--
			}
			fr.pos = i + 1
			fr.line++
			return fr.checkLen(data[start:end], termEOL)
		case '"':
			fr.errLine = fr.line
			return nil, 0, fmt.Errorf("%w: bare quote in unquoted field (a field containing quotes must be enclosed in quotes, with inner quotes doubled)", ErrQuote)
		}
	}
	end := len(data)
	fr.pos = end
	if !fr.atEOF {
		fr.errLine = fr.line
		if end-start > fr.max {
			return nil, 0, fr.tooLong(-1)
		}
		return nil, 0, errTruncated
	}
	if end > start && data[end-1] == '\r' {
		end-- // a trailing CR before EOF is dropped, as encoding/csv does
	}
	return fr.checkLen(data[start:end], termEOF)
}

func (fr *fieldReader) checkLen(val []byte, term int) ([]byte, int, error) {
	if len(val) > fr.max {
		fr.errLine = fr.line
		if term == termEOL {
			fr.errLine--
		}
		return nil, 0, fr.tooLong(len(val))
	}
	return val, term, nil
}

// tooLong reports a field longer than the limit; n is its length, or -1 if
// the field was cut short.
func (fr *fieldReader) tooLong(n int) error {
	if n < 0 {
		return fmt.Errorf("%w: field is longer than %d bytes; raise the field size limit if this is intended", ErrFieldTooLong, fr.max)
	}
	return fmt.Errorf("%w: field is %d bytes, longer than %d; raise the field size limit if this is intended", ErrFieldTooLong, n, fr.max)
}

// quoted reads a quoted field starting at fr.pos.
func (fr *fieldReader) quoted() (val []byte, term int, err error) {
	data := fr.data
	openLine := fr.line
	i := fr.pos + 1
	segStart := i
	escaped := false
	newlines := false
	fr.scratch = fr.scratch[:0]
	for {
		q := bytes.IndexByte(data[i:], '"')
		if q < 0 {
			n := len(fr.scratch) + len(data) - segStart
			fr.line += bytes.Count(data[i:], []byte{'\n'})
			fr.pos = len(data)
			if n > fr.max {
				fr.errLine = openLine
				return nil, 0, fmt.Errorf("%w (the quote opened here is probably never closed)", fr.tooLong(-1))
			}
			fr.errLine = openLine
			if !fr.atEOF {
				return nil, 0, errTruncated
			}
			return nil, 0, fmt.Errorf("%w: unterminated quoted field (the quote opened here is never closed)", ErrQuote)
		}
		if c := bytes.Count(data[i:i+q], []byte{'\n'}); c > 0 {
			fr.line += c
			newlines = true
		}
		i += q
		if i+1 < len(data) && data[i+1] == '"' {
			fr.scratch = append(fr.scratch, data[segStart:i+1]...)
			escaped = true
			i += 2
			segStart = i
			if len(fr.scratch) > fr.max {
				fr.errLine = openLine
				return nil, 0, fr.tooLong(-1)
			}
			continue
		}
		// closing quote at i
		if escaped {
			fr.scratch = append(fr.scratch, data[segStart:i]...)
			val = fr.scratch
		} else {
			val = data[segStart:i]
		}
		i++
		switch {
		case i == len(data):
			if !fr.atEOF {
				fr.errLine = fr.line
				return nil, 0, errTruncated
			}
			term = termEOF
		case data[i] == fr.delim:
			term = termDelim
			i++
		case data[i] == '\n':
			term = termEOL
			i++
		case data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n':
			term = termEOL
			i += 2
		case data[i] == '\r' && i+1 == len(data) && fr.atEOF:
			term = termEOF
			i++
		default:
			fr.errLine = fr.line
			return nil, 0, fmt.Errorf("%w: unexpected %q after the closing quote of a quoted field", ErrQuote, data[i])
		}
		fr.pos = i
		if len(val) > fr.max {
			fr.errLine = openLine
			return nil, 0, fr.tooLong(len(val))
		}
		if newlines && bytes.Contains(val, []byte("\r\n")) {
			val = fr.normalizeCRLF(val)
		}
		if term == termEOL {
			fr.line++
		}
		return val, term, nil
	}
}

// normalizeCRLF replaces CRLF by LF inside a quoted field (as encoding/csv
// does).
func (fr *fieldReader) normalizeCRLF(val []byte) []byte {
	out := make([]byte, 0, len(val))
	for {
		k := bytes.Index(val, []byte("\r\n"))
		if k < 0 {
			out = append(out, val...)
			break
		}
		out = append(out, val[:k]...)
		out = append(out, '\n')
		val = val[k+2:]
	}
	fr.scratch = append(fr.scratch[:0], out...)
	return fr.scratch
}

// skipBlank skips empty lines (LF or CRLF, and a lone CR at the end of the
// input) at fr.pos and reports whether anything remains.
func (fr *fieldReader) skipBlank() bool {
	data := fr.data
	for fr.pos < len(data) {
		switch {
		case data[fr.pos] == '\n':
			fr.pos++
			fr.line++
		case data[fr.pos] == '\r' && fr.pos+1 < len(data) && data[fr.pos+1] == '\n':
			fr.pos += 2
			fr.line++
		case data[fr.pos] == '\r' && fr.pos+1 == len(data) && fr.atEOF:
			fr.pos++
		default:
			return true
		}
	}
	return false
}

// scanQuotes scans b starting outside (or inside, if inQuote) a quoted field,
// toggling the quote state at every '"'. It returns the number of newlines
// outside quotes, the index of the last one (-1 if none), the quote state
// at the end of b and whether b contains '"'. For well-formed CSV the
// toggling rule is exact; for malformed input the chunk parser reports the
// first quoting error.
func scanQuotes(b []byte, inQuote bool) (count, last int, endInQuote, sawQuote bool) {
	last = -1
	i := 0
	for i < len(b) {
		q := bytes.IndexByte(b[i:], '"')
		sawQuote = sawQuote || q >= 0
		if inQuote {
			if q < 0 {
				return count, last, true, sawQuote
			}
			i += q + 1
			inQuote = false
			continue
		}
		end := len(b)
		if q >= 0 {
			end = i + q
		}
		seg := b[i:end]
		if c := bytes.Count(seg, []byte{'\n'}); c > 0 {
			count += c
			last = i + bytes.LastIndexByte(seg, '\n')
		}
		if q < 0 {
			break
		}
		i = end + 1
		inQuote = true
	}
	return count, last, inQuote, sawQuote
}
