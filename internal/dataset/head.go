package dataset

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// bom is the UTF-8 byte-order mark.
const bom = "\xef\xbb\xbf"

// maxHeaderBytes bounds the header record.
const maxHeaderBytes = 64 << 20

// sniffRecords is the number of records (header included) inspected when
// sniffing the delimiter.
const sniffRecords = 20

// tuning holds internal knobs; tests shrink them to exercise edge cases.
type tuning struct {
	chunkSize  int  // target bytes per parallel chunk
	headBytes  int  // bytes read up front for sniffing and type inference
	sampleRows int  // rows used for type inference
	allText    bool // read every column as categorical text (fuzz hook)
	// rowScale scales the estimated number of records of a plain file;
	// 0 means 1. Tests use it to force short and long estimates.
	rowScale float64
}

func defaultTuning() tuning {
	return tuning{chunkSize: 1 << 20, headBytes: 4 << 20, sampleRows: SampleRows}
}

// readMore appends to head from r until len(head) >= want or the input ends.
func readMore(r io.Reader, head []byte, want int) ([]byte, bool, error) {
	if cap(head) < want {
		nh := make([]byte, len(head), want)
		copy(nh, head)
		head = nh
	}
	for len(head) < want {
		n, err := r.Read(head[len(head):want])
		head = head[:len(head)+n]
		if err == io.EOF {
			return head, true, nil
		}
		if err != nil {
			return head, false, err
		}
	}
	return head, false, nil
}

// readHead reads the first bytes of the input: tun.headBytes (or
// everything), extended until the header record is complete or
// maxHeaderBytes are read (parseHeader then reports the problem).
func readHead(r io.Reader, tun tuning) ([]byte, bool, error) {
	// Grow step by step so that small inputs get small buffers.
	limit := max(tun.headBytes, 64)
	head, eof, err := readMore(r, nil, min(64<<10, limit))
	for err == nil && !eof && len(head) < limit {
		head, eof, err = readMore(r, head, min(2*len(head), limit))
	}
	for err == nil && !eof && len(head) < maxHeaderBytes && !headerComplete(head) {
		head, eof, err = readMore(r, head, min(2*len(head), maxHeaderBytes))
	}
	return head, eof, err
}

// headerComplete reports whether head contains a complete first record.
func headerComplete(head []byte) bool {
	fr := fieldReader{data: head, line: 1}
	if bytes.HasPrefix(head, []byte(bom)) {
		fr.pos = len(bom)
	}
	if !fr.skipBlank() {
		return false
	}
	n, _, _, _ := scanQuotes(head[fr.pos:], false)
	return n > 0
}

// layout describes the header of a CSV input.
type layout struct {
	delim     byte
	header    []string
	dataStart int // offset of the first byte after the header record
	dataLine  int // line number at dataStart
}

// validDelimiter checks Options.Delimiter.
func validDelimiter(r rune) (byte, error) {
	if r <= 0 || r >= utf8.RuneSelf || r == '"' || r == '\r' || r == '\n' || r == ' ' {
		return 0, fmt.Errorf("%w: delimiter %q is not supported (use an ASCII character other than quote, space, CR or LF)", ErrOptions, r)
	}
	return byte(r), nil
}

