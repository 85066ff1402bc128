// Package baseline resolves which model is the champion of a diff: a model
// directory, the model trained from the config and data at a git ref (in a
// temporary worktree), an image in a registry, or none (the first model).
package baseline

import (
	"github.com/modelci/modelci/internal/revision"

	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/exitcode"
	"github.com/modelci/modelci/internal/model"
	"github.com/modelci/modelci/internal/proc"
	"github.com/modelci/modelci/internal/train"
)

// Kinds of baseline.
const (
	KindNone     = "none"
	KindDir      = "dir"
	KindGit      = "git"
	KindRegistry = "registry"
)

var (
	// ErrSpec marks a baseline spec that cannot be parsed (a usage error).
	ErrSpec = exitcode.NewUsage("invalid baseline")
	// ErrNotConfigured means the registry baseline was requested but no
	// registry client was given to the Resolver.
	ErrNotConfigured = exitcode.NewUsage("registry baseline not configured")
	// ErrNoModel may be wrapped by a Registry's FetchModel when the tag does
	// not exist yet; the resolver then treats the baseline as none (first
	// model).
	ErrNoModel = errors.New("no baseline model")
	// ErrGitRef means the git ref cannot be resolved in this clone.
	ErrGitRef = errors.New("git ref not found")
)

// Spec is a parsed baseline specification.
type Spec struct {
	// Kind is none, dir, git or registry.
	Kind string
	// Value is the directory (dir), the ref (git) or the tag (registry;
	// empty means the config's baseline.tag).
	Value string
	// Raw is the spec as written.
	Raw string
}

// Parse reads a baseline spec: "none", "git:<ref>", "registry",
// "registry:<tag>" or a model directory. "auto" must be resolved by the
// caller (it depends on the command) and is an error here.
func Parse(s string) (Spec, error) {
	raw := s
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return Spec{}, fmt.Errorf("%w: empty spec; use none, git:<ref>, registry[:<tag>] or a model directory", ErrSpec)
	case s == "auto":
		return Spec{}, fmt.Errorf("%w: \"auto\" must be resolved before resolving a baseline; use none, git:<ref>, registry[:<tag>] or a model directory", ErrSpec)
	case s == KindNone:
		return Spec{Kind: KindNone, Raw: raw}, nil
	case strings.HasPrefix(s, "git:"):
		ref := strings.TrimPrefix(s, "git:")
		if err := checkRef(ref); err != nil {
			return Spec{}, fmt.Errorf("%w %q: %w", ErrSpec, raw, err)
		}
		return Spec{Kind: KindGit, Value: ref, Raw: raw}, nil
	case s == KindRegistry:
		return Spec{Kind: KindRegistry, Raw: raw}, nil
	case strings.HasPrefix(s, "registry:"):
		tag := strings.TrimPrefix(s, "registry:")
		if tag == "" || strings.ContainsFunc(tag, unicode.IsSpace) {
			return Spec{}, fmt.Errorf("%w %q: want registry:<tag>", ErrSpec, raw)
		}
		return Spec{Kind: KindRegistry, Value: tag, Raw: raw}, nil
	}
	return Spec{Kind: KindDir, Value: s, Raw: raw}, nil
}

