// Package gitlabtest provides a fake GitLab REST API (v4) on httptest for
// the endpoints modelci uses: GET /user and the merge request notes (list,
// create, update). It behaves like GitLab where modelci depends on it, and
// refuses what GitLab refuses:
//
//   - a request authenticates with "PRIVATE-TOKEN: <token>" or
//     "Authorization: Bearer <token>" (personal, project and group access
//     tokens), else 401 {"message":"401 Unauthorized"};
//   - a CI/CD job token ("JOB-TOKEN: <token>") may not use these endpoints:
//     reads answer 401, note writes 403 {"message":"403 Forbidden"};
//   - a token without the api scope (read_api) may read but not write: 403
//     insufficient_scope;
//   - only a note's author may edit it (403 otherwise);
//   - notes are listed 20 per page by default and at most 100, sorted by
//     created_at (desc by default, sort=asc to reverse), with X-Page,
//     X-Per-Page, X-Next-Page (empty on the last page), X-Prev-Page,
//     X-Total, X-Total-Pages and a Link header (next, prev, first, last);
//     OmitTotals drops X-Total, X-Total-Pages and rel="last" as GitLab does
//     beyond 10,000 items, OmitNextPage drops X-Next-Page so that only the
//     Link header remains;
//   - a body over 1,000,000 characters answers 400, an empty one 400;
//   - the project is named by its ID or its URL-encoded path
//     (group%2Fproject); unknown projects, merge requests and routes answer
//     404.
//
// Failures can be injected per route (Inject), and every request is
// recorded with the way it authenticated.
package gitlabtest

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modelci/modelci/internal/apifake"
)

// MaxBody is GitLab's limit on a note body, in characters.
const MaxBody = 1000000

// User is a GitLab account; Bot marks the bot user of a project or group
// access token.
type User struct {
	ID       int64
	Username string
	Bot      bool
}

// Token is what a registered token may do.
type Token struct {
	User User
	// ReadOnly is a token with the read_api scope but not api.
	ReadOnly bool
}

// Note is a stored merge request note.
type Note struct {
	ID        int64
	Project   int64
	IID       int
	Body      string
	Author    User
	System    bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Fault makes matching requests fail (see apifake.Fault). Its Path is the
// escaped API path without the prefix, e.g.
// "/projects/1/merge_requests/2/notes".
type Fault = apifake.Fault

// Request is one recorded request: its escaped API path without the
// prefix, and in Auth how it authenticated: "PRIVATE-TOKEN", "Bearer",
// "JOB-TOKEN" or "" (none).
type Request = apifake.Request

// Options configure a Server.
type Options struct {
	// Prefix is the API root path; default "/api/v4".
	Prefix string
	// OmitTotals and OmitNextPage change the pagination headers; see the
	// package documentation.
	OmitTotals   bool
	OmitNextPage bool
}

// Server is the fake API.
type Server struct {
	api  *apifake.Server
	opts Options

	// The state below is guarded by api's lock.
	tokens   map[string]Token
	jobs     map[string]bool
	projects map[int64]string // id → path
	mrs      map[string]bool
	notes    []*Note
	nextID   int64
	now      time.Time
}

// New starts a server; Close it when done.
func New(o Options) *Server {
	if o.Prefix == "" {
		o.Prefix = "/api/v4"
	}
	s := &Server{
		opts:     o,
		tokens:   map[string]Token{},
		jobs:     map[string]bool{},
		projects: map[int64]string{},
		mrs:      map[string]bool{},
		nextID:   500001,
		now:      time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC),
	}
	s.api = apifake.New(apifake.Options{Prefix: o.Prefix, EscapedPaths: true}, s.handle)
	return s
}

// Close stops the server.
func (s *Server) Close() { s.api.Close() }

// URL is the API root, CI_API_V4_URL (no trailing slash).
func (s *Server) URL() string { return s.api.URL() }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.api.Client() }

// AddToken registers an access token.
func (s *Server) AddToken(value string, t Token) {
	s.api.Lock()
	defer s.api.Unlock()
	s.tokens[value] = t
}

// AddJobToken registers a CI/CD job token.
func (s *Server) AddJobToken(value string) {
	s.api.Lock()
	defer s.api.Unlock()
	s.jobs[value] = true
}

// AddMergeRequest makes merge request iid of project id (at path) exist.
func (s *Server) AddMergeRequest(id int64, path string, iid int) {
	s.api.Lock()
	defer s.api.Unlock()
	s.projects[id] = path
	s.mrs[mrKey(id, iid)] = true
}

// Seed stores a note as if author had written it, and returns its ID.
func (s *Server) Seed(project int64, iid int, author User, body string, system bool) int64 {
	s.api.Lock()
	defer s.api.Unlock()
	n := s.addNote(project, iid, author, body)
	n.System = system
	return n.ID
}

