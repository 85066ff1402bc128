package baseline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/model"
)

func TestParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in        string
		kind, val string
		bad       bool
	}{
		{in: "none", kind: KindNone},
		{in: "git:main", kind: KindGit, val: "main"},
		{in: "git:HEAD~1", kind: KindGit, val: "HEAD~1"},
		{in: "git:origin/main", kind: KindGit, val: "origin/main"},
		{in: "registry", kind: KindRegistry},
		{in: "registry:v2", kind: KindRegistry, val: "v2"},
		{in: "dist/base-model", kind: KindDir, val: "dist/base-model"},
		{in: "/abs/model", kind: KindDir, val: "/abs/model"},
		{in: "", bad: true},
		{in: "auto", bad: true},
		{in: "git:", bad: true},
		{in: "git:--upload-pack=evil", bad: true},
		{in: "git:main branch", bad: true},
		{in: "registry:", bad: true},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			t.Parallel()
			s, err := Parse(c.in)
			if c.bad {
				if !errors.Is(err, ErrSpec) {
					t.Fatalf("Parse(%q) = %+v, %v; want an ErrSpec error", c.in, s, err)
				}
				return
			}
			if err != nil || s.Kind != c.kind || s.Value != c.val {
				t.Fatalf("Parse(%q) = %+v, %v; want kind %s value %q", c.in, s, err, c.kind, c.val)
			}
		})
	}
}

// git runs git in dir for test setup, with a fixed identity and no user
// configuration.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=modelci test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=modelci test", "GIT_COMMITTER_EMAIL=test@example.com",
		"GIT_AUTHOR_DATE=2024-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2024-01-01T00:00:00Z",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// csv is a small regression data set; slope changes the relationship so
// that the two commits train different models.
func csv(n int, slope float64) string {
	var b strings.Builder
	b.WriteString("x,z,y\n")
	for i := 0; i < n; i++ {
		x := float64(i%23) * 0.5
		z := float64((i*7)%13) - 6
		y := slope*x - 0.5*z + float64(i%5)*0.1
		fmt.Fprintf(&b, "%g,%g,%g\n", x, z, y)
	}
	return b.String()
}

const projectConfig = "name: demo\ndata:\n  path: data.csv\n  target: y\n"

// repo builds a throwaway repository with the project in sub/:
//
//	commit 1: README only (no modelci.yaml yet)
//	commit 2: sub/modelci.yaml + sub/data.csv (slope 2), branch "base"
//	commit 3: sub/data.csv with slope 3 (HEAD of main)
func repo(t *testing.T) (root string, shas [3]string) {
	t.Helper()
	root = t.TempDir()
	git(t, root, "init", "-q", "-b", "main")
	write(t, filepath.Join(root, "README"), "demo\n")
	git(t, root, "add", "-A")
	git(t, root, "commit", "-q", "-m", "readme")
	shas[0] = git(t, root, "rev-parse", "HEAD")
	write(t, filepath.Join(root, "sub", "modelci.yaml"), projectConfig)
	write(t, filepath.Join(root, "sub", "data.csv"), csv(80, 2))
	git(t, root, "add", "-A")
	git(t, root, "commit", "-q", "-m", "first model")
	shas[1] = git(t, root, "rev-parse", "HEAD")
	git(t, root, "branch", "base")
	write(t, filepath.Join(root, "sub", "data.csv"), csv(90, 3))
	git(t, root, "add", "-A")
	git(t, root, "commit", "-q", "-m", "more data")
	shas[2] = git(t, root, "rev-parse", "HEAD")
	return root, shas
}

