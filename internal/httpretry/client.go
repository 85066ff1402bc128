package httpretry

import (
	"errors"
	"net/http"

	"github.com/modelci/modelci/internal/proc"
)

// ErrNoHTTPClient means an API client was built without an HTTP client:
// nothing here reaches for a global one.
var ErrNoHTTPClient = errors.New("no HTTP client given")

// ClientOptions are the retry settings of an API client.
type ClientOptions struct {
	// Policy bounds the retries; zero fields take DefaultPolicy's.
	Policy Policy
	// Clock waits between retries; nil means proc.SystemClock.
	Clock proc.Clock
	// Rand returns numbers in [0, 1) for the backoff jitter.
	Rand func() float64
	// Logf, if set, is told about retries.
	Logf func(format string, args ...any)
	// Service names the API in messages, e.g. "GitHub API".
	Service string
}

// WithDefaults returns o with its policy's zero fields taken from
// DefaultPolicy and a nil Clock set to proc.SystemClock: the settings an
// API client also uses for its own waits (see Backoff).
func (o ClientOptions) WithDefaults() ClientOptions {
	o.Policy = o.Policy.WithDefaults()
	if o.Clock == nil {
		o.Clock = proc.SystemClock{}
	}
	return o
}

// NewClient returns a copy of base that sends its requests through a
// Transport with o's settings around base's own Transport, and without a
// client timeout. base is not changed. It fails with ErrNoHTTPClient when
// base is nil.
func NewClient(base *http.Client, o ClientOptions) (*http.Client, error) {
	if base == nil {
		return nil, ErrNoHTTPClient
	}
	o = o.WithDefaults()
	hc := *base
	hc.Transport = &Transport{Base: base.Transport, Policy: o.Policy, Clock: o.Clock, Rand: o.Rand, Logf: o.Logf, Service: o.Service}
	// The retrying transport bounds each try and the waiting; a client
	// timeout would cut through a legitimate Retry-After wait.
	hc.Timeout = 0
	return &hc, nil
}
