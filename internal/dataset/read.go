package dataset

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// maxFieldLimit caps Options.MaxFieldBytes so size arithmetic cannot
// overflow.
const maxFieldLimit = 1 << 30

// errStopped ends production early after a parse error.
var errStopped = errors.New("stopped after an earlier error")

// reader is the immutable configuration shared by the parsing workers.
type reader struct {
	name       string
	delim      byte
	header     []string
	plan       *plan
	skipAll    []colPlan // used for records beyond a chunk's counted rows
	maxField   int
	maxRecord  int
	chunkSize  int
	workers    int
	sampleRows int
}

// newReader reads the header and the type-inference sample from head.
func newReader(head []byte, eof bool, name string, opts Options, tun tuning) (*reader, *layout, error) {
	maxField := opts.MaxFieldBytes
	if maxField <= 0 {
		maxField = DefaultMaxFieldBytes
	}
	maxField = min(maxField, maxFieldLimit)
	lay, err := parseHeader(head, eof, name, opts, maxField)
	if err != nil {
		return nil, nil, err
	}
	pl, err := buildPlan(lay, head, eof, name, opts, tun, maxField)
	if err != nil {
		return nil, nil, err
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, 256)
	maxRecord := len(lay.header)*(2*maxField+4) + 4
	maxRecord = min(maxRecord, max(256<<20, 2*maxField+8))
	chunkSize := max(tun.chunkSize, 1)
	return &reader{
		name:       name,
		delim:      lay.delim,
		header:     lay.header,
		plan:       pl,
		skipAll:    make([]colPlan, len(lay.header)),
		maxField:   maxField,
		maxRecord:  maxRecord,
		chunkSize:  chunkSize,
		workers:    workers,
		sampleRows: tun.sampleRows,
	}, lay, nil
}

// localDict is a chunk's dictionary of a text column, in first-seen order.
type localDict struct {
	index  map[string]int32
	levels []string
	lines  []int // line of each level's first occurrence
}

// job is one chunk of records on its way through the pipeline.
type job struct {
	seq       int
	buf       []byte // pooled buffer; data is a prefix
	data      []byte
	line      int // line number of data[0]
	rows      int // row capacity (an upper bound on the records)
	rowOff    int // first row in the final storage (two-pass mode)
	final     bool
	truncated bool
	refs      atomic.Int32 // hasher + worker

	// results, written by the worker
	done    bool // parsed (possibly with an error)
	nrows   int
	err     error
	missing []int // per numeric slot, then per text slot
	dicts   []localDict
	floats  [][]float64 // chunk-local storage (streaming mode)
	codes   [][]int32
}

// storage is the final column storage of the two-pass mode.
type storage struct {
	floats [][]float64
	codes  [][]int32
}

// pipe runs the hasher and the parsing workers over the chunks submitted by
// a producer. Buffers circulate through pool, which bounds memory.
type pipe struct {
	ctx   context.Context
	rd    *reader
	dst   *storage // nil in streaming mode
	pool  chan []byte
	work  chan *job
	hashq chan *job
	stop  atomic.Int64 // lowest seq with an error
	jobs  []*job       // appended by the producer only
	h     hash.Hash
	wg    sync.WaitGroup
	bytes int64
}

func newPipe(ctx context.Context, rd *reader, dst *storage) *pipe {
	nbuf := 2*rd.workers + 2
	p := &pipe{
		ctx:   ctx,
		rd:    rd,
		dst:   dst,
		pool:  make(chan []byte, nbuf),
		work:  make(chan *job, nbuf),
		hashq: make(chan *job, nbuf),
		h:     sha256.New(),
	}
	p.stop.Store(math.MaxInt64)
	for range nbuf {
		p.pool <- nil
	}
	return p
}

// start hashes prefix and starts the hasher and workers.
func (p *pipe) start(prefix []byte) {
	p.h.Write(prefix)
	p.bytes = int64(len(prefix))
	p.wg.Add(1 + p.rd.workers)
	go p.hasher()
	for range p.rd.workers {
		go p.worker()
	}
}

// finish waits for all submitted chunks.
func (p *pipe) finish() {
	close(p.hashq)
	close(p.work)
	p.wg.Wait()
}

func (p *pipe) stopped() bool { return p.stop.Load() != math.MaxInt64 }

func (p *pipe) setStop(seq int) {
	for {
		cur := p.stop.Load()
		if int64(seq) >= cur || p.stop.CompareAndSwap(cur, int64(seq)) {
			return
		}
	}
}

// getBuf takes an empty buffer with capacity for at least n bytes.
func (p *pipe) getBuf(n int) ([]byte, error) {
	select {
	case b := <-p.pool:
		if cap(b) < n {
			b = make([]byte, 0, max(n, p.rd.chunkSize))
		}
		return b[:0], nil
	case <-p.ctx.Done():
		return nil, p.ctx.Err()
	}
}