// Notes returns copies of the notes of a merge request, oldest first.
func (s *Server) Notes(project int64, iid int) []Note {
	s.api.Lock()
	defer s.api.Unlock()
	var out []Note
	for _, n := range s.notes {
		if n.Project == project && n.IID == iid {
			out = append(out, *n)
		}
	}
	return out
}

// Inject queues failures; they are matched in order.
func (s *Server) Inject(faults ...Fault) { s.api.Inject(faults...) }

// Requests returns the recorded requests.
func (s *Server) Requests() []Request { return s.api.Requests() }

// Count counts recorded requests by method and path; empty matches any.
func (s *Server) Count(method, path string) int { return s.api.Count(method, path) }

func mrKey(project int64, iid int) string { return fmt.Sprintf("%d!%d", project, iid) }

func (s *Server) addNote(project int64, iid int, author User, body string) *Note {
	s.now = s.now.Add(time.Second)
	n := &Note{ID: s.nextID, Project: project, IID: iid, Body: body, Author: author, CreatedAt: s.now, UpdatedAt: s.now}
	s.nextID++
	s.notes = append(s.notes, n)
	return n
}

// caller is the authenticated party of a request.
type caller struct {
	token Token
	job   bool
}

func (s *Server) handle(w *apifake.Response, r *http.Request, path string, inPrefix bool) string {
	w.Header().Set("Content-Type", "application/json")
	if !inPrefix {
		writeMessage(w, http.StatusNotFound, "404 Not Found")
		return ""
	}
	c, auth, ok := s.authenticate(r)
	if !ok {
		writeMessage(w, http.StatusUnauthorized, "401 Unauthorized")
		return auth
	}
	if !s.api.AnswerFault(w, r.Method, path, func(w *apifake.Response) { s.route(w, r, path, c) }) {
		s.route(w, r, path, c)
	}
	return auth
}

// authenticate reads PRIVATE-TOKEN, Authorization: Bearer or JOB-TOKEN.
func (s *Server) authenticate(r *http.Request) (caller, string, bool) {
	if v := r.Header.Get("PRIVATE-TOKEN"); v != "" {
		t, ok := s.tokens[v]
		return caller{token: t}, "PRIVATE-TOKEN", ok
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, v, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "bearer") {
			return caller{}, scheme, false
		}
		t, ok := s.tokens[strings.TrimSpace(v)]
		return caller{token: t}, "Bearer", ok
	}
	if v := r.Header.Get("JOB-TOKEN"); v != "" {
		return caller{job: true}, "JOB-TOKEN", s.jobs[v]
	}
	return caller{}, "", false
}

// project resolves an escaped project segment: an ID or a URL-encoded path.
func (s *Server) project(seg string) (int64, bool) {
	if id, err := strconv.ParseInt(seg, 10, 64); err == nil {
		_, ok := s.projects[id]
		return id, ok
	}
	p, err := url.PathUnescape(seg)
	if err != nil {
		return 0, false
	}
	for id, path := range s.projects {
		if path == p {
			return id, true
		}
	}
	return 0, false
}

func (s *Server) route(w *apifake.Response, r *http.Request, path string, c caller) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case path == "/user" && r.Method == http.MethodGet:
		if c.job {
			// /user does not accept job tokens: the request is anonymous.
			writeMessage(w, http.StatusUnauthorized, "401 Unauthorized")
			return
		}
		apifake.WriteJSON(w, http.StatusOK, userJSON(c.token.User))
	case (len(parts) == 5 || len(parts) == 6) && parts[0] == "projects" && parts[2] == "merge_requests" && parts[4] == "notes":
		pid, ok := s.project(parts[1])
		iid, err := strconv.Atoi(parts[3])
		if !ok || err != nil || !s.mrs[mrKey(pid, iid)] {
			writeMessage(w, http.StatusNotFound, "404 Not found")
			return
		}
		if c.job {
			if r.Method == http.MethodGet {
				writeMessage(w, http.StatusUnauthorized, "401 Unauthorized")
			} else {
				writeMessage(w, http.StatusForbidden, "403 Forbidden")
			}
			return
		}
		switch {
		case len(parts) == 5 && r.Method == http.MethodGet:
			s.list(w, r, pid, iid)
		case len(parts) == 5 && r.Method == http.MethodPost:
			s.create(w, r, pid, iid, c.token)
		case len(parts) == 6 && r.Method == http.MethodPut:
			id, err := strconv.ParseInt(parts[5], 10, 64)
			if err != nil {
				writeMessage(w, http.StatusNotFound, "404 Not found")
				return
			}
			s.update(w, r, pid, iid, id, c.token)
		default:
			writeMessage(w, http.StatusNotFound, "404 Not Found")
		}
	default:
		writeMessage(w, http.StatusNotFound, "404 Not Found")
	}
}

