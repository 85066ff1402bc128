package image

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/modelci/modelci/internal/ci"
	"github.com/modelci/modelci/internal/proc"
)

// CreatedTime returns the image's creation time and where it came from:
// SOURCE_DATE_EPOCH when set, else the time of the commit checked out in
// dir (git log -1 --format=%ct), else the Unix epoch with a note. Nil run
// means proc.Exec. It never uses the clock, so rebuilding the same commit
// gives the same digest.
func CreatedTime(ctx context.Context, getenv func(string) string, run proc.Runner, dir string) (time.Time, string, error) {
	if s := strings.TrimSpace(getenv("SOURCE_DATE_EPOCH")); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return time.Time{}, "", fmt.Errorf("SOURCE_DATE_EPOCH=%q: want a non-negative whole number of seconds since 1970-01-01", s)
		}
		return time.Unix(n, 0).UTC(), "SOURCE_DATE_EPOCH", nil
	}
	if run == nil {
		run = proc.Exec
	}
	out, err := run(ctx, proc.Command{Dir: dir, Name: "git", Args: []string{"log", "-1", "--format=%ct"}})
	if err == nil {
		if n, perr := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); perr == nil && n >= 0 {
			return time.Unix(n, 0).UTC(), "commit time", nil
		}
	}
	return time.Unix(0, 0).UTC(), "no SOURCE_DATE_EPOCH and no git commit: created time is 1970-01-01T00:00:00Z", nil
}

// HeadRevision returns the commit checked out in dir (git rev-parse HEAD),
// or "" when there is none or git cannot tell. Nil run means proc.Exec.
func HeadRevision(ctx context.Context, run proc.Runner, dir string) string {
	if run == nil {
		run = proc.Exec
	}
	out, err := run(ctx, proc.Command{Dir: dir, Name: "git", Args: []string{"rev-parse", "HEAD"}})
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// CIInfo is what the CI platform says about the build, as far as the
// image needs it: its metadata, its default tags and whether it may push.
type CIInfo struct {
	// SHA is the commit.
	SHA string
	// Tag is the git tag name, when the build is of a tag.
	Tag string
	// PullRequest is set for pull or merge request builds.
	PullRequest bool
	// Fork is set when the build runs for a fork of the repository.
	Fork bool
	// Source is the repository URL.
	Source string
}

// DetectCI reads the CI environment through internal/ci, the one
// detection modelci has. readFile reads GitHub's event payload
// (GITHUB_EVENT_PATH) for the fork status; it may be nil. Overrides of
// `modelci run` are not applied: pushing stays refused whenever the
// platform says the build is a pull or merge request or a fork, whatever
// the flags say.
func DetectCI(getenv func(string) string, readFile func(string) ([]byte, error)) CIInfo {
	// Ignore the MODELCI_* overrides: only the platform's word counts here.
	platformOnly := func(k string) string {
		if strings.HasPrefix(k, "MODELCI_") {
			return ""
		}
		return getenv(k)
	}
	// The error only says `modelci run` could not act on the event; what
	// could be learnt is still there.
	ev, _ := ci.Detect(context.Background(), proc.Env{Getenv: platformOnly, ReadFile: readFile}, ci.Overrides{})
	if ev == nil {
		return CIInfo{}
	}
	return CIInfo{
		SHA:         ev.SHA,
		Tag:         ev.Tag(),
		PullRequest: ev.InPullRequest,
		Fork:        ev.Fork || ev.ForkRepository,
		Source:      ev.WebURL,
	}
}

// PushBlocked returns why pushing is not allowed in this build, or "":
// never from a pull or merge request, never from a fork.
func (c CIInfo) PushBlocked() string {
	switch {
	case c.PullRequest && c.Fork:
		return "this build runs for a pull request from a fork; modelci never pushes images from pull requests or forks"
	case c.PullRequest:
		return "this build runs for a pull request; modelci pushes only after merge"
	case c.Fork:
		return "this build runs in a fork; modelci never pushes images from forks"
	}
	return ""
}

// DefaultTags are the tags of a pushed image when none are configured: the
// commit sha (when known) and latest, plus the semver tags of a release
// tag. A pre-release does not move latest.
func DefaultTags(c CIInfo) []string {
	var tags []string
	if c.SHA != "" {
		tags = append(tags, c.SHA)
	}
	sv := SemverTags(c.Tag)
	if len(sv) == 0 || !strings.Contains(sv[0], "-") {
		tags = append(tags, "latest")
	}
	return append(tags, sv...)
}

var semverRE = regexp.MustCompile(`^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// SemverTags returns the image tags of a semver git tag: "v1.2.3" gives
// 1.2.3, 1.2 and 1; "v0.4.1" gives 0.4.1 and 0.4; a pre-release gives only
// itself. Build metadata's '+' becomes '_' (tags cannot hold '+'). A tag
// that is not semver gives none.
func SemverTags(tag string) []string {
	m := semverRE.FindStringSubmatch(tag)
	if m == nil {
		return nil
	}
	full := strings.TrimPrefix(tag, "v")
	full = strings.ReplaceAll(full, "+", "_")
	if m[4] != "" {
		return []string{full}
	}
	out := []string{full}
	if m[5] != "" {
		out = append(out, m[1]+"."+m[2]+"."+m[3])
	}
	out = append(out, m[1]+"."+m[2])
	if m[1] != "0" {
		out = append(out, m[1])
	}
	return out
}

// SemverVersion returns the version of a semver tag ("v1.2.3" → "1.2.3"),
// or "".
func SemverVersion(tag string) string {
	if !semverRE.MatchString(tag) {
		return ""
	}
	return strings.TrimPrefix(tag, "v")
}

var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// ValidTag reports whether t is a valid image tag.
func ValidTag(t string) bool { return tagRE.MatchString(t) }
