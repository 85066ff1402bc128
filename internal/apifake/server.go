// Package apifake provides what the fake REST APIs of
// internal/github/githubtest and internal/gitlab/gitlabtest share: an
// httptest server on the loopback interface under an API root path, the
// record of every request, injected failures, JSON answers, offset
// pagination and a fake clock. Each fake keeps its own routes, accounts
// and authentication. It is test support; only tests and the fakes import
// it.
package apifake

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
)

// Fault makes matching requests fail.
type Fault struct {
	// Method and Path select requests (Path is the API path without the
	// server's prefix, as in Request.Path, e.g.
	// "/repos/o/r/issues/1/comments"); empty matches any.
	Method string
	Path   string
	// Status, Header and Body are the answer.
	Status int
	Header http.Header
	Body   string
	// Times is how many matching requests fail; 0 means one.
	Times int
	// Apply lets the request take effect before the failure is returned,
	// like a gateway that times out while the backend completes.
	Apply bool
}

// Request is one recorded request.
type Request struct {
	Method string
	// Path is the API path without the prefix (escaped if the server was
	// started with Options.EscapedPaths).
	Path  string
	Query url.Values
	// Auth is how the request authenticated, as the fake's Handler
	// reported it ("" when it does not tell).
	Auth   string
	Status int
}

// Handler answers one request, with the server's lock held. path is the
// API path without the prefix; inPrefix is false for a request outside the
// prefix, which the fake answers with its 404. It returns how the request
// authenticated, for Request.Auth.
type Handler func(w *Response, r *http.Request, path string, inPrefix bool) (auth string)

// Options configure a Server.
type Options struct {
	// Prefix is the API root path without a trailing slash; "" is the
	// server's root.
	Prefix string
	// EscapedPaths hands the Handler (and records) the escaped path, for an
	// API whose path segments may hold escaped slashes (GitLab's
	// group%2Fproject).
	EscapedPaths bool
}

// Server is a fake API's HTTP server: it records each request and its
// status, and answers injected faults when the Handler asks.
type Server struct {
	srv     *httptest.Server
	prefix  string
	escaped bool
	handle  Handler

	mu       sync.Mutex
	faults   []*Fault
	requests []Request
}

// New starts a server on the loopback interface; Close it when done.
func New(o Options, h Handler) *Server {
	s := &Server{prefix: strings.TrimRight(o.Prefix, "/"), escaped: o.EscapedPaths, handle: h}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// URL is the API root, with the prefix (no trailing slash).
func (s *Server) URL() string { return s.srv.URL + s.prefix }

// Prefix is the API root path.
func (s *Server) Prefix() string { return s.prefix }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Lock takes the lock the Handler runs under, for a fake's own methods
// that read or change its state.
func (s *Server) Lock() { s.mu.Lock() }

// Unlock releases the lock taken by Lock.
func (s *Server) Unlock() { s.mu.Unlock() }

// Inject queues failures; they are matched in order.
func (s *Server) Inject(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range faults {
		f := faults[i]
		if f.Times <= 0 {
			f.Times = 1
		}
		s.faults = append(s.faults, &f)
	}
}

// Requests returns the recorded requests.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count counts recorded requests by method and path; empty matches any.
func (s *Server) Count(method, path string) int {
	n := 0
	for _, r := range s.Requests() {
		if (method == "" || r.Method == method) && (path == "" || r.Path == path) {
			n++
		}
	}
	return n
}

// AnswerFault answers w with the first queued fault that matches method
// and path, if any, and reports whether it did. For a fault with Apply,
// apply first handles the request on a discarded response, so that it
// takes effect. Handlers call it with the lock held (as they run).
func (s *Server) AnswerFault(w *Response, method, path string, apply func(w *Response)) bool {
	f := s.fault(method, path)
	if f == nil {
		return false
	}
	if f.Apply {
		apply(newResponse())
	}
	for k, v := range f.Header {
		w.header[k] = v
	}
	w.WriteHeader(f.Status)
	w.body.WriteString(f.Body)
	return true
}

func (s *Server) fault(method, path string) *Fault {
	for i, f := range s.faults {
		if (f.Method == "" || f.Method == method) && (f.Path == "" || f.Path == path) {
			f.Times--
			if f.Times <= 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			return f
		}
	}
	return nil
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := newResponse()
	path := r.URL.Path
	if s.escaped {
		path = r.URL.EscapedPath()
	}
	inPrefix := s.prefix == "" || path == s.prefix || strings.HasPrefix(path, s.prefix+"/")
	path = strings.TrimPrefix(path, s.prefix)
	auth := s.handle(rec, r, path, inPrefix)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	s.requests = append(s.requests, Request{Method: r.Method, Path: path, Query: r.URL.Query(), Auth: auth, Status: rec.status})
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	_, _ = io.WriteString(w, rec.body.String())
}

// Response collects an answer so that its status can be recorded before
// it is sent (or, for a fault with Apply, thrown away).
type Response struct {
	header http.Header
	status int
	body   strings.Builder
}

func newResponse() *Response { return &Response{header: http.Header{}} }

// Header is the answer's header.
func (r *Response) Header() http.Header { return r.header }

// WriteHeader sets the status; the first call wins.
func (r *Response) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

// Write appends to the body; the status is 200 unless already set.
func (r *Response) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
