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

	"github.com/modelci/modelci/internal/inputfile"
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
	maxField   int
	maxRecord  int
	chunkSize  int
	workers    int
	sampleRows int
	maxRows    int
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
	_, maxRows := limits(opts)
	return &reader{
		maxRows:    maxRows,
		name:       name,
		delim:      lay.delim,
		header:     lay.header,
		plan:       pl,
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
	line      int  // line number of data[0]
	rows      int  // row capacity: split's count of the records in data, an upper bound
	rowOff    int  // first row in the final storage (direct chunks)
	local     bool // parsed into chunk-local storage, not the final storage
	quoteFree bool // data certainly contains no '"'
	final     bool
	truncated bool
	refs      atomic.Int32 // hasher + worker

	// results, written by the worker
	done    bool // parsed (possibly with an error)
	nrows   int
	err     error
	missing []int // per numeric slot, then per text slot
	dicts   []localDict
	floats  [][]float64 // chunk-local storage (local jobs)
	codes   [][]int32
}

// storage is the preallocated final column storage of a file read: every
// column has room for the same number of rows.
type storage struct {
	floats [][]float64
	codes  [][]int32
	rows   int
}

// newStorage allocates storage for rows rows.
func newStorage(pl *plan, rows int) *storage {
	st := &storage{floats: make([][]float64, pl.nFloat), codes: make([][]int32, pl.nText), rows: rows}
	for s := range st.floats {
		st.floats[s] = make([]float64, rows)
	}
	for s := range st.codes {
		st.codes[s] = make([]int32, rows)
	}
	return st
}

