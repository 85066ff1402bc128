package serve

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestDrainerConnectionClose(t *testing.T) {
	t.Parallel()
	d := newDrainer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), time.Now)
	for _, draining := range []bool{false, true} {
		if draining {
			d.drain()
		}
		rec := httptest.NewRecorder()
		d.ServeHTTP(rec, httptest.NewRequest("POST", "/invocations", nil))
		want := ""
		if draining {
			want = "close"
		}
		if got := rec.Header().Get("Connection"); got != want {
			t.Errorf("draining %v: Connection %q, want %q", draining, got, want)
		}
	}
}

func TestDrainerRecentlyIdle(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	d := newDrainer(http.NotFoundHandler(), func() time.Time { return now })
	a, b := &net.TCPConn{}, &net.TCPConn{}
	d.connState(a, http.StateIdle)
	now = now.Add(300 * time.Millisecond)
	d.connState(b, http.StateIdle)
	cases := []struct {
		advance time.Duration
		state   http.ConnState // applied to b first, 0: none
		want    int
	}{
		{0, 0, 2},
		{200 * time.Millisecond, 0, 1},              // a idle 500ms
		{0, http.StateActive, 0},                    // b in use again
		{100 * time.Millisecond, http.StateIdle, 1}, // b idle anew
		{499 * time.Millisecond, 0, 1},              // not yet quiet
		{time.Millisecond, 0, 0},                    // quiet
		{0, http.StateClosed, 0},                    // closed conns are forgotten
	}
	for i, c := range cases {
		now = now.Add(c.advance)
		if c.state != 0 {
			d.connState(b, c.state)
		}
		if got := d.recentlyIdle(keepAliveGrace); got != c.want {
			t.Errorf("step %d: %d recently idle, want %d", i, got, c.want)
		}
	}
	if len(d.idle) != 1 {
		t.Errorf("%d connections tracked, want 1 (a)", len(d.idle))
	}
}
