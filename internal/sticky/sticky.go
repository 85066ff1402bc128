// Package sticky provides what the GitHub pull request comment and the
// GitLab merge request note of a model report have in common: the comment
// modes (auto, always, never, update-only), the outcomes, the hidden marker
// line that identifies a model's report, how bodies are compared, and the
// decision of what to write (Upsert) over a platform's Thread.
package sticky

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Mode says when the report comment is written (the `comment` input).
type Mode string

// Comment modes.
const (
	// ModeAuto keeps one sticky comment per model: it edits the newest
	// comment that carries the model's marker and was written by the
	// token's account, or creates one when there is none.
	ModeAuto Mode = "auto"
	// ModeAlways posts a new comment on every run whose report differs from
	// the newest one, keeping the earlier ones as history. This is what CML
	// users get from `cml comment create` without --watermark-title.
	ModeAlways Mode = "always"
	// ModeNever posts nothing and sends no request.
	ModeNever Mode = "never"
	// ModeUpdateOnly edits the existing sticky comment but never creates
	// one. Edits notify nobody, so this keeps a report fresh on PRs that
	// already have one without pinging reviewers on the others.
	ModeUpdateOnly Mode = "update-only"
)

// ParseMode reads the `comment` input; empty means auto.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case "":
		return ModeAuto, nil
	case ModeAuto, ModeAlways, ModeNever, ModeUpdateOnly:
		return m, nil
	}
	return "", fmt.Errorf("comment: want auto, always, never or update-only; got %q", s)
}

// Outcome is what an upsert did.
type Outcome string

// Outcomes.
const (
	Created   Outcome = "created"
	Updated   Outcome = "updated"
	Unchanged Outcome = "unchanged"
	Skipped   Outcome = "skipped"
)

// Marker returns the hidden line that identifies the report comment of a
// model: `<!-- modelci:report name=<model> -->`. The report renderer puts
// it in the body (report.Marker calls this); the clients find comments by
// it. Characters that could end the HTML comment or the line are replaced.
func Marker(model string) string {
	name := strings.NewReplacer("--", "-", ">", "_", "\n", "_", "\r", "_").Replace(strings.TrimSpace(model))
	return "<!-- modelci:report name=" + name + " -->"
}

// Carries says body is a report with marker: its first line, without a
// trailing carriage return, is exactly marker. A marker anywhere else (a
// quote of another report, data that happens to contain marker text) does
// not count, so one model's report can never be taken for another's.
func Carries(body, marker string) bool {
	first, _, _ := strings.Cut(body, "\n")
	return marker != "" && strings.TrimSuffix(first, "\r") == marker
}

// SameBody compares bodies as GitHub and GitLab store them: line endings
// normalised, trailing whitespace ignored.
func SameBody(a, b string) bool {
	norm := func(s string) string {
		return strings.TrimRightFunc(strings.ReplaceAll(s, "\r\n", "\n"), unicode.IsSpace)
	}
	return norm(a) == norm(b)
}

// Comment is a GitHub issue comment or a GitLab note as the sticky logic
// sees it.
type Comment struct {
	ID        int64
	Body      string
	CreatedAt time.Time
	// Mine says the token's account wrote it (and, on GitLab, that it is
	// not a system note). Whether it is a report of the model is read from
	// Body.
	Mine bool
	// URL is its web address, when the platform gives one.
	URL string
	// Truncated says the body was cut to fit the platform's limit before
	// it was written.
	Truncated bool
}

// Thread is the comments of one pull or merge request, as a platform
// client reads and writes them.
type Thread struct {
	// List returns every comment, all pages.
	List func(ctx context.Context) ([]Comment, error)
	// Create posts a new comment; Edit replaces the body of comment id.
	Create func(ctx context.Context, body string) (Comment, error)
	Edit   func(ctx context.Context, id int64, body string) (Comment, error)
	// MayHaveLanded says a failed Create may have been stored all the same
	// (a 502/503/504: the gateway gave up, the backend may not have).
	MayHaveLanded func(error) bool
	// Wait sleeps before the try-th (1-based) check of such a Create.
	Wait func(ctx context.Context, try int) error
}

// createTries bounds the POSTs of one Upsert.
const createTries = 3

// Upsert keeps the report comment of a thread as mode says (see Mode):
// marker identifies the model's report (see Carries), body is the new
// report. mode must be parsed and not ModeNever, whose callers send no
// request at all. It lists the thread once, then edits our newest report,
// creates one, or does nothing when the body is unchanged or mode is
// update-only and there is none (Skipped, with a zero Comment: the caller
// says why).
//
// A Create that failed but MayHaveLanded is not repeated blindly: the
// thread is listed again after Wait, and the POST is repeated only when
// no new report of ours is there (at most three POSTs).
func Upsert(ctx context.Context, t Thread, marker, body string, mode Mode) (Outcome, Comment, error) {
	list, err := t.List(ctx)
	if err != nil {
		return "", Comment{}, err
	}
	own := newest(list, marker, 0)
	switch {
	case own != nil && SameBody(own.Body, body):
		return Unchanged, *own, nil
	case mode == ModeUpdateOnly && own == nil:
		return Skipped, Comment{}, nil
	case mode == ModeAlways || own == nil:
		return create(ctx, t, marker, body, maxID(list))
	}
	c, err := t.Edit(ctx, own.ID, body)
	if err != nil {
		return "", Comment{}, err
	}
	return Updated, c, nil
}

// create posts body, reconciling a POST that may have landed; seen is the
// highest comment ID before the first POST.
func create(ctx context.Context, t Thread, marker, body string, seen int64) (Outcome, Comment, error) {
	for try := 1; ; try++ {
		c, err := t.Create(ctx, body)
		if err == nil {
			return Created, c, nil
		}
		if !t.MayHaveLanded(err) || try >= createTries {
			return "", Comment{}, err
		}
		if serr := t.Wait(ctx, try); serr != nil {
			return "", Comment{}, errors.Join(err, serr)
		}
		list, lerr := t.List(ctx)
		if lerr != nil {
			return "", Comment{}, errors.Join(err, lerr)
		}
		landed := newest(list, marker, seen)
		if landed == nil {
			continue
		}
		if SameBody(landed.Body, body) {
			return Created, *landed, nil
		}
		edited, err := t.Edit(ctx, landed.ID, body)
		if err != nil {
			return "", Comment{}, err
		}
		edited.ID = landed.ID
		return Created, edited, nil
	}
}

// newest is the newest of our reports with an ID above minID: written by
// the token's account and carrying marker on its first line.
func newest(list []Comment, marker string, minID int64) *Comment {
	var best *Comment
	for i := range list {
		c := &list[i]
		if c.ID <= minID || !c.Mine || !Carries(c.Body, marker) {
			continue
		}
		if best == nil || c.CreatedAt.After(best.CreatedAt) || (c.CreatedAt.Equal(best.CreatedAt) && c.ID > best.ID) {
			best = c
		}
	}
	return best
}

func maxID(list []Comment) int64 {
	var m int64
	for _, c := range list {
		m = max(m, c.ID)
	}
	return m
}
