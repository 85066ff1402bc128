// Package httpretry provides the retrying HTTP transport that modelci's API
// clients (GitHub and GitLab) share: rate limits are waited out when the
// server says for how long, 502/503/504 are retried with exponential
// backoff and jitter for requests that are safe to repeat, and every try
// and every wait is bounded. NewClient builds an API client's http.Client
// around it. The clock is injected, so tests never sleep.
package httpretry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/modelci/modelci/internal/proc"
)

// Policy bounds the retries of the transport. Zero fields take the
// defaults of DefaultPolicy.
type Policy struct {
	// MaxAttempts is the number of tries of one request, the first included.
	MaxAttempts int
	// MaxWait is the total time one request may spend waiting between
	// tries. A wait that would exceed it is not started: the last response
	// is returned instead.
	MaxWait time.Duration
	// BaseDelay is the first backoff of a 502/503/504; it doubles per try.
	BaseDelay time.Duration
	// MaxDelay caps one backoff of a 502/503/504.
	MaxDelay time.Duration
	// SecondaryWait is the wait after a secondary rate limit (or a 429)
	// that names no time of its own; it doubles per try. GitHub's docs ask
	// for at least one minute; GitLab names none.
	SecondaryWait time.Duration
	// AttemptTimeout bounds one try (until the response headers arrive and
	// while its body is read).
	AttemptTimeout time.Duration
}

// DefaultPolicy: 5 tries, at most 3 minutes of waiting per request.
var DefaultPolicy = Policy{
	MaxAttempts:    5,
	MaxWait:        3 * time.Minute,
	BaseDelay:      time.Second,
	MaxDelay:       30 * time.Second,
	SecondaryWait:  time.Minute,
	AttemptTimeout: 30 * time.Second,
}

// WithDefaults returns p with its zero fields taken from DefaultPolicy.
func (p Policy) WithDefaults() Policy {
	d := DefaultPolicy
	if p.MaxAttempts > 0 {
		d.MaxAttempts = p.MaxAttempts
	}
	if p.MaxWait > 0 {
		d.MaxWait = p.MaxWait
	}
	if p.BaseDelay > 0 {
		d.BaseDelay = p.BaseDelay
	}
	if p.MaxDelay > 0 {
		d.MaxDelay = p.MaxDelay
	}
	if p.SecondaryWait > 0 {
		d.SecondaryWait = p.SecondaryWait
	}
	if p.AttemptTimeout > 0 {
		d.AttemptTimeout = p.AttemptTimeout
	}
	return d
}

// Transport is an http.RoundTripper that retries API requests of GitHub
// and GitLab:
//
//   - 429 and GitHub's 403 secondary rate limits (a 403 whose body mentions
//     a secondary rate limit or abuse detection, or that carries
//     Retry-After): it waits for Retry-After, else until the reset time
//     (X-RateLimit-Reset on GitHub, RateLimit-Reset on GitLab, epoch
//     seconds) when the remaining count is 0, else SecondaryWait doubled
//     per try;
//   - 403/429 primary rate limits (X-RateLimit-Remaining or
//     RateLimit-Remaining: 0): it waits until the reset time, if that fits
//     in the budget;
//   - 502, 503 and 504 of idempotent requests (everything but POST):
//     exponential backoff with jitter, or Retry-After when the server sends
//     one. A POST that failed with a 5xx may have been applied (GitHub
//     answers 502 when its backend is slow, not only when it failed), so it
//     is not repeated blindly; the caller reconciles (see the Upsert of
//     internal/github and internal/gitlab).
//
// Rate-limited requests are safe to repeat whatever their method: the
// server rejected them before doing anything. go-github v60 maps only 403
// to its rate-limit errors, not 429, which is why this happens in the
// transport.
//
// Tries and waiting time are bounded by the policy; when a bound is hit
// the last response is returned unchanged, so the client turns it into its
// usual typed error.
type Transport struct {
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Policy bounds the retries.
	Policy Policy
	// Clock waits between tries; nil means proc.SystemClock.
	Clock proc.Clock
	// Rand returns numbers in [0, 1) for the jitter; nil means no jitter
	// (the upper end of each backoff).
	Rand func() float64
	// Logf, if set, is told about every retry.
	Logf func(format string, args ...any)
	// Service names the API in messages, e.g. "GitHub API"; empty means
	// "API".
	Service string
}

func (t *Transport) service() string {
	if t.Service == "" {
		return "API"
	}
	return t.Service
}

// maxErrorBody is how much of an error response is read to classify it.
const maxErrorBody = 1 << 20

