// Package sticky provides what the GitHub pull request comment and the
// GitLab merge request note of a model report have in common: the comment
// modes (auto, always, never, update-only), the outcomes, the hidden marker
// line that identifies a model's report, and how bodies are compared.
package sticky

import (
	"fmt"
	"strings"
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
// it in the body (report.Marker, which must stay identical to this); the
// clients find comments by it. Characters that could end the HTML comment
// or the line are replaced, exactly as report.Marker does.
func Marker(model string) string {
	name := strings.NewReplacer("--", "-", ">", "_", "\n", "_", "\r", "_").Replace(strings.TrimSpace(model))
	return "<!-- modelci:report name=" + name + " -->"
}

// SameBody compares bodies as GitHub and GitLab store them: line endings
// normalised, trailing whitespace ignored.
func SameBody(a, b string) bool {
	norm := func(s string) string {
		return strings.TrimRightFunc(strings.ReplaceAll(s, "\r\n", "\n"), unicode.IsSpace)
	}
	return norm(a) == norm(b)
}
