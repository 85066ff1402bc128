package github

import (
	"time"

	"github.com/modelci/modelci/internal/httpretry"
)

// The retrying transport lives in internal/httpretry, shared with the
// GitLab client. These names keep the GitHub client's API.
type (
	// RetryPolicy bounds the retries; see httpretry.Policy.
	RetryPolicy = httpretry.Policy
	// Transport retries rate limits and gateway errors; see
	// httpretry.Transport.
	Transport = httpretry.Transport
)

// DefaultRetryPolicy is httpretry.DefaultPolicy.
var DefaultRetryPolicy = httpretry.DefaultPolicy

// backoff is httpretry.Backoff.
func backoff(p RetryPolicy, n int, rnd func() float64) time.Duration {
	return httpretry.Backoff(p, n, rnd)
}