func loadConfig(t *testing.T, path string) *config.Config {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// worktrees lists the repository's worktrees, to check that none is left.
func worktrees(t *testing.T, root string) int {
	t.Helper()
	return strings.Count(git(t, root, "worktree", "list", "--porcelain"), "worktree ")
}

// TestGitBaseline trains the champion from the config and data of an
// earlier commit of a throwaway repository, and cleans up after itself.
func TestGitBaseline(t *testing.T) {
	t.Parallel()
	root, shas := repo(t)
	cfg := loadConfig(t, filepath.Join(root, "sub", "modelci.yaml"))
	cases := []struct {
		spec    string
		wantRef string
		wantSHA string
	}{
		{"git:HEAD~1", "HEAD~1", shas[1]},
		{"git:base", "base", shas[1]},
		{"git:" + shas[1][:10], shas[1][:10], shas[1]},
	}
	for _, c := range cases {
		t.Run(c.spec, func(t *testing.T) {
			tmp := t.TempDir()
			r := &Resolver{TempDir: tmp, Workers: 1}
			spec, err := Parse(c.spec)
			if err != nil {
				t.Fatal(err)
			}
			champ, err := r.Resolve(context.Background(), spec, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if champ.Kind != KindGit || champ.Ref != c.wantRef || champ.SHA != c.wantSHA {
				t.Fatalf("champion %+v; want git %s at %s", champ, c.wantRef, c.wantSHA)
			}
			m, err := model.Load(champ.Dir)
			if err != nil {
				t.Fatal(err)
			}
			// The champion was trained on the data of that commit, not on
			// the working tree's.
			old := model.Digest([]byte(csv(80, 2)))
			if "sha256:"+m.Training.DataSHA256 != old {
				t.Errorf("champion trained on data %s, want the commit's %s", m.Training.DataSHA256, old)
			}
			if m.Training.TrainRows+m.Training.TestRows != 80 {
				t.Errorf("champion saw %d rows, the commit's data has 80", m.Training.TrainRows+m.Training.TestRows)
			}
			if n := worktrees(t, root); n != 1 {
				t.Errorf("%d worktrees after Resolve, want only the main one", n)
			}
			if err := champ.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(champ.Dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("champion dir still exists after Close: %v", err)
			}
			if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
				t.Errorf("temporary files left: %v", entries)
			}
		})
	}
}

// TestGitBaselineNoConfig: a ref that predates modelci.yaml is the first
// model.
func TestGitBaselineNoConfig(t *testing.T) {
	t.Parallel()
	root, shas := repo(t)
	cfg := loadConfig(t, filepath.Join(root, "sub", "modelci.yaml"))
	tmp := t.TempDir()
	r := &Resolver{TempDir: tmp, Workers: 1}
	champ, err := r.Resolve(context.Background(), Spec{Kind: KindGit, Value: "HEAD~2", Raw: "git:HEAD~2"}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if champ.Kind != KindNone || champ.Dir != "" || champ.SHA != shas[0] {
		t.Fatalf("champion %+v; want none at %s", champ, shas[0])
	}
	if want := "no sub/modelci.yaml at HEAD~2 (" + shas[0][:7] + "): first model"; champ.Note != want {
		t.Errorf("note %q, want %q", champ.Note, want)
	}
	if n := worktrees(t, root); n != 1 {
		t.Errorf("%d worktrees left", n)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("temporary files left: %v", entries)
	}
}

// TestGitBaselineErrors: unknown refs, shallow clones, training failures and
// directories outside git give clear errors and leave nothing behind.
func TestGitBaselineErrors(t *testing.T) {
	t.Parallel()
	root, _ := repo(t)
	shallow := filepath.Join(t.TempDir(), "clone")
	git(t, root, "clone", "-q", "--depth", "1", "file://"+root, shallow)
	notRepo := t.TempDir()
	write(t, filepath.Join(notRepo, "modelci.yaml"), projectConfig)
	write(t, filepath.Join(notRepo, "data.csv"), csv(40, 1))

	// A repository whose data is not committed (e.g. kept in DVC).
	noData := t.TempDir()
	git(t, noData, "init", "-q", "-b", "main")
	write(t, filepath.Join(noData, "modelci.yaml"), projectConfig)
	write(t, filepath.Join(noData, ".gitignore"), "data.csv\n")
	write(t, filepath.Join(noData, "data.csv"), csv(40, 1))
	git(t, noData, "add", "-A")
	git(t, noData, "commit", "-q", "-m", "config only")

	failTrain := func(context.Context, *config.Config, string) error { return errors.New("solver exploded") }
	cases := []struct {
		name    string
		cfgPath string
		ref     string
		train   TrainFunc
		is      error
		substr  []string
	}{
		{"unknown ref", filepath.Join(root, "sub", "modelci.yaml"), "nope", nil, ErrGitRef, []string{`"nope"`, "origin/nope", "git fetch origin nope"}},
		{"shallow clone", filepath.Join(shallow, "sub", "modelci.yaml"), "HEAD~1", nil, ErrGitRef, []string{"shallow", "fetch-depth: 0", "git fetch --deepen"}},
		{"training fails", filepath.Join(root, "sub", "modelci.yaml"), "base", failTrain, nil, []string{"train the model of base", "solver exploded"}},
		{"not a repository", filepath.Join(notRepo, "modelci.yaml"), "main", nil, nil, []string{"not in a git repository"}},
		{"data not committed", filepath.Join(noData, "modelci.yaml"), "main", nil, os.ErrNotExist, []string{"is data.csv committed at main?", "model directory or a registry baseline"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := loadConfig(t, c.cfgPath)
			tmp := t.TempDir()
			r := &Resolver{TempDir: tmp, Train: c.train, Workers: 1}
			champ, err := r.Resolve(context.Background(), Spec{Kind: KindGit, Value: c.ref, Raw: "git:" + c.ref}, cfg)
			if err == nil {
				t.Fatalf("no error; champion %+v", champ)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v does not wrap %v", err, c.is)
			}
			for _, s := range c.substr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
				t.Errorf("temporary files left: %v", entries)
			}
		})
	}
	t.Cleanup(func() {
		for _, repo := range []string{root, noData} {
			if n := worktrees(t, repo); n != 1 {
				t.Errorf("%d worktrees left in %s", n, repo)
			}
		}
	})
}

// TestHead reads the challenger's branch and commit.
func TestHead(t *testing.T) {
	t.Parallel()
	root, shas := repo(t)
	r := &Resolver{}
	ref, sha, err := r.Head(context.Background(), filepath.Join(root, "sub"))
	if err != nil || ref != "main" || sha != shas[2] {
		t.Fatalf("Head = %q, %q, %v; want main, %s", ref, sha, err, shas[2])
	}
	if _, _, err := r.Head(context.Background(), t.TempDir()); err == nil {
		t.Error("Head outside a repository: no error")
	}
}

func TestDirAndNone(t *testing.T) {
	t.Parallel()
	r := &Resolver{}
	champ, err := r.Resolve(context.Background(), Spec{Kind: KindNone, Raw: "none"}, nil)
	if err != nil || champ.Kind != KindNone || champ.Dir != "" {
		t.Fatalf("none: %+v, %v", champ, err)
	}
	dir := t.TempDir()
	if _, err := r.Resolve(context.Background(), Spec{Kind: KindDir, Value: dir, Raw: dir}, nil); !errors.Is(err, ErrSpec) {
		t.Errorf("empty dir: got %v, want ErrSpec", err)
	}
	write(t, filepath.Join(dir, model.FileModel), "{}")
	champ, err = r.Resolve(context.Background(), Spec{Kind: KindDir, Value: dir, Raw: dir}, nil)
	if err != nil || champ.Dir != dir || champ.Kind != KindDir {
		t.Fatalf("dir: %+v, %v", champ, err)
	}
	if err := champ.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("Close removed a directory it does not own: %v", err)
	}
}

