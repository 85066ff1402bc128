package dataset

import (
	"bytes"
	"context"
	"io"
)

// chunk is a run of complete records handed out by split.
type chunk struct {
	buf       []byte // the buffer holding data (ownership passes to emit)
	data      []byte // a prefix of buf: complete records
	rows      int    // upper bound on the records in data (blank lines count)
	lines     int    // newlines in data
	quoteFree bool   // data certainly contains no '"'
	final     bool   // data ends at the end of the input
	truncated bool   // data is a prefix of a record longer than maxRecord
}

// emitFunc receives a chunk and returns an empty buffer with capacity for at
// least need bytes to continue with (it may return c.buf itself once done
// with it). It is not called again after a final or truncated chunk.
type emitFunc func(c chunk, need int) ([]byte, error)

// split reads r into buf-sized pieces and emits them cut at record
// boundaries: after the last newline outside quotes. Quote state is tracked
// across pieces by toggling at every '"' (exact for well-formed CSV); a
// piece without quotes is handled with vectorised byte counting only. A
// record longer than maxRecord is emitted as a truncated chunk, which the
// parser turns into an error, and splitting stops.
func split(ctx context.Context, r io.Reader, buf []byte, chunkSize, maxRecord int, emit emitFunc) error {
	inQuote := false
	rows, lastNL := 0, -1 // newlines outside quotes in buf, index of the last one
	quoted := false       // buf may contain '"'
	eof := false
	buf = buf[:0]
	// lines counts the newlines of data: without quotes, every newline
	// ends a record and was counted in rows already.
	lines := func(data []byte, rows int) int {
		if quoted {
			return bytes.Count(data, []byte{'\n'})
		}
		return rows
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if eof {
			if len(buf) == 0 {
				return nil
			}
			nl := lines(buf, rows)
			if lastNL < len(buf)-1 {
				rows++ // a last record without a trailing newline
			}
			_, err := emit(chunk{buf: buf, data: buf, rows: rows, lines: nl, quoteFree: !quoted, final: true}, 0)
			return err
		}
		if len(buf) == cap(buf) {
			if lastNL >= 0 {
				carry := buf[lastNL+1:]
				need := len(carry) + max(chunkSize/2, 64)
				data := buf[:lastNL+1]
				carryQuoted := quoted && bytes.IndexByte(carry, '"') >= 0
				next, err := emit(chunk{buf: buf, data: data, rows: rows, lines: lines(data, rows), quoteFree: !quoted}, need)
				if err != nil {
					return err
				}
				if cap(next) < need {
					next = make([]byte, 0, max(need, chunkSize))
				}
				buf = append(next[:0], carry...) // may overlap when next is buf: append uses memmove
				rows, lastNL, quoted = 0, -1, carryQuoted
				continue
			}
			if len(buf) >= maxRecord {
				_, err := emit(chunk{buf: buf, data: buf, rows: 1, lines: bytes.Count(buf, []byte{'\n'}), truncated: true}, 0)
				return err
			}
			nb := make([]byte, len(buf), max(2*cap(buf), chunkSize, 64))
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		if n > 0 {
			cnt, last, q, sawQuote := scanQuotes(buf[len(buf):len(buf)+n], inQuote)
			if last >= 0 {
				lastNL = len(buf) + last
				rows += cnt
			}
			inQuote = q
			quoted = quoted || sawQuote
			buf = buf[:len(buf)+n]
		}
		if err == io.EOF {
			eof = true
		} else if err != nil {
			return err
		}
	}
}
