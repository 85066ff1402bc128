package image

import (
	"slices"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
)

// fakeDocker is a Docker config keychain with entries per registry.
type fakeDocker map[string]authn.AuthConfig

func (d fakeDocker) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if c, ok := d[r.RegistryStr()]; ok {
		return authn.FromConfig(c), nil
	}
	return authn.Anonymous, nil
}

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestKeychainOrder(t *testing.T) {
	t.Parallel()
	ghEnv := map[string]string{"GITHUB_TOKEN": "ghs_token", "GITHUB_ACTOR": "octocat"}
	glEnv := map[string]string{"CI_REGISTRY": "registry.gitlab.com", "CI_REGISTRY_USER": "gitlab-ci-token", "CI_REGISTRY_PASSWORD": "glpw"}
	both := map[string]string{}
	for k, v := range ghEnv {
		both[k] = v
	}
	for k, v := range glEnv {
		both[k] = v
	}
	docker := fakeDocker{"ghcr.io": {Username: "dock", Password: "dockpw"}, "registry.example.com": {Username: "dock", Password: "dockpw"}}
	cases := []struct {
		name     string
		creds    Credentials
		registry string
		source   string
		user     string
		password string
	}{
		{"explicit beats GITHUB_TOKEN", Credentials{Username: "me", Password: "pw", Getenv: envOf(ghEnv), Docker: docker}, "ghcr.io", SourceExplicit, "me", "pw"},
		{"explicit only for its registry", Credentials{Username: "me", Password: "pw", Registry: "quay.io", Getenv: envOf(ghEnv), Docker: docker}, "ghcr.io", SourceGitHub, "octocat", "ghs_token"},
		{"GITHUB_TOKEN for ghcr.io", Credentials{Getenv: envOf(ghEnv), Docker: docker}, "ghcr.io", SourceGitHub, "octocat", "ghs_token"},
		{"GITHUB_TOKEN not for other registries", Credentials{Getenv: envOf(ghEnv)}, "quay.io", SourceNone, "", ""},
		{"GitLab for CI_REGISTRY", Credentials{Getenv: envOf(both), Docker: docker}, "registry.gitlab.com", SourceGitLab + " for registry.gitlab.com", "gitlab-ci-token", "glpw"},
		{"GitLab not for ghcr.io", Credentials{Getenv: envOf(both), Docker: docker}, "ghcr.io", SourceGitHub, "octocat", "ghs_token"},
		{"Docker config last", Credentials{Getenv: envOf(both), Docker: docker}, "registry.example.com", SourceDocker, "dock", "dockpw"},
		{"anonymous", Credentials{Getenv: envOf(both), Docker: docker}, "quay.io", SourceNone, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k := NewKeychain(tc.creds)
			a, err := k.Resolve(registryResource(tc.registry))
			if err != nil {
				t.Fatal(err)
			}
			if got := k.Source(tc.registry); got != tc.source {
				t.Errorf("source %q, want %q", got, tc.source)
			}
			cfg, err := a.Authorization()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Username != tc.user || cfg.Password != tc.password {
				t.Errorf("credentials %q/%q, want %q/%q", cfg.Username, cfg.Password, tc.user, tc.password)
			}
		})
	}
}

func TestKeychainMasksSecrets(t *testing.T) {
	t.Parallel()
	var masked []string
	NewKeychain(Credentials{
		Username: "me",
		Password: "pw",
		Getenv:   envOf(map[string]string{"GITHUB_TOKEN": "ghs", "CI_REGISTRY_PASSWORD": "gl", "GITHUB_ACTOR": "octocat"}),
		Masker:   func(s string) { masked = append(masked, s) },
	})
	slices.Sort(masked)
	if !slices.Equal(masked, []string{"ghs", "gl", "pw"}) {
		t.Errorf("masked %q, want every secret and nothing else", masked)
	}
}
