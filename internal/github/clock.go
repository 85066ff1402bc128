package github

import "github.com/modelci/modelci/internal/httpretry"

type (
	// Clock tells the time and waits; see httpretry.Clock.
	Clock = httpretry.Clock
	// SystemClock is the real clock; see httpretry.SystemClock.
	SystemClock = httpretry.SystemClock
)