// fakeRegistry serves one tag from files in memory.
type fakeRegistry struct {
	tag   string
	files map[string]string
}

func (f *fakeRegistry) FetchModel(_ context.Context, tag, dst string) (string, string, error) {
	if tag != f.tag {
		return "", "", fmt.Errorf("tag %q: %w", tag, ErrNoModel)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return "", "", err
	}
	for name, content := range f.files {
		if err := os.WriteFile(filepath.Join(dst, name), []byte(content), 0o644); err != nil {
			return "", "", err
		}
	}
	return "ghcr.io/acme/demo:" + tag, "sha256:abc", nil
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	cfg := &config.Config{Baseline: config.Baseline{Tag: "prod"}}
	if _, err := (&Resolver{}).Resolve(context.Background(), Spec{Kind: KindRegistry, Raw: "registry"}, cfg); !errors.Is(err, ErrNotConfigured) {
		t.Fatalf("no registry: got %v, want ErrNotConfigured", err)
	}
	tmp := t.TempDir()
	r := &Resolver{TempDir: tmp, Registry: &fakeRegistry{tag: "prod", files: map[string]string{model.FileModel: "{}"}}}
	champ, err := r.Resolve(context.Background(), Spec{Kind: KindRegistry, Raw: "registry"}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if champ.Ref != "ghcr.io/acme/demo:prod" || champ.Digest != "sha256:abc" {
		t.Errorf("champion %+v", champ)
	}
	if b, err := os.ReadFile(filepath.Join(champ.Dir, model.FileModel)); err != nil || string(b) != "{}" {
		t.Errorf("model.json: %q, %v", b, err)
	}
	if err := champ.Close(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("temporary files left: %v", entries)
	}
	// A tag that does not exist yet: the first model.
	champ, err = r.Resolve(context.Background(), Spec{Kind: KindRegistry, Value: "v9", Raw: "registry:v9"}, cfg)
	if err != nil || champ.Kind != KindNone || !strings.Contains(champ.Note, `"v9"`) {
		t.Fatalf("missing tag: %+v, %v", champ, err)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("temporary files left: %v", entries)
	}
}

// TestResolveWithFallback: a registry without the image yet (the first
// release) falls back to the other spec and says so; an existing image, or
// another kind of baseline that resolves to none, does not.
func TestResolveWithFallback(t *testing.T) {
	t.Parallel()
	cfg := &config.Config{Baseline: config.Baseline{Tag: "prod"}}
	dir := t.TempDir()
	write(t, filepath.Join(dir, model.FileModel), "{}")
	fallback := &Spec{Kind: KindDir, Value: dir, Raw: "base-model"}
	r := &Resolver{TempDir: t.TempDir(), Registry: &fakeRegistry{tag: "prod", files: map[string]string{model.FileModel: "{}"}}}

	champ, warning, err := r.ResolveWithFallback(context.Background(), Spec{Kind: KindRegistry, Value: "v9", Raw: "registry:v9"}, fallback, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if champ.Kind != KindDir || champ.Dir != dir || champ.Spec != "base-model" {
		t.Errorf("champion %+v, want the fallback directory", champ)
	}
	if want := `registry baseline: no image tagged "v9" yet: first model; compared with base-model instead`; warning != want {
		t.Errorf("warning %q, want %q", warning, want)
	}

	champ, warning, err = r.ResolveWithFallback(context.Background(), Spec{Kind: KindRegistry, Raw: "registry"}, fallback, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if champ.Kind != KindRegistry || champ.Spec != "registry" || warning != "" {
		t.Errorf("existing image: champion %+v, warning %q; want the registry's model", champ, warning)
	}
	if err := champ.Close(); err != nil {
		t.Fatal(err)
	}

	champ, warning, err = r.ResolveWithFallback(context.Background(), Spec{Kind: KindNone, Raw: "none"}, fallback, cfg)
	if err != nil || champ.Kind != KindNone || warning != "" {
		t.Errorf("none: champion %+v, warning %q, %v; want none without a fallback", champ, warning, err)
	}
	champ, warning, err = r.ResolveWithFallback(context.Background(), Spec{Kind: KindRegistry, Value: "v9", Raw: "registry:v9"}, nil, cfg)
	if err != nil || champ.Kind != KindNone || warning != "" {
		t.Errorf("no fallback: champion %+v, warning %q, %v; want none", champ, warning, err)
	}
}
