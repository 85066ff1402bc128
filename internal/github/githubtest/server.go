// Package githubtest provides a fake GitHub REST API on httptest for the
// issue-comment endpoints modelci uses. It behaves like GitHub where
// modelci depends on it, and refuses what GitHub refuses:
//
//   - every request needs "Authorization: Bearer <token>" or "token
//     <token>" with a registered token, else 401;
//   - GET /user returns the token's account, or 403 "Resource not
//     accessible by integration" for a GitHub App installation token (a
//     GitHub Actions GITHUB_TOKEN);
//   - comments are listed in ascending ID order, 30 per page by default and
//     at most 100 (per_page above 100 is clamped), with a Link header that
//     names the next, last, first and prev pages;
//   - a comment body over 65,536 characters is refused with 422 "body is
//     too long"; an empty body with 422;
//   - a read-only token is refused writes with 403 "Resource not accessible
//     by integration" and an X-Accepted-GitHub-Permissions header;
//   - unknown pull requests, comments and routes answer 404.
//
// Failures can be injected per route (Inject): secondary rate limits with
// Retry-After, 429, 502 and so on, optionally after the request took effect.
// Every request is recorded for counting.
package githubtest

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modelci/modelci/internal/apifake"
)

// MaxBody is GitHub's limit on a comment body, in characters.
const MaxBody = 65536

// Account is a GitHub user or bot.
type Account struct {
	Login string
	ID    int64
	// Type is "User" or "Bot".
	Type string
}

// ActionsBot is the account GitHub Actions' GITHUB_TOKEN comments as.
var ActionsBot = Account{Login: "github-actions[bot]", ID: 41898282, Type: "Bot"}

// Token is what a registered token may do.
type Token struct {
	Account Account
	// Installation marks a GitHub App installation token such as GITHUB_TOKEN:
	// GET /user is refused with 403.
	Installation bool
	// ReadOnly refuses comment writes with 403, as for a pull request from a
	// fork or a workflow without `pull-requests: write`.
	ReadOnly bool
}

// Comment is a stored issue comment.
type Comment struct {
	ID        int64
	Owner     string
	Repo      string
	Issue     int
	Body      string
	User      Account
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Fault makes matching requests fail (see apifake.Fault). Its Path is the
// API path without the server's prefix, e.g. "/repos/o/r/issues/1/comments".
type Fault = apifake.Fault

// SecondaryRateLimit is GitHub's 403 for a secondary rate limit.
func SecondaryRateLimit(method, path string, retryAfter int) Fault {
	h := http.Header{}
	if retryAfter >= 0 {
		h.Set("Retry-After", strconv.Itoa(retryAfter))
	}
	return Fault{Method: method, Path: path, Status: http.StatusForbidden, Header: h,
		Body: `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.","documentation_url":"https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits","status":"403"}`}
}

// TooManyRequests is a 429, with Retry-After when retryAfter ≥ 0.
func TooManyRequests(method, path string, retryAfter int) Fault {
	h := http.Header{}
	if retryAfter >= 0 {
		h.Set("Retry-After", strconv.Itoa(retryAfter))
	}
	return Fault{Method: method, Path: path, Status: http.StatusTooManyRequests, Header: h,
		Body: `{"message":"API rate limit exceeded","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api","status":"429"}`}
}

// PrimaryRateLimit is the 403 of an exhausted hourly budget that resets at
// reset.
func PrimaryRateLimit(method, path string, reset time.Time) Fault {
	h := http.Header{}
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	return Fault{Method: method, Path: path, Status: http.StatusForbidden, Header: h,
		Body: `{"message":"API rate limit exceeded for installation ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-rate-limit","status":"403"}`}
}

// BadGateway is GitHub's 502.
func BadGateway(method, path string) Fault {
	return Fault{Method: method, Path: path, Status: http.StatusBadGateway,
		Body: `{"message":"Server Error"}`}
}

// Request is one recorded request.
type Request struct {
	Method string
	// Path is the API path without the server's prefix.
	Path   string
	Query  url.Values
	Status int
}

// Options configure a Server.
type Options struct {
	// Prefix is the API root path: "" for github.com, "/api/v3" for GitHub
	// Enterprise Server. Requests outside it get 404.
	Prefix string
	// Start is the time of the first comment; each write advances the
	// server's clock by one second. Default 2024-06-01T12:00:00Z.
	Start time.Time
}

// Server is the fake API.
type Server struct {
	api *apifake.Server

	// The state below is guarded by api's lock.
	tokens   map[string]Token
	prs      map[string]bool
	comments []*Comment
	nextID   int64
	now      time.Time
	used     int
}

// New starts a server; Close it when done.
func New(o Options) *Server {
	s := &Server{
		tokens: map[string]Token{},
		prs:    map[string]bool{},
		nextID: 2000000001,
		now:    o.Start,
	}
	if s.now.IsZero() {
		s.now = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	}
	s.api = apifake.New(apifake.Options{Prefix: o.Prefix}, s.handle)
	return s
}

// Close stops the server.
func (s *Server) Close() { s.api.Close() }

// URL is the API root, with the prefix (no trailing slash).
func (s *Server) URL() string { return s.api.URL() }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.api.Client() }

