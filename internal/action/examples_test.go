package action

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/modelci/modelci/internal/ci"
	"github.com/modelci/modelci/internal/proc"
)

// modelciVars are the MODELCI_* variables the examples may name, each with
// a check that the code really reads it: an example must not promise a
// setting modelci ignores.
var modelciVars = map[string]func(t *testing.T, name string){
	"MODELCI_CONFIG":            inputReads(func(in Inputs) string { return in.Config }),
	"MODELCI_WORKING_DIRECTORY": inputReads(func(in Inputs) string { return in.WorkingDirectory }),
	"MODELCI_GITHUB_TOKEN":      inputReads(func(in Inputs) string { return in.GitHubToken }),
	"MODELCI_GITLAB_TOKEN":      inputReads(func(in Inputs) string { return in.GitLabToken }),
	"MODELCI_REGISTRY_USERNAME": inputReads(func(in Inputs) string { return in.RegistryUsername }),
	"MODELCI_REGISTRY_PASSWORD": inputReads(func(in Inputs) string { return in.RegistryPassword }),
	"MODELCI_DEFAULT_BRANCH": func(t *testing.T, name string) {
		env := map[string]string{"JENKINS_URL": "https://j/", "BRANCH_NAME": "trunk", name: "trunk"}
		ev, err := ci.Detect(context.Background(), proc.Env{Getenv: func(k string) string { return env[k] }}, ci.Overrides{})
		if err != nil || ev.Kind != ci.KindPushDefault {
			t.Errorf("%s=trunk does not make a build of trunk a push to the default branch: %+v %v", name, ev, err)
		}
	},
}

// inputReads checks that setting the variable sets the input.
func inputReads(field func(Inputs) string) func(t *testing.T, name string) {
	return func(t *testing.T, name string) {
		const value = "value-from-the-example"
		in, err := readInputs(func(k string) string {
			if k == name {
				return value
			}
			return ""
		})
		if err != nil || field(in) != value {
			t.Errorf("%s is not read: %+v %v", name, in, err)
		}
	}
}

// checkModelciVars checks every MODELCI_* name in an example.
func checkModelciVars(t *testing.T, file, text string) {
	t.Helper()
	for _, name := range regexp.MustCompile(`MODELCI_[A-Z_]+`).FindAllString(text, -1) {
		check, ok := modelciVars[name]
		if !ok {
			t.Errorf("%s names %s, which modelci does not read", file, name)
			continue
		}
		check(t, name)
	}
	if m := regexp.MustCompile(`(ghp_|github_pat_|glpat-|glcbt-)[A-Za-z0-9_]{8,}`).FindString(text); m != "" {
		t.Errorf("%s holds what looks like a token: %s", file, m)
	}
}

// GitLab CI keywords (https://docs.gitlab.com/ci/yaml/), for a lint with
// teeth: a misspelt keyword would silently be a job or be ignored.
var (
	gitlabGlobal = []string{"default", "include", "stages", "variables", "workflow"}
	gitlabJob    = []string{"after_script", "allow_failure", "artifacts", "before_script", "cache", "coverage", "dependencies", "environment", "except", "extends", "hooks", "id_tokens", "image", "inherit", "interruptible", "needs", "only", "pages", "parallel", "release", "resource_group", "retry", "rules", "script", "secrets", "services", "stage", "tags", "timeout", "trigger", "variables", "when"}
)

type glJob struct {
	Image struct {
		Name       string   `yaml:"name"`
		Entrypoint []string `yaml:"entrypoint"`
	} `yaml:"image"`
	Stage string `yaml:"stage"`
	Rules []struct {
		If   string `yaml:"if"`
		When string `yaml:"when"`
	} `yaml:"rules"`
	Variables map[string]any `yaml:"variables"`
	Script    []string       `yaml:"script"`
	Artifacts struct {
		When  string   `yaml:"when"`
		Paths []string `yaml:"paths"`
	} `yaml:"artifacts"`
}

