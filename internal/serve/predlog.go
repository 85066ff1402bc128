package serve

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/modelci/modelci/internal/model"
)

// Bounds of the prediction log's queue between request handlers and the
// writer.
const (
	logQueueChunks = 1024
	logQueueBytes  = 16 << 20
)

// predictionLog writes sampled rows and their predictions as JSON lines.
// Handlers encode their lines and hand them to one writer goroutine
// through a bounded queue; when the queue is full (the writer cannot keep
// up) rows are dropped and counted rather than slowing down requests. A
// log file is rotated to <path>.1 when it reaches its size limit, so it
// takes at most twice that on disk.
type predictionLog struct {
	sample  float64
	rand    func() float64
	dropped prometheus.Counter
	logger  *slog.Logger

	ch      chan logChunk
	pending atomic.Int64
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once

	// Owned by the writer goroutine.
	w        io.Writer
	path     string
	file     *os.File
	size     int64
	maxBytes int64
	failed   bool
}

type logChunk struct {
	b    []byte
	rows int
}

// openPredictionLog starts the log named by dest: "-" for stdout, or a
// file path (appended to).
func openPredictionLog(dest string, sample float64, maxBytes int64, stdout io.Writer, rnd func() float64, dropped prometheus.Counter, logger *slog.Logger) (*predictionLog, error) {
	l := &predictionLog{
		sample:   sample,
		rand:     rnd,
		dropped:  dropped,
		logger:   logger,
		ch:       make(chan logChunk, logQueueChunks),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		maxBytes: maxBytes,
	}
	if dest == "-" {
		l.w = stdout
	} else {
		l.path = dest
		if err := l.open(); err != nil {
			return nil, err
		}
	}
	go l.run()
	return l, nil
}

func (l *predictionLog) open() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open prediction log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open prediction log: %w", err)
	}
	l.file, l.w, l.size = f, f, st.Size()
	return nil
}

// take reports whether a row is sampled.
func (l *predictionLog) take() bool {
	return l.sample >= 1 || l.rand() < l.sample
}

// enqueue hands encoded lines to the writer, or drops them when the queue
// is full. It never blocks.
func (l *predictionLog) enqueue(b []byte, rows int) {
	if len(b) == 0 {
		return
	}
	n := int64(len(b))
	if l.pending.Add(n) > logQueueBytes {
		l.pending.Add(-n)
		l.dropped.Add(float64(rows))
		return
	}
	select {
	case l.ch <- logChunk{b: b, rows: rows}:
	default:
		l.pending.Add(-n)
		l.dropped.Add(float64(rows))
	}
}

func (l *predictionLog) run() {
	defer close(l.done)
	for {
		select {
		case c := <-l.ch:
			l.write(c)
		case <-l.stop:
			for {
				select {
				case c := <-l.ch:
					l.write(c)
				default:
					return
				}
			}
		}
	}
}

func (l *predictionLog) write(c logChunk) {
	l.pending.Add(-int64(len(c.b)))
	if l.file != nil && l.size > 0 && l.size+int64(len(c.b)) > l.maxBytes {
		if err := l.rotate(); err != nil {
			l.fail(err)
			l.dropped.Add(float64(c.rows))
			return
		}
	}
	if l.w == nil {
		l.dropped.Add(float64(c.rows))
		return
	}
	n, err := l.w.Write(c.b)
	l.size += int64(n)
	if err != nil {
		l.fail(fmt.Errorf("write prediction log: %w", err))
		l.dropped.Add(float64(c.rows))
	}
}

func (l *predictionLog) rotate() error {
	if err := l.file.Close(); err != nil {
		l.file, l.w = nil, nil
		return fmt.Errorf("rotate prediction log: %w", err)
	}
	l.file, l.w = nil, nil
	if err := os.Rename(l.path, l.path+".1"); err != nil {
		return fmt.Errorf("rotate prediction log: %w", err)
	}
	return l.open()
}

// fail logs the first write error; later ones only count as dropped rows.
func (l *predictionLog) fail(err error) {
	if !l.failed {
		l.failed = true
		l.logger.Error("prediction log failing; dropping rows", "err", err)
	}
}

// close writes what is queued and closes the file. Rows enqueued after
// close are not written.
func (l *predictionLog) close() error {
	var err error
	l.once.Do(func() {
		close(l.stop)
		<-l.done
		if l.file != nil {
			err = l.file.Close()
		}
	})
	return err
}

// logLines appends one JSON line per sampled row of a scored request.
func (s *Server) logLines(dst []byte, st *reqState, p protocol, now time.Time) ([]byte, int) {
	rows := 0
	var ts []byte
	for r := 0; r < st.t.rows; r++ {
		if !s.plog.take() {
			continue
		}
		if ts == nil {
			ts = now.UTC().AppendFormat(st.ts[:0], time.RFC3339Nano)
			st.ts = ts
		}
		rows++
		dst = append(dst, `{"time":"`...)
		dst = append(dst, ts...)
		dst = append(dst, s.logPrefix...)
		dst = append(dst, p.String()...)
		dst = append(dst, '"')
		if st.hasID {
			dst = append(dst, `,"id":`...)
			dst = appendString(dst, st.id)
		}
		dst = append(dst, `,"row":`...)
		dst = appendInt(dst, r)
		dst = append(dst, `,"features":{`...)
		num, str := st.t.row(r)
		for i := range num {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, s.logKeys[i]...)
			switch {
			case s.schema.isCat[i]:
				dst = appendString(dst, str[i])
			case math.IsNaN(num[i]):
				dst = append(dst, "null"...)
			default:
				dst = appendFloat(dst, num[i])
			}
		}
		dst = append(dst, `},"prediction":`...)
		switch {
		case !s.classifier:
			dst = appendFloat(dst, s.value(st, r))
		case s.classes == 2:
			dst = append(dst, s.classJSON[s.class(st, r)]...)
			dst = append(dst, `,"probability":`...)
			dst = appendFloat(dst, model.Sigmoid(st.scores[r]))
		default:
			dst = append(dst, s.classJSON[s.class(st, r)]...)
			dst = append(dst, `,"probabilities":[`...)
			dst = s.appendProbs(dst, st, r)
			dst = append(dst, ']')
		}
		dst = append(dst, "}\n"...)
	}
	return dst, rows
}
