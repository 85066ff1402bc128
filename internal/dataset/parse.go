package dataset

import (
	"bytes"
	"fmt"
	"math"
	"unicode/utf8"
)

// chunkParser parses chunks into column storage. Each worker owns one and
// reuses its buffers across chunks.
type chunkParser struct {
	rd *reader
	j  *job
	fr fieldReader

	floats  [][]float64 // destination per numeric slot, indexed by chunk row
	codes   [][]int32   // destination per text slot
	missing []int
	dicts   []localDict
	row     int
	cols    []plainCol // reused by plainCols
}

// parse parses job j, writing into dst or, for a local job, into
// chunk-local storage. The first error is stored in j.err. The chunk's
// records never exceed j.rows: split counted them on these same bytes with
// the quoting rule the tokenizer follows up to its first error.
func (cp *chunkParser) parse(j *job, dst *storage) {
	rd := cp.rd
	pl := rd.plan
	cp.j = j
	cp.row = 0
	j.done = true
	cp.floats = make([][]float64, pl.nFloat)
	cp.codes = make([][]int32, pl.nText)
	if !j.local {
		for s := range cp.floats {
			cp.floats[s] = dst.floats[s][j.rowOff : j.rowOff+j.rows]
		}
		for s := range cp.codes {
			cp.codes[s] = dst.codes[s][j.rowOff : j.rowOff+j.rows]
		}
	} else {
		for s := range cp.floats {
			cp.floats[s] = make([]float64, j.rows)
		}
		for s := range cp.codes {
			cp.codes[s] = make([]int32, j.rows)
		}
		j.floats, j.codes = cp.floats, cp.codes
	}
	cp.missing = make([]int, pl.nFloat+pl.nText)
	cp.dicts = make([]localDict, pl.nText)
	j.missing, j.dicts = cp.missing, cp.dicts
	cp.fr = fieldReader{data: j.data, line: j.line, delim: rd.delim, atEOF: j.final, max: rd.maxField, scratch: cp.fr.scratch[:0]}

	var ok bool
	if j.quoteFree {
		ok = cp.parseQuoteFree()
	} else {
		ok = cp.parseGeneric()
	}
	clear(cp.cols) // do not keep the chunk's storage reachable
	if ok {
		j.nrows = cp.row
	}
}

// parseGeneric parses the rest of the chunk record by record with the
// RFC 4180 tokenizer.
func (cp *chunkParser) parseGeneric() bool {
	for cp.fr.skipBlank() {
		if !cp.record() {
			return false
		}
	}
	return true
}

// record parses one record at fr.pos with the tokenizer.
func (cp *chunkParser) record() bool {
	rd, fr := cp.rd, &cp.fr
	recLine := fr.line
	plans := rd.plan.cols
	last := len(plans) - 1
	for c, pc := range plans {
		fieldLine := fr.line
		val, term, err := fr.next()
		if err != nil {
			cp.j.err = rd.fieldError(fr, c, recLine, cp.j.truncated, err)
			return false
		}
		if !cp.value(pc, val, c, fieldLine) {
			return false
		}
		if term == termDelim {
			if c == last {
				cp.j.err = rd.tooManyFields(fr, recLine)
				return false
			}
			continue
		}
		if c < last {
			cp.j.err = posError(rd.name, recLine, c+2, rd.header[c+1], fmt.Errorf("%w: row has %d fields, header has %d", ErrRagged, c+1, len(plans)))
			return false
		}
	}
	cp.row++
	return true
}

// value stores one field of the current row.
func (cp *chunkParser) value(pc colPlan, val []byte, c, line int) bool {
	switch pc.kind {
	case planNumeric:
		return cp.numeric(pc.slot, val, c, line)
	case planText, planDeferred:
		return cp.text(pc.slot, val, c, line)
	}
	return true
}

// numeric parses a numeric cell the general way.
func (cp *chunkParser) numeric(slot int, val []byte, c, line int) bool {
	rd := cp.rd
	v := trimSpace(val)
	if isMissing(v) {
		cp.floats[slot][cp.row] = math.NaN()
		cp.missing[slot]++
		return true
	}
	f, err := parseNumber(v)
	switch err {
	case nil:
		cp.floats[slot][cp.row] = f
		return true
	case errNaN:
		cp.floats[slot][cp.row] = math.NaN()
		cp.missing[slot]++
		return true
	case ErrNonFinite:
		cp.j.err = posError(rd.name, line, c+1, rd.header[c], fmt.Errorf("%w: value %s is not a finite number", ErrNonFinite, quoteValue(v)))
	default:
		cp.j.err = posError(rd.name, line, c+1, rd.header[c], fmt.Errorf(
			"%w: value %s (the column was inferred numeric from the first %d rows; list it under data.categorical to read it as text)",
			ErrNotNumeric, quoteValue(v), rd.sampleRows))
	}
	return false
}

// text stores a categorical (or deferred) cell as a code into the chunk's
// dictionary.
func (cp *chunkParser) text(slot int, val []byte, c, line int) bool {
	v := trimSpace(val)
	if isMissing(v) {
		cp.codes[slot][cp.row] = -1
		cp.missing[cp.rd.plan.nFloat+slot]++
		return true
	}
	d := &cp.dicts[slot]
	code, ok := d.index[string(v)]
	if !ok {
		if !utf8.Valid(v) {
			cp.j.err = posError(cp.rd.name, line, c+1, cp.rd.header[c], fmt.Errorf("%w in value %s", ErrInvalidUTF8, quoteValue(v)))
			return false
		}
		if d.index == nil {
			d.index = make(map[string]int32)
		}
		s := string(v)
		code = int32(len(d.levels))
		d.index[s] = code
		d.levels = append(d.levels, s)
		d.lines = append(d.lines, line)
	}
	cp.codes[slot][cp.row] = code
	return true
}

