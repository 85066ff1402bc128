// Package dataset reads tabular CSV data into typed columns for training and
// evaluation.
//
// Load and Read are built for large, mostly numeric files:
//
//   - Plain files are read in one pass with read(2) into a few reused chunk
//     buffers (no mmap, no whole-file buffer). Every column is allocated
//     once, before the pass, for the number of records estimated from the
//     records of the first 4 MiB and the density of newlines in a few
//     samples along the rest of the file (with 3% headroom, which costs
//     address space but no memory until it is written). The data is cut
//     into ~1 MiB chunks at record boundaries, tracking the quote state and
//     counting the records; a chunk without '"' costs two vectorised byte
//     scans.
//   - Each chunk goes to a pool of parser goroutines (Options.Workers) and,
//     in order, to a SHA-256 hasher running alongside. While the chunks'
//     records fit into the columns, each parser writes its values straight
//     into the rows of the final columns that belong to its chunk. Should
//     the file hold more records than estimated, the chunks that do not fit
//     are parsed into chunk-local storage and appended at the end; only then
//     may a column have to move to a larger allocation, one at a time.
//   - Gzip input and arbitrary readers are read in a single streaming pass:
//     chunks are parsed in parallel into chunk-local storage that is joined
//     at the end (which briefly needs about twice the column memory).
//   - Runs of plain numbers ([+-]digits[.digits], at most 15 bytes) are
//     parsed eight bytes at a time with bit operations (SWAR) and without
//     per-byte branches, straight from the chunk (plainNumbers); anything
//     else goes through a per-cell path.
//   - Numbers are parsed with a correctly rounded fast path (Clinger's: an
//     exact integer mantissa of at most 2^53 and an exact power of ten of at
//     most 10^22 give a correctly rounded result from one float64 operation)
//     and fall back to strconv.ParseFloat otherwise, so values are always
//     bit-identical to strconv.ParseFloat's.
//   - Categorical columns are collected in per-chunk dictionaries that are
//     merged in chunk order, so levels are in first-seen row order and the
//     result is identical for any number of workers.
package dataset

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/modelci/modelci/internal/inputfile"
)

// Kind is the type of a column.
type Kind int

const (
	// Numeric columns hold float64 values (NaN = missing).
	Numeric Kind = iota
	// Categorical columns hold codes into a list of distinct text values.
	Categorical
)

