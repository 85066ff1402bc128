package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	gogithub "github.com/google/go-github/v60/github"

	"github.com/modelci/modelci/internal/httpretry"
	"github.com/modelci/modelci/internal/sticky"
)

// Mode says when Upsert writes the PR comment (the `comment` input); see
// sticky.Mode.
type Mode = sticky.Mode

// Comment modes; see package sticky.
const (
	ModeAuto       = sticky.ModeAuto
	ModeAlways     = sticky.ModeAlways
	ModeNever      = sticky.ModeNever
	ModeUpdateOnly = sticky.ModeUpdateOnly
)

// Outcome is what Upsert did.
type Outcome = sticky.Outcome

// Outcomes.
const (
	Created   = sticky.Created
	Updated   = sticky.Updated
	Unchanged = sticky.Unchanged
	Skipped   = sticky.Skipped
)

// Result describes the comment after Upsert.
type Result struct {
	Outcome Outcome
	// CommentID and URL identify the comment (zero when skipped).
	CommentID int64
	URL       string
	// Truncated says GitHub refused the body as too long and a cut
	// version was posted.
	Truncated bool
	// Reason explains a skip.
	Reason string
	// Author is the account whose comments were considered ours.
	Author Author
}

// ActionsBot is the account that comments made with a GitHub Actions
// GITHUB_TOKEN are attributed to.
const ActionsBot = "github-actions[bot]"

// Author is the account whose comments Upsert treats as its own.
type Author struct {
	Login string
	// Bot requires the comment's user to be of type "Bot" too. It is set
	// when the login was inferred rather than read from GET /user.
	Bot bool
	// Source says how the login was found.
	Source string
}

// Marker returns the hidden line that identifies the report comment of a
// model: `<!-- modelci:report name=<model> -->`; see sticky.Marker.
func Marker(model string) string { return sticky.Marker(model) }

// Author returns the account the token acts as. It asks GET /user once. A
// GitHub Actions GITHUB_TOKEN is a GitHub App installation token, for
// which GitHub answers 403 "Resource not accessible by integration"; its
// comments are written by github-actions[bot], so that login (with user
// type Bot) is assumed. A token of another GitHub App comments as
// "<app-slug>[bot]", which cannot be learnt from the token alone: set
// Options.Author for it.
func (c *Client) Author(ctx context.Context) (Author, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.author != nil {
		return *c.author, nil
	}
	u, _, err := c.gh.Users.Get(ctx, "")
	var a Author
	switch {
	case err == nil && u.GetLogin() != "":
		a = Author{Login: u.GetLogin(), Bot: false, Source: "GET /user"}
	case err == nil:
		return Author{}, errors.New("find the token's account: GET /user returned no login")
	case apiStatus(err) == http.StatusForbidden && strings.Contains(strings.ToLower(githubMessage(err)), "resource not accessible"):
		a = Author{Login: ActionsBot, Bot: true, Source: "installation token (GET /user is not allowed); assuming " + ActionsBot}
	default:
		return Author{}, fmt.Errorf("find the token's account (GET /user): %w", err)
	}
	c.author = &a
	return a, nil
}

// maxPages bounds the listing: 100 pages of 100 comments.
const maxPages = 100

// comments lists every comment of an issue or pull request, following the
// Link header through all pages.
func (c *Client) comments(ctx context.Context, owner, repo string, number int) ([]*gogithub.IssueComment, error) {
	var all []*gogithub.IssueComment
	opts := &gogithub.IssueListCommentsOptions{ListOptions: gogithub.ListOptions{PerPage: 100}}
	for pages := 1; ; pages++ {
		page, resp, err := c.gh.Issues.ListComments(ctx, owner, repo, number, opts)
		if err != nil {
			return nil, asPermissionError(fmt.Errorf("list the comments of %s/%s#%d (page %d): %w", owner, repo, number, max(opts.Page, 1), err), "list the PR comments", "pull-requests: read")
		}
		all = append(all, page...)
		if resp.NextPage == 0 {
			return all, nil
		}
		if pages >= maxPages {
			return nil, fmt.Errorf("list the comments of %s/%s#%d: more than %d pages", owner, repo, number, maxPages)
		}
		opts.Page = resp.NextPage
	}
}

// mine says whether the token's account wrote a comment.
func mine(ic *gogithub.IssueComment, a Author) bool {
	u := ic.GetUser()
	if u == nil || !strings.EqualFold(u.GetLogin(), a.Login) {
		return false
	}
	return !a.Bot || u.GetType() == "Bot"
}