// pipe runs the hasher and the parsing workers over the chunks submitted by
// a producer. Buffers circulate through pool, which bounds memory.
type pipe struct {
	ctx   context.Context
	rd    *reader
	dst   *storage // preallocated columns; nil when streaming
	pool  chan []byte
	work  chan *job
	hashq chan *job
	stop  atomic.Int64 // lowest seq with an error
	jobs  []*job       // appended by the producer only
	h     hash.Hash
	wg    sync.WaitGroup
	bytes int64
	rows  atomic.Int64 // rows parsed so far, for the MaxRows limit

	// Producer state: the next row of dst, and whether dst is full (all
	// further chunks are then parsed into chunk-local storage).
	nextRow int
	full    bool
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
	// A chunk is parsed straight into the final storage while its rows fit;
	// once one does not, it and all later chunks use chunk-local storage
	// (joined at the end), so direct chunks are always a prefix.
	if p.dst != nil && !p.full && j.rows <= p.dst.rows-p.nextRow {
		j.rowOff = p.nextRow
		p.nextRow += j.rows
	} else {
		p.full = true
		j.local = true
	}
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
			if j.err == nil && p.rows.Add(int64(j.nrows)) > int64(p.rd.maxRows) {
				j.err = tooManyRows(p.rd.name, p.rd.maxRows)
			}
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
		j := &job{buf: c.buf, data: c.data, line: line, rows: c.rows, quoteFree: c.quoteFree, final: c.final, truncated: c.truncated}
		line += c.lines
		p.submit(j)
		if c.final || c.truncated {
			return nil, nil
		}
		return p.getBuf(need)
	})
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
			if j.local {
				codes = j.codes[s][:j.nrows]
			} else {
				codes = dst.codes[s][j.rowOff : j.rowOff+j.nrows]
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
	for s := range floats {
		var col []float64
		if dst != nil {
			col, dst.floats[s] = dst.floats[s], nil
		}
		floats[s] = joinRows(col, jobs, total, func(j *job) []float64 { return j.floats[s] }, func(j *job) { j.floats[s] = nil })
	}
	for s := range codes {
		var col []int32
		if dst != nil {
			col, dst.codes[s] = dst.codes[s], nil
		}
		codes[s] = joinRows(col, jobs, total, func(j *job) []int32 { return j.codes[s] }, func(j *job) { j.codes[s] = nil })
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

// joinRows builds a column of total rows. The direct chunks (a prefix of
// jobs) wrote their rows into col at their row offsets; joinRows closes the
// gaps left by chunks with fewer records than counted (blank lines) and
// appends the rows of the chunk-local storage of the other chunks, dropping
// each chunk's part as soon as it is copied. col is reused when it has room
// for all rows; the result has len and cap total.
func joinRows[T any](col []T, jobs []*job, total int, part func(*job) []T, drop func(*job)) []T {
	w := 0
	k := 0
	for ; k < len(jobs) && !jobs[k].local; k++ {
		j := jobs[k]
		if w != j.rowOff {
			copy(col[w:], col[j.rowOff:j.rowOff+j.nrows])
		}
		w += j.nrows
	}
	if total > len(col) {
		// The estimate was short: move to a column of the right size. The
		// old column is garbage once this returns.
		out := make([]T, total)
		copy(out, col[:w])
		col = out
	}
	for _, j := range jobs[k:] {
		w += copy(col[w:], part(j)[:j.nrows])
		drop(j)
	}
	return col[:total:total]
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
	if errors.Is(prodErr, ErrTooLarge) {
		return prodErr // names the file and the limit
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
	maxBytes, _ := limits(opts)
	src = &capReader{r: src, left: maxBytes, err: tooManyBytes(name, maxBytes)}
	head, eof, err := readHead(src, tun)
	if errors.Is(err, ErrTooLarge) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	rd, lay, err := newReader(head, eof, name, opts, tun)
	if err != nil {
		return nil, err
	}
	rest := io.MultiReader(bytes.NewReader(head[lay.dataStart:]), src)
	return rd.run(ctx, head[:lay.dataStart], rest, lay.dataLine, nil)
}

// run hashes prefix (the bytes before the data), parses the data read from
// src (starting at line) with the pipeline, into dst if not nil, and builds
// the frame.
func (rd *reader) run(ctx context.Context, prefix []byte, src io.Reader, line int, dst *storage) (*Frame, error) {
	p := newPipe(ctx, rd, dst)
	p.start(prefix)
	prodErr := p.produceStream(src, line)
	p.finish()
	if err := firstError(ctx, rd.name, p.jobs, prodErr); err != nil {
		return nil, err
	}
	f, err := rd.assemble(p.jobs, dst)
	if err != nil {
		return nil, err
	}
	f.SHA256 = hex.EncodeToString(p.h.Sum(nil))
	f.Bytes = p.bytes
	return f, nil
}

// loadFile reads a file. Plain regular files are read in a single pass
// into columns preallocated from an estimate of the number of records (see
// loadPlain); gzip files and other inputs are streamed.
func loadFile(ctx context.Context, path string, opts Options, tun tuning) (*Frame, error) {
	fh, st, err := inputfile.Open(path, opts.AllowFIFO)
	if err != nil {
		if errors.Is(err, ErrNotRegular) {
			return nil, fmt.Errorf("reading dataset: %w; data.path must name a regular file (set data.allow_fifo: true to read a named pipe)", err)
		}
		return nil, fmt.Errorf("reading dataset: %w", err)
	}
	defer fh.Close()
	isGz := strings.HasSuffix(strings.ToLower(path), ".gz")
	if !st.Mode().IsRegular() || isGz {
		return readStream(ctx, fh, path, opts, tun, isGz)
	}
	var magic [2]byte
	if n, _ := fh.ReadAt(magic[:], 0); n == 2 && string(magic[:]) == gzipMagic {
		return readStream(ctx, fh, path, opts, tun, true)
	}
	return loadPlain(ctx, fh, st.Size(), path, opts, tun)
}

// Row estimates: rowHeadroom is the fraction added to the estimated number
// of records when the columns are allocated; estimateSegments and
// estimateWindow set how the part of a file after the first bytes is
// sampled.
const (
	rowHeadroom      = 0.03
	estimateSegments = 8
	estimateWindow   = 64 << 10
)

// estimateRows estimates the number of records after the header of a file
// of size bytes, of which head holds the first (the data starts at
// dataStart); r reads the rest. If head is the whole file the count is
// exact (an upper bound: blank lines count). Otherwise the complete records
// in head are counted, and the rest of the file is cut into
// estimateSegments segments whose records are estimated from the density of
// newlines in estimateWindow bytes read at both ends of each segment: the
// higher of the two, so that a file whose records get shorter is not
// underestimated between two samples. Newlines are scaled by the records
// per newline of head (quoted fields may hold newlines). rowHeadroom is
// added. The estimate is 0 if head holds no complete record.
func estimateRows(r io.ReaderAt, head []byte, dataStart int, eof bool, size int64, ncols int) int {
	data := head[dataStart:]
	cnt, last, _, _ := scanQuotes(data, false)
	if eof {
		if last < len(data)-1 {
			cnt++ // a last record without a line ending
		}
		return cnt
	}
	if cnt == 0 {
		return 0
	}
	sampled := data[:last+1]
	perNewline := float64(cnt) / float64(bytes.Count(sampled, []byte{'\n'}))
	density := float64(cnt) / float64(len(sampled)) // records per byte
	restStart := int64(dataStart + len(sampled))
	rest := size - restStart
	est := float64(cnt)
	if rest > 0 {
		buf := make([]byte, min(int64(estimateWindow), rest))
		dens := make([]float64, estimateSegments+1)
		for k := range dens {
			off := restStart + rest*int64(k)/estimateSegments
			off = max(min(off, size-int64(len(buf))), restStart)
			n, _ := r.ReadAt(buf, off)
			dens[k] = density // unreadable: as in head
			if n > 0 {
				dens[k] = float64(bytes.Count(buf[:n], []byte{'\n'})) * perNewline / float64(n)
			}
		}
		for k := range estimateSegments {
			seg := rest*int64(k+1)/estimateSegments - rest*int64(k)/estimateSegments
			est += max(dens[k], dens[k+1]) * float64(seg)
		}
	}
	est *= 1 + rowHeadroom
	// A record of ncols fields takes at least ncols bytes.
	est = min(est, float64((size-int64(dataStart))/int64(max(ncols, 1))+1))
	return int(est) + 16
}

// loadPlain reads a plain file in one pass. The columns are allocated once,
// from an estimate of the number of records (estimateRows), and the chunk
// parsers write their values straight into them. Should the file have more
// records than estimated, the chunks that do not fit are parsed into
// chunk-local storage and appended at the end.
func loadPlain(ctx context.Context, fh *os.File, size int64, path string, opts Options, tun tuning) (*Frame, error) {
	if maxBytes, _ := limits(opts); size > maxBytes {
		return nil, tooManyBytes(path, maxBytes)
	}
	head, eof, err := readHead(fh, tun)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	rd, lay, err := newReader(head, eof, path, opts, tun)
	if err != nil {
		return nil, err
	}
	est := estimateRows(fh, head, lay.dataStart, eof, size, len(lay.header))
	if tun.rowScale != 0 {
		est = int(float64(est) * tun.rowScale)
	}
	// No need for room beyond the row limit: the read fails there.
	est = min(est, rd.maxRows+1)
	// Read the data again from the file rather than keep head alive while
	// the columns are allocated: rereading a few MiB is cheaper than the
	// memory.
	prefix := bytes.Clone(head[:lay.dataStart])
	head = nil
	if _, err := fh.Seek(int64(len(prefix)), io.SeekStart); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	maxBytes, _ := limits(opts)
	src := &capReader{r: fh, left: maxBytes - int64(len(prefix)), err: tooManyBytes(path, maxBytes)}
	return rd.run(ctx, prefix, src, lay.dataLine, newStorage(rd.plan, est))
}