// checkRef rejects refs that git would misread (options, whitespace).
func checkRef(ref string) error {
	switch {
	case ref == "":
		return errors.New("want git:<ref>, e.g. git:main or git:HEAD~1")
	case strings.HasPrefix(ref, "-"):
		return errors.New("a ref cannot start with '-'")
	case strings.ContainsFunc(ref, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return errors.New("a ref cannot contain spaces or control characters")
	}
	return nil
}

// Registry fetches a model directory from an image registry. It is
// implemented by the image package; FetchModel writes model.json,
// metrics.json and profile.json into dstDir and returns the image reference
// and digest. It should wrap ErrNoModel when the tag does not exist.
type Registry interface {
	FetchModel(ctx context.Context, tag string, dstDir string) (ref, digest string, err error)
}

// gitFunc runs git with args in dir and returns its standard output.
type gitFunc func(ctx context.Context, dir string, args ...string) ([]byte, error)

// TrainFunc trains the model of cfg and writes its directory to dst.
type TrainFunc func(ctx context.Context, cfg *config.Config, dst string) error

// Resolver turns a Spec into a champion model directory.
type Resolver struct {
	// Run runs git; nil means proc.Exec.
	Run proc.Runner
	// Registry fetches registry baselines; nil makes them fail with
	// ErrNotConfigured.
	Registry Registry
	// Train trains git baselines; nil means train.Train + train.Write.
	Train TrainFunc
	// TempDir is where temporary worktrees and models go; "" means the
	// system's temporary directory.
	TempDir string
	// Workers bounds training parallelism; 0 means GOMAXPROCS.
	Workers int
}

// Champion is a resolved baseline. Close removes its temporary files.
type Champion struct {
	Kind string
	// Spec is the spec as requested.
	Spec string
	// Dir is the champion's model directory; empty for none.
	Dir string
	// Ref and SHA name the commit (git) or the image reference (registry);
	// Digest is the image digest.
	Ref, SHA, Digest string
	// Note explains a special case, e.g. "no modelci.yaml at main: first
	// model".
	Note string

	cleanup []func() error
}

// Close removes the temporary files of the champion, if any.
func (c *Champion) Close() error {
	var errs []error
	for i := len(c.cleanup) - 1; i >= 0; i-- {
		errs = append(errs, c.cleanup[i]())
	}
	c.cleanup = nil
	return errors.Join(errs...)
}

// Resolve finds the champion for spec. cfg is the challenger's config: git
// baselines read the config at the same path in the repository, registry
// baselines use its baseline.tag.
func (r *Resolver) Resolve(ctx context.Context, spec Spec, cfg *config.Config) (*Champion, error) {
	switch spec.Kind {
	case KindNone:
		return &Champion{Kind: KindNone, Spec: spec.Raw, Note: "no baseline: first model"}, nil
	case KindDir:
		if _, err := os.Stat(filepath.Join(spec.Value, model.FileModel)); err != nil {
			return nil, fmt.Errorf("%w %q: not a model directory (%w); use none, git:<ref>, registry[:<tag>] or a directory written by modelci train", ErrSpec, spec.Raw, err)
		}
		return &Champion{Kind: KindDir, Spec: spec.Raw, Dir: spec.Value}, nil
	case KindGit:
		return r.resolveGit(ctx, spec, cfg)
	case KindRegistry:
		return r.resolveRegistry(ctx, spec, cfg)
	}
	return nil, fmt.Errorf("%w: unknown kind %q", ErrSpec, spec.Kind)
}

// ResolveWithFallback is Resolve for the first release: when spec is a
// registry baseline that has no image yet and fallback is not nil, the
// champion is fallback's (e.g. the pull request's base commit), and the
// warning says so.
func (r *Resolver) ResolveWithFallback(ctx context.Context, spec Spec, fallback *Spec, cfg *config.Config) (champ *Champion, warning string, err error) {
	champ, err = r.Resolve(ctx, spec, cfg)
	if err != nil || fallback == nil || spec.Kind != KindRegistry || champ.Kind != KindNone {
		return champ, "", err
	}
	note := champ.Note
	_ = champ.Close()
	if champ, err = r.Resolve(ctx, *fallback, cfg); err != nil {
		return nil, "", err
	}
	return champ, fmt.Sprintf("registry baseline: %s; compared with %s instead", note, fallback.Raw), nil
}

func (r *Resolver) git() gitFunc {
	env := proc.Env{Run: r.Run}
	if env.Run == nil {
		env.Run = proc.Exec
	}
	return env.Git
}

func (r *Resolver) mkdirTemp() (string, error) {
	dir, err := os.MkdirTemp(r.TempDir, "modelci-baseline-")
	if err != nil {
		return "", fmt.Errorf("baseline: temporary directory: %w", err)
	}
	return dir, nil
}

func (r *Resolver) resolveRegistry(ctx context.Context, spec Spec, cfg *config.Config) (*Champion, error) {
	tag := spec.Value
	if tag == "" && cfg != nil {
		tag = cfg.Baseline.Tag
	}
	if tag == "" {
		tag = "latest"
	}
	if r.Registry == nil {
		return nil, fmt.Errorf("baseline %s: %w: this command has no registry client (the registry baseline needs image.repository in modelci.yaml); use --baseline git:<ref> or a model directory", spec.Raw, ErrNotConfigured)
	}
	tmp, err := r.mkdirTemp()
	if err != nil {
		return nil, err
	}
	c := &Champion{Kind: KindRegistry, Spec: spec.Raw, cleanup: []func() error{func() error { return os.RemoveAll(tmp) }}}
	dst := filepath.Join(tmp, "model")
	ref, digest, err := r.Registry.FetchModel(ctx, tag, dst)
	if err != nil {
		_ = c.Close()
		if errors.Is(err, ErrNoModel) {
			return &Champion{Kind: KindNone, Spec: spec.Raw, Note: fmt.Sprintf("no image tagged %q yet: first model", tag)}, nil
		}
		return nil, fmt.Errorf("baseline %s: fetch tag %q: %w", spec.Raw, tag, err)
	}
	c.Dir, c.Ref, c.Digest = dst, ref, digest
	return c, nil
}

func (r *Resolver) resolveGit(ctx context.Context, spec Spec, cfg *config.Config) (champ *Champion, err error) {
	if cfg == nil || cfg.Dir == "" || cfg.File == "" {
		return nil, fmt.Errorf("baseline %s: needs the config file's location", spec.Raw)
	}
	git := r.git()
	out, err := git(ctx, cfg.Dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %s is not in a git repository: %w", spec.Raw, cfg.Dir, err)
	}
	root := strings.TrimSpace(string(out))
	out, err = git(ctx, cfg.Dir, "rev-parse", "--show-prefix")
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", spec.Raw, err)
	}
	rel := filepath.Join(filepath.FromSlash(strings.TrimSpace(string(out))), filepath.Base(cfg.File))

	ref, sha, err := r.revParse(ctx, root, spec.Value)
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", spec.Raw, err)
	}
	c := &Champion{Kind: KindGit, Spec: spec.Raw, Ref: ref, SHA: sha}

	tmp, err := r.mkdirTemp()
	if err != nil {
		return nil, err
	}
	c.cleanup = append(c.cleanup, func() error { return os.RemoveAll(tmp) })
	defer func() {
		if err != nil {
			_ = c.Close()
		}
	}()
	wt := filepath.Join(tmp, "worktree")
	if _, err := git(ctx, root, "worktree", "add", "--detach", wt, sha); err != nil {
		return nil, fmt.Errorf("baseline %s: check out %s: %w", spec.Raw, revision.Abbrev(sha), err)
	}
	removeWorktree := func() error {
		// A cancelled ctx must not leave the worktree registered.
		_, err := git(context.WithoutCancel(ctx), root, "worktree", "remove", "--force", wt)
		if err != nil {
			_ = os.RemoveAll(wt)
			_, _ = git(context.WithoutCancel(ctx), root, "worktree", "prune")
		}
		return err
	}
	removed := false
	defer func() {
		if !removed {
			_ = removeWorktree()
		}
	}()

	cfgPath := filepath.Join(wt, rel)
	if _, statErr := os.Stat(cfgPath); errors.Is(statErr, os.ErrNotExist) {
		removed = true
		if err := removeWorktree(); err != nil {
			return nil, fmt.Errorf("baseline %s: remove worktree: %w", spec.Raw, err)
		}
		_ = c.Close()
		return &Champion{Kind: KindNone, Spec: spec.Raw, Ref: ref, SHA: sha,
			Note: fmt.Sprintf("no %s at %s (%s): first model", filepath.ToSlash(rel), ref, revision.Abbrev(sha))}, nil
	}
	baseCfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("baseline %s: the config at %s (%s) cannot be used: %w", spec.Raw, ref, revision.Abbrev(sha), err)
	}
	dst := filepath.Join(tmp, "model")
	if err := r.trainer()(ctx, baseCfg, dst); err != nil {
		hint := ""
		if errors.Is(err, os.ErrNotExist) {
			hint = fmt.Sprintf(" (is %s committed at %s? if the data is not in git, use a model directory or a registry baseline)", baseCfg.Data.Path, ref)
		}
		return nil, fmt.Errorf("baseline %s: train the model of %s (%s)%s: %w", spec.Raw, ref, revision.Abbrev(sha), hint, err)
	}
	removed = true
	if err := removeWorktree(); err != nil {
		return nil, fmt.Errorf("baseline %s: remove worktree: %w", spec.Raw, err)
	}
	c.Dir = dst
	return c, nil
}

