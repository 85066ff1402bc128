package serve

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// keepAliveGrace is how long shutdown waits, once the listener is closed,
// for the last keep-alive connections to turn idle-and-quiet before it
// closes them. A keep-alive connection can only be closed safely after a
// response that says Connection: close; closing it while idle races with a
// client that is just sending its next request on it, which then sees EOF
// or a reset (and net/http clients do not retry a POST). Clients under load
// send on their idle connections within milliseconds, so each gets one
// more answer, with Connection: close, and the server closes that
// connection after the reply.
const keepAliveGrace = 500 * time.Millisecond

// drainer turns keep-alives off for a shutting-down server: it marks every
// response Connection: close and tracks when connections went idle.
type drainer struct {
	h        http.Handler
	draining atomic.Bool
	now      func() time.Time

	mu   sync.Mutex
	idle map[net.Conn]time.Time // when each idle connection went idle
}

func newDrainer(h http.Handler, now func() time.Time) *drainer {
	return &drainer{h: h, now: now, idle: map[net.Conn]time.Time{}}
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
	if st == http.StateIdle {
		d.idle[c] = d.now()
	} else {
		delete(d.idle, c)
	}
}

// drain starts sending Connection: close.
func (d *drainer) drain() { d.draining.Store(true) }

// recentlyIdle returns the connections that went idle less than grace ago.
func (d *drainer) recentlyIdle(grace time.Duration) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	now := d.now()
	for _, at := range d.idle {
		if now.Sub(at) < grace {
			n++
		}
	}
	return n
}

// waitQuiet waits until no connection went idle less than grace ago, or
// until ctx is done, polling every tick.
func (d *drainer) waitQuiet(ctx context.Context, grace, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for d.recentlyIdle(grace) > 0 {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
