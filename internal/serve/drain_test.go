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

func TestDrainerUnsettled(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	d := newDrainer(http.NotFoundHandler(), func() time.Time { return now })
	a, b := &net.TCPConn{}, &net.TCPConn{}
	d.connState(a, http.StateIdle)
	now = now.Add(300 * time.Millisecond)
	d.connState(b, http.StateNew)
	cases := []struct {
		advance time.Duration
		state   http.ConnState // applied to b, -1: none
		want    int
	}{
		{0, -1, 2},
		{200 * time.Millisecond, -1, 1}, // a idle 500ms: quiet
		{0, http.StateActive, 1},        // b in use
		{time.Hour, -1, 1},              // in use stays unsettled
		{0, http.StateIdle, 1},          // b idle anew
		{499 * time.Millisecond, -1, 1}, // not yet quiet
		{time.Millisecond, -1, 0},       // quiet
		{0, http.StateClosed, 0},        // closed conns are forgotten
	}
	for i, c := range cases {
		now = now.Add(c.advance)
		if c.state >= 0 {
			d.connState(b, c.state)
		}
		if got := d.unsettled(keepAliveGrace); got != c.want {
			t.Errorf("step %d: %d unsettled, want %d", i, got, c.want)
		}
	}
	if len(d.conns) != 1 {
		t.Errorf("%d connections tracked, want 1 (a)", len(d.conns))
	}
}
