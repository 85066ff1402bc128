package github

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/modelci/modelci/internal/github/githubtest"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	p := DefaultRetryPolicy
	cases := []struct {
		n    int
		rnd  func() float64
		want time.Duration
	}{
		{1, nil, time.Second},
		{2, nil, 2 * time.Second},
		{6, nil, 30 * time.Second}, // 32s capped at MaxDelay
		{40, nil, 30 * time.Second},
		{1, func() float64 { return 0 }, 500 * time.Millisecond},
		{1, func() float64 { return 0.999 }, 999500 * time.Microsecond},
		{3, func() float64 { return 0.25 }, 2500 * time.Millisecond},
		{1, func() float64 { return 7 }, 500 * time.Millisecond}, // out of range: no jitter above the base half
	}
	for _, tc := range cases {
		if got := backoff(p, tc.n, tc.rnd); got != tc.want {
			t.Errorf("backoff(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"12", 12 * time.Second, true},
		{"0", 0, true},
		{"-3", 0, true},
		{"Sat, 01 Jun 2024 12:01:30 GMT", 90 * time.Second, true},
		{"Sat, 01 Jun 2024 11:00:00 GMT", 0, true},
		{"soon", 0, false},
	}
	for _, tc := range cases {
		h := http.Header{}
		if tc.v != "" {
			h.Set("Retry-After", tc.v)
		}
		got, ok := retryAfter(h, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Retry-After %q = %v, %v; want %v, %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
}

// TestTransportDirect drives the transport without go-github, to see what
// it does with each kind of answer.
func TestTransportDirect(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		method string
		path   string
		fault  githubtest.Fault
		policy RetryPolicy
		// tries of the path, final status, waits
		tries  int
		status int
		sleeps []time.Duration
	}{
		{
			name: "POST 502 is not repeated by the transport", method: http.MethodPost, path: listPath,
			fault: githubtest.BadGateway(http.MethodPost, listPath),
			tries: 1, status: http.StatusBadGateway,
		},
		{
			name: "POST 429 is repeated (GitHub did nothing)", method: http.MethodPost, path: listPath,
			fault: githubtest.TooManyRequests(http.MethodPost, listPath, 2),
			tries: 2, status: http.StatusCreated, sleeps: []time.Duration{2 * time.Second},
		},
		{
			name: "403 without rate-limit signs is a permission problem: no retry", method: http.MethodGet, path: "/user",
			fault: githubtest.Fault{Method: http.MethodGet, Path: "/user", Status: http.StatusForbidden, Body: `{"message":"Resource not accessible by integration"}`},
			tries: 1, status: http.StatusForbidden,
		},
		{
			name: "504 then success", method: http.MethodGet, path: "/user",
			fault: githubtest.Fault{Method: http.MethodGet, Path: "/user", Status: http.StatusGatewayTimeout, Body: "{}", Times: 1},
			tries: 2, status: http.StatusOK, sleeps: []time.Duration{750 * time.Millisecond},
		},
		{
			name: "503 with Retry-After longer than the backoff", method: http.MethodGet, path: "/user",
			fault: githubtest.Fault{Method: http.MethodGet, Path: "/user", Status: http.StatusServiceUnavailable, Header: http.Header{"Retry-After": {"9"}}, Body: "{}"},
			tries: 2, status: http.StatusOK, sleeps: []time.Duration{9 * time.Second},
		},
		{
			name: "the waiting budget stops retries", method: http.MethodGet, path: "/user",
			fault:  githubtest.Fault{Method: http.MethodGet, Path: "/user", Status: http.StatusBadGateway, Body: "{}", Times: 10},
			policy: RetryPolicy{MaxWait: 2 * time.Second, MaxAttempts: 10},
			// 0.75s + 1.5s would exceed 2s: one wait only.
			tries: 2, status: http.StatusBadGateway, sleeps: []time.Duration{750 * time.Millisecond},
		},
		{
			name: "a primary rate limit resetting in an hour is not waited for", method: http.MethodGet, path: "/user",
			fault: githubtest.PrimaryRateLimit(http.MethodGet, "/user", start.Add(time.Hour)),
			tries: 1, status: http.StatusForbidden,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, "")
			f.srv.Inject(tc.fault)
			tr := &Transport{Base: f.srv.Client().Transport, Policy: tc.policy, Clock: f.clock, Rand: func() float64 { return 0.5 }}
			var body io.Reader
			if tc.method == http.MethodPost {
				body = strings.NewReader(`{"body":"hello"}`)
			}
			req, err := http.NewRequest(tc.method, f.srv.URL()+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+pat)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status = %d, want %d (%s)", resp.StatusCode, tc.status, b)
			}
			if tc.status == http.StatusForbidden && len(b) == 0 {
				t.Error("the 403 body was not handed on after classification")
			}
			if n := f.srv.Count(tc.method, tc.path); n != tc.tries {
				t.Errorf("%d tries, want %d", n, tc.tries)
			}
			if got := f.clock.Sleeps(); len(got) != len(tc.sleeps) || (len(got) > 0 && got[0] != tc.sleeps[0]) {
				t.Errorf("sleeps = %v, want %v", got, tc.sleeps)
			}
			if tc.method == http.MethodPost && tc.status == http.StatusCreated {
				if cs := f.srv.Comments(owner, repo, pr); len(cs) != 1 || cs[0].Body != "hello" {
					t.Errorf("replayed body: comments = %+v", cs)
				}
			}
		})
	}
}

