package lint

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
)

// The project's own workflows (not the users' example, which
// actionfiles_test.go lints): ci.yml vets, tests, lints and builds the image;
// release.yml pushes the image on a version tag.

var (
	// pinnedUses is a third-party action pinned to a full commit SHA with
	// its release as a comment: owner/repo[/path]@<sha> # vX.Y.Z.
	pinnedUses = regexp.MustCompile(`^\s*(?:-\s+)?uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40}\s+#\s+v\d+(?:\.\d+)*\s*$`)
	usesLine   = regexp.MustCompile(`^\s*(?:-\s+)?uses:\s+(\S+)`)
	goModLint  = regexp.MustCompile(`(?m)^\s*github\.com/rhysd/actionlint (v\S+)`)
)

// workflow is one parsed workflow file.
type workflow struct {
	path string
	src  []byte
	wf   *actionlint.Workflow
}

func loadWorkflow(path string, src []byte) (*workflow, []string) {
	wf, errs := actionlint.Parse(src)
	if len(errs) > 0 {
		var out []string
		for _, e := range errs {
			out = append(out, e.Error())
		}
		return nil, out
	}
	return &workflow{path: path, src: src, wf: wf}, nil
}

// steps lists every step of every job.
func (w *workflow) steps() []*actionlint.Step {
	var out []*actionlint.Step
	for _, j := range w.wf.Jobs {
		out = append(out, j.Steps...)
	}
	return out
}

// runs are the run: scripts.
func (w *workflow) runs() []string {
	var out []string
	for _, s := range w.steps() {
		if r, ok := s.Exec.(*actionlint.ExecRun); ok && r.Run != nil {
			out = append(out, r.Run.Value)
		}
	}
	return out
}

// actions returns the steps using an action whose reference starts with
// prefix ("docker/build-push-action@").
func (w *workflow) actions(prefix string) []*actionlint.ExecAction {
	var out []*actionlint.ExecAction
	for _, s := range w.steps() {
		if a, ok := s.Exec.(*actionlint.ExecAction); ok && a.Uses != nil && strings.HasPrefix(a.Uses.Value, prefix) {
			out = append(out, a)
		}
	}
	return out
}

func input(a *actionlint.ExecAction, name string) string {
	if in, ok := a.Inputs[name]; ok && in.Value != nil {
		return in.Value.Value
	}
	return ""
}

// webhook returns the workflow's trigger of that name.
func (w *workflow) webhook(name string) *actionlint.WebhookEvent {
	for _, e := range w.wf.On {
		if h, ok := e.(*actionlint.WebhookEvent); ok && h.Hook != nil && h.Hook.Value == name {
			return h
		}
	}
	return nil
}

func filterValues(f *actionlint.WebhookEventFilter) []string {
	if f == nil {
		return nil
	}
	var out []string
	for _, v := range f.Values {
		out = append(out, v.Value)
	}
	return out
}

func permission(p *actionlint.Permissions, scope string) string {
	if p == nil {
		return ""
	}
	if s, ok := p.Scopes[scope]; ok && s.Value != nil {
		return s.Value.Value
	}
	return ""
}

// checkPinned: every third-party action is pinned to a commit SHA with
// its release as a comment; local actions and workflows are fine.
func checkPinned(w *workflow) []string {
	var problems []string
	for i, line := range strings.Split(string(w.src), "\n") {
		m := usesLine.FindStringSubmatch(line)
		if m == nil || strings.HasPrefix(m[1], "./") {
			continue
		}
		if !pinnedUses.MatchString(line) {
			problems = append(problems, fmt.Sprintf("%s:%d: %s is not pinned to a full commit SHA with a `# vX.Y.Z` comment", filepath.Base(w.path), i+1, m[1]))
		}
	}
	return problems
}

