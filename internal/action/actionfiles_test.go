package action

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// repoRoot is the module root, where action.yml lives.
var repoRoot = filepath.Join("..", "..")

// These tests check action.yml against this package. actionlint lints
// the workflows that use it (the example, and one with a misspelt input)
// in the nested module lint/, which keeps actionlint out of this module's
// dependencies.

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