// AddToken registers a token.
func (s *Server) AddToken(value string, t Token) {
	s.api.Lock()
	defer s.api.Unlock()
	s.tokens[value] = t
}

// AddPullRequest makes a pull request exist.
func (s *Server) AddPullRequest(owner, repo string, number int) {
	s.api.Lock()
	defer s.api.Unlock()
	s.prs[prKey(owner, repo, number)] = true
}

// Seed stores a comment as if author had written it, and returns its ID.
func (s *Server) Seed(owner, repo string, number int, author Account, body string) int64 {
	s.api.Lock()
	defer s.api.Unlock()
	s.prs[prKey(owner, repo, number)] = true
	return s.addComment(owner, repo, number, author, body).ID
}

// Comments returns copies of the comments of a pull request, oldest first.
func (s *Server) Comments(owner, repo string, number int) []Comment {
	s.api.Lock()
	defer s.api.Unlock()
	var out []Comment
	for _, c := range s.comments {
		if c.Owner == owner && c.Repo == repo && c.Issue == number {
			out = append(out, *c)
		}
	}
	return out
}

// Inject queues failures; they are matched in order.
func (s *Server) Inject(faults ...Fault) { s.api.Inject(faults...) }

// Requests returns the recorded requests.
func (s *Server) Requests() []Request {
	var out []Request
	for _, r := range s.api.Requests() {
		out = append(out, Request{Method: r.Method, Path: r.Path, Query: r.Query, Status: r.Status})
	}
	return out
}

// Count counts recorded requests by method and path; empty matches any.
func (s *Server) Count(method, path string) int { return s.api.Count(method, path) }

func prKey(owner, repo string, number int) string {
	return fmt.Sprintf("%s/%s#%d", strings.ToLower(owner), strings.ToLower(repo), number)
}

func (s *Server) addComment(owner, repo string, number int, author Account, body string) *Comment {
	s.now = s.now.Add(time.Second)
	c := &Comment{ID: s.nextID, Owner: owner, Repo: repo, Issue: number, Body: body, User: author, CreatedAt: s.now, UpdatedAt: s.now}
	s.nextID++
	s.comments = append(s.comments, c)
	return c
}

func (s *Server) handle(w *apifake.Response, r *http.Request, path string, inPrefix bool) string {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")
	if !inPrefix {
		writeError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest")
		return ""
	}
	tok, ok := s.authenticate(w, r)
	if !ok {
		return ""
	}
	s.used++
	w.Header().Set("X-RateLimit-Limit", "5000")
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(max(5000-s.used, 0)))
	w.Header().Set("X-RateLimit-Used", strconv.Itoa(s.used))
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(s.now.Add(time.Hour).Unix(), 10))
	w.Header().Set("X-RateLimit-Resource", "core")
	if !s.api.AnswerFault(w, r.Method, path, func(w *apifake.Response) { s.route(w, r, path, tok) }) {
		s.route(w, r, path, tok)
	}
	return ""
}

func (s *Server) authenticate(w *apifake.Response, r *http.Request) (Token, bool) {
	h := r.Header.Get("Authorization")
	scheme, value, _ := strings.Cut(h, " ")
	if h == "" {
		writeError(w, http.StatusUnauthorized, "Requires authentication", "https://docs.github.com/rest")
		return Token{}, false
	}
	tok, known := s.tokens[strings.TrimSpace(value)]
	if !known || (!strings.EqualFold(scheme, "bearer") && !strings.EqualFold(scheme, "token")) {
		writeError(w, http.StatusUnauthorized, "Bad credentials", "https://docs.github.com/rest")
		return Token{}, false
	}
	return tok, true
}

func (s *Server) route(w *apifake.Response, r *http.Request, path string, tok Token) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case path == "/user":
		if r.Method != http.MethodGet {
			s.notFound(w)
			return
		}
		s.getUser(w, tok)
	case len(parts) == 6 && parts[0] == "repos" && parts[3] == "issues" && parts[4] == "comments":
		id, err := strconv.ParseInt(parts[5], 10, 64)
		if err != nil || r.Method != http.MethodPatch {
			s.notFound(w)
			return
		}
		s.editComment(w, r, parts[1], parts[2], id, tok)
	case len(parts) == 6 && parts[0] == "repos" && parts[3] == "issues" && parts[5] == "comments":
		n, err := strconv.Atoi(parts[4])
		if err != nil || n <= 0 || !s.prs[prKey(parts[1], parts[2], n)] {
			s.notFound(w)
			return
		}
		switch r.Method {
		case http.MethodGet:
			s.listComments(w, r, parts[1], parts[2], n)
		case http.MethodPost:
			s.createComment(w, r, parts[1], parts[2], n, tok)
		default:
			s.notFound(w)
		}
	default:
		s.notFound(w)
	}
}

func (s *Server) notFound(w *apifake.Response) {
	writeError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest")
}

