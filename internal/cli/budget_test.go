package cli

import (
	"testing"

	"github.com/modelci/modelci/internal/exitcode"
)

// FuzzMemoryBudget: any MODELCI_MEMORY_BUDGET value either parses to the
// default (0), off (-1) or a positive size, or is a usage error; never a
// panic and never a zero or negative size.
func FuzzMemoryBudget(f *testing.F) {
	for _, s := range []string{"", "off", "8GiB", "512MiB", "4g", "1.5GB", "lots", "-1", "0", "99999999999999999999GiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		env, _, _ := testEnv()
		env.Getenv = func(string) string { return s }
		n, err := memoryBudget(env)
		switch {
		case err != nil:
			if exitcode.Of(err) != exitcode.Usage {
				t.Fatalf("%q: exit %d for %v, want a usage error", s, exitcode.Of(err), err)
			}
		case n < -1:
			t.Fatalf("%q: budget %d", s, n)
		}
	})
}

func TestMemoryBudgetValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{"", 0, false},
		{"off", -1, false},
		{"OFF", -1, false},
		{"8GiB", 8 << 30, false},
		{"512m", 512 << 20, false},
		{"lots", 0, true},
		{"0", 0, true},
		{"-5GiB", 0, true},
	} {
		env, _, _ := testEnv()
		env.Getenv = func(string) string { return tc.in }
		got, err := memoryBudget(env)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("%q: got %d, %v; want %d (error %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}