// RoundTrip sends req, retrying as described on Transport.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	p := t.Policy.WithDefaults()
	clock := t.Clock
	if clock == nil {
		clock = proc.SystemClock{}
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	ctx := req.Context()
	var (
		waited          time.Duration
		backoffs        int // 5xx retries so far
		secondaryWaits  int // secondary rate limit retries so far
		replayable      = req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
		idempotent      = req.Method != http.MethodPost
		attemptRequest  = req
		lastResponseErr error
	)
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			r, err := rewind(req, t.service())
			if err != nil {
				return nil, err
			}
			attemptRequest = r
		}
		resp, err := t.try(base, attemptRequest, p.AttemptTimeout)
		if err != nil {
			// Transport errors (connection refused, reset, timeout) are
			// not retried: a POST may have arrived, and a server that
			// cannot be reached rarely comes back within the budget.
			if lastResponseErr != nil {
				return nil, fmt.Errorf("%w (after %v)", err, lastResponseErr)
			}
			return nil, err
		}
		d := classify(resp, clock.Now())
		if d.kind == noRetry || !replayable || attempt >= p.MaxAttempts {
			return resp, nil
		}
		var wait time.Duration
		switch d.kind {
		case retryServer:
			if !idempotent {
				return resp, nil
			}
			backoffs++
			wait = Backoff(p, backoffs, t.Rand)
			if d.wait > wait {
				wait = d.wait
			}
		case retrySecondary:
			secondaryWaits++
			wait = d.wait
			if wait < 0 {
				wait = p.SecondaryWait << (secondaryWaits - 1)
			}
		case retryPrimary:
			wait = d.wait
		}
		if waited+wait > p.MaxWait {
			if t.Logf != nil {
				t.Logf("%s %s %s: %s; not retrying: waiting %s would exceed the %s budget", t.service(), req.Method, req.URL.Path, d.reason, wait.Round(time.Second), p.MaxWait)
			}
			return resp, nil
		}
		drain(resp)
		if t.Logf != nil {
			t.Logf("%s %s %s: %s; retrying in %s (try %d of %d)", t.service(), req.Method, req.URL.Path, d.reason, wait.Round(time.Millisecond), attempt+1, p.MaxAttempts)
		}
		lastResponseErr = errors.New(d.reason)
		if err := clock.Sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("%s %s %s: waiting to retry after %s: %w", t.service(), req.Method, req.URL.Path, d.reason, err)
		}
		waited += wait
	}
}

// try sends one request with its own timeout, which stays in force while
// the body is read and is released when the body is closed.
func (t *Transport) try(base http.RoundTripper, req *http.Request, timeout time.Duration) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), timeout)
	resp, err := base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// rewind returns a copy of req with a fresh body.
func rewind(req *http.Request, service string) (*http.Request, error) {
	r := req.Clone(req.Context())
	if req.Body == nil || req.Body == http.NoBody {
		return r, nil
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, fmt.Errorf("%s %s %s: rewind the request body to retry: %w", service, req.Method, req.URL.Path, err)
	}
	r.Body = body
	return r, nil
}

// drain reads a little of a response that is being thrown away, so the
// connection can be reused, and closes it.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

type retryKind int

const (
	noRetry retryKind = iota
	retryServer
	retrySecondary
	retryPrimary
)

type decision struct {
	kind   retryKind
	wait   time.Duration // < 0: no time given, use the policy's wait
	reason string
}

// classify decides whether a response is worth another try. A 403 or 429
// body is read (and put back) to tell GitHub's secondary rate limit from a
// missing permission.
func classify(resp *http.Response, now time.Time) decision {
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		wait, _ := retryAfter(resp.Header, now)
		return decision{kind: retryServer, wait: wait, reason: resp.Status}
	case http.StatusForbidden, http.StatusTooManyRequests:
	default:
		return decision{kind: noRetry}
	}
	body := peekBody(resp)
	lower := strings.ToLower(string(body))
	secondary := strings.Contains(lower, "secondary rate limit") || strings.Contains(lower, "abuse detection")
	wait, hasRetryAfter := retryAfter(resp.Header, now)
	remaining := rateHeader(resp.Header, "Remaining")
	tooMany := resp.StatusCode == http.StatusTooManyRequests
	switch {
	case secondary || hasRetryAfter || (tooMany && remaining != "0"):
		switch {
		case hasRetryAfter:
		case remaining == "0":
			wait = untilReset(resp.Header, now)
		default:
			wait = -1
		}
		label := "secondary rate limit"
		if tooMany && !secondary {
			label = "rate limited"
		}
		return decision{kind: retrySecondary, wait: wait, reason: fmt.Sprintf("%s (%s)", resp.Status, label)}
	case remaining == "0":
		return decision{kind: retryPrimary, wait: untilReset(resp.Header, now), reason: fmt.Sprintf("%s (rate limit exhausted)", resp.Status)}
	}
	return decision{kind: noRetry}
}

// rateHeader reads a rate-limit header: GitHub's X-RateLimit-<name>, else
// GitLab's RateLimit-<name>.
func rateHeader(h http.Header, name string) string {
	if v := strings.TrimSpace(h.Get("X-RateLimit-" + name)); v != "" {
		return v
	}
	return strings.TrimSpace(h.Get("RateLimit-" + name))
}

// peekBody reads the body of an error response and restores it.
func peekBody(resp *http.Response) []byte {
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	rest := resp.Body
	if err != nil {
		b = nil
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), rest), rest}
	return b
}

// retryAfter parses Retry-After: delay seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			s = 0
		}
		if s > math.MaxInt64/int64(time.Second) {
			s = math.MaxInt64 / int64(time.Second)
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d, true
		}
		return 0, true
	}
	return 0, false
}

// untilReset is the time until X-RateLimit-Reset or RateLimit-Reset (UTC
// epoch seconds), plus one second because the reset is rounded down; at
// least one second.
func untilReset(h http.Header, now time.Time) time.Duration {
	s, err := strconv.ParseInt(rateHeader(h, "Reset"), 10, 64)
	if err != nil {
		return time.Second
	}
	d := time.Unix(s, 0).Sub(now) + time.Second
	if d < time.Second {
		return time.Second
	}
	return d
}

// Backoff is the n-th (1-based) exponential backoff with "equal jitter":
// half the delay is fixed and half is random, so a retry never comes
// immediately yet clients spread out.
func Backoff(p Policy, n int, rnd func() float64) time.Duration {
	d := p.BaseDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	if d > p.MaxDelay {
		d = p.MaxDelay
	}
	if rnd == nil {
		return d
	}
	r := rnd()
	if r < 0 || r >= 1 || math.IsNaN(r) {
		r = 0
	}
	half := d / 2
	return half + time.Duration(r*float64(d-half))
}