// TestGitLabExample parses examples/gitlab/.gitlab-ci.yml and checks what
// the MR and default-branch jobs need.
func TestGitLabExample(t *testing.T) {
	t.Parallel()
	path := filepath.Join(repoRoot, "examples", "gitlab", ".gitlab-ci.yml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]any
	if err := yaml.Unmarshal(raw, &top); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	jobs := map[string]glJob{}
	var stages []string
	for key, v := range top {
		if slices.Contains(gitlabGlobal, key) || strings.HasPrefix(key, ".") {
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			t.Errorf("job %s is not a mapping", key)
			continue
		}
		for k := range m {
			if !slices.Contains(gitlabJob, k) {
				t.Errorf("job %s: unknown keyword %q", key, k)
			}
		}
		b, _ := yaml.Marshal(m)
		var j glJob
		if err := yaml.Unmarshal(b, &j); err != nil {
			t.Fatalf("job %s: %v", key, err)
		}
		jobs[key] = j
	}
	var typed struct {
		Stages  []string `yaml:"stages"`
		Default struct {
			Image struct {
				Name       string   `yaml:"name"`
				Entrypoint []string `yaml:"entrypoint"`
			} `yaml:"image"`
		} `yaml:"default"`
		Variables map[string]any `yaml:"variables"`
	}
	if err := yaml.Unmarshal(raw, &typed); err != nil {
		t.Fatal(err)
	}
	stages = typed.Stages
	if typed.Default.Image.Name != "ghcr.io/modelci/modelci:v1" || typed.Default.Image.Entrypoint != nil {
		t.Errorf("default image %+v", typed.Default.Image)
	}
	find := func(rule string) (string, glJob) {
		for name, j := range jobs {
			for _, r := range j.Rules {
				if strings.Contains(r.If, rule) && r.When != "never" {
					return name, j
				}
			}
		}
		t.Fatalf("no job runs on %s", rule)
		return "", glJob{}
	}
	mrName, mr := find(`$CI_PIPELINE_SOURCE == "merge_request_event"`)
	mainName, main := find(`$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH`)
	if mrName == mainName {
		t.Errorf("one job %s for both", mrName)
	}
	if d := mr.Variables["GIT_DEPTH"]; d != uint64(0) && d != "0" && d != int64(0) {
		t.Errorf("the MR job's GIT_DEPTH is %v (%T), want 0: the baseline needs the MR's diff base in the clone", d, d)
	}
	for name, j := range map[string]glJob{mrName: mr, mainName: main} {
		if !slices.Contains(j.Script, "modelci run") {
			t.Errorf("job %s does not run modelci run: %v", name, j.Script)
		}
		if j.Artifacts.When != "always" || !slices.Contains(j.Artifacts.Paths, ReportFile) {
			t.Errorf("job %s keeps %v (when %s), want %s always", name, j.Artifacts.Paths, j.Artifacts.When, ReportFile)
		}
		if !slices.Contains(stages, j.Stage) {
			t.Errorf("job %s: stage %q not in %v", name, j.Stage, stages)
		}
		if _, set := j.Variables[EnvGitLabToken]; set {
			t.Errorf("job %s sets %s in the file; it belongs in a masked CI/CD variable", name, EnvGitLabToken)
		}
	}
	if _, set := typed.Variables[EnvGitLabToken]; set {
		t.Errorf("the file sets %s; it belongs in a masked CI/CD variable", EnvGitLabToken)
	}
	text := string(raw)
	for _, s := range []string{EnvGitLabToken, "masked", "api", "Reporter", DocsGitLabJobToken, DocsGitLabProjectToken} {
		if !strings.Contains(text, s) {
			t.Errorf("%s does not mention %q", path, s)
		}
	}
	checkModelciVars(t, path, text)
}

// groovy splits a Jenkinsfile into code and comments, keeping string
// literals in the code, and checks that brackets balance outside strings
// and comments.
func groovy(src string) (code, comments string, err error) {
	var c, cm strings.Builder
	var stack []rune
	pairs := map[rune]rune{')': '(', ']': '[', '}': '{'}
	for i := 0; i < len(src); i++ {
		ch := rune(src[i])
		switch {
		case strings.HasPrefix(src[i:], "//"):
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				j = len(src) - i
			}
			cm.WriteString(src[i:i+j] + "\n")
			i += j - 1
		case strings.HasPrefix(src[i:], "'''"), strings.HasPrefix(src[i:], `"""`):
			q := src[i : i+3]
			j := strings.Index(src[i+3:], q)
			if j < 0 {
				return "", "", fmt.Errorf("unterminated %s string", q)
			}
			c.WriteString(src[i : i+3+j+3])
			i += 3 + j + 2
		case ch == '\'' || ch == '"':
			j := strings.IndexByte(src[i+1:], byte(ch))
			if j < 0 || strings.Contains(src[i+1:i+1+j], "\n") {
				return "", "", fmt.Errorf("unterminated string at byte %d", i)
			}
			c.WriteString(src[i : i+1+j+1])
			i += j + 1
		default:
			switch ch {
			case '(', '[', '{':
				stack = append(stack, ch)
			case ')', ']', '}':
				if len(stack) == 0 || stack[len(stack)-1] != pairs[ch] {
					return "", "", fmt.Errorf("unbalanced %c at byte %d", ch, i)
				}
				stack = stack[:len(stack)-1]
			}
			c.WriteRune(ch)
		}
	}
	if len(stack) > 0 {
		return "", "", fmt.Errorf("unclosed %c", stack[len(stack)-1])
	}
	return c.String(), cm.String(), nil
}

