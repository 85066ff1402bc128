package github

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	gogithub "github.com/google/go-github/v60/github"
)

// PermissionError says the token may not do what was asked: GitHub answered
// 403 "Resource not accessible by integration". The caller turns it into an
// annotation that names Permission and falls back to the job summary.
type PermissionError struct {
	// Op is what was attempted, e.g. "create the PR comment".
	Op string
	// Permission is the workflow permission that grants it, e.g.
	// "pull-requests: write".
	Permission string
	// Accepted is GitHub's X-Accepted-GitHub-Permissions header, when sent:
	// the fine-grained permission sets that would have been accepted.
	Accepted string
	// Err is go-github's error.
	Err error
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("%s: the token lacks the %q permission (%s)", e.Op, e.Permission, e.GitHubSaid())
}

// GitHubSaid is GitHub's answer: status, message and, when sent, the
// accepted fine-grained permissions.
func (e *PermissionError) GitHubSaid() string {
	msg := "GitHub: " + githubMessage(e.Err)
	if e.Accepted != "" {
		msg += "; accepted permissions: " + e.Accepted
	}
	return msg
}

// Unwrap returns go-github's error.
func (e *PermissionError) Unwrap() error { return e.Err }

// ErrNoMarker means a comment body does not start with the report marker
// line, so a later run could not find the comment again.
var ErrNoMarker = errors.New("comment body does not start with the modelci report marker line")

// apiStatus returns the HTTP status of a go-github error, or 0.
func apiStatus(err error) int {
	var er *gogithub.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	var rl *gogithub.RateLimitError
	if errors.As(err, &rl) && rl.Response != nil {
		return rl.Response.StatusCode
	}
	var ab *gogithub.AbuseRateLimitError
	if errors.As(err, &ab) && ab.Response != nil {
		return ab.Response.StatusCode
	}
	return 0
}

// githubMessage is GitHub's own message in an error, or the error text.
func githubMessage(err error) string {
	var er *gogithub.ErrorResponse
	if errors.As(err, &er) {
		status := ""
		if er.Response != nil {
			status = er.Response.Status
		}
		if er.Message != "" {
			return strings.TrimSpace(status + " " + er.Message)
		}
		return status
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

// asPermissionError recognises GitHub's answer to a token without the
// permission for an operation.
func asPermissionError(err error, op, permission string) error {
	var er *gogithub.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil {
		return err
	}
	if er.Response.StatusCode == http.StatusForbidden && strings.Contains(strings.ToLower(er.Message), "resource not accessible") {
		return &PermissionError{Op: op, Permission: permission, Accepted: er.Response.Header.Get("X-Accepted-GitHub-Permissions"), Err: err}
	}
	return err
}

// isBodyTooLong recognises the 422 GitHub sends for a comment body over its
// limit of 65,536 characters.
func isBodyTooLong(err error) bool {
	var er *gogithub.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil || er.Response.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	if strings.Contains(strings.ToLower(er.Message), "too long") {
		return true
	}
	for _, e := range er.Errors {
		if strings.Contains(strings.ToLower(e.Message), "too long") || (e.Field == "body" && e.Code == "too_long") {
			return true
		}
	}
	return false
}

// isGatewayError recognises a 502/503/504 that survived the transport.
func isGatewayError(err error) bool {
	switch apiStatus(err) {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}