func (p *pipe) release(j *job) {
	if j.refs.Add(-1) == 0 {
		b := j.buf
		j.buf, j.data = nil, nil
		p.pool <- b[:0]
	}
}

func (p *pipe) submit(j *job) {
	j.seq = len(p.jobs)
	j.refs.Store(2)
	p.jobs = append(p.jobs, j)
	p.bytes += int64(len(j.data))
	p.hashq <- j
	p.work <- j
}

func (p *pipe) hasher() {
	defer p.wg.Done()
	for j := range p.hashq {
		if !p.stopped() {
			p.h.Write(j.data)
		}
		p.release(j)
	}
}

func (p *pipe) worker() {
	defer p.wg.Done()
	cp := &chunkParser{rd: p.rd}
	for j := range p.work {
		if p.ctx.Err() == nil && int64(j.seq) < p.stop.Load() {
			cp.parse(j, p.dst)
			if j.err != nil {
				p.setStop(j.seq)
			}
		}
		p.release(j)
	}
}

// produceStream splits src into chunks and submits them.
func (p *pipe) produceStream(src io.Reader, line int) error {
	buf, err := p.getBuf(p.rd.chunkSize)
	if err != nil {
		return err
	}
	return split(p.ctx, src, buf, p.rd.chunkSize, p.rd.maxRecord, func(c chunk, need int) ([]byte, error) {
		if p.stopped() {
			return nil, errStopped
		}
		j := &job{buf: c.buf, data: c.data, line: line, rows: c.rows, final: c.final, truncated: c.truncated}
		line += bytes.Count(c.data, []byte{'\n'})
		p.submit(j)
		if c.final || c.truncated {
			return nil, nil
		}
		return p.getBuf(need)
	})
}

// span is a chunk found by the counting pass of the two-pass mode.
type span struct {
	n         int
	rows      int
	lines     int
	final     bool
	truncated bool
}

// produceSpans re-reads the chunks found by the counting pass from src and
// submits them.
func (p *pipe) produceSpans(src io.Reader, spans []span, line int) error {
	row := 0
	for _, s := range spans {
		if p.stopped() {
			return errStopped
		}
		if err := p.ctx.Err(); err != nil {
			return err
		}
		buf, err := p.getBuf(s.n)
		if err != nil {
			return err
		}
		buf = buf[:s.n]
		if _, err := io.ReadFull(src, buf); err != nil {
			p.pool <- buf[:0]
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return fmt.Errorf("file changed while it was read (it is shorter now): %w", io.ErrUnexpectedEOF)
			}
			return err
		}
		p.submit(&job{buf: buf, data: buf, line: line, rows: s.rows, rowOff: row, final: s.final, truncated: s.truncated})
		line += s.lines
		row += s.rows
	}
	return nil
}

// tooManyFields counts the extra fields of a record for the error message.
func (rd *reader) tooManyFields(fr *fieldReader, recLine int) error {
	ncols := len(rd.header)
	got := ncols + 1
	more := ""
	for {
		_, term, err := fr.next()
		if err != nil {
			more = " or more"
			break
		}
		if term != termDelim {
			break
		}
		got++
	}
	return posError(rd.name, recLine, ncols+1, "", fmt.Errorf("%w: row has %d%s fields, header has %d", ErrRagged, got, more, ncols))
}

