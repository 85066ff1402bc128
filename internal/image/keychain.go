package image

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Credentials configures the registry keychain.
type Credentials struct {
	// Username and Password are the explicit registry_username and
	// registry_password (flags or action inputs).
	Username string
	Password string
	// Registry limits the explicit credentials to one registry host
	// (e.g. "ghcr.io"); empty means any registry.
	Registry string
	// Getenv reads GITHUB_TOKEN, GITHUB_ACTOR, CI_REGISTRY,
	// CI_REGISTRY_USER and CI_REGISTRY_PASSWORD.
	Getenv func(string) string
	// Docker is the Docker config keychain, consulted last. Nil means
	// none; the CLI passes authn.DefaultKeychain.
	Docker authn.Keychain
	// Masker is called with every secret before it is used, so that CI
	// logs hide it (GitHub's ::add-mask::). May be nil.
	Masker func(string)
}

// Credential source descriptions, used in messages. They never hold a
// credential value.
const (
	SourceExplicit = "registry_username/registry_password (flags or action inputs)"
	SourceGitHub   = "GITHUB_TOKEN as GITHUB_ACTOR"
	SourceGitLab   = "CI_REGISTRY_USER/CI_REGISTRY_PASSWORD"
	SourceDocker   = "the Docker config keychain ($DOCKER_CONFIG/config.json or ~/.docker/config.json)"
	SourceNone     = "no credentials (anonymous)"
)

// Keychain resolves registry credentials from, in order: the explicit
// username and password; GITHUB_TOKEN with the actor for ghcr.io; GitLab's
// CI_REGISTRY_USER and CI_REGISTRY_PASSWORD for CI_REGISTRY; the Docker
// config keychain. The first source that has credentials for a registry
// wins. It implements authn.Keychain.
type Keychain struct {
	c Credentials
}

var _ authn.Keychain = (*Keychain)(nil)

// NewKeychain returns the keychain of c and masks every secret in it.
func NewKeychain(c Credentials) *Keychain {
	if c.Getenv == nil {
		c.Getenv = func(string) string { return "" }
	}
	k := &Keychain{c: c}
	if c.Masker != nil {
		for _, s := range []string{c.Password, c.Getenv("GITHUB_TOKEN"), c.Getenv("CI_REGISTRY_PASSWORD")} {
			if s != "" {
				c.Masker(s)
			}
		}
	}
	return k
}

// Resolve implements authn.Keychain.
func (k *Keychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	a, _, err := k.resolve(r.RegistryStr())
	return a, err
}

// Source names the credentials the keychain uses for registry, never their
// value.
func (k *Keychain) Source(registry string) string {
	_, src, err := k.resolve(registry)
	if err != nil {
		return fmt.Sprintf("%s (unreadable: %v)", SourceDocker, err)
	}
	return src
}

func (k *Keychain) resolve(registry string) (authn.Authenticator, string, error) {
	registry = strings.ToLower(registry)
	c := k.c
	if c.Username != "" || c.Password != "" {
		if c.Registry == "" || strings.EqualFold(c.Registry, registry) {
			return &authn.Basic{Username: c.Username, Password: c.Password}, SourceExplicit, nil
		}
	}
	if tok := c.Getenv("GITHUB_TOKEN"); tok != "" && registry == "ghcr.io" {
		user := c.Getenv("GITHUB_ACTOR")
		if user == "" {
			user = "github-actions"
		}
		return &authn.Basic{Username: user, Password: tok}, SourceGitHub, nil
	}
	if reg, user, pw := c.Getenv("CI_REGISTRY"), c.Getenv("CI_REGISTRY_USER"), c.Getenv("CI_REGISTRY_PASSWORD"); reg != "" && pw != "" && strings.EqualFold(reg, registry) {
		return &authn.Basic{Username: user, Password: pw}, SourceGitLab + " for " + reg, nil
	}
	if c.Docker != nil {
		a, err := c.Docker.Resolve(registryResource(registry))
		if err != nil {
			return nil, "", fmt.Errorf("read Docker credentials for %s: %w", registry, err)
		}
		if a != nil && a != authn.Anonymous {
			return a, SourceDocker, nil
		}
	}
	return authn.Anonymous, SourceNone, nil
}

type registryResource string

func (r registryResource) String() string      { return string(r) }
func (r registryResource) RegistryStr() string { return string(r) }

// AuthError is a registry's refusal (HTTP 401 or 403). Its message names
// the registry and the credentials that were used, never their values.
type AuthError struct {
	Registry string
	Status   int
	// Source names the credentials sent.
	Source string
	// Action is what was refused: "push to" or "pull from".
	Action string
	Err    error
}

func (e *AuthError) Error() string {
	what := "refused the credentials from " + e.Source
	hint := "Check the username and password (or token) and that they may " + e.Action + " this repository."
	switch {
	case e.Source == SourceNone:
		what = "requires credentials and none were found"
		hint = "Pass --registry-username with --registry-password-stdin, set GITHUB_TOKEN for ghcr.io, or log in with docker login."
	case e.Status == http.StatusForbidden:
		hint = "The credentials were accepted but may not " + e.Action + " this repository: check the token's scopes (packages: write for ghcr.io) and the repository's permissions."
	}
	return fmt.Sprintf("registry %s %s: HTTP %d %s. %s\ncredentials are tried in this order: %s; %s (ghcr.io only); %s (for $CI_REGISTRY); %s\nregistry response: %v",
		e.Registry, what, e.Status, http.StatusText(e.Status), hint, SourceExplicit, SourceGitHub, SourceGitLab, SourceDocker, e.Err)
}

// Unwrap returns the registry's error.
func (e *AuthError) Unwrap() error { return e.Err }

// asAuthError turns a registry 401 or 403 into an AuthError.
func asAuthError(err error, registry, action string, kc *Keychain) error {
	var te *transport.Error
	if !errors.As(err, &te) || (te.StatusCode != http.StatusUnauthorized && te.StatusCode != http.StatusForbidden) {
		return err
	}
	src := SourceNone
	if kc != nil {
		src = kc.Source(registry)
	}
	return &AuthError{Registry: registry, Status: te.StatusCode, Source: src, Action: action, Err: err}
}

// keychainOrAnon is a possibly nil *Keychain as an authn.Keychain.
type keychainOrAnon struct{ k *Keychain }

func (k keychainOrAnon) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if k.k == nil {
		return authn.Anonymous, nil
	}
	return k.k.Resolve(r)
}
