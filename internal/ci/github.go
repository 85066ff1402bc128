package ci

import (
	"encoding/json"
	"fmt"
	"strings"
)

// GitHubContext is what GitHub Actions tells a step about its event: the
// GITHUB_* variables and the webhook payload at GITHUB_EVENT_PATH.
type GitHubContext struct {
	EventName  string
	EventPath  string
	SHA, Ref   string
	Actor      string
	Repository string // owner/name
	// Payload is the event payload; nil when there is none.
	Payload []byte
}

// payload holds the fields of the webhook payloads that modelci reads. See
// https://docs.github.com/en/webhooks/webhook-events-and-payloads.
type payload struct {
	Action      string `json:"action"`
	Number      int    `json:"number"`
	Ref         string `json:"ref"`
	After       string `json:"after"`
	PullRequest *struct {
		Number  int    `json:"number"`
		HTMLURL string `json:"html_url"`
		Head    prSide `json:"head"`
		Base    prSide `json:"base"`
	} `json:"pull_request"`
	Repository *struct {
		FullName      string `json:"full_name"`
		DefaultBranch string `json:"default_branch"`
		Fork          bool   `json:"fork"`
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

func fromGitHub(getenv func(string) string, readFile func(string) ([]byte, error)) (*Event, error) {
	gc := GitHubContext{
		EventName:  getenv("GITHUB_EVENT_NAME"),
		EventPath:  getenv("GITHUB_EVENT_PATH"),
		SHA:        getenv("GITHUB_SHA"),
		Ref:        getenv("GITHUB_REF"),
		Actor:      getenv("GITHUB_ACTOR"),
		Repository: getenv("GITHUB_REPOSITORY"),
	}
	var readErr error
	if gc.EventPath != "" && readFile != nil {
		gc.Payload, readErr = readFile(gc.EventPath)
	}
	ev, err := ParseGitHub(gc)
	if ev == nil {
		ev = &Event{Platform: GitHub, Name: gc.EventName, Kind: KindOther}
	}
	ev.APIURL = strings.TrimRight(getenv("GITHUB_API_URL"), "/")
	if ev.APIURL == "" {
		ev.APIURL = "https://api.github.com"
	}
	if s := strings.TrimRight(getenv("GITHUB_SERVER_URL"), "/"); s != "" && ev.Owner != "" {
		ev.WebURL = s + "/" + ev.Owner + "/" + ev.Repo
	}
	ev.Workspace = getenv("GITHUB_WORKSPACE")
	if readErr != nil && ev.IsPullRequest() {
		// The unreadable payload is the cause of any error parsing it.
		err = fmt.Errorf("%w: read the event payload %s: %w", ErrUsage, gc.EventPath, readErr)
	}
	return ev, err
}

// ParseGitHub classifies a GitHub Actions event. On an error it still
// returns what it could learn when the payload was readable.
func ParseGitHub(gc GitHubContext) (*Event, error) {
	if gc.EventName == "" {
		return nil, fmt.Errorf("%w: GITHUB_EVENT_NAME is not set; `modelci run` runs inside GitHub Actions, GitLab CI or Jenkins, or with --event elsewhere (use `modelci train` to only train)", ErrUsage)
	}
	e := &Event{Platform: GitHub, Forge: ForgeGitHub, Name: gc.EventName, SHA: gc.SHA, Ref: gc.Ref, Actor: gc.Actor}
	e.Owner, e.Repo, _ = strings.Cut(gc.Repository, "/")
	var p payload
	if len(gc.Payload) > 0 {
		if err := json.Unmarshal(gc.Payload, &p); err != nil {
			e.Kind = KindOther
			e.InPullRequest = strings.HasPrefix(gc.EventName, "pull_request")
			return e, fmt.Errorf("event payload %s: %w", gc.EventPath, err)
		}
	}
	if p.Repository != nil {
		e.DefaultBranch = p.Repository.DefaultBranch
		e.ForkRepository = p.Repository.Fork
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
	e.InPullRequest = strings.HasPrefix(gc.EventName, "pull_request") || p.PullRequest != nil
	if pr := p.PullRequest; pr != nil {
		e.Number = pr.Number
		if e.Number == 0 {
			e.Number = p.Number
		}
		e.BaseSHA, e.BaseRef = pr.Base.SHA, pr.Base.Ref
		e.HeadSHA, e.HeadRef = pr.Head.SHA, pr.Head.Ref
		e.PRURL = pr.HTMLURL
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
	}
	switch gc.EventName {
	case "pull_request", "pull_request_target":
		e.Kind = Kind(gc.EventName)
		if p.PullRequest == nil {
			return e, fmt.Errorf("%w: %s event without a pull_request in the payload at GITHUB_EVENT_PATH %q", ErrUsage, gc.EventName, gc.EventPath)
		}
		if e.Number <= 0 || e.BaseSHA == "" {
			return e, fmt.Errorf("%w: %s payload lacks the PR number or base sha", ErrUsage, gc.EventName)
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
