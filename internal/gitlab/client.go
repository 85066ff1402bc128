// Package gitlab provides modelci's conversation with the GitLab REST API
// (v4): a small typed client for GET /user and the merge request notes
// endpoints (list, create, update), sent through the retrying transport of
// internal/httpretry, and the sticky merge request note that carries the
// model report (Client.Upsert).
//
// It is deliberately small rather than gitlab.com/gitlab-org/api/client-go:
// four endpoints do not justify ~110,000 lines of generated API surface
// with its own retrying HTTP client (hashicorp/go-retryablehttp) and a
// wall-clock rate limiter (golang.org/x/time/rate) that would bypass the
// shared retry rules and the injected clock.
package gitlab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/modelci/modelci/internal/httpretry"
	"github.com/modelci/modelci/internal/proc"
)

// DefaultAPIURL is GitLab.com's REST API; in a job, CI_API_V4_URL names the
// instance's.
const DefaultAPIURL = "https://gitlab.com/api/v4"

// TokenKind says how the token is sent.
type TokenKind string

// Token kinds. See https://docs.gitlab.com/api/rest/authentication/.
const (
	// PrivateToken is a personal, project or group access token, sent as
	// "PRIVATE-TOKEN: <token>". Project and group access tokens act as a
	// bot user of the project or group.
	PrivateToken TokenKind = "private"
	// BearerToken is an OAuth 2.0 token (access tokens are accepted too),
	// sent as "Authorization: Bearer <token>".
	BearerToken TokenKind = "bearer"
	// JobToken is a CI/CD job token (CI_JOB_TOKEN), sent as
	// "JOB-TOKEN: <token>". GitLab does not accept it for notes:
	// https://docs.gitlab.com/ci/jobs/ci_job_token/.
	JobToken TokenKind = "job"
)

// Options configure a Client.
type Options struct {
	// Token authenticates every request; TokenKind says how it is sent
	// (default PrivateToken).
	Token     string
	TokenKind TokenKind
	// APIURL is CI_API_V4_URL, e.g. https://gitlab.example.com/api/v4;
	// empty means DefaultAPIURL.
	APIURL string
	// HTTPClient sends the requests; its Transport is wrapped by the
	// retrying transport. Required.
	HTTPClient *http.Client
	// Retry bounds the retries; zero fields take httpretry.DefaultPolicy's.
	Retry httpretry.Policy
	// Clock waits between retries; nil means proc.SystemClock.
	Clock proc.Clock
	// Rand returns numbers in [0, 1) for the backoff jitter.
	Rand func() float64
	// Logf, if set, is told about retries.
	Logf func(format string, args ...any)
	// UserAgent identifies modelci to GitLab.
	UserAgent string
}

// Client talks to one GitLab API endpoint with one token.
type Client struct {
	base      *url.URL
	hc        *http.Client
	token     string
	kind      TokenKind
	userAgent string
	clock     proc.Clock
	rand      func() float64
	policy    httpretry.Policy

	mu   sync.Mutex
	user *User
}

// NewClient builds a client. It never sends a request.
func NewClient(o Options) (*Client, error) {
	retry := httpretry.ClientOptions{Policy: o.Retry, Clock: o.Clock, Rand: o.Rand, Logf: o.Logf, Service: "GitLab API"}.WithDefaults()
	hc, err := httpretry.NewClient(o.HTTPClient, retry)
	if err != nil {
		return nil, fmt.Errorf("gitlab client: %w", err)
	}
	if strings.TrimSpace(o.Token) == "" {
		return nil, errors.New("gitlab client: no token")
	}
	kind := o.TokenKind
	switch kind {
	case "":
		kind = PrivateToken
	case PrivateToken, BearerToken, JobToken:
	default:
		return nil, fmt.Errorf("gitlab client: unknown token kind %q", kind)
	}
	base, err := apiURL(o.APIURL)
	if err != nil {
		return nil, err
	}
	// Never follow a redirect with the token to another host.
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && (req.URL.Host != via[0].URL.Host || req.URL.Scheme != via[0].URL.Scheme) {
			return fmt.Errorf("gitlab client: refusing to follow a redirect from %s to %s", via[0].URL.Host, req.URL.Host)
		}
		if len(via) >= 5 {
			return errors.New("gitlab client: too many redirects")
		}
		return nil
	}
	ua := o.UserAgent
	if ua == "" {
		ua = "modelci"
	}
	return &Client{base: base, hc: hc, token: strings.TrimSpace(o.Token), kind: kind, userAgent: ua, clock: retry.Clock, rand: retry.Rand, policy: retry.Policy}, nil
}

// apiURL validates CI_API_V4_URL.
func apiURL(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = DefaultAPIURL
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("gitlab client: API URL %q is not an http(s) URL (CI_API_V4_URL, e.g. https://gitlab.example.com/api/v4)", s)
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// BaseURL is the API root the client sends requests to.
func (c *Client) BaseURL() string { return c.base.String() }

// maxResponse bounds a response body: a page of 100 notes of up to
// 1,000,000 characters each stays below it.
const maxResponse = 512 << 20

// do sends one request to the API path (already escaped, without the
// leading slash), decodes a 2xx JSON answer into out and returns its
// headers. A non-2xx answer is an *APIError.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) (http.Header, error) {
	u, err := url.Parse(c.base.String() + "/" + path)
	if err != nil {
		return nil, fmt.Errorf("GitLab API %s %s: %w", method, path, err)
	}
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	return c.doURL(ctx, method, u, in, out)
}

func (c *Client) doURL(ctx context.Context, method string, u *url.URL, in, out any) (http.Header, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("GitLab API %s %s: encode the request: %w", method, u.EscapedPath(), err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("GitLab API %s %s: %w", method, u.EscapedPath(), err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch c.kind {
	case BearerToken:
		req.Header.Set("Authorization", "Bearer "+c.token)
	case JobToken:
		req.Header.Set("JOB-TOKEN", c.token)
	default:
		req.Header.Set("PRIVATE-TOKEN", c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GitLab API %s %s: %w", method, u.EscapedPath(), scrub(err, c.token))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("GitLab API %s %s: read the answer: %w", method, u.EscapedPath(), err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, newAPIError(method, u.EscapedPath(), resp, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, fmt.Errorf("GitLab API %s %s: decode the answer (%s): %w", method, u.EscapedPath(), resp.Status, err)
		}
	}
	return resp.Header, nil
}

// scrub removes the token from an error text, in case a transport error
// quotes a request.
func scrub(err error, token string) error {
	if token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), token, "[token]"))
}

// nextPage reads the page after the one just listed: X-Next-Page (empty on
// the last page), else the rel="next" Link (GitLab omits X-Total-Pages
// beyond 10,000 items but keeps these two). A Link to another host is
// ignored, so the token never leaves the API's host.
func (c *Client) nextPage(h http.Header) (page int, link *url.URL) {
	if v, ok := h[http.CanonicalHeaderKey("X-Next-Page")]; ok {
		if n, err := strconv.Atoi(strings.TrimSpace(strings.Join(v, ""))); err == nil && n > 0 {
			return n, nil
		}
		return 0, nil
	}
	for _, part := range strings.Split(h.Get("Link"), ",") {
		target, params, ok := strings.Cut(part, ";")
		if !ok || !strings.Contains(strings.ReplaceAll(params, " ", ""), `rel="next"`) {
			continue
		}
		u, err := url.Parse(strings.Trim(strings.TrimSpace(target), "<>"))
		if err != nil || u.Scheme != c.base.Scheme || u.Host != c.base.Host {
			return 0, nil
		}
		return 0, u
	}
	return 0, nil
}