// TestJenkinsExample checks examples/jenkins/Jenkinsfile: a declarative
// pipeline in the modelci image whose credentials bind the variables
// modelci reads, and that keeps the report.
func TestJenkinsExample(t *testing.T) {
	t.Parallel()
	path := filepath.Join(repoRoot, "examples", "jenkins", "Jenkinsfile")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	code, _, err := groovy(string(raw))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, s := range []string{"pipeline {", "agent {", "docker {", "image 'ghcr.io/modelci/modelci:v1'", "stages {", "withCredentials(", "sh 'modelci run'", "archiveArtifacts", "when { changeRequest() }", "${CHANGE_TARGET}"} {
		if !strings.Contains(code, s) {
			t.Errorf("the Jenkinsfile's code lacks %q", s)
		}
	}
	if !strings.Contains(code, ReportFile) {
		t.Errorf("the Jenkinsfile does not archive %s", ReportFile)
	}
	// Each bound credential variable must be one modelci reads.
	binds := regexp.MustCompile(`(variable|usernameVariable|passwordVariable): '([A-Z_]+)'`).FindAllStringSubmatch(code, -1)
	if len(binds) == 0 {
		t.Fatal("no credential is bound")
	}
	reads := map[string]func(Inputs) string{
		"GITHUB_TOKEN":              func(in Inputs) string { return in.GitHubToken },
		EnvGitHubToken:              func(in Inputs) string { return in.GitHubToken },
		"MODELCI_REGISTRY_USERNAME": func(in Inputs) string { return in.RegistryUsername },
		"MODELCI_REGISTRY_PASSWORD": func(in Inputs) string { return in.RegistryPassword },
	}
	github := false
	for _, b := range binds {
		field, ok := reads[b[2]]
		if !ok {
			t.Errorf("the Jenkinsfile binds %s, which modelci does not read", b[2])
			continue
		}
		inputReads(field)(t, b[2])
		github = github || b[2] == "GITHUB_TOKEN" || b[2] == EnvGitHubToken
	}
	if !github {
		t.Error("no GitHub token is bound: the PR comment needs one")
	}
	checkModelciVars(t, path, string(raw))
}

// TestGroovyScannerHasTeeth: the scanner rejects what it should.
func TestGroovyScannerHasTeeth(t *testing.T) {
	t.Parallel()
	code, comments, err := groovy("pipeline { // a } comment\n  sh 'echo }'\n}\n")
	if err != nil || !strings.Contains(code, "sh 'echo }'") || !strings.Contains(comments, "a } comment") {
		t.Errorf("code %q, comments %q, err %v", code, comments, err)
	}
	for _, bad := range []string{"pipeline {\n", "pipeline { ] }", "sh 'open\n'", "sh '''never closed"} {
		if _, _, err := groovy(bad); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}
