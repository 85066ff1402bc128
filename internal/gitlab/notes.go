package gitlab

import (
	"context"
	"errors"
	"fmt"
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
			batch []Note
			resp  *response
			err   error
		)
		if next != nil {
			resp, err = c.doURL(ctx, "GET", next, nil, &batch)
		} else {
			q.Set("page", strconv.Itoa(page))
			resp, err = c.do(ctx, "GET", notesPath(project, iid), q, nil, &batch)
		}
		if err != nil {
			return nil, asPermissionError(fmt.Errorf("list the notes of merge request !%d of project %s (page %d): %w", iid, project, page, err), "list the merge request notes", c.kind)
		}
		all = append(all, batch...)
		n, link := c.nextPage(resp.header)
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

// owns says whether a note is a report of ours.
func owns(n Note, marker string, u User) bool {
	return !n.System && n.Author.ID == u.ID && strings.Contains(n.Body, marker)
}

// newest is the newest of our report notes with an ID above minID.
func newest(list []Note, marker string, u User, minID int64) *Note {
	var best *Note
	for i := range list {
		n := &list[i]
		if n.ID <= minID || !owns(*n, marker, u) {
			continue
		}
		if best == nil || n.CreatedAt.After(best.CreatedAt) || (n.CreatedAt.Equal(best.CreatedAt) && n.ID > best.ID) {
			best = n
		}
	}
	return best
}

func maxID(list []Note) int64 {
	var m int64
	for _, n := range list {
		m = max(m, n.ID)
	}
	return m
}

// Upsert writes the report of model to merge request iid of project
// according to mode, with the semantics of the GitHub PR comment (see
// sticky.Mode): our note is the newest non-system note that carries
// Marker(model) and was written by the token's account (GET /user; a
// project or group access token is a bot user). With ModeAuto the requests
// are: GET /user (once per Client), one GET per 100 notes, then one PUT or
// POST, or nothing when the body is unchanged.
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
	if !strings.Contains(body, marker) {
		return nil, fmt.Errorf("merge request note for model %q: %w %q", model, ErrNoMarker, marker)
	}
	if n := utf8.RuneCountInString(body); n > MaxNoteChars {
		return nil, fmt.Errorf("merge request note for model %q: %w (%d > %d characters)", model, ErrTooLong, n, MaxNoteChars)
	}
	user, err := c.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	list, err := c.MergeRequestNotes(ctx, project, iid)
	if err != nil {
		return nil, err
	}
	own := newest(list, marker, user, 0)
	res := &Result{Author: user}
	if own != nil && sticky.SameBody(own.Body, body) {
		res.Outcome, res.NoteID = sticky.Unchanged, own.ID
		return res, nil
	}
	switch {
	case mode == sticky.ModeUpdateOnly && own == nil:
		res.Outcome = sticky.Skipped
		res.Reason = fmt.Sprintf("no earlier report note for model %q by %s; comment: update-only never creates one", model, user.Username)
		return res, nil
	case mode == sticky.ModeAlways || own == nil:
		return c.create(ctx, project, iid, marker, body, user, maxID(list), res)
	default:
		n, err := c.UpdateMergeRequestNote(ctx, project, iid, own.ID, body)
		if err != nil {
			return nil, err
		}
		res.Outcome, res.NoteID = sticky.Updated, n.ID
		return res, nil
	}
}

// createTries bounds the POSTs of one Upsert.
const createTries = 3

func (c *Client) create(ctx context.Context, project string, iid int, marker, body string, user User, seen int64, res *Result) (*Result, error) {
	for try := 1; ; try++ {
		n, err := c.CreateMergeRequestNote(ctx, project, iid, body)
		if err == nil {
			res.Outcome, res.NoteID = sticky.Created, n.ID
			return res, nil
		}
		if !isGatewayError(err) || try >= createTries {
			return nil, err
		}
		// The gateway gave up, but GitLab may have stored the note.
		if serr := c.clock.Sleep(ctx, httpretry.Backoff(c.policy, try, c.rand)); serr != nil {
			return nil, errors.Join(err, serr)
		}
		list, lerr := c.MergeRequestNotes(ctx, project, iid)
		if lerr != nil {
			return nil, errors.Join(err, lerr)
		}
		if landed := newest(list, marker, user, seen); landed != nil {
			res.Outcome, res.NoteID = sticky.Created, landed.ID
			if sticky.SameBody(landed.Body, body) {
				return res, nil
			}
			if _, err := c.UpdateMergeRequestNote(ctx, project, iid, landed.ID, body); err != nil {
				return nil, err
			}
			return res, nil
		}
	}
}
