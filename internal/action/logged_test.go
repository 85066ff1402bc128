package action

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/proc"
)

// failingPublisher fails the local run's packaging.
type failingPublisher struct{}

func (failingPublisher) Publish(context.Context, PublishRequest) (*PublishResult, error) {
	return nil, errors.New("no serving runtime for linux/amd64")
}

// TestRunLoggedError: an error Run wrote to the job log comes back marked
// as logged, with its cause intact, so the CLI does not print it again;
// an error Run did not log is not marked.
func TestRunLoggedError(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "push_branch.json")
	var out bytes.Buffer
	env := proc.Env{
		Getenv: func(k string) string {
			if k == "MODELCI_WORKING_DIRECTORY" {
				return h.ws + "/ml"
			}
			return ""
		},
		Stdout: &out,
		Clock:  h.clock,
		Rand:   func() float64 { return 0.5 },
	}
	_, err := Run(context.Background(), env, Options{}, Deps{Trainer: LocalTrainer{Workers: 1}, Comparer: h.differ, Shipper: failingPublisher{}})
	var logged *LoggedError
	if !errors.As(err, &logged) {
		t.Fatalf("err = %v (%T), want a LoggedError\n%s", err, err, out.String())
	}
	if n := strings.Count(out.String(), "no serving runtime"); n != 1 {
		t.Errorf("the log has the error %d times, want once:\n%s", n, out.String())
	}

	_, err = Run(context.Background(), proc.Env{Stdout: &out}, Options{}, Deps{})
	if err == nil || errors.As(err, &logged) {
		t.Errorf("an error that was not logged: %v", err)
	}

	gate := &fakeDiffer{gatesPassed: false}
	_, err = Run(context.Background(), env, Options{}, Deps{Trainer: LocalTrainer{Workers: 1}, Comparer: gate, Shipper: h.publisher})
	if !errors.Is(err, ErrGateFailed) || !errors.As(err, &logged) {
		t.Errorf("a failed gate: %v, want ErrGateFailed, logged", err)
	}
}
