package cli

import (
	"bytes"
	"context"
	"slices"
	"testing"
)

// TestCommandNames: every name CommandNames gives is a command that
// `modelci NAME --help` runs, and the commands the container entrypoint
// must route to modelci are there.
func TestCommandNames(t *testing.T) {
	t.Parallel()
	names := CommandNames()
	for _, want := range []string{"run", "train", "evaluate", "diff", "predict", "serve", "package", "help", "completion"} {
		if !slices.Contains(names, want) {
			t.Errorf("CommandNames() = %v, missing %q", names, want)
		}
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Errorf("%q is listed twice", n)
		}
		seen[n] = true
		t.Run(n, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			env := Env{Stdin: &bytes.Buffer{}, Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }, Environ: func() []string { return nil }}
			if err := Run(context.Background(), env, []string{n, "--help"}); err != nil {
				t.Fatalf("modelci %s --help: %v\n%s", n, err, errOut.String())
			}
			if out.Len() == 0 {
				t.Errorf("modelci %s --help printed nothing", n)
			}
		})
	}
	if slices.Contains(names, "sh") || slices.Contains(names, "cat") || slices.Contains(names, "") {
		t.Errorf("CommandNames() = %v holds a name CI systems start containers with", names)
	}
}