// parseHeader strips the BOM, sniffs the delimiter and reads the header.
func parseHeader(head []byte, eof bool, name string, opts Options, maxField int) (*layout, error) {
	fr := fieldReader{data: head, line: 1, atEOF: eof, max: maxField}
	if bytes.HasPrefix(head, []byte(bom)) {
		fr.pos = len(bom)
	}
	if !fr.skipBlank() {
		return nil, fmt.Errorf("%s: file is empty, expected a header row: %w", name, ErrEmpty)
	}
	lay := &layout{}
	if opts.Delimiter != 0 {
		d, err := validDelimiter(opts.Delimiter)
		if err != nil {
			return nil, err
		}
		lay.delim = d
	} else {
		lay.delim = sniffDelimiter(head[fr.pos:], eof)
	}
	fr.delim = lay.delim
	headerLine := fr.line
	var raw [][]byte
	for {
		val, term, err := fr.next()
		if err == errTruncated {
			err = fmt.Errorf("%w: header record is too long", ErrFieldTooLong)
		}
		if err != nil {
			return nil, posError(name, fr.errLine, len(raw)+1, "", fmt.Errorf("reading header: %w", err))
		}
		raw = append(raw, bytes.Clone(trimSpace(val)))
		if term != termDelim {
			break
		}
	}
	seen := make(map[string]int, len(raw))
	for i, b := range raw {
		n := string(b)
		switch {
		case !utf8.Valid(b):
			return nil, posError(name, headerLine, i+1, "", fmt.Errorf("%w in header name %q", ErrInvalidUTF8, n))
		case n == "":
			return nil, posError(name, headerLine, i+1, "", fmt.Errorf("%w: header name of column %d is empty", ErrHeader, i+1))
		case strings.IndexByte(n, 0) >= 0:
			// Not text: say where, but do not echo the content.
			return nil, posError(name, headerLine, i+1, "", fmt.Errorf("%w: header name of column %d contains a NUL byte; is this a text CSV file?", ErrHeader, i+1))
		}
		if first, dup := seen[n]; dup {
			return nil, posError(name, headerLine, i+1, n, fmt.Errorf("%w: duplicate header name %q (also column %d)", ErrHeader, n, first+1))
		}
		seen[n] = i
		lay.header = append(lay.header, n)
	}
	lay.dataStart = fr.pos
	lay.dataLine = fr.line
	return lay, nil
}

// sniffDelimiter picks the delimiter among , ; \t | that splits the first
// records most consistently: it must occur in the header; candidates that
// occur equally often in every inspected record win, then the most frequent.
// It returns ',' when no candidate occurs (a single-column file).
func sniffDelimiter(data []byte, eof bool) byte {
	cands := [...]byte{',', ';', '\t', '|'}
	var counts [][len(cands)]int
	var cur [len(cands)]int
	inQuote, empty := false, true
	limit := min(len(data), 1<<20)
	for i := 0; i < limit && len(counts) < sniffRecords; i++ {
		c := data[i]
		if c == '"' {
			inQuote = !inQuote
			empty = false
			continue
		}
		if inQuote {
			continue
		}
		switch c {
		case '\n':
			if !empty {
				counts = append(counts, cur)
			}
			cur = [len(cands)]int{}
			empty = true
			continue
		case '\r':
			continue
		}
		empty = false
		for k, d := range cands {
			if c == d {
				cur[k]++
			}
		}
	}
	if eof && !empty && len(counts) < sniffRecords && limit == len(data) {
		counts = append(counts, cur)
	}
	if len(counts) == 0 {
		return ','
	}
	best, bestConsistent, bestCount := -1, false, 0
	for k := range cands {
		n := counts[0][k]
		if n == 0 {
			continue
		}
		consistent := true
		for _, rc := range counts[1:] {
			if rc[k] != n {
				consistent = false
				break
			}
		}
		better := best < 0 ||
			(consistent && !bestConsistent) ||
			(consistent == bestConsistent && n > bestCount)
		if better {
			best, bestConsistent, bestCount = k, consistent, n
		}
	}
	if best < 0 {
		return ','
	}
	return cands[best]
}

// planKind says how a column is materialised.
type planKind uint8

const (
	planSkip     planKind = iota // validated for shape only
	planNumeric                  // parsed into Floats
	planText                     // categorical: codes into levels
	planDeferred                 // collected as text, converted after the read
)

// colPlan is the per-column parse plan.
type colPlan struct {
	kind planKind
	slot int // index among numeric slots (planNumeric) or text slots (others)
}

// plan decides the materialised columns and their kinds.
type plan struct {
	cols   []colPlan
	nFloat int
	nText  int
}

