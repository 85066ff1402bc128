package gitlab

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// APIError is a non-2xx answer of the GitLab API.
type APIError struct {
	Method string
	// Path is the escaped request path, without the query.
	Path string
	// Status is the HTTP status code, StatusText e.g. "403 Forbidden".
	Status     int
	StatusText string
	// Message is GitLab's message: "message", or "error" with
	// "error_description", flattened.
	Message string
}

func (e *APIError) Error() string {
	msg := e.StatusText
	if e.Message != "" && e.Message != e.StatusText {
		msg += ": " + e.Message
	}
	return fmt.Sprintf("GitLab API %s %s: %s", e.Method, e.Path, msg)
}

func newAPIError(method, path string, resp *http.Response, body []byte) *APIError {
	e := &APIError{Method: method, Path: path, Status: resp.StatusCode, StatusText: resp.Status}
	var v struct {
		Message     json.RawMessage `json:"message"`
		Error       string          `json:"error"`
		Description string          `json:"error_description"`
	}
	if json.Unmarshal(body, &v) == nil {
		var parts []string
		if m := flatten(v.Message); m != "" {
			parts = append(parts, m)
		}
		if v.Error != "" {
			parts = append(parts, v.Error)
		}
		if v.Description != "" {
			parts = append(parts, v.Description)
		}
		e.Message = strings.Join(parts, "; ")
	}
	return e
}

// flatten renders GitLab's "message", which is a string or an object of
// field → messages.
func flatten(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) == nil {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %v", k, m[k]))
		}
		return strings.Join(parts, "; ")
	}
	return string(raw)
}

// PermissionError says GitLab refused the token for an operation (401 or
// 403): a CI_JOB_TOKEN (which may not use the notes API), an expired or
// revoked token, a token without the api scope, or a bot or user whose role
// may not comment.
type PermissionError struct {
	// Op is what was attempted, e.g. "create the merge request note".
	Op string
	// Kind is how the token was sent.
	Kind TokenKind
	// Err is GitLab's answer.
	Err *APIError
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("%s: GitLab refused the token (%s)", e.Op, e.GitLabSaid())
}

// GitLabSaid is GitLab's answer: status and message.
func (e *PermissionError) GitLabSaid() string {
	msg := e.Err.StatusText
	if e.Err.Message != "" && e.Err.Message != e.Err.StatusText {
		msg += ": " + e.Err.Message
	}
	return "GitLab: " + msg
}

// Unwrap returns GitLab's answer.
func (e *PermissionError) Unwrap() error { return e.Err }

// ErrNoMarker means a note body does not start with the report marker
// line, so a later run could not find the note again.
var ErrNoMarker = errors.New("note body does not start with the modelci report marker line")

// ErrTooLong means a body exceeds GitLab's note limit.
var ErrTooLong = errors.New("note body is longer than GitLab's limit")

// asPermissionError recognises a refused token.
func asPermissionError(err error, op string, kind TokenKind) error {
	var ae *APIError
	if errors.As(err, &ae) && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden) {
		return &PermissionError{Op: op, Kind: kind, Err: ae}
	}
	return err
}

// status returns the HTTP status of an *APIError, or 0.
func status(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// isGatewayError recognises a 502/503/504 that survived the transport.
func isGatewayError(err error) bool {
	switch status(err) {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}
