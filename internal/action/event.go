package action

import (
	"github.com/modelci/modelci/internal/ci"
	"github.com/modelci/modelci/internal/inputfile"
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

// ReadEvent reads the CI event payload (GITHUB_EVENT_PATH): a regular file
// of at most inputfile.MaxEvent bytes, so /dev/zero or a FIFO there fails at
// once instead of filling memory or blocking.
func ReadEvent(path string) ([]byte, error) {
	return inputfile.ReadFile(path, inputfile.MaxEvent)
}