func (r *Resolver) trainer() TrainFunc {
	if r.Train != nil {
		return r.Train
	}
	workers := r.Workers
	return func(ctx context.Context, cfg *config.Config, dst string) error {
		res, err := train.Train(ctx, cfg, train.Options{Workers: workers})
		if err != nil {
			return err
		}
		return train.Write(dst, res)
	}
}

// revParse resolves ref to a commit, trying origin/<ref> when ref is not a
// local name (CI checkouts often have only remote-tracking branches). It
// explains a shallow clone.
func (r *Resolver) revParse(ctx context.Context, root, ref string) (name, sha string, err error) {
	git := r.git()
	tried := []string{ref}
	if !strings.HasPrefix(ref, "origin/") {
		tried = append(tried, "origin/"+ref)
	}
	for _, name := range tried {
		out, err := git(ctx, root, "rev-parse", "--verify", "--quiet", name+"^{commit}")
		if err == nil {
			return name, strings.TrimSpace(string(out)), nil
		}
		if ctx.Err() != nil {
			return "", "", ctx.Err()
		}
	}
	out, serr := git(ctx, root, "rev-parse", "--is-shallow-repository")
	if serr == nil && strings.TrimSpace(string(out)) == "true" {
		return "", "", fmt.Errorf("%w: %q is not in this clone, which is shallow (actions/checkout fetches a single commit by default); check out with fetch-depth: 0, or fetch the base first: git fetch --deepen=50, or git fetch origin %s", ErrGitRef, ref, strings.TrimPrefix(ref, "origin/"))
	}
	return "", "", fmt.Errorf("%w: no commit named %q in %s (tried %s); fetch it first, e.g. git fetch origin %s", ErrGitRef, ref, root, strings.Join(quoteAll(tried), " and "), strings.TrimPrefix(ref, "origin/"))
}

