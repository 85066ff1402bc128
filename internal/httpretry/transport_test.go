package httpretry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelci/modelci/internal/github/githubtest"
)

const (
	owner = "acme"
	repo  = "house"
	pr    = 7
	pat   = "ghp_personal_token_0001"
)

var (
	start    = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	listPath = fmt.Sprintf("/repos/%s/%s/issues/%d/comments", owner, repo, pr)
)

// fixture is a fake GitHub (internal/github/githubtest) with one token and
// one pull request, and a fake clock.
type fixture struct {
	srv   *githubtest.Server
	clock *githubtest.Clock
}

func newFixture(t *testing.T, prefix string) *fixture {
	t.Helper()
	srv := githubtest.New(githubtest.Options{Prefix: prefix})
	t.Cleanup(srv.Close)
	srv.AddToken(pat, githubtest.Token{Account: githubtest.Account{Login: "octo-ci", ID: 101, Type: "User"}})
	srv.AddPullRequest(owner, repo, pr)
	return &fixture{srv: srv, clock: githubtest.NewClock(start)}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	p := DefaultPolicy
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
		if got := Backoff(p, tc.n, tc.rnd); got != tc.want {
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
		policy Policy
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
			policy: Policy{MaxWait: 2 * time.Second, MaxAttempts: 10},
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

// TestTransportGitLab: GitLab's answers. A 429 names its wait in
// Retry-After, or in RateLimit-Reset (epoch seconds, no X- prefix) with
// RateLimit-Remaining: 0; a 403 is a permission problem, never a rate
// limit; the log names the service.
func TestTransportGitLab(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		method  string
		answers []answer
		tries   int
		status  int
		sleeps  []time.Duration
		log     string
	}{
		{
			name: "429 with Retry-After", method: http.MethodPost,
			answers: []answer{{status: 429, header: http.Header{"Retry-After": {"4"}}, body: `{"message":"429 Too Many Requests"}`}},
			tries:   2, status: 201, sleeps: []time.Duration{4 * time.Second},
			log: "GitLab API POST /api/v4/projects/1/merge_requests/2/notes: 429 Too Many Requests (rate limited); retrying in 4s",
		},
		{
			name: "429 with RateLimit-Reset", method: http.MethodGet,
			answers: []answer{{status: 429, header: http.Header{"Ratelimit-Remaining": {"0"}, "Ratelimit-Reset": {fmt.Sprint(start.Add(20 * time.Second).Unix())}}, body: `{"message":"429 Too Many Requests"}`}},
			tries:   2, status: 200, sleeps: []time.Duration{21 * time.Second},
		},
		{
			name: "429 naming no time: the policy's wait, doubled", method: http.MethodGet,
			answers: []answer{{status: 429}, {status: 429}},
			tries:   3, status: 200, sleeps: []time.Duration{time.Minute, 2 * time.Minute},
		},
		{
			name: "403 Forbidden is not retried", method: http.MethodPost,
			answers: []answer{{status: 403, body: `{"message":"403 Forbidden"}`}},
			tries:   1, status: 403,
		},
		{
			name: "503 on a PUT is retried with backoff", method: http.MethodPut,
			answers: []answer{{status: 503, body: `{"message":"503"}`}},
			tries:   2, status: 200, sleeps: []time.Duration{750 * time.Millisecond},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newScripted(t, tc.answers)
			clock := githubtest.NewClock(start)
			var log strings.Builder
			tr := &Transport{Base: srv.Client().Transport, Clock: clock, Rand: func() float64 { return 0.5 }, Service: "GitLab API",
				Logf: func(format string, args ...any) { fmt.Fprintf(&log, format+"\n", args...) }}
			var body io.Reader
			if tc.method != http.MethodGet {
				body = strings.NewReader(`{"body":"hi"}`)
			}
			req, err := http.NewRequest(tc.method, srv.URL+"/api/v4/projects/1/merge_requests/2/notes", body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d (%s)", resp.StatusCode, tc.status, b)
			}
			if n := srv.tries(); n != tc.tries {
				t.Errorf("%d tries, want %d", n, tc.tries)
			}
			if got := clock.Sleeps(); fmt.Sprint(got) != fmt.Sprint(tc.sleeps) {
				t.Errorf("sleeps %v, want %v", got, tc.sleeps)
			}
			if tc.log != "" && !strings.Contains(log.String(), tc.log) {
				t.Errorf("log lacks %q:\n%s", tc.log, log.String())
			}
			if bodies := srv.bodies(); tc.method != http.MethodGet && len(bodies) == tc.tries {
				for _, got := range bodies {
					if got != `{"body":"hi"}` {
						t.Errorf("replayed body %q", got)
					}
				}
			}
		})
	}
}

type answer struct {
	status int
	header http.Header
	body   string
}

// scripted answers its requests with the given answers in order, then with
// success (201 for POST, 200 otherwise).
type scripted struct {
	*httptest.Server
	mu      sync.Mutex
	answers []answer
	n       int
	got     []string
}

func newScripted(t *testing.T, answers []answer) *scripted {
	s := &scripted{answers: answers}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.got = append(s.got, string(b))
		i := s.n
		s.n++
		if i < len(s.answers) {
			a := s.answers[i]
			for k, v := range a.header {
				w.Header()[k] = v
			}
			w.WriteHeader(a.status)
			_, _ = io.WriteString(w, a.body)
			return
		}
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusCreated)
		}
		_, _ = io.WriteString(w, `{"id":1}`)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *scripted) tries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (s *scripted) bodies() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}