// buildPlan resolves Options.Columns/Categorical and infers kinds from the
// sample rows in head.
func buildPlan(lay *layout, head []byte, eof bool, name string, opts Options, tun tuning, maxField int) (*plan, error) {
	index := make(map[string]int, len(lay.header))
	for i, h := range lay.header {
		index[h] = i
	}
	unknown := func(what, col string) error {
		return fmt.Errorf("%s: %w %s in %s; available columns: %s", name, ErrUnknownColumn, quoteValue([]byte(col)), what, QuoteList(lay.header))
	}
	selected := make([]bool, len(lay.header))
	if len(opts.Columns) == 0 {
		for i := range selected {
			selected[i] = true
		}
	}
	for _, c := range opts.Columns {
		i, ok := index[c]
		if !ok {
			return nil, unknown("the selected columns", c)
		}
		selected[i] = true
	}
	forced := make([]bool, len(lay.header))
	for _, c := range opts.Categorical {
		i, ok := index[c]
		if !ok {
			return nil, unknown("the categorical columns", c)
		}
		forced[i] = true
	}
	numeric, seen := sampleKinds(lay, head, eof, tun.sampleRows, maxField)
	p := &plan{cols: make([]colPlan, len(lay.header))}
	for i := range p.cols {
		var k planKind
		switch {
		case !selected[i]:
			k = planSkip
		case forced[i] || tun.allText:
			k = planText
		case !seen[i]:
			k = planDeferred
		case numeric[i]:
			k = planNumeric
		default:
			k = planText
		}
		p.cols[i].kind = k
		switch k {
		case planNumeric:
			p.cols[i].slot = p.nFloat
			p.nFloat++
		case planText, planDeferred:
			p.cols[i].slot = p.nText
			p.nText++
		}
	}
	return p, nil
}

// MaxListed is the most names QuoteList shows.
const MaxListed = 20

// QuoteList renders names for an error message: the first MaxListed, each
// quoted with strconv.Quote (so control characters and delimiters inside a
// name are visible) and cut after 40 bytes, then "and N more". A file that
// is not CSV (say /proc/self/environ read with delimiter "=") then cannot
// pour its content into a message.
func QuoteList(names []string) string {
	n := min(len(names), MaxListed)
	parts := make([]string, n, n+1)
	for i, v := range names[:n] {
		parts[i] = quoteValue([]byte(v))
	}
	if more := len(names) - n; more > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", more))
	}
	return strings.Join(parts, ", ")
}

// sampleKinds inspects up to sampleRows complete data records in head. For
// each column it reports whether it is numeric and whether any non-missing
// value was seen. A column is numeric when most of its non-missing sample
// values are numbers: a few stray words in a numeric column (a typo, "n/a"
// spelt oddly) then fail the full read at their exact position instead of
// silently turning the whole column into categories; a column meant to be
// categorical is listed under data.categorical. Sampling stops at the first
// malformed record; the full read reports it with its position.
func sampleKinds(lay *layout, head []byte, eof bool, sampleRows, maxField int) (numeric, seen []bool) {
	ncols := len(lay.header)
	nums := make([]int, ncols)
	texts := make([]int, ncols)
	defer func() {
		numeric = make([]bool, ncols)
		seen = make([]bool, ncols)
		for j := range numeric {
			seen[j] = nums[j]+texts[j] > 0
			numeric[j] = nums[j] > texts[j]
		}
	}()
	end := len(head)
	if !eof {
		_, last, _, _ := scanQuotes(head[lay.dataStart:], false)
		end = lay.dataStart + last + 1
	}
	fr := fieldReader{data: head[:end], pos: lay.dataStart, line: lay.dataLine, delim: lay.delim, atEOF: true, max: maxField}
	for rows := 0; rows < sampleRows && fr.skipBlank(); rows++ {
		nf := 0
		for {
			val, term, err := fr.next()
			if err != nil {
				return
			}
			if nf < ncols {
				classify(trimSpace(val), nf, nums, texts)
			}
			nf++
			if term != termDelim {
				break
			}
		}
		if nf != ncols {
			return
		}
	}
	return
}

// classify counts a sample value as a number or as text; missing values and
// NaN spellings count as neither.
func classify(v []byte, j int, nums, texts []int) {
	if isMissing(v) {
		return
	}
	switch _, err := parseNumber(v); err {
	case errNaN:
		// a NaN spelling is missing in a numeric column
	case errNotNumber:
		texts[j]++
	default:
		nums[j]++
	}
}
