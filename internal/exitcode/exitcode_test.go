package exitcode

import (
	"errors"
	"fmt"
	"testing"
)

func TestOf(t *testing.T) {
	t.Parallel()
	errBad := NewUsage("invalid configuration")
	errGate := NewGate("gate failed")
	cases := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, OK},
		{"plain", errors.New("disk full"), Failure},
		{"usage sentinel", errBad, Usage},
		{"wrapped usage sentinel", fmt.Errorf("modelci.yaml: line 3: %w", errBad), Usage},
		{"AsUsage", AsUsage(errors.New("--format must be json")), Usage},
		{"Usagef", Usagef("bad %s", "flag"), Usage},
		{"gate", fmt.Errorf("x: %w", errGate), Gate},
		{"AsGate", AsGate(errors.New("1 quality gate(s) failed: rmse max 3")), Gate},
		{"explicit code", &Error{Code: 127, Err: errors.New("not found")}, 127},
		{"explicit code wins over the kind", &Error{Code: 130, Err: fmt.Errorf("interrupted (%w)", errBad)}, 130},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := Of(c.err); got != c.want {
				t.Errorf("Of(%v) = %d, want %d", c.err, got, c.want)
			}
		})
	}
}

func TestKindsKeepTheirMessageAndIdentity(t *testing.T) {
	t.Parallel()
	errBad := NewUsage("invalid baseline")
	err := fmt.Errorf("%w: empty spec", errBad)
	if got, want := err.Error(), "invalid baseline: empty spec"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	if !errors.Is(err, errBad) || !errors.Is(err, ErrUsage) {
		t.Errorf("errors.Is: sentinel %v, ErrUsage %v; want both", errors.Is(err, errBad), errors.Is(err, ErrUsage))
	}
	inner := errors.New("open x: no such file")
	u := AsUsage(inner)
	if u.Error() != inner.Error() || !errors.Is(u, inner) {
		t.Errorf("AsUsage changed the error: %q", u)
	}
	if AsUsage(nil) != nil {
		t.Error("AsUsage(nil) is not nil")
	}
	if AsUsage(u) != u {
		t.Error("AsUsage wraps a usage error twice")
	}
}
