package action

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/rhysd/actionlint"
)

// repoRoot is the module root, where action.yml lives.
var repoRoot = filepath.Join("..", "..")

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
	// The project's own workflows are linted by internal/entrypoint's
	// TestWorkflowsActionlint.
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

type actionInput struct {
	Description string `yaml:"description"`
	Required    bool   `yaml:"required"`
	Default     string `yaml:"default"`
}

type actionMeta struct {
	Name        string        `yaml:"name"`
	Description string        `yaml:"description"`
	Author      string        `yaml:"author"`
	Inputs      yaml.MapSlice `yaml:"inputs"`
	Outputs     yaml.MapSlice `yaml:"outputs"`
	Runs        struct {
		Using string   `yaml:"using"`
		Image string   `yaml:"image"`
		Args  []string `yaml:"args"`
	} `yaml:"runs"`
	Branding struct {
		Icon  string `yaml:"icon"`
		Color string `yaml:"color"`
	} `yaml:"branding"`
}

func readActionYML(t *testing.T) (actionMeta, map[string]actionInput) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var m actionMeta
	if err := yaml.UnmarshalWithOptions(b, &m, yaml.Strict()); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	var typed struct {
		Inputs map[string]actionInput `yaml:"inputs"`
	}
	if err := yaml.Unmarshal(b, &typed); err != nil {
		t.Fatal(err)
	}
	return m, typed.Inputs
}

// TestActionYML checks the action metadata, which actionlint does not lint
// (it lints workflows): the Docker runtime, the exact inputs in order with
// their defaults, the outputs and branding.
// Reference: https://docs.github.com/en/actions/sharing-automations/creating-actions/metadata-syntax-for-github-actions
func TestActionYML(t *testing.T) {
	t.Parallel()
	m, inputs := readActionYML(t)
	if m.Name == "" || m.Description == "" {
		t.Error("name and description are required")
	}
	if m.Runs.Using != "docker" || m.Runs.Image != "Dockerfile" || !reflect.DeepEqual(m.Runs.Args, []string{"run"}) {
		t.Errorf("runs = %+v, want docker, Dockerfile, [run]", m.Runs)
	}
	var names []string
	for _, it := range m.Inputs {
		names = append(names, it.Key.(string))
	}
	if !reflect.DeepEqual(names, InputNames) {
		t.Errorf("inputs %v, want %v", names, InputNames)
	}
	wantDefaults := map[string]string{
		"config": "modelci.yaml", "github_token": "${{ github.token }}", "comment": "auto",
		"baseline": "auto", "fail_on_gate": "true", "push": "auto", "image": "",
		"registry_username": "${{ github.actor }}", "registry_password": "${{ github.token }}",
		"working_directory": ".", "allow_pull_request_target": "false",
	}
	for name, in := range inputs {
		if in.Default != wantDefaults[name] {
			t.Errorf("input %s: default %q, want %q", name, in.Default, wantDefaults[name])
		}
		if in.Required || in.Description == "" {
			t.Errorf("input %s: required %v, description %q", name, in.Required, in.Description)
		}
		if strings.ToLower(name) != name || strings.Contains(name, "-") {
			t.Errorf("input %s is not snake_case", name)
		}
	}
	var outs []string
	for _, it := range m.Outputs {
		outs = append(outs, it.Key.(string))
	}
	if !reflect.DeepEqual(outs, OutputNames) {
		t.Errorf("outputs %v, want %v", outs, OutputNames)
	}
	colors := map[string]bool{"white": true, "black": true, "yellow": true, "blue": true, "green": true, "orange": true, "red": true, "purple": true, "gray-dark": true}
	if m.Branding.Icon != "activity" || !colors[m.Branding.Color] {
		t.Errorf("branding = %+v", m.Branding)
	}
}

// TestInputDefaultsAgree: the runner passes every input with its
// action.yml default; Run must read the same values when an input is
// unset (as `modelci run` outside the action sees them).
func TestInputDefaultsAgree(t *testing.T) {
	t.Parallel()
	_, inputs := readActionYML(t)
	fromYML := map[string]string{}
	for name, in := range inputs {
		if !strings.Contains(in.Default, "${{") {
			fromYML["INPUT_"+strings.ToUpper(name)] = in.Default
		}
	}
	withDefaults, err := readInputs(func(k string) string { return fromYML[k] })
	if err != nil {
		t.Fatal(err)
	}
	unset, err := readInputs(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if withDefaults != unset {
		t.Errorf("defaults differ:\naction.yml %+v\nunset      %+v", withDefaults, unset)
	}
}
