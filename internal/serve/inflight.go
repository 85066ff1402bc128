package serve

import (
	"fmt"
	"net/http"
	"sync"
	"time"
)

// inflight bounds the bytes of the request bodies being read or answered
// at once. It never blocks: a request that does not fit is refused at once
// with 503 and Retry-After, so that a burst of large bodies costs the
// process at most the budget, not one buffer per client.
//
// It is a counter under a mutex rather than golang.org/x/sync/semaphore:
// only the non-blocking TryAcquire would be used, and the count in use is
// needed for the tests and the log.
type inflight struct {
	mu   sync.Mutex
	max  int64
	used int64
}

func newInflight(max int64) *inflight { return &inflight{max: max} }

// tryAcquire reserves n bytes and reports whether they fit.
func (l *inflight) tryAcquire(n int64) bool {
	if n <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if n > l.max-l.used {
		return false
	}
	l.used += n
	return true
}

// release returns n bytes reserved by tryAcquire.
func (l *inflight) release(n int64) {
	if n <= 0 {
		return
	}
	l.mu.Lock()
	l.used -= n
	l.mu.Unlock()
}

// inUse returns the bytes reserved now.
func (l *inflight) inUse() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.used
}

// bodyWeight is what a request reserves: its Content-Length when known
// (nothing when it exceeds the body limit: readBody refuses it with 413
// before reading), else the body limit, the most a chunked body can grow
// to.
func bodyWeight(r *http.Request, maxBody int64) int64 {
	switch {
	case r.ContentLength > maxBody:
		return 0
	case r.ContentLength >= 0:
		return r.ContentLength
	}
	return maxBody
}

// DefaultInflightFactor is how many bodies of the largest size may be in
// flight when --max-inflight-bytes is not set.
const DefaultInflightFactor = 4

// inflightBudget returns the in-flight byte budget: max, or
// DefaultInflightFactor bodies of maxBody when max is 0.
func inflightBudget(max, maxBody int64) int64 {
	if max > 0 {
		return max
	}
	return DefaultInflightFactor * maxBody
}

// checkInflight refuses a budget smaller than one body of the largest
// size: such a body could never be served.
func checkInflight(max, maxBody int64) error {
	if max > 0 && max < maxBody {
		return fmt.Errorf("%w: --max-inflight-bytes (%s) is smaller than --max-body-bytes (%s): the largest body could never be served", ErrConfig, formatSize(max), formatSize(maxBody))
	}
	return nil
}

// busy is the answer to a request that does not fit in the budget.
func busy(n, max int64) *httpError {
	return errorf(http.StatusServiceUnavailable, "the server is busy: a %d-byte request body does not fit in the %d bytes it reads at once (--max-inflight-bytes); retry later", n, max)
}

// memoryReleaser returns the memory of large request buffers to the
// operating system once the burst that needed them is over: at most once
// per interval, after a request whose buffers were too large to pool. The
// Go runtime otherwise keeps the heap it grew until its next GC, which an
// idle server may not run for two minutes.
type memoryReleaser struct {
	mu       sync.Mutex
	pending  bool
	interval time.Duration
	free     func()                                  // debug.FreeOSMemory
	after    func(time.Duration, func()) *time.Timer // time.AfterFunc
}

// note schedules a release unless one is pending.
func (m *memoryReleaser) note() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pending {
		return
	}
	m.pending = true
	m.after(m.interval, func() {
		m.mu.Lock()
		m.pending = false
		m.mu.Unlock()
		m.free()
	})
}
