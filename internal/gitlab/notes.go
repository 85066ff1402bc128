package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modelci/modelci/internal/httpretry"
	"github.com/modelci/modelci/internal/sticky"
)

// MaxNoteChars is GitLab's limit on a note body, in characters.
const MaxNoteChars = 1000000

// User is a GitLab account. Project and group access tokens act as bot
// users (Bot true), which GET /user returns like any other.
type User struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	Bot      bool   `json:"bot"`
}

// Note is a merge request note (comment).
type Note struct {
	ID        int64     `json:"id"`
	Body      string    `json:"body"`
	Author    User      `json:"author"`
	System    bool      `json:"system"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Result describes the note after Upsert.
type Result struct {
	Outcome sticky.Outcome
	// NoteID identifies the note (zero when skipped).
	NoteID int64
	// Reason explains a skip.
	Reason string
	// Author is the account whose notes were considered ours.
	Author User
}

// CurrentUser returns the account the token acts as (GET /user), asked
// once per Client.
func (c *Client) CurrentUser(ctx context.Context) (User, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.user != nil {
		return *c.user, nil
	}
	var u User
	if _, err := c.do(ctx, "GET", "user", nil, nil, &u); err != nil {
		return User{}, asPermissionError(fmt.Errorf("find the token's account (GET /user): %w", err), "find the token's account", c.kind)
	}
	if u.ID == 0 {
		return User{}, errors.New("find the token's account: GET /user returned no id")
	}
	c.user = &u
	return u, nil
}

// maxPages bounds the listing: 100 pages of 100 notes.
const maxPages = 100

// notesPath is the notes collection of a merge request. project is the
// numeric ID or the path (e.g. group/sub/project), escaped as one segment.
func notesPath(project string, iid int) string {
	return "projects/" + url.PathEscape(project) + "/merge_requests/" + strconv.Itoa(iid) + "/notes"
}

// MergeRequestNotes lists every note of a merge request, oldest first, 100
// per page, following X-Next-Page (or the Link header) through all pages.
func (c *Client) MergeRequestNotes(ctx context.Context, project string, iid int) ([]Note, error) {
	var all []Note
	q := url.Values{"per_page": {"100"}, "sort": {"asc"}, "order_by": {"created_at"}}
	var next *url.URL
	for page := 1; ; {
		var (
			batch  []Note
			header http.Header
			err    error
		)
		if next != nil {
			header, err = c.doURL(ctx, "GET", next, nil, &batch)
		} else {
			q.Set("page", strconv.Itoa(page))
			header, err = c.do(ctx, "GET", notesPath(project, iid), q, nil, &batch)
		}
		if err != nil {
			return nil, asPermissionError(fmt.Errorf("list the notes of merge request !%d of project %s (page %d): %w", iid, project, page, err), "list the merge request notes", c.kind)
		}
		all = append(all, batch...)
		n, link := c.nextPage(header)
		if n == 0 && link == nil {
			return all, nil
		}
		if page >= maxPages {
			return nil, fmt.Errorf("list the notes of merge request !%d of project %s: more than %d pages", iid, project, maxPages)
		}
		if n > 0 && n <= page {
			return nil, fmt.Errorf("list the notes of merge request !%d of project %s: page %d names %d as the next page", iid, project, page, n)
		}
		page++
		if n > 0 {
			page, next = n, nil
		} else {
			next = link
		}
	}
}

type noteBody struct {
	Body string `json:"body"`
}

// CreateMergeRequestNote posts a note.
func (c *Client) CreateMergeRequestNote(ctx context.Context, project string, iid int, body string) (*Note, error) {
	var n Note
	if _, err := c.do(ctx, "POST", notesPath(project, iid), nil, noteBody{Body: body}, &n); err != nil {
		return nil, asPermissionError(fmt.Errorf("create a note on merge request !%d of project %s: %w", iid, project, err), "create the merge request note", c.kind)
	}
	return &n, nil
}

// UpdateMergeRequestNote replaces the body of a note.
func (c *Client) UpdateMergeRequestNote(ctx context.Context, project string, iid int, id int64, body string) (*Note, error) {
	var n Note
	path := notesPath(project, iid) + "/" + strconv.FormatInt(id, 10)
	if _, err := c.do(ctx, "PUT", path, nil, noteBody{Body: body}, &n); err != nil {
		return nil, asPermissionError(fmt.Errorf("update note %d of merge request !%d of project %s: %w", id, iid, project, err), "update the merge request note", c.kind)
	}
	return &n, nil
}

// Upsert writes the report of model to merge request iid of project
// according to mode, with the semantics of the GitHub PR comment (see
// sticky.Mode and sticky.Upsert): our note is the newest non-system note
// whose first line is exactly sticky.Marker(model) and that the token's
// account wrote (GET /user; a project or group access token is a bot
// user). With
// ModeAuto the requests are: GET /user (once per Client), one GET per 100
// notes, then one PUT or POST, or nothing when the body is unchanged.
//
// Failures: a *PermissionError when GitLab refuses the token (401/403); a
// POST that failed with 502/503/504 may have created the note, so the notes
// are listed again and the POST is repeated only when ours is not there (at
// most three POSTs).
func (c *Client) Upsert(ctx context.Context, project string, iid int, model, body string, mode sticky.Mode) (*Result, error) {
	mode, err := sticky.ParseMode(string(mode))
	if err != nil {
		return nil, err
	}
	if mode == sticky.ModeNever {
		return &Result{Outcome: sticky.Skipped, Reason: "comment: never"}, nil
	}
	if strings.TrimSpace(project) == "" || iid <= 0 {
		return nil, fmt.Errorf("merge request note: need a project and a merge request IID; got %q, %d", project, iid)
	}
	if strings.TrimSpace(model) == "" {
		return nil, errors.New("merge request note: empty model name")
	}
	marker := sticky.Marker(model)
	if !sticky.Carries(body, marker) {
		return nil, fmt.Errorf("merge request note for model %q: %w %q", model, ErrNoMarker, marker)
	}
	if n := utf8.RuneCountInString(body); n > MaxNoteChars {
		return nil, fmt.Errorf("merge request note for model %q: %w (%d > %d characters)", model, ErrTooLong, n, MaxNoteChars)
	}
	user, err := c.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	outcome, n, err := sticky.Upsert(ctx, c.thread(project, iid, user), marker, body, mode)
	if err != nil {
		return nil, err
	}
	res := &Result{Outcome: outcome, NoteID: n.ID, Author: user}
	if outcome == sticky.Skipped {
		res.Reason = fmt.Sprintf("no earlier report note for model %q by %s; comment: update-only never creates one", model, user.Username)
	}
	return res, nil
}

// thread is the notes of a merge request for sticky.Upsert.
func (c *Client) thread(project string, iid int, user User) sticky.Thread {
	written := func(n *Note, err error) (sticky.Comment, error) {
		if err != nil {
			return sticky.Comment{}, err
		}
		return sticky.Comment{ID: n.ID}, nil
	}
	return sticky.Thread{
		List: func(ctx context.Context) ([]sticky.Comment, error) {
			list, err := c.MergeRequestNotes(ctx, project, iid)
			if err != nil {
				return nil, err
			}
			out := make([]sticky.Comment, len(list))
			for i, n := range list {
				out[i] = sticky.Comment{ID: n.ID, Body: n.Body, CreatedAt: n.CreatedAt, Mine: !n.System && n.Author.ID == user.ID}
			}
			return out, nil
		},
		Create: func(ctx context.Context, body string) (sticky.Comment, error) {
			return written(c.CreateMergeRequestNote(ctx, project, iid, body))
		},
		Edit: func(ctx context.Context, id int64, body string) (sticky.Comment, error) {
			return written(c.UpdateMergeRequestNote(ctx, project, iid, id, body))
		},
		MayHaveLanded: isGatewayError,
		Wait: func(ctx context.Context, try int) error {
			return c.clock.Sleep(ctx, httpretry.Backoff(c.policy, try, c.rand))
		},
	}
}
