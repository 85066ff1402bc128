package action

import "github.com/modelci/modelci/internal/ci"

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