// assemble checks the chunk results and builds the columns.
func (rd *reader) assemble(jobs []*job, dst *storage) (*Frame, error) {
	for _, j := range jobs {
		if j.err != nil {
			return nil, j.err
		}
		if !j.done {
			return nil, fmt.Errorf("%s: internal error: chunk %d was not parsed", rd.name, j.seq)
		}
	}
	total := 0
	for _, j := range jobs {
		total += j.nrows
	}
	if total == 0 {
		return nil, fmt.Errorf("%s: header has %d columns but there are %w", rd.name, len(rd.header), ErrEmpty)
	}
	pl := rd.plan

	// Merge the per-chunk dictionaries in chunk order: levels end up in
	// first-seen row order whatever the worker scheduling was.
	levels := make([][]string, pl.nText)
	firstLine := make([][]int, pl.nText)
	for s := range pl.nText {
		global := make(map[string]int32)
		for _, j := range jobs {
			d := &j.dicts[s]
			if len(d.levels) == 0 {
				continue
			}
			remap := make([]int32, len(d.levels))
			identity := true
			for k, lv := range d.levels {
				g, ok := global[lv]
				if !ok {
					g = int32(len(levels[s]))
					global[lv] = g
					levels[s] = append(levels[s], lv)
					firstLine[s] = append(firstLine[s], d.lines[k])
				}
				remap[k] = g
				identity = identity && g == int32(k)
			}
			if identity {
				continue
			}
			var codes []int32
			if dst != nil {
				codes = dst.codes[s][j.rowOff : j.rowOff+j.nrows]
			} else {
				codes = j.codes[s][:j.nrows]
			}
			for i, c := range codes {
				if c >= 0 {
					codes[i] = remap[c]
				}
			}
		}
	}

	floats := make([][]float64, pl.nFloat)
	codes := make([][]int32, pl.nText)
	if dst != nil {
		compact := false
		for _, j := range jobs {
			compact = compact || j.nrows != j.rows
		}
		for s := range floats {
			floats[s] = compactRows(dst.floats[s], jobs, compact)
		}
		for s := range codes {
			codes[s] = compactRows(dst.codes[s], jobs, compact)
		}
	} else {
		for s := range floats {
			floats[s] = concatRows(jobs, total, func(j *job) []float64 { return j.floats[s] }, func(j *job) { j.floats[s] = nil })
		}
		for s := range codes {
			codes[s] = concatRows(jobs, total, func(j *job) []int32 { return j.codes[s] }, func(j *job) { j.codes[s] = nil })
		}
	}
	missing := make([]int, pl.nFloat+pl.nText)
	for _, j := range jobs {
		for k, m := range j.missing {
			missing[k] += m
		}
	}

	f := &Frame{Name: rd.name, Rows: total, Header: rd.header, Delimiter: rune(rd.delim)}
	for c, cp := range pl.cols {
		name := rd.header[c]
		switch cp.kind {
		case planNumeric:
			f.Columns = append(f.Columns, &Column{Name: name, Kind: Numeric, Floats: floats[cp.slot], Missing: missing[cp.slot]})
		case planText:
			f.Columns = append(f.Columns, &Column{Name: name, Kind: Categorical, Codes: codes[cp.slot], Levels: nonNil(levels[cp.slot]), Missing: missing[pl.nFloat+cp.slot]})
		case planDeferred:
			col, err := rd.deferred(c, codes[cp.slot], levels[cp.slot], firstLine[cp.slot], missing[pl.nFloat+cp.slot])
			if err != nil {
				return nil, err
			}
			f.Columns = append(f.Columns, col)
		}
	}
	return f, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// deferred converts a column that was entirely missing in the sample: it is
// Numeric if every level is a number, otherwise Categorical.
func (rd *reader) deferred(c int, codes []int32, levels []string, lines []int, missing int) (*Column, error) {
	name := rd.header[c]
	vals := make([]float64, len(levels))
	bad := -1
	for k, lv := range levels {
		v, err := parseNumber([]byte(lv))
		switch err {
		case nil:
			vals[k] = v
		case errNaN:
			vals[k] = math.NaN()
		case ErrNonFinite:
			if bad < 0 || lines[k] < lines[bad] {
				bad = k
			}
		default:
			return &Column{Name: name, Kind: Categorical, Codes: codes, Levels: nonNil(levels), Missing: missing}, nil
		}
	}
	if bad >= 0 {
		return nil, posError(rd.name, lines[bad], c+1, name, fmt.Errorf("%w: value %s is not a finite number", ErrNonFinite, quoteValue([]byte(levels[bad]))))
	}
	out := make([]float64, len(codes))
	missing = 0
	for i, code := range codes {
		if code < 0 {
			out[i] = math.NaN()
		} else {
			out[i] = vals[code]
		}
		if math.IsNaN(out[i]) {
			missing++
		}
	}
	return &Column{Name: name, Kind: Numeric, Floats: out, Missing: missing}, nil
}

// compactRows closes the gaps left by chunks with fewer records than
// counted (blank lines) and trims the column to the rows read.
func compactRows[T any](col []T, jobs []*job, compact bool) []T {
	if !compact {
		return col
	}
	w := 0
	for _, j := range jobs {
		if w != j.rowOff {
			copy(col[w:], col[j.rowOff:j.rowOff+j.nrows])
		}
		w += j.nrows
	}
	return col[:w:w]
}

// concatRows joins chunk-local storage into one column, dropping each
// chunk's part as soon as it is copied.
func concatRows[T any](jobs []*job, total int, part func(*job) []T, drop func(*job)) []T {
	out := make([]T, total)
	w := 0
	for _, j := range jobs {
		w += copy(out[w:], part(j)[:j.nrows])
		drop(j)
	}
	return out
}

// firstError picks the error to report after the pipeline finished.
func firstError(ctx context.Context, name string, jobs []*job, prodErr error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	for _, j := range jobs {
		if j.err != nil {
			return j.err
		}
	}
	if prodErr != nil && !errors.Is(prodErr, errStopped) {
		return fmt.Errorf("reading %s: %w", name, prodErr)
	}
	return nil
}

// gzipMagic starts every gzip stream.
const gzipMagic = "\x1f\x8b"

// readStream reads r in a single pass: chunks are parsed into chunk-local
// storage and joined at the end.
func readStream(ctx context.Context, r io.Reader, name string, opts Options, tun tuning, forceGzip bool) (*Frame, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	src := io.Reader(br)
	magic, _ := br.Peek(2)
	if forceGzip || string(magic) == gzipMagic {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("reading %s: gzip: %w", name, err)
		}
		defer zr.Close()
		src = zr
	}
	head, eof, err := readHead(src, tun)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	rd, lay, err := newReader(head, eof, name, opts, tun)
	if err != nil {
		return nil, err
	}
	p := newPipe(ctx, rd, nil)
	p.start(head[:lay.dataStart])
	rest := io.MultiReader(bytes.NewReader(head[lay.dataStart:]), src)
	head = nil
	prodErr := p.produceStream(rest, lay.dataLine)
	p.finish()
	if err := firstError(ctx, name, p.jobs, prodErr); err != nil {
		return nil, err
	}
	f, err := rd.assemble(p.jobs, nil)
	if err != nil {
		return nil, err
	}
	f.SHA256 = hex.EncodeToString(p.h.Sum(nil))
	f.Bytes = p.bytes
	return f, nil
}