type cancelClock struct{ *githubtest.Clock }

func (cancelClock) Sleep(ctx context.Context, d time.Duration) error { return context.Canceled }

func TestTransportSleepCancelled(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "")
	f.srv.Inject(githubtest.TooManyRequests(http.MethodGet, "/user", 5))
	tr := &Transport{Base: f.srv.Client().Transport, Clock: cancelClock{f.clock}}
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL()+"/user", nil)
	req.Header.Set("Authorization", "Bearer "+pat)
	_, err := tr.RoundTrip(req)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	marker := Marker(model)
	table := "| a | b |\n|---|---|\n" + strings.Repeat("| 1 | 2 |\n", 3000)
	cases := []struct {
		name    string
		body    string
		max     int
		check   func(t *testing.T, out string)
		noop    bool
		markerF bool // marker expected first
	}{
		{name: "short body untouched", body: marker + "\nhi\n", max: 1000, noop: true},
		{
			name: "cut at a blank line", max: 20000,
			body: marker + "\n" + strings.Repeat("paragraph text here.\n\n", 2000),
			check: func(t *testing.T, out string) {
				if !strings.Contains(out, "here.\n\n> [!NOTE]") {
					t.Error("not cut after a paragraph")
				}
			},
		},
		{
			name: "open code fence closed", max: 5000,
			body: marker + "\n```text\n" + strings.Repeat("line of output\n", 1000) + "```\n",
			check: func(t *testing.T, out string) {
				if strings.Count(out, "```") != 2 {
					t.Errorf("fences: %d", strings.Count(out, "```"))
				}
			},
		},
		{
			name: "open details closed", max: 5000,
			body: marker + "\n<details><summary>rows</summary>\n\n" + table + "</details>\n",
			check: func(t *testing.T, out string) {
				if strings.Count(out, "<details") != strings.Count(out, "</details>") {
					t.Error("details left open")
				}
			},
		},
		{
			name: "marker put back when it was at the end", max: 5000,
			body: table + marker + "\n", markerF: true,
		},
		{
			name: "multi-byte text cut on a character boundary", max: 3001,
			body: marker + "\n" + strings.Repeat("é∑😀", 5000),
			check: func(t *testing.T, out string) {
				if !utf8.ValidString(out) {
					t.Error("invalid UTF-8")
				}
			},
		},
	}
	for _, tc := range cases {
		out := Truncate(tc.body, marker, tc.max, TruncationNote)
		if tc.noop {
			if out != tc.body {
				t.Errorf("%s: changed", tc.name)
			}
			continue
		}
		if len(out) > tc.max {
			t.Errorf("%s: %d bytes > %d", tc.name, len(out), tc.max)
		}
		if !strings.Contains(out, marker) || !strings.HasSuffix(out, TruncationNote+"\n") {
			t.Errorf("%s: marker or note missing", tc.name)
		}
		if tc.markerF && !strings.HasPrefix(out, marker+"\n") {
			t.Errorf("%s: marker not first", tc.name)
		}
		if tc.check != nil {
			tc.check(t, out)
		}
	}
	if got := truncateTarget(strings.Repeat("x", 70000)); got != truncateBudget {
		t.Errorf("target of a long body = %d", got)
	}
	if got := truncateTarget(strings.Repeat("x", 30000)); got != 15000 {
		t.Errorf("target of a body a smaller server refused = %d, want half", got)
	}
}
