package action

import (
	"encoding/json"
	"fmt"

	"github.com/sethvargo/go-githubactions"

	"github.com/modelci/modelci/internal/ci"
)

// Event is the build `modelci run` acts on, detected by internal/ci.
type Event = ci.Event

// Kind is what `modelci run` does for a build; see ci.Kind.
type Kind = ci.Kind

// Kinds of builds; see package ci.
const (
	KindPullRequest       = ci.KindPullRequest
	KindPullRequestTarget = ci.KindPullRequestTarget
	KindPushDefault       = ci.KindPushDefault
	KindOther             = ci.KindOther
	KindLocal             = ci.KindLocal
)

// ParseEvent classifies a GitHub Actions event from the context that
// go-githubactions read from the environment and GITHUB_EVENT_PATH.
func ParseEvent(gc *githubactions.GitHubContext) (*Event, error) {
	var raw []byte
	if gc.Event != nil {
		b, err := json.Marshal(gc.Event)
		if err != nil {
			return nil, fmt.Errorf("event payload %s: %w", gc.EventPath, err)
		}
		raw = b
	}
	ev, err := ci.ParseGitHub(ci.GitHubContext{
		EventName:  gc.EventName,
		EventPath:  gc.EventPath,
		SHA:        gc.SHA,
		Ref:        gc.Ref,
		Actor:      gc.Actor,
		Repository: gc.Repository,
		Payload:    raw,
	})
	if err != nil {
		return nil, err
	}
	return ev, nil
}
