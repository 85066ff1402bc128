package serve

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// keepAliveGrace is how long a connection must have been idle, once the
// listener is closed, before shutdown closes it; until every connection is
// that quiet (or gone) shutdown does not close any. A keep-alive connection can only be closed safely after a
// response that says Connection: close; closing it while idle races with a
// client that is just sending its next request on it, which then sees EOF
// or a reset (and net/http clients do not retry a POST). Clients under load
// send on their idle connections within milliseconds, so each gets one
// more answer, with Connection: close, and the server closes that
// connection after the reply.
const keepAliveGrace = 500 * time.Millisecond

// drainer turns keep-alives off for a shutting-down server: it marks every
// response Connection: close and tracks the state of every connection.
// A request already in the handler when draining starts answers without
// Connection: close, so its connection is not quiet until it has been idle
// for the grace: its client may reuse it (and then be told to close) or
// drop it.
type drainer struct {
	h        http.Handler
	draining atomic.Bool
	now      func() time.Time

	mu    sync.Mutex
	conns map[net.Conn]connSince
}

// connSince is a connection's state and when it entered it.
type connSince struct {
	state http.ConnState
	since time.Time
}

func newDrainer(h http.Handler, now func() time.Time) *drainer {
	return &drainer{h: h, now: now, conns: map[net.Conn]connSince{}}
}

// ServeHTTP serves with h, asking the client to close the connection once
// the server is draining.
func (d *drainer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d.draining.Load() {
		w.Header().Set("Connection", "close")
	}
	d.h.ServeHTTP(w, r)
}

// connState is the http.Server's ConnState hook.
func (d *drainer) connState(c net.Conn, st http.ConnState) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch st {
	case http.StateClosed, http.StateHijacked:
		delete(d.conns, c)
	default:
		d.conns[c] = connSince{st, d.now()}
	}
}

// drain starts sending Connection: close.
func (d *drainer) drain() { d.draining.Store(true) }

// unsettled returns the connections that are in use, or went idle (or
// were opened without a request yet) less than grace ago.
func (d *drainer) unsettled(grace time.Duration) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	now := d.now()
	for _, c := range d.conns {
		if c.state == http.StateActive || now.Sub(c.since) < grace {
			n++
		}
	}
	return n
}

// waitQuiet waits until no connection is unsettled, or until ctx is done,
// polling every tick.
func (d *drainer) waitQuiet(ctx context.Context, grace, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for d.unsettled(grace) > 0 {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
