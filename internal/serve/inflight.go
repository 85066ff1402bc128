package serve

import (
	"net/http"
	"sync/atomic"
)

// byteBudget bounds the request-body bytes held by requests in flight.
// It never blocks: a request that does not fit is answered 503 with
// Retry-After at once, so that a burst of large bodies sheds load instead
// of queueing memory (a blocking semaphore such as x/sync's Weighted
// would hold the connections and their buffers while they wait).
type byteBudget struct {
	max  int64
	used atomic.Int64
}

// tryAcquire takes n bytes from the budget; it reports false, taking
// nothing, when they do not fit.
func (b *byteBudget) tryAcquire(n int64) bool {
	for {
		u := b.used.Load()
		if u+n > b.max {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

func (b *byteBudget) release(n int64) { b.used.Add(-n) }

// retryAfterSeconds is the Retry-After of a 503 for a full budget.
const retryAfterSeconds = "1"

func (s *Server) overBudget() *httpError {
	return errorf(http.StatusServiceUnavailable, "the server is at its limit of %d request-body bytes in flight (--max-inflight-bytes); retry later", s.budget.max)
}

// hold takes n more bytes for st's body from the budget.
func (s *Server) hold(st *reqState, n int64) *httpError {
	if n <= 0 {
		return nil
	}
	if !s.budget.tryAcquire(n) {
		return s.overBudget()
	}
	st.held += n
	return nil
}

// unhold returns st's bytes to the budget.
func (s *Server) unhold(st *reqState) {
	s.budget.release(st.held)
	st.held = 0
}
