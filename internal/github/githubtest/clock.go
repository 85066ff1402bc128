package githubtest

import (
	"time"

	"github.com/modelci/modelci/internal/apifake"
)

// Clock is a fake clock: Sleep records the wait and advances Now without
// waiting. See apifake.Clock.
type Clock = apifake.Clock

// NewClock starts a fake clock at start.
func NewClock(start time.Time) *Clock { return apifake.NewClock(start) }