func (s *Server) getUser(w *apifake.Response, tok Token) {
	if tok.Installation {
		writeError(w, http.StatusForbidden, "Resource not accessible by integration", "https://docs.github.com/rest/users/users#get-the-authenticated-user")
		return
	}
	apifake.WriteJSON(w, http.StatusOK, userJSON(tok.Account))
}

// listComments pages like GitHub: page and per_page parameters, 30 per
// page by default, at most 100, and a Link header.
func (s *Server) listComments(w *apifake.Response, r *http.Request, owner, repo string, number int) {
	page, perPage := apifake.PageParams(r.URL.Query(), 30)
	var all []*Comment
	for _, c := range s.comments {
		if strings.EqualFold(c.Owner, owner) && strings.EqualFold(c.Repo, repo) && c.Issue == number {
			all = append(all, c)
		}
	}
	items, last := apifake.Page(all, page, perPage)
	out := []map[string]any{}
	for _, c := range items {
		out = append(out, commentJSON(c))
	}
	link := func(p int, rel string) string { return apifake.PageLink(r, nil, p, perPage, rel) }
	var links []string
	if page > 1 {
		links = append(links, link(min(page-1, last), "prev"))
	}
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	apifake.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) createComment(w *apifake.Response, r *http.Request, owner, repo string, number int, tok Token) {
	body, ok := s.writableBody(w, r, tok, "https://docs.github.com/rest/issues/comments#create-an-issue-comment")
	if !ok {
		return
	}
	c := s.addComment(owner, repo, number, tok.Account, body)
	w.Header().Set("Location", fmt.Sprintf("http://%s%s/repos/%s/%s/issues/comments/%d", r.Host, s.api.Prefix(), owner, repo, c.ID))
	apifake.WriteJSON(w, http.StatusCreated, commentJSON(c))
}

func (s *Server) editComment(w *apifake.Response, r *http.Request, owner, repo string, id int64, tok Token) {
	var c *Comment
	for _, x := range s.comments {
		if x.ID == id && strings.EqualFold(x.Owner, owner) && strings.EqualFold(x.Repo, repo) {
			c = x
		}
	}
	if c == nil {
		s.notFound(w)
		return
	}
	body, ok := s.writableBody(w, r, tok, "https://docs.github.com/rest/issues/comments#update-an-issue-comment")
	if !ok {
		return
	}
	s.now = s.now.Add(time.Second)
	c.Body, c.UpdatedAt = body, s.now
	apifake.WriteJSON(w, http.StatusOK, commentJSON(c))
}

// writableBody checks the token may write and decodes {"body": ...}.
func (s *Server) writableBody(w *apifake.Response, r *http.Request, tok Token, doc string) (string, bool) {
	if tok.ReadOnly {
		w.Header().Set("X-Accepted-GitHub-Permissions", "issues=write; pull_requests=write")
		writeError(w, http.StatusForbidden, "Resource not accessible by integration", doc)
		return "", false
	}
	body, err := apifake.DecodeBody(r, 8<<20)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON", doc)
		return "", false
	}
	if body == nil || *body == "" {
		apifake.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{
			"message":           "Invalid request.\n\n\"body\" wasn't supplied.",
			"documentation_url": doc, "status": "422"})
		return "", false
	}
	if utf8.RuneCountInString(*body) > MaxBody {
		apifake.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{
			"message": "Validation Failed",
			"errors": []map[string]string{{
				"resource": "IssueComment", "code": "custom", "field": "body",
				"message": fmt.Sprintf("body is too long (maximum is %d characters)", MaxBody)}},
			"documentation_url": doc, "status": "422"})
		return "", false
	}
	return *body, true
}

func commentJSON(c *Comment) map[string]any {
	return map[string]any{
		"id":                 c.ID,
		"node_id":            fmt.Sprintf("IC_%d", c.ID),
		"url":                fmt.Sprintf("https://api.github.com/repos/%s/%s/issues/comments/%d", c.Owner, c.Repo, c.ID),
		"html_url":           fmt.Sprintf("https://github.com/%s/%s/pull/%d#issuecomment-%d", c.Owner, c.Repo, c.Issue, c.ID),
		"issue_url":          fmt.Sprintf("https://api.github.com/repos/%s/%s/issues/%d", c.Owner, c.Repo, c.Issue),
		"body":               c.Body,
		"user":               userJSON(c.User),
		"created_at":         c.CreatedAt.UTC().Format(time.RFC3339),
		"updated_at":         c.UpdatedAt.UTC().Format(time.RFC3339),
		"author_association": "NONE",
	}
}

func writeError(w *apifake.Response, status int, msg, doc string) {
	apifake.WriteJSON(w, status, map[string]any{"message": msg, "documentation_url": doc, "status": strconv.Itoa(status)})
}

func userJSON(a Account) map[string]any {
	typ := a.Type
	if typ == "" {
		typ = "User"
	}
	return map[string]any{
		"login":    a.Login,
		"id":       a.ID,
		"node_id":  fmt.Sprintf("U_%d", a.ID),
		"type":     typ,
		"html_url": "https://github.com/" + strings.TrimSuffix(a.Login, "[bot]"),
	}
}