// fieldError turns a tokenizer error into a ParseError.
func (rd *reader) fieldError(fr *fieldReader, c, recLine int, truncated bool, err error) error {
	if err == errTruncated {
		if truncated {
			err = fmt.Errorf("%w: record is longer than %d bytes", ErrFieldTooLong, rd.maxRecord)
		} else {
			err = fmt.Errorf("internal error: record crosses a chunk boundary")
		}
		return posError(rd.name, recLine, c+1, rd.header[c], err)
	}
	return posError(rd.name, fr.errLine, c+1, rd.header[c], err)
}

// parseQuoteFree parses a chunk that contains no quote characters, so every
// record is one line and every field ends at the next delimiter or newline.
// It makes a single pass over the bytes: runs of plain numbers go through
// plainNumbers, other decimal numbers are parsed while scanning
// (scanDecimal), and everything else (missing values, exponents, text,
// surrounding spaces) goes through the same per-cell code as the tokenizer
// path. Blank lines and records of the wrong shape are handed to the
// tokenizer (record), which skips or reports them; a wrong shape is always
// an error, so nothing is counted twice.
func (cp *chunkParser) parseQuoteFree() bool {
	rd, fr := cp.rd, &cp.fr
	data := fr.data
	n := len(data)
	delim := rd.delim
	plans := rd.plan.cols
	last := len(plans) - 1
	floats := cp.floats
	maxField := rd.maxField
	// The number shortcuts read a number and then look for the delimiter;
	// a delimiter that can be part of a number would be read as part of it.
	shortcuts := !numberByte(delim)
	var cols []plainCol
	if shortcuts && maxField >= 15 { // plainNumbers reads fields of at most 15 bytes
		cols = cp.plainCols()
	}
	// The record starting at fr.pos (line fr.line, row cp.row) is parsed
	// up to field c at data[p].
	p, c := fr.pos, 0
	for {
		if cols != nil {
			var row int
			fr.pos, p, c, row = plainNumbers(data, fr.pos, p, c, cp.row, cp.j.rows, cols)
			fr.line += row - cp.row
			cp.row = row
		}
		if c == 0 {
			if p >= n {
				break
			}
			if data[p] == '\n' || data[p] == '\r' {
				if fr.skipBlank() && fr.pos != p {
					p = fr.pos
					continue
				}
				break // nothing left, or a record starting with CR: tokenizer
			}
		}
		line := fr.line
		pc := plans[c]
		parsed := false
		if pc.kind == planNumeric && shortcuts {
			v, q, ok := scanDecimal(data, p)
			if ok && q < n && q-p <= maxField {
				if t := data[q]; t == delim || t == '\n' || (t == '\r' && c == last && q+1 < n && data[q+1] == '\n') {
					floats[pc.slot][cp.row] = v
					p = q
					parsed = true
				}
			}
		}
		if !parsed {
			fs := p
			for p < n && data[p] != delim && data[p] != '\n' {
				p++
			}
			fe := p
			if c == last && fe > fs && data[fe-1] == '\r' && (p < n || fr.atEOF) {
				fe-- // CRLF, or a CR before the end of the input
			}
			if fe-fs > maxField {
				fr.errLine = line
				cp.j.err = posError(rd.name, line, c+1, rd.header[c], fr.tooLong(fe-fs))
				return false
			}
			if !cp.value(pc, data[fs:fe], c, line) {
				return false
			}
		}
		// The terminator: the delimiter, or the end of the record after the
		// last field.
		shaped := true
		switch {
		case p >= n:
			shaped = c == last && fr.atEOF // the last record has no line ending
		case c < last && data[p] == delim:
			p++
		case c == last && data[p] == '\n':
			p++
		case c == last && data[p] == '\r' && p+1 < n && data[p+1] == '\n':
			p += 2
		default:
			shaped = false
		}
		if !shaped {
			// Wrong number of fields: the tokenizer reports it.
			if !cp.record() {
				return false
			}
			p, c = fr.pos, 0
			continue
		}
		if c < last {
			c++
			continue
		}
		fr.pos = p
		fr.line++
		cp.row++
		c = 0
	}
	return cp.parseGeneric()
}

// numberByte reports whether b can be part of a plain decimal number.
func numberByte(b byte) bool {
	return b >= '0' && b <= '9' || b == '.' || b == '+' || b == '-'
}

// plainCols describes the columns of the current chunk for plainNumbers.
// Records end with "\r\n" if the chunk's first one does, otherwise with
// "\n" (records that do not are parsed the general way).
func (cp *chunkParser) plainCols() []plainCol {
	plans := cp.rd.plan.cols
	if cap(cp.cols) < len(plans) {
		cp.cols = make([]plainCol, len(plans))
	}
	cols := cp.cols[:len(plans)]
	for c, pc := range plans {
		cols[c] = plainCol{end: uint16(cp.rd.delim), endMask: 0xFF, endLen: 1}
		if pc.kind == planNumeric {
			cols[c].dst = cp.floats[pc.slot]
		}
	}
	lastCol := &cols[len(cols)-1]
	*lastCol = plainCol{dst: lastCol.dst, end: '\n', endMask: 0xFF, endLen: 1}
	data := cp.fr.data[cp.fr.pos:]
	if i := bytes.IndexByte(data, '\n'); i > 0 && data[i-1] == '\r' {
		*lastCol = plainCol{dst: lastCol.dst, end: '\r' | '\n'<<8, endMask: 0xFFFF, endLen: 2}
	}
	return cols
}
