package dataset

import (
	"context"
	"io"
)

// chunk is a run of complete records handed out by split.
type chunk struct {
	buf       []byte // the buffer holding data (ownership passes to emit)
	data      []byte // a prefix of buf: complete records
	rows      int    // upper bound on the records in data (blank lines count)
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
	eof := false
	buf = buf[:0]
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if eof {
			if len(buf) == 0 {
				return nil
			}
			if lastNL < len(buf)-1 {
				rows++ // a last record without a trailing newline
			}
			_, err := emit(chunk{buf: buf, data: buf, rows: rows, final: true}, 0)
			return err
		}
		if len(buf) == cap(buf) {
			if lastNL >= 0 {
				carry := buf[lastNL+1:]
				need := len(carry) + max(chunkSize/2, 64)
				next, err := emit(chunk{buf: buf, data: buf[:lastNL+1], rows: rows}, need)
				if err != nil {
					return err
				}
				if cap(next) < need {
					next = make([]byte, 0, max(need, chunkSize))
				}
				buf = append(next[:0], carry...) // may overlap when next is buf: append uses memmove
				rows, lastNL = 0, -1
				continue
			}
			if len(buf) >= maxRecord {
				_, err := emit(chunk{buf: buf, data: buf, rows: 1, truncated: true}, 0)
				return err
			}
			nb := make([]byte, len(buf), max(2*cap(buf), chunkSize, 64))
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		if n > 0 {
			cnt, last, q := scanQuotes(buf[len(buf):len(buf)+n], inQuote)
			if last >= 0 {
				lastNL = len(buf) + last
				rows += cnt
			}
			inQuote = q
			buf = buf[:len(buf)+n]
		}
		if err == io.EOF {
			eof = true
		} else if err != nil {
			return err
		}
	}
}