// Head returns the branch (or "HEAD" when detached) and commit checked out
// in dir. Not being in a git repository is an error.
func (r *Resolver) Head(ctx context.Context, dir string) (ref, sha string, err error) {
	git := r.git()
	out, err := git(ctx, dir, "rev-parse", "HEAD")
	if err != nil {
		return "", "", err
	}
	sha = strings.TrimSpace(string(out))
	out, err = git(ctx, dir, "rev-parse", "--abbrev-ref", "HEAD")
	if err != nil {
		return "", sha, nil
	}
	return strings.TrimSpace(string(out)), sha, nil
}

// Dirty says the working tree of the repository that holds dir differs
// from its HEAD: a tracked file is modified, added, deleted or renamed,
// staged or not (git status --porcelain). Untracked files do not count:
// modelci's own outputs (dist/modelci) are untracked in most projects,
// and a file the training reads must be tracked to be part of a commit
// anyway. Not being in a git repository is an error.
func (r *Resolver) Dirty(ctx context.Context, dir string) (bool, error) {
	// --no-optional-locks: a status check must not write the index.
	out, err := r.git()(ctx, dir, "--no-optional-locks", "status", "--porcelain", "--untracked-files=no")
	if err != nil {
		return false, fmt.Errorf("check the working tree of %s for uncommitted changes: %w", dir, err)
	}
	return len(bytes.TrimSpace(out)) > 0, nil
}

func quoteAll(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}