// list pages like GitLab's offset pagination.
func (s *Server) list(w *apifake.Response, r *http.Request, pid int64, iid int) {
	q := r.URL.Query()
	page, perPage := apifake.PageParams(q, 20)
	var all []*Note
	for _, n := range s.notes {
		if n.Project == pid && n.IID == iid {
			all = append(all, n)
		}
	}
	key := func(n *Note) time.Time { return n.CreatedAt }
	if q.Get("order_by") == "updated_at" {
		key = func(n *Note) time.Time { return n.UpdatedAt }
	}
	asc := q.Get("sort") == "asc"
	sort.SliceStable(all, func(i, j int) bool {
		a, b := key(all[i]), key(all[j])
		if !a.Equal(b) {
			return a.Before(b) == asc
		}
		return (all[i].ID < all[j].ID) == asc
	})
	total := len(all)
	items, last := apifake.Page(all, page, perPage)
	out := []map[string]any{}
	for _, n := range items {
		out = append(out, noteJSON(n))
	}
	link := func(p int, rel string) string { return apifake.PageLink(r, q, p, perPage, rel) }
	var links []string
	next := ""
	if page < last {
		next = strconv.Itoa(page + 1)
		links = append(links, link(page+1, "next"))
	}
	prev := ""
	if page > 1 {
		prev = strconv.Itoa(min(page-1, last))
		links = append(links, link(min(page-1, last), "prev"))
	}
	links = append(links, link(1, "first"))
	w.Header().Set("X-Page", strconv.Itoa(page))
	w.Header().Set("X-Per-Page", strconv.Itoa(perPage))
	w.Header().Set("X-Prev-Page", prev)
	if !s.opts.OmitNextPage {
		w.Header().Set("X-Next-Page", next)
	}
	if !s.opts.OmitTotals {
		links = append(links, link(last, "last"))
		w.Header().Set("X-Total", strconv.Itoa(total))
		w.Header().Set("X-Total-Pages", strconv.Itoa(last))
	}
	w.Header().Set("Link", strings.Join(links, ", "))
	apifake.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) create(w *apifake.Response, r *http.Request, pid int64, iid int, t Token) {
	body, ok := s.writableBody(w, r, t)
	if !ok {
		return
	}
	n := s.addNote(pid, iid, t.User, body)
	apifake.WriteJSON(w, http.StatusCreated, noteJSON(n))
}

func (s *Server) update(w *apifake.Response, r *http.Request, pid int64, iid int, id int64, t Token) {
	var n *Note
	for _, x := range s.notes {
		if x.ID == id && x.Project == pid && x.IID == iid {
			n = x
		}
	}
	if n == nil {
		writeMessage(w, http.StatusNotFound, "404 Note Not Found")
		return
	}
	body, ok := s.writableBody(w, r, t)
	if !ok {
		return
	}
	if n.Author.ID != t.User.ID || n.System {
		writeMessage(w, http.StatusForbidden, "403 Forbidden")
		return
	}
	s.now = s.now.Add(time.Second)
	n.Body, n.UpdatedAt = body, s.now
	apifake.WriteJSON(w, http.StatusOK, noteJSON(n))
}

// writableBody checks the token may write and decodes {"body": ...}.
func (s *Server) writableBody(w *apifake.Response, r *http.Request, t Token) (string, bool) {
	if t.ReadOnly {
		apifake.WriteJSON(w, http.StatusForbidden, map[string]any{
			"error":             "insufficient_scope",
			"error_description": "The request requires higher privileges than provided by the access token.",
			"scope":             "api"})
		return "", false
	}
	body, err := apifake.DecodeBody(r, 16<<20)
	if err != nil {
		apifake.WriteJSON(w, http.StatusBadRequest, map[string]any{"error": "body is invalid"})
		return "", false
	}
	if body == nil || *body == "" {
		apifake.WriteJSON(w, http.StatusBadRequest, map[string]any{"error": "body is missing"})
		return "", false
	}
	if utf8.RuneCountInString(*body) > MaxBody {
		apifake.WriteJSON(w, http.StatusBadRequest, map[string]any{"message": map[string]any{"note": []string{fmt.Sprintf("is too long (maximum is %d characters)", MaxBody)}}})
		return "", false
	}
	return *body, true
}

func noteJSON(n *Note) map[string]any {
	return map[string]any{
		"id":            n.ID,
		"type":          nil,
		"body":          n.Body,
		"author":        userJSON(n.Author),
		"created_at":    n.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z"),
		"updated_at":    n.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000Z"),
		"system":        n.System,
		"noteable_id":   n.Project*1000 + int64(n.IID),
		"noteable_type": "MergeRequest",
		"noteable_iid":  n.IID,
		"resolvable":    false,
		"confidential":  false,
		"internal":      false,
	}
}

func userJSON(u User) map[string]any {
	return map[string]any{
		"id":       u.ID,
		"username": u.Username,
		"name":     u.Username,
		"state":    "active",
		"bot":      u.Bot,
		"web_url":  "https://gitlab.example.com/" + u.Username,
	}
}

func writeMessage(w *apifake.Response, status int, msg string) {
	apifake.WriteJSON(w, status, map[string]any{"message": msg})
}
