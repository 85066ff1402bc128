package serve

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// maxIdleDrain bounds how long shutdown waits, after the shutdown delay,
// for idle keep-alive connections to carry one last request.
const maxIdleDrain = time.Second

// drainer closes keep-alive connections gently during shutdown: once
// closing is set, every response carries Connection: close (the server
// closes the connection after it), and waitIdle waits for the
// connections that sit idle between requests to be used or closed by
// their clients, so that none is closed under a request the client is
// sending. http.Server.Shutdown alone closes idle connections at once,
// which resets the requests that race with it.
type drainer struct {
	closing atomic.Bool
	mu      sync.Mutex
	idle    map[net.Conn]struct{}
}

func (d *drainer) handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.closing.Load() {
			w.Header().Set("Connection", "close")
		}
		h.ServeHTTP(w, r)
	})
}

// connState is the http.Server's ConnState hook: it tracks idle
// connections.
func (d *drainer) connState(c net.Conn, st http.ConnState) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if st == http.StateIdle {
		if d.idle == nil {
			d.idle = map[net.Conn]struct{}{}
		}
		d.idle[c] = struct{}{}
		return
	}
	delete(d.idle, c)
}

// idleConns returns the number of idle connections.
func (d *drainer) idleConns() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.idle)
}

// waitIdle waits up to max until no connection is idle, polling.
func (d *drainer) waitIdle(max time.Duration) {
	deadline := time.Now().Add(max)
	for d.idleConns() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
}
