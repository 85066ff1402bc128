package httpretry

import "github.com/modelci/modelci/internal/proc"

// Clock is proc.Clock. The alias keeps the name working for callers
// outside the API clients that still spell it so (internal/action,
// internal/cli); the API clients and this package name proc.Clock.
type Clock = proc.Clock

// SystemClock is proc.SystemClock; see Clock.
type SystemClock = proc.SystemClock