// checkCI: ci.yml runs on pushes, pull requests and as release.yml's
// first job; it vets, tests (this module too), runs actionlint at this
// module's go.mod's version, the native build script, and builds the image
// for both platforms.
func checkCI(w *workflow, goMod []byte) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	for _, hook := range []string{"push", "pull_request"} {
		if w.webhook(hook) == nil {
			bad("ci.yml is not triggered by %s", hook)
		}
	}
	if _, ok := w.wf.FindWorkflowCallEvent(); !ok {
		bad("ci.yml has no workflow_call trigger for release.yml")
	}
	if permission(w.wf.Permissions, "contents") != "read" || len(w.wf.Permissions.Scopes) != 1 {
		bad("ci.yml's permissions are not just contents: read")
	}
	runs := strings.Join(w.runs(), "\n")
	want := []string{"go vet ./...", "go test ./...", "go test -C lint ./...", "bash scripts/build-native.sh", "bash scripts/image-smoke.sh "}
	if m := goModLint.FindSubmatch(goMod); m != nil {
		want = append(want, "go run github.com/rhysd/actionlint/cmd/actionlint@"+string(m[1]))
	} else {
		bad("lint/go.mod does not require github.com/rhysd/actionlint")
	}
	for _, cmd := range want {
		if !strings.Contains(runs, cmd) {
			bad("ci.yml never runs %q", cmd)
		}
	}
	for _, a := range w.actions("actions/setup-go@") {
		if input(a, "go-version-file") != "go.mod" {
			bad("setup-go without go-version-file: go.mod")
		}
	}
	multi := false
	for _, a := range w.actions("docker/build-push-action@") {
		if input(a, "platforms") == "linux/amd64,linux/arm64" && input(a, "context") == "." {
			multi = true
		}
		if input(a, "push") == "true" {
			bad("ci.yml pushes an image")
		}
	}
	if !multi {
		bad("ci.yml does not build the Dockerfile for linux/amd64,linux/arm64")
	}
	if len(w.actions("./")) == 0 {
		bad("ci.yml never runs the action itself (uses: ./)")
	}
	return problems
}

// checkRelease: release.yml runs on version tags only, runs ci.yml first,
// and pushes the image for both platforms to ghcr.io with the job's
// GITHUB_TOKEN, which alone has packages: write.
func checkRelease(w *workflow) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if len(w.wf.On) != 1 {
		bad("release.yml has %d triggers, want only push of v* tags", len(w.wf.On))
	}
	push := w.webhook("push")
	if push == nil || !slices.Equal(filterValues(push.Tags), []string{"v*"}) || len(filterValues(push.Branches)) > 0 {
		bad("release.yml does not run on push of tags v* (and only those)")
	}
	if p := w.wf.Permissions; p == nil || p.All != nil || len(p.Scopes) != 0 {
		bad("release.yml's top-level permissions are not {}")
	}
	var imageJob *actionlint.Job
	calledCI := ""
	for id, j := range w.wf.Jobs {
		if j.WorkflowCall != nil && j.WorkflowCall.Uses != nil && j.WorkflowCall.Uses.Value == "./.github/workflows/ci.yml" {
			calledCI = id
		}
		for _, s := range j.Steps {
			if a, ok := s.Exec.(*actionlint.ExecAction); ok && strings.HasPrefix(a.Uses.Value, "docker/build-push-action@") {
				imageJob = j
			}
		}
	}
	if calledCI == "" {
		bad("release.yml does not run ci.yml")
	}
	if imageJob == nil {
		return append(problems, "release.yml does not build the image")
	}
	needs := false
	for _, n := range imageJob.Needs {
		needs = needs || n.Value == calledCI
	}
	if calledCI != "" && !needs {
		bad("the image job does not need the ci job %s", calledCI)
	}
	if permission(imageJob.Permissions, "packages") != "write" || permission(imageJob.Permissions, "contents") != "read" || len(imageJob.Permissions.Scopes) != 2 {
		bad("the image job's permissions are not contents: read, packages: write")
	}
	logins := w.actions("docker/login-action@")
	if len(logins) != 1 || input(logins[0], "registry") != "ghcr.io" || input(logins[0], "password") != "${{ secrets.GITHUB_TOKEN }}" {
		bad("release.yml does not log in to ghcr.io with GITHUB_TOKEN")
	}
	for _, prefix := range []string{"docker/setup-qemu-action@", "docker/setup-buildx-action@"} {
		if len(w.actions(prefix)) != 1 {
			bad("release.yml does not use %s", strings.TrimSuffix(prefix, "@"))
		}
	}
	for _, a := range w.actions("docker/build-push-action@") {
		if input(a, "platforms") != "linux/amd64,linux/arm64" || input(a, "push") != "true" || input(a, "context") != "." {
			bad("build-push-action: platforms %q, push %q, context %q; want linux/amd64,linux/arm64, true, .", input(a, "platforms"), input(a, "push"), input(a, "context"))
		}
		if !strings.Contains(input(a, "tags"), "steps.tags.outputs.tags") {
			bad("build-push-action does not push the computed tags")
		}
	}
	runs := strings.Join(w.runs(), "\n")
	for _, want := range []string{`image="ghcr.io/${REPOSITORY,,}"`, `tags="$image:$TAG"`, "$image:$major", "$image:latest"} {
		if !strings.Contains(runs, want) {
			bad("release.yml's tag step lacks %s", want)
		}
	}
	return problems
}

func readRepoFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWorkflowsActionlint lints every workflow of the repository with
// actionlint's Go API, against this repository (so `uses: ./` is checked
// against action.yml and the reusable ci.yml against its caller).
// shellcheck and pyflakes are off here (CI's actionlint run has them).
func TestWorkflowsActionlint(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.y*ml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	for _, want := range []string{"ci.yml", "release.yml"} {
		if !slices.Contains(names, want) {
			t.Errorf(".github/workflows has %v, no %s", names, want)
		}
	}
	for _, f := range files {
		var out bytes.Buffer
		l, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{WorkingDir: root})
		if err != nil {
			t.Fatal(err)
		}
		proj, err := actionlint.NewProject(root)
		if err != nil {
			t.Fatal(err)
		}
		errs, err := l.LintFile(f, proj)
		if err != nil {
			t.Fatal(err)
		}
		if len(errs) > 0 {
			t.Errorf("actionlint %s:\n%s", f, out.String())
		}
	}
}

// TestWorkflows checks what the workflows must do, which actionlint does
// not know: the triggers, the commands, the pins and the permissions.
func TestWorkflows(t *testing.T) {
	t.Parallel()
	goMod := readRepoFile(t, "lint/go.mod")
	for _, name := range []string{"ci.yml", "release.yml"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rel := filepath.Join(".github", "workflows", name)
			w, errs := loadWorkflow(rel, readRepoFile(t, rel))
			if errs != nil {
				t.Fatalf("%s: %v", rel, errs)
			}
			problems := checkPinned(w)
			if name == "ci.yml" {
				problems = append(problems, checkCI(w, goMod)...)
			} else {
				problems = append(problems, checkRelease(w)...)
			}
			if len(problems) > 0 {
				t.Errorf("%s:\n  %s", rel, strings.Join(problems, "\n  "))
			}
		})
	}
}

// TestWorkflowChecksCatch breaks the workflows one property at a time and
// expects the checks to name it.
func TestWorkflowChecksCatch(t *testing.T) {
	t.Parallel()
	goMod := readRepoFile(t, "lint/go.mod")
	ci := string(readRepoFile(t, ".github/workflows/ci.yml"))
	release := string(readRepoFile(t, ".github/workflows/release.yml"))
	tests := []struct {
		name, file, old, new, want string
	}{
		{"a tag instead of a SHA", "ci.yml", "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0", "actions/checkout@v5", "actions/checkout@v5 is not pinned"},
		{"a SHA without its release", "release.yml", "@184bdaa0721073962dff0199f1fb9940f07167d1 # v3.5.0", "@184bdaa0721073962dff0199f1fb9940f07167d1", "is not pinned"},
		{"no pull requests", "ci.yml", "  pull_request:\n", "", "not triggered by pull_request"},
		{"no tests", "ci.yml", "go test ./...", "go build ./...", `never runs "go test ./..."`},
		{"no lint tests", "ci.yml", "go test -C lint ./...", "go build -C lint ./...", `never runs "go test -C lint ./..."`},
		{"actionlint at another version", "ci.yml", "actionlint@v1.7.12", "actionlint@v1.7.11", "never runs \"go run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12\""},
		{"CI builds one platform", "ci.yml", "          platforms: linux/amd64,linux/arm64\n          push: false", "          platforms: linux/amd64\n          push: false", "does not build the Dockerfile for linux/amd64,linux/arm64"},
		{"setup-go guesses a version", "ci.yml", "go-version-file: go.mod", "go-version: stable", "go-version-file"},
		{"release on every push", "release.yml", "    tags: ['v*']", "    branches: [main]", "only those"},
		{"release without packages: write", "release.yml", "      packages: write  # push to ghcr.io with GITHUB_TOKEN\n", "", "packages: write"},
		{"release broad permissions", "release.yml", "permissions: {}", "permissions: write-all", "top-level permissions"},
		{"release one platform", "release.yml", "          platforms: linux/amd64,linux/arm64\n          push: true", "          platforms: linux/amd64\n          push: true", "want linux/amd64,linux/arm64"},
		{"release skips CI", "release.yml", "    needs: ci\n", "", "does not need the ci job"},
		{"release logs in with a PAT", "release.yml", "password: ${{ secrets.GITHUB_TOKEN }}", "password: ${{ secrets.GHCR_PAT }}", "GITHUB_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := map[string]string{"ci.yml": ci, "release.yml": release}[tt.file]
			if !strings.Contains(src, tt.old) {
				t.Fatalf("%s no longer contains %q; update this test", tt.file, tt.old)
			}
			src = strings.Replace(src, tt.old, tt.new, 1)
			w, errs := loadWorkflow(tt.file, []byte(src))
			if errs != nil {
				t.Fatalf("the broken %s does not parse: %v", tt.file, errs)
			}
			problems := checkPinned(w)
			if tt.file == "ci.yml" {
				problems = append(problems, checkCI(w, goMod)...)
			} else {
				problems = append(problems, checkRelease(w)...)
			}
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tt.want) }) {
				t.Errorf("no problem mentions %q; got:\n  %s", tt.want, strings.Join(problems, "\n  "))
			}
		})
	}
}
