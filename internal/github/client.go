// Package github provides modelci's conversation with the GitHub REST API:
// a client built from a token and GITHUB_API_URL (github.com or GitHub
// Enterprise), sent through the retrying transport of internal/httpretry,
// and the sticky pull request comment that carries the model report
// (Client.Upsert, on top of internal/sticky).
//
// go-github's package is imported as gogithub to keep the two apart.
package github

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	gogithub "github.com/google/go-github/v60/github"

	"github.com/modelci/modelci/internal/httpretry"
	"github.com/modelci/modelci/internal/proc"
)

// DefaultAPIURL is github.com's REST API.
const DefaultAPIURL = "https://api.github.com"

// Options configure a Client.
type Options struct {
	// Token authenticates every request (sent as "Authorization: Bearer").
	Token string
	// APIURL is GITHUB_API_URL, used as given: empty or
	// https://api.github.com for github.com, https://HOST/api/v3 for
	// GitHub Enterprise Server, http://127.0.0.1:PORT for a local fake.
	APIURL string
	// HTTPClient sends the requests; its Transport is wrapped by the
	// retrying Transport. Required: nothing here reaches for a global
	// client.
	HTTPClient *http.Client
	// Retry bounds the retries; zero fields take httpretry.DefaultPolicy's.
	Retry httpretry.Policy
	// Clock waits between retries; nil means proc.SystemClock.
	Clock proc.Clock
	// Rand returns numbers in [0, 1) for the backoff jitter.
	Rand func() float64
	// Logf, if set, is told about retries.
	Logf func(format string, args ...any)
	// UserAgent identifies modelci to GitHub.
	UserAgent string
	// Author, if set, is the login whose comments Upsert treats as its
	// own, instead of asking GET /user. See Client.Author.
	Author string
}

// Client talks to one GitHub API endpoint with one token.
type Client struct {
	gh     *gogithub.Client
	clock  proc.Clock
	rand   func() float64
	policy httpretry.Policy

	mu     sync.Mutex
	author *Author
}

// NewClient builds a client. It never sends a request.
func NewClient(o Options) (*Client, error) {
	retry := httpretry.ClientOptions{Policy: o.Retry, Clock: o.Clock, Rand: o.Rand, Logf: o.Logf, Service: "GitHub API"}.WithDefaults()
	hc, err := httpretry.NewClient(o.HTTPClient, retry)
	if err != nil {
		return nil, fmt.Errorf("github client: %w", err)
	}
	if strings.TrimSpace(o.Token) == "" {
		return nil, errors.New("github client: no token (the github_token input is empty)")
	}
	gh := gogithub.NewClient(hc).WithAuthToken(o.Token)
	if o.UserAgent != "" {
		gh.UserAgent = o.UserAgent
	}
	base, upload, err := apiURLs(o.APIURL)
	if err != nil {
		return nil, err
	}
	// GITHUB_API_URL is used as given: go-github's WithEnterpriseURLs would
	// append /api/v3 to any host that does not start with "api.", which
	// breaks a local fake (http://127.0.0.1:PORT) and proxies.
	gh.BaseURL, gh.UploadURL = base, upload
	c := &Client{gh: gh, clock: retry.Clock, rand: retry.Rand, policy: retry.Policy}
	if o.Author != "" {
		c.author = &Author{Login: o.Author, Source: "configured"}
	}
	return c, nil
}

// BaseURL is the API root the client sends requests to.
func (c *Client) BaseURL() string { return c.gh.BaseURL.String() }

// apiURLs derives the API and upload URLs from GITHUB_API_URL, which is
// used as given (with a trailing slash): https://api.github.com on
// github.com, https://HOST/api/v3 on GitHub Enterprise Server (the runner
// sets it so), https://api.SUBDOMAIN.ghe.com on GHE.com, or any other root
// such as a local fake. Uploads live at https://uploads.github.com,
// https://HOST/api/uploads and https://uploads.SUBDOMAIN.ghe.com; for any
// other root they go to the root itself.
func apiURLs(apiURL string) (base, upload *url.URL, err error) {
	s := strings.TrimSpace(apiURL)
	if s == "" {
		s = DefaultAPIURL
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, nil, fmt.Errorf("github client: GITHUB_API_URL %q is not an http(s) URL", apiURL)
	}
	u.User, u.RawQuery, u.Fragment, u.RawPath = nil, "", "", ""
	u.Path = strings.TrimRight(u.Path, "/") + "/"
	up := *u
	switch {
	case u.Host == "api.github.com" && u.Path == "/":
		up.Host = "uploads.github.com"
	case strings.HasSuffix(u.Path, "/api/v3/"):
		up.Path = strings.TrimSuffix(u.Path, "/api/v3/") + "/api/uploads/"
	case strings.HasPrefix(u.Host, "api.") && u.Path == "/":
		up.Host = "uploads." + strings.TrimPrefix(u.Host, "api.")
	}
	return u, &up, nil
}