// loadFile reads a file. Plain regular files are read in two passes: a cheap
// counting pass finds the chunk boundaries and the number of records, so the
// parsing pass can write every value straight into exactly preallocated
// column storage.
func loadFile(ctx context.Context, path string, opts Options, tun tuning) (*Frame, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading dataset: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading dataset: %w", err)
	}
	isGz := strings.HasSuffix(strings.ToLower(path), ".gz")
	if !st.Mode().IsRegular() || isGz {
		return readStream(ctx, fh, path, opts, tun, isGz)
	}
	var magic [2]byte
	if n, _ := fh.ReadAt(magic[:], 0); n == 2 && string(magic[:]) == gzipMagic {
		return readStream(ctx, fh, path, opts, tun, true)
	}
	return loadTwoPass(ctx, fh, path, opts, tun)
}

func loadTwoPass(ctx context.Context, fh *os.File, path string, opts Options, tun tuning) (*Frame, error) {
	head, eof, err := readHead(fh, tun)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	rd, lay, err := newReader(head, eof, path, opts, tun)
	if err != nil {
		return nil, err
	}

	// Pass 1: find chunk boundaries and count records.
	var spans []span
	rest := io.MultiReader(bytes.NewReader(head[lay.dataStart:]), fh)
	dataStart := lay.dataStart
	head = nil
	err = split(ctx, rest, make([]byte, 0, rd.chunkSize), rd.chunkSize, rd.maxRecord, func(c chunk, need int) ([]byte, error) {
		spans = append(spans, span{
			n: len(c.data), rows: c.rows, lines: bytes.Count(c.data, []byte{'\n'}),
			final: c.final, truncated: c.truncated,
		})
		return c.buf, nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	total := 0
	for _, s := range spans {
		total += s.rows
	}
	if total == 0 {
		return nil, fmt.Errorf("%s: header has %d columns but there are %w", path, len(rd.header), ErrEmpty)
	}

	// Pass 2: re-read the same chunks, hash and parse them in parallel.
	dst := &storage{floats: make([][]float64, rd.plan.nFloat), codes: make([][]int32, rd.plan.nText)}
	for s := range dst.floats {
		dst.floats[s] = make([]float64, total)
	}
	for s := range dst.codes {
		dst.codes[s] = make([]int32, total)
	}
	if _, err := fh.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	prefix := make([]byte, dataStart)
	if _, err := io.ReadFull(fh, prefix); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	p := newPipe(ctx, rd, dst)
	p.start(prefix)
	prodErr := p.produceSpans(fh, spans, lay.dataLine)
	p.finish()
	if err := firstError(ctx, path, p.jobs, prodErr); err != nil {
		return nil, err
	}
	if n := len(spans); n > 0 && !spans[n-1].truncated {
		var one [1]byte
		if k, _ := fh.Read(one[:]); k > 0 {
			return nil, fmt.Errorf("reading %s: file changed while it was read (it is longer now)", path)
		}
	}
	f, err := rd.assemble(p.jobs, dst)
	if err != nil {
		return nil, err
	}
	f.SHA256 = hex.EncodeToString(p.h.Sum(nil))
	f.Bytes = p.bytes
	return f, nil
}
