package action

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sethvargo/go-githubactions"
)

// Kind is what `modelci run` does for an event.
type Kind string

// Kinds of events.
const (
	// KindPullRequest: train the challenger, compare it with the baseline,
	// comment, summarise, gate.
	KindPullRequest Kind = "pull_request"
	// KindPullRequestTarget is refused unless allow_pull_request_target is
	// true; then it is handled like KindPullRequest.
	KindPullRequestTarget Kind = "pull_request_target"
	// KindPushDefault is a push to the repository's default branch: train,
	// evaluate, summarise, then package and push the image.
	KindPushDefault Kind = "push_default_branch"
	// KindOther is everything else (other branches, tags,
	// workflow_dispatch, schedule): train, evaluate, summarise.
	KindOther Kind = "other"
)

// Event is what `modelci run` needs to know about the event that started
// the workflow.
type Event struct {
	// Name is GITHUB_EVENT_NAME.
	Name string
	Kind Kind
	// Owner and Repo name the repository the workflow runs in.
	Owner, Repo string
	// SHA and Ref are GITHUB_SHA and GITHUB_REF.
	SHA, Ref string
	// Actor is GITHUB_ACTOR.
	Actor string
	// DefaultBranch is the repository's default branch from the payload.
	DefaultBranch string

	// Pull request events only.
	Number           int
	BaseSHA, BaseRef string
	HeadSHA, HeadRef string
	// BaseRepo and HeadRepo are "owner/name"; HeadRepo is empty when the
	// fork was deleted.
	BaseRepo, HeadRepo string
	// Fork says the head branch lives in another repository.
	Fork bool
	// ReadOnly says GitHub gives this run a read-only GITHUB_TOKEN (a
	// pull_request from a fork, or one opened by Dependabot), with the
	// reason.
	ReadOnly       bool
	ReadOnlyReason string
}

// IsPullRequest says the event is about a pull request.
func (e *Event) IsPullRequest() bool {
	return e.Kind == KindPullRequest || e.Kind == KindPullRequestTarget
}

// payload holds the fields of the webhook payloads that modelci reads. See
// https://docs.github.com/en/webhooks/webhook-events-and-payloads.
type payload struct {
	Action      string `json:"action"`
	Number      int    `json:"number"`
	Ref         string `json:"ref"`
	After       string `json:"after"`
	PullRequest *struct {
		Number int    `json:"number"`
		Head   prSide `json:"head"`
		Base   prSide `json:"base"`
	} `json:"pull_request"`
	Repository *struct {
		FullName      string `json:"full_name"`
		DefaultBranch string `json:"default_branch"`
	} `json:"repository"`
}

type prSide struct {
	Ref  string `json:"ref"`
	SHA  string `json:"sha"`
	Repo *struct {
		FullName string `json:"full_name"`
		Fork     bool   `json:"fork"`
	} `json:"repo"`
}

// dependabot is the actor of Dependabot's pull requests, whose workflows
// get a read-only token as if they came from a fork.
const dependabot = "dependabot[bot]"

// ParseEvent classifies the event from the GitHub context that
// go-githubactions read from the environment and GITHUB_EVENT_PATH.
func ParseEvent(gc *githubactions.GitHubContext) (*Event, error) {
	if gc.EventName == "" {
		return nil, fmt.Errorf("%w: GITHUB_EVENT_NAME is not set; `modelci run` runs inside GitHub Actions (use `modelci train` elsewhere)", ErrUsage)
	}
	var p payload
	if gc.Event != nil {
		b, err := json.Marshal(gc.Event)
		if err == nil {
			err = json.Unmarshal(b, &p)
		}
		if err != nil {
			return nil, fmt.Errorf("event payload %s: %w", gc.EventPath, err)
		}
	}
	e := &Event{Name: gc.EventName, SHA: gc.SHA, Ref: gc.Ref, Actor: gc.Actor}
	e.Owner, e.Repo = gc.Repo()
	if p.Repository != nil {
		e.DefaultBranch = p.Repository.DefaultBranch
		if e.Repo == "" {
			e.Owner, e.Repo, _ = strings.Cut(p.Repository.FullName, "/")
		}
	}
	if e.Ref == "" {
		e.Ref = p.Ref
	}
	if e.SHA == "" {
		e.SHA = p.After
	}
	switch gc.EventName {
	case "pull_request", "pull_request_target":
		e.Kind = Kind(gc.EventName)
		if p.PullRequest == nil {
			return nil, fmt.Errorf("%w: %s event without a pull_request in the payload at GITHUB_EVENT_PATH %q", ErrUsage, gc.EventName, gc.EventPath)
		}
		pr := p.PullRequest
		e.Number = pr.Number
		if e.Number == 0 {
			e.Number = p.Number
		}
		e.BaseSHA, e.BaseRef = pr.Base.SHA, pr.Base.Ref
		e.HeadSHA, e.HeadRef = pr.Head.SHA, pr.Head.Ref
		if pr.Base.Repo != nil {
			e.BaseRepo = pr.Base.Repo.FullName
		}
		if pr.Head.Repo != nil {
			e.HeadRepo = pr.Head.Repo.FullName
		}
		// A deleted fork has head.repo null. head.repo.fork alone is not
		// enough: it is also true for a PR between two branches of a
		// repository that is itself a fork.
		e.Fork = pr.Head.Repo == nil || !strings.EqualFold(e.HeadRepo, e.BaseRepo)
		if e.Number <= 0 || e.BaseSHA == "" {
			return nil, fmt.Errorf("%w: %s payload lacks the PR number or base sha", ErrUsage, gc.EventName)
		}
		if e.Kind == KindPullRequest {
			switch {
			case e.Fork:
				head := e.HeadRepo
				if head == "" {
					head = "a deleted fork"
				}
				e.ReadOnly, e.ReadOnlyReason = true, fmt.Sprintf("this pull request comes from %s", head)
			case strings.EqualFold(e.Actor, dependabot):
				e.ReadOnly, e.ReadOnlyReason = true, "this pull request was opened by Dependabot"
			}
		}
	case "push":
		e.Kind = KindOther
		if e.DefaultBranch != "" && e.Ref == "refs/heads/"+e.DefaultBranch {
			e.Kind = KindPushDefault
		}
	default:
		e.Kind = KindOther
	}
	return e, nil
}
