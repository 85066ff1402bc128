package lint

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
)

// lint runs actionlint's Go API on one workflow inside a project directory
// and returns its errors (shellcheck and pyflakes off: no external tools).
func lint(t *testing.T, project, workflow string) ([]*actionlint.Error, string) {
	t.Helper()
	var out bytes.Buffer
	l, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{WorkingDir: project})
	if err != nil {
		t.Fatal(err)
	}
	p, err := actionlint.NewProject(project)
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.LintFile(workflow, p)
	if err != nil {
		t.Fatal(err)
	}
	return errs, out.String()
}

// localProject copies action.yml and a workflow into a temporary project,
// with `uses: modelci/modelci@…` rewritten to `uses: ./`, so actionlint
// checks every `with:` key against this repository's action.yml.
func localProject(t *testing.T, workflow []byte) (string, string) {
	t.Helper()
	dir := t.TempDir()
	meta, err := os.ReadFile(filepath.Join(repoRoot, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "action.yml"), meta, 0o644); err != nil {
		t.Fatal(err)
	}
	// actionlint checks that runs.image exists.
	dockerfile, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), dockerfile, 0o644); err != nil {
		t.Fatal(err)
	}
	src := string(workflow)
	n := 0
	for _, line := range strings.Split(src, "\n") {
		if strings.Contains(line, "uses: modelci/modelci@") {
			n++
		}
	}
	if n == 0 {
		t.Fatal("the workflow does not use the modelci action")
	}
	for _, v := range []string{"@v1", "@main"} {
		src = strings.ReplaceAll(src, "uses: modelci/modelci"+v, "uses: ./")
	}
	wf := filepath.Join(dir, ".github", "workflows", "modelci.yml")
	if err := os.MkdirAll(filepath.Dir(wf), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wf, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, wf
}

// TestActionlint lints the example workflow, as published and against this
// action.yml.
func TestActionlint(t *testing.T) {
	t.Parallel()
	example := filepath.Join(repoRoot, "examples", "github", "modelci.yml")
	src, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(repoRoot)
	if errs, out := lint(t, abs, example); len(errs) > 0 {
		t.Errorf("actionlint %s:\n%s", example, out)
	}
	dir, wf := localProject(t, src)
	if errs, out := lint(t, dir, wf); len(errs) > 0 {
		t.Errorf("actionlint %s with uses: ./ (inputs checked against action.yml):\n%s", example, out)
	}
	// The project's own workflows are linted by TestWorkflowsActionlint.
}

// TestActionlintCatchesBadInputs shows the lint above has teeth: a
// misspelt input and a missing permission key are reported.
func TestActionlintCatchesBadInputs(t *testing.T) {
	t.Parallel()
	bad := []byte(`on: pull_request
permissions:
  pull-request: write
jobs:
  m:
    runs-on: ubuntu-latest
    steps:
      - uses: modelci/modelci@v1
        with:
          confg: modelci.yaml
`)
	dir, wf := localProject(t, bad)
	errs, out := lint(t, dir, wf)
	var kinds []string
	for _, e := range errs {
		kinds = append(kinds, e.Kind)
	}
	if !strings.Contains(out, `"confg"`) || !strings.Contains(out, `"pull-request"`) {
		t.Errorf("actionlint missed a bad input or permission (kinds %v):\n%s", kinds, out)
	}
}
