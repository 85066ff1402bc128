package report

import (
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/diff"
)

// TestRefsLine: each model is named once, and no digest or commit is
// printed twice, whatever the baseline resolver returned.
func TestRefsLine(t *testing.T) {
	t.Parallel()
	const (
		sha    = "3f2c1e0d9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e"
		digest = "sha256:4f5d8c2b1e9a7360f0c3b2a1d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3"
	)
	cases := []struct {
		name       string
		champ      diff.Side
		spec       string
		want       string
		chal       diff.Side
		wantChal   string
		mustNotDup []string
	}{
		{name: "a branch", champ: diff.Side{Ref: "main", SHA: sha}, spec: "git:main", want: "`main` @ `3f2c1e0`"},
		{name: "a PR's base sha", champ: diff.Side{Ref: sha, SHA: sha}, spec: "git:" + sha, want: "`3f2c1e0`", mustNotDup: []string{"3f2c1e0"}},
		{name: "an abbreviated sha", champ: diff.Side{Ref: "3f2c1e0d", SHA: sha}, spec: "git:3f2c1e0d", want: "`3f2c1e0`", mustNotDup: []string{"3f2c1e0"}},
		{name: "a sha from the spec", champ: diff.Side{SHA: sha}, spec: "git:" + sha, want: "`3f2c1e0`", mustNotDup: []string{"3f2c1e0"}},
		{name: "hex-looking branch of another commit", champ: diff.Side{Ref: "beef", SHA: sha}, spec: "git:beef", want: "`beef` @ `3f2c1e0`"},
		{name: "a registry image by digest", champ: diff.Side{Ref: "ghcr.io/acme/house-prices@" + digest, Digest: digest}, spec: "registry",
			want: "`ghcr.io/acme/house-prices` @ `sha256:4f5d8c2b1e9a`", mustNotDup: []string{"4f5d8c2b1e9a"}},
		{name: "an OCI layout by digest", champ: diff.Side{Ref: "oci:/tmp/img@" + digest, Digest: digest}, spec: "registry",
			want: "`oci:/tmp/img` @ `sha256:4f5d8c2b1e9a`", mustNotDup: []string{"4f5d8c2b1e9a"}},
		{name: "a digest alone", champ: diff.Side{Ref: digest, Digest: digest}, spec: "registry", want: "`sha256:4f5d8c2b1e9a`", mustNotDup: []string{"4f5d8c2b1e9a"}},
		{name: "no ref: the spec", champ: diff.Side{Digest: digest}, spec: "registry:v3", want: "`registry:v3` @ `sha256:4f5d8c2b1e9a`"},
		{name: "a model directory", champ: diff.Side{}, spec: "models/prod", want: "`models/prod`"},
		{name: "the challenger named by its sha", champ: diff.Side{Ref: "main", SHA: sha}, spec: "git:main", want: "`main` @ `3f2c1e0`",
			chal: diff.Side{Ref: "a1b2c3d4e5f6", SHA: "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"}, wantChal: "**Challenger** `a1b2c3d` ·", mustNotDup: []string{"a1b2c3d"}},
		{name: "a challenger with uncommitted changes", champ: diff.Side{Ref: "main", SHA: sha}, spec: "git:main", want: "`main` @ `3f2c1e0`",
			chal: diff.Side{Ref: "feature/x", SHA: "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", UncommittedChanges: true}, wantChal: "**Challenger** `feature/x` @ `a1b2c3d` with **uncommitted changes** ·"},
		{name: "a challenger without a commit", champ: diff.Side{Ref: "main", SHA: sha}, spec: "git:main", want: "`main` @ `3f2c1e0`",
			chal: diff.Side{Ref: "", UncommittedChanges: true}, wantChal: "**Challenger** (working tree) ·"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			champ := tc.champ
			res := &diff.Result{Name: "m", Task: "regression", Baseline: diff.BaselineInfo{Spec: tc.spec}, Champion: &champ, Challenger: tc.chal}
			res.Challenger.Algorithm = "ridge"
			if res.Challenger.Ref == "" && !res.Challenger.UncommittedChanges {
				res.Challenger.Ref, res.Challenger.SHA = "feature/x", "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
			}
			line := refsLine(res)
			if want := "**Champion** " + tc.want + " → "; !strings.HasPrefix(line, want) {
				t.Errorf("refs line %q, want it to start with %q", line, want)
			}
			if tc.wantChal != "" && !strings.Contains(line, tc.wantChal) {
				t.Errorf("refs line %q, want %q", line, tc.wantChal)
			}
			for _, s := range tc.mustNotDup {
				if n := strings.Count(line, s); n != 1 {
					t.Errorf("refs line %q names %s %d times", line, s, n)
				}
			}
		})
	}
}