// String returns "numeric" or "categorical".
func (k Kind) String() string {
	switch k {
	case Numeric:
		return "numeric"
	case Categorical:
		return "categorical"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// DefaultMaxFieldBytes is the longest field accepted when
// Options.MaxFieldBytes is 0.
const DefaultMaxFieldBytes = 1 << 20

// Default limits of a read, when Options.MaxBytes or Options.MaxRows is 0.
const (
	// DefaultMaxBytes bounds the (decompressed) bytes read: 64 GiB.
	DefaultMaxBytes = 64 << 30
	// DefaultMaxRows bounds the data rows read.
	DefaultMaxRows = 100_000_000
)

// SampleRows is the number of data rows used to infer column types.
const SampleRows = 10000

// Options control how a CSV file is read. The zero value is ready to use.
type Options struct {
	// Delimiter separates fields. 0 sniffs it from the header and the first
	// lines among ',', ';', '\t' and '|'. It must be an ASCII character other
	// than '"', '\r', '\n' or ' '.
	Delimiter rune
	// Categorical lists columns read as categorical even if their values look
	// numeric (the raw text is the category, e.g. zip codes).
	Categorical []string
	// Columns, if non-empty, lists the only columns that are materialised.
	// All other columns are still checked for row shape and quoting.
	Columns []string
	// MaxFieldBytes is the longest accepted field; 0 means
	// DefaultMaxFieldBytes. Values above 1 GiB are treated as 1 GiB.
	MaxFieldBytes int
	// MaxBytes bounds the bytes read, after decompression (a small gzip
	// file can expand without bound); 0 means DefaultMaxBytes. Exceeding
	// it is an ErrTooLarge error.
	MaxBytes int64
	// MaxRows bounds the data rows read; 0 means DefaultMaxRows. Exceeding
	// it is an ErrTooLarge error.
	MaxRows int
	// AllowFIFO lets Load read a named pipe (FIFO). Without it, Load
	// accepts only regular files: a FIFO could block forever and a device
	// such as /dev/zero never ends.
	AllowFIFO bool
	// Workers is the number of parsing goroutines; 0 means
	// runtime.GOMAXPROCS(0). At most 256 are used. The result does not
	// depend on it.
	Workers int
	// DecimalComma reads numbers written with a decimal comma ("-0,69"):
	// a column whose every value is such a number becomes Numeric. The
	// delimiter must not be ','.
	DecimalComma bool
}

// Column is one typed column of a Frame.
type Column struct {
	// Name is the header name (trimmed of surrounding spaces).
	Name string
	// Kind is Numeric or Categorical.
	Kind Kind
	// Floats holds one value per row for Numeric columns; NaN is missing.
	Floats []float64
	// Codes holds one index into Levels per row for Categorical columns;
	// -1 is missing.
	Codes []int32
	// Levels are the distinct non-missing values of a Categorical column in
	// the order they first appear in the file.
	Levels []string
	// Missing is the number of missing cells.
	Missing int
}

// Frame is a CSV file read into typed columns.
type Frame struct {
	// Name is the path or name the data was read from.
	Name string
	// Rows is the number of data rows (the header is not counted).
	Rows int
	// Columns are the materialised columns in header order.
	Columns []*Column
	// Header lists all header names in file order.
	Header []string
	// Delimiter is the field delimiter that was used.
	Delimiter rune
	// SHA256 is the hex SHA-256 of the decompressed bytes exactly as read.
	SHA256 string
	// Bytes is the decompressed size in bytes.
	Bytes int64

	// index maps names to positions in Columns, built on the first lookup
	// so that p lookups cost O(p), not O(p²), on wide data.
	index atomic.Pointer[columnIndex]
}

// columnIndex maps the names of the first n columns to their positions.
type columnIndex struct {
	pos map[string]int
	n   int
}

// Column returns the materialised column with the given name.
func (f *Frame) Column(name string) (*Column, bool) {
	idx := f.index.Load()
	if idx == nil || idx.n != len(f.Columns) {
		idx = &columnIndex{pos: make(map[string]int, len(f.Columns)), n: len(f.Columns)}
		for i := len(f.Columns) - 1; i >= 0; i-- {
			idx.pos[f.Columns[i].Name] = i
		}
		f.index.Store(idx)
	}
	// The index is a hint: a hit is checked, and a miss (or a column
	// moved since it was built) falls back to the scan.
	if i, ok := idx.pos[name]; ok && i < len(f.Columns) && f.Columns[i].Name == name {
		return f.Columns[i], true
	}
	for _, c := range f.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return nil, false
}

// Sentinel errors, usable with errors.Is on the errors returned by Load and
// Read.
var (
	// ErrEmpty: the file has no header or no data rows.
	ErrEmpty = errors.New("no data rows")
	// ErrRagged: a row has a different number of fields than the header.
	ErrRagged = errors.New("wrong number of fields")
	// ErrNotNumeric: a value in a numeric column is not a number.
	ErrNotNumeric = errors.New("not a number")
	// ErrNonFinite: a numeric value is infinite (e.g. "Inf" or "1e999").
	ErrNonFinite = errors.New("non-finite number")
	// ErrFieldTooLong: a field is longer than Options.MaxFieldBytes.
	ErrFieldTooLong = errors.New("field too long")
	// ErrQuote: a quoted field is unterminated, or a quote is misplaced.
	ErrQuote = errors.New("bad quoting")
	// ErrHeader: a header name is empty or duplicated.
	ErrHeader = errors.New("bad header")
	// ErrInvalidUTF8: a header name or categorical value is not valid UTF-8.
	ErrInvalidUTF8 = errors.New("invalid UTF-8")
	// ErrUnknownColumn: Options names a column that is not in the header.
	ErrUnknownColumn = errors.New("unknown column")
	// ErrOptions: Options are invalid (e.g. an unsupported delimiter).
	ErrOptions = errors.New("invalid options")
	// ErrTooLarge: the input has more bytes (after decompression) than
	// Options.MaxBytes or more rows than Options.MaxRows. It is
	// inputfile.ErrTooLarge.
	ErrTooLarge = inputfile.ErrTooLarge
	// ErrNotRegular: Load was given a directory, device, socket or (without
	// Options.AllowFIFO) a FIFO. It is inputfile.ErrNotRegular.
	ErrNotRegular = inputfile.ErrNotRegular
)

// ParseError is an error at a position in the input.
type ParseError struct {
	// File is the path or name of the input.
	File string
	// Line is the 1-based physical line number (newlines inside quoted
	// fields are counted).
	Line int
	// Col is the 1-based field index within the record; 0 if unknown.
	Col int
	// Column is the header name of the field, if known.
	Column string
	// Err is the underlying error; it wraps one of the sentinel errors.
	Err error
}

// Error returns `file:line:col: column "name": what`.
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(e.Line))
	if e.Col > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Col))
	}
	b.WriteString(": ")
	if e.Column != "" {
		b.WriteString("column ")
		b.WriteString(strconv.Quote(e.Column))
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

// Read reads CSV data from r. name is used in error messages and as
// Frame.Name. Gzip-compressed input (recognised by its magic bytes) is
// decompressed transparently. See Load for the dialect.
func Read(ctx context.Context, r io.Reader, name string, opts Options) (*Frame, error) {
	f, err := readStream(ctx, r, name, opts, defaultTuning(), false)
	return decimalTail(f, err, opts)
}

// Load reads the CSV file at path. A gzip-compressed file (recognised by its
// magic bytes or a .gz suffix) is decompressed transparently.
//
// Dialect: the first record is the header (names are trimmed of surrounding
// spaces; empty, duplicate or invalid UTF-8 names are errors). Fields follow
// RFC 4180: a field may be quoted with '"', a quote inside a quoted field is
// written twice, and quoted fields may contain delimiters and newlines.
// Records end with LF or CRLF; CRLF inside a quoted field is read as LF (as
// encoding/csv does). A leading UTF-8 byte-order mark is stripped, and empty
// lines are skipped. Every record must have as many fields as the header.
//
// Values: cells are trimmed of surrounding spaces and tabs (also the text
// of categories). After trimming, exactly these markers are missing in any
// column: "", "NA", "N/A", "NaN", "nan", "NULL", "null" and "None".
// Categorical values must be valid UTF-8.
//
// Types: a column is Numeric if most of its non-missing values among the
// first SampleRows data rows (at most the first 4 MiB of data) are decimal
// numbers (strconv.ParseFloat syntax without hexadecimal floats or digit
// separators), otherwise Categorical. Columns listed in Options.Categorical
// are always Categorical. A column that is entirely missing in the sample is
// collected as text and becomes Numeric after the read if every non-missing
// value in the whole file is a number. A later non-number in a Numeric
// column is an ErrNotNumeric ParseError; infinite values ("Inf", "1e999")
// are ErrNonFinite errors, while NaN spellings are missing values.
//
// Errors carry the position (file:line:column) and column name where
// possible; see ParseError and the sentinel errors.
func Load(ctx context.Context, path string, opts Options) (*Frame, error) {
	f, err := loadFile(ctx, path, opts, defaultTuning())
	return decimalTail(f, err, opts)
}

// posError builds a ParseError.
func posError(file string, line, col int, column string, err error) *ParseError {
	return &ParseError{File: file, Line: line, Col: col, Column: column, Err: err}
}

// limits returns the byte and row limits of opts with defaults applied.
func limits(opts Options) (maxBytes int64, maxRows int) {
	maxBytes, maxRows = opts.MaxBytes, opts.MaxRows
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if maxRows <= 0 {
		maxRows = DefaultMaxRows
	}
	return maxBytes, maxRows
}

// tooManyBytes and tooManyRows name the limit that was exceeded and how to
// raise it.
func tooManyBytes(name string, limit int64) error {
	return fmt.Errorf("reading %s: %w: more than %s of data (after decompression); the limit is data.max_bytes in modelci.yaml", name, ErrTooLarge, inputfile.FormatSize(limit))
}

func tooManyRows(name string, limit int) error {
	return fmt.Errorf("reading %s: %w: more than %d data rows; the limit is data.max_rows in modelci.yaml", name, ErrTooLarge, limit)
}

// capReader reads at most left bytes of r and then fails with err if r has
// more.
type capReader struct {
	r    io.Reader
	left int64
	err  error
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		for {
			n, err := c.r.Read(one[:])
			if n > 0 {
				return 0, c.err
			}
			if err != nil {
				return 0, err
			}
		}
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// quoteValue quotes a cell value for an error message, truncated to a
// readable length.
func quoteValue(b []byte) string {
	const limit = 40
	if len(b) > limit {
		return strconv.Quote(string(b[:limit])) + fmt.Sprintf("… (%d bytes)", len(b))
	}
	return strconv.Quote(string(b))
}