// Upsert writes the report of model to pull request number according to
// mode (see Mode and sticky.Upsert). body must start with the line
// Marker(model); Upsert adds nothing to it. Our comment is the newest one
// whose first line is exactly that marker and whose author is the token's
// account (see Author): a marker quoted further down, or a comment by
// anyone else, is never edited. With ModeAuto the requests are: GET /user
// (once per Client), one GET per 100 comments, then one PATCH or POST, or
// nothing when the body is unchanged.
//
// Failures:
//   - a *PermissionError when the token may not list or write comments;
//   - a 422 "body is too long" is answered by cutting the body at a clean
//     boundary and sending it once more (Result.Truncated);
//   - a POST that failed with 502/503/504 may have created the comment, so
//     the comments are listed again and the POST is repeated only when
//     ours is not there (at most three POSTs).
func (c *Client) Upsert(ctx context.Context, owner, repo string, number int, model, body string, mode Mode) (*Result, error) {
	mode, err := sticky.ParseMode(string(mode))
	if err != nil {
		return nil, err
	}
	if mode == ModeNever {
		return &Result{Outcome: Skipped, Reason: "comment: never"}, nil
	}
	if owner == "" || repo == "" || number <= 0 {
		return nil, fmt.Errorf("PR comment: need an owner, a repository and a PR number; got %q, %q, %d", owner, repo, number)
	}
	if strings.TrimSpace(model) == "" {
		return nil, errors.New("PR comment: empty model name")
	}
	marker := Marker(model)
	if !sticky.Carries(body, marker) {
		return nil, fmt.Errorf("PR comment for model %q: %w %q", model, ErrNoMarker, marker)
	}
	author, err := c.Author(ctx)
	if err != nil {
		return nil, err
	}
	outcome, cm, err := sticky.Upsert(ctx, c.thread(owner, repo, number, marker, author), marker, body, mode)
	if err != nil {
		return nil, err
	}
	res := &Result{Outcome: outcome, CommentID: cm.ID, URL: cm.URL, Truncated: cm.Truncated, Author: author}
	if outcome == Skipped {
		res.Reason = fmt.Sprintf("no earlier report comment for model %q by %s; comment: update-only never creates one", model, author.Login)
	}
	return res, nil
}

// thread is the comments of a pull request for sticky.Upsert.
func (c *Client) thread(owner, repo string, number int, marker string, author Author) sticky.Thread {
	written := func(op string, post func(b string) (*gogithub.IssueComment, error), body string) (sticky.Comment, error) {
		ic, truncated, err := c.send(marker, body, op, post)
		if err != nil {
			return sticky.Comment{}, err
		}
		return sticky.Comment{ID: ic.GetID(), URL: ic.GetHTMLURL(), Truncated: truncated}, nil
	}
	return sticky.Thread{
		List: func(ctx context.Context) ([]sticky.Comment, error) {
			list, err := c.comments(ctx, owner, repo, number)
			if err != nil {
				return nil, err
			}
			out := make([]sticky.Comment, len(list))
			for i, ic := range list {
				out[i] = sticky.Comment{ID: ic.GetID(), Body: ic.GetBody(), CreatedAt: ic.GetCreatedAt().Time, Mine: mine(ic, author), URL: ic.GetHTMLURL()}
			}
			return out, nil
		},
		Create: func(ctx context.Context, body string) (sticky.Comment, error) {
			return written("create the PR comment", func(b string) (*gogithub.IssueComment, error) {
				ic, _, err := c.gh.Issues.CreateComment(ctx, owner, repo, number, &gogithub.IssueComment{Body: gogithub.String(b)})
				return ic, err
			}, body)
		},
		Edit: func(ctx context.Context, id int64, body string) (sticky.Comment, error) {
			return written("edit the PR comment", func(b string) (*gogithub.IssueComment, error) {
				ic, _, err := c.gh.Issues.EditComment(ctx, owner, repo, id, &gogithub.IssueComment{Body: gogithub.String(b)})
				return ic, err
			}, body)
		},
		MayHaveLanded: isGatewayError,
		Wait: func(ctx context.Context, try int) error {
			return c.clock.Sleep(ctx, httpretry.Backoff(c.policy, try, c.rand))
		},
	}
}

// send posts body; when GitHub says it is too long, it cuts it and posts
// once more.
func (c *Client) send(marker, body, op string, post func(string) (*gogithub.IssueComment, error)) (*gogithub.IssueComment, bool, error) {
	ic, err := post(body)
	truncated := false
	if err != nil && isBodyTooLong(err) {
		truncated = true
		ic, err = post(Truncate(body, marker, truncateTarget(body), TruncationNote))
		if err != nil && isBodyTooLong(err) {
			return nil, true, fmt.Errorf("%s: GitHub refused the body as too long even after cutting it to %d bytes: %w", op, truncateTarget(body), err)
		}
	}
	if err != nil {
		return nil, truncated, asPermissionError(fmt.Errorf("%s: %w", op, err), op, "pull-requests: write")
	}
	return ic, truncated, nil
}
