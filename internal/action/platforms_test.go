package action

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelci/modelci/internal/ci"
	"github.com/modelci/modelci/internal/github/githubtest"
	"github.com/modelci/modelci/internal/gitlab/gitlabtest"
	"github.com/modelci/modelci/internal/proc"
	"github.com/modelci/modelci/internal/sticky"
)

// Values of the GitLab, Jenkins and generic runs.
const (
	glProjectToken = "glpat-FAKE-project-token-7f3a"
	glReadAPIToken = "glpat-FAKE-read-api-token-91c2"
	glJobToken     = "glcbt-FAKE-job-token-55d0"
	ghPAT          = "ghp_FAKE_jenkins_pat_0c1d2e3f"
	ghReadOnlyPAT  = "ghp_FAKE_readonly_pat_9a8b7c"
	glProjectID    = 4711
	glIID          = 7
	headCommit     = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
	diffBase       = "0f1e2d3c4b5a69788796a5b4c3d2e1f001234567"
	jenkinsMerged  = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807"
	targetCommit   = "5566778899aabbccddeeff00112233445566778a"
)

var (
	glBot   = gitlabtest.User{ID: 9001, Username: "project_4711_bot_e1f2", Bot: true}
	glAlice = gitlabtest.User{ID: 42, Username: "alice"}
	ciBot   = githubtest.Account{Login: "acme-ci", ID: 77001, Type: "User"}
)

// gitlabEnv is a merge request pipeline of project 4711 (see
// https://docs.gitlab.com/ci/variables/predefined_variables/).
func gitlabEnv(ws, api string) map[string]string {
	return map[string]string{
		"CI": "true", "GITLAB_CI": "true",
		"CI_PIPELINE_SOURCE":                  "merge_request_event",
		"CI_COMMIT_SHA":                       headCommit,
		"CI_DEFAULT_BRANCH":                   "main",
		"CI_PROJECT_ID":                       fmt.Sprint(glProjectID),
		"CI_PROJECT_NAMESPACE":                "acme",
		"CI_PROJECT_NAME":                     "house-prices",
		"CI_PROJECT_URL":                      "https://gitlab.example.com/acme/house-prices",
		"CI_PROJECT_DIR":                      ws,
		"CI_API_V4_URL":                       api,
		"CI_REGISTRY":                         "registry.example.com",
		"CI_REGISTRY_IMAGE":                   "registry.example.com/acme/house-prices",
		"CI_REGISTRY_USER":                    "gitlab-ci-token",
		"CI_REGISTRY_PASSWORD":                glJobToken,
		"CI_JOB_TOKEN":                        glJobToken,
		"CI_MERGE_REQUEST_IID":                fmt.Sprint(glIID),
		"CI_MERGE_REQUEST_PROJECT_ID":         fmt.Sprint(glProjectID),
		"CI_MERGE_REQUEST_PROJECT_URL":        "https://gitlab.example.com/acme/house-prices",
		"CI_MERGE_REQUEST_SOURCE_PROJECT_ID":  fmt.Sprint(glProjectID),
		"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "better-model",
		"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
		"CI_MERGE_REQUEST_DIFF_BASE_SHA":      diffBase,
		"CI_MERGE_REQUEST_REF_PATH":           "refs/merge-requests/7/head",
		"MODELCI_WORKING_DIRECTORY":           "ml",
		"MODELCI_GITLAB_TOKEN":                glProjectToken,
	}
}

// jenkinsEnv is a multibranch build of GitHub PR 42 (see
// https://www.jenkins.io/doc/book/pipeline/multibranch/#additional-environment-variables).
func jenkinsEnv(ws, api string) map[string]string {
	return map[string]string{
		"JENKINS_URL":               "https://jenkins.example.com/",
		"WORKSPACE":                 ws,
		"BRANCH_NAME":               "PR-42",
		"CHANGE_ID":                 "42",
		"CHANGE_TARGET":             "main",
		"CHANGE_BRANCH":             "better-model",
		"CHANGE_URL":                "https://github.com/acme/house-prices/pull/42",
		"GIT_COMMIT":                jenkinsMerged,
		"GIT_URL":                   "https://github.com/acme/house-prices.git",
		"GITHUB_API_URL":            api,
		"GITHUB_TOKEN":              ghPAT,
		"MODELCI_WORKING_DIRECTORY": "ml",
	}
}

// jenkinsGit answers for a workspace whose HEAD is Jenkins' merge of the
// target into the PR head; dir must be the workspace.
func jenkinsGit(t *testing.T, ws string) func(ctx context.Context, dir string, args ...string) ([]byte, error) {
	return func(_ context.Context, dir string, args ...string) ([]byte, error) {
		if dir != ws {
			t.Errorf("git ran in %q, want the workspace %q", dir, ws)
		}
		switch strings.Join(args, " ") {
		case "log -1 --format=%H %P%n%cn%n%ce HEAD":
			return []byte(jenkinsMerged + " " + headCommit + " " + targetCommit + "\nJenkins\nnobody@nowhere\n"), nil
		case "rev-parse HEAD":
			return []byte(jenkinsMerged + "\n"), nil
		}
		return nil, fmt.Errorf("unexpected git %v", args)
	}
}

// ciHarness is one `modelci run` outside GitHub Actions.
type ciHarness struct {
	env       map[string]string
	ws        string
	gl        *gitlabtest.Server
	gh        *githubtest.Server
	clock     *githubtest.Clock
	differ    *fakeDiffer
	publisher *fakePublisher
	git       func(ctx context.Context, dir string, args ...string) ([]byte, error)
	ov        ci.Overrides
	stdout    bytes.Buffer
}

func newCIHarness(t *testing.T, platform ci.Platform) *ciHarness {
	t.Helper()
	h := &ciHarness{
		ws:        project(t),
		clock:     githubtest.NewClock(time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)),
		differ:    &fakeDiffer{gatesPassed: true},
		publisher: &fakePublisher{},
	}
	h.gl = gitlabtest.New(gitlabtest.Options{})
	t.Cleanup(h.gl.Close)
	h.gl.AddToken(glProjectToken, gitlabtest.Token{User: glBot})
	h.gl.AddToken(glReadAPIToken, gitlabtest.Token{User: glBot, ReadOnly: true})
	h.gl.AddJobToken(glJobToken)
	h.gl.AddMergeRequest(glProjectID, "acme/house-prices", glIID)
	h.gh = githubtest.New(githubtest.Options{Prefix: "/api/v3"}) // GitHub Enterprise Server
	t.Cleanup(h.gh.Close)
	h.gh.AddToken(ghPAT, githubtest.Token{Account: ciBot})
	h.gh.AddToken(ghReadOnlyPAT, githubtest.Token{Account: ciBot, ReadOnly: true})
	h.gh.AddPullRequest(repoOwner, repoName, 42)
	h.gh.AddPullRequest(repoOwner, repoName, 44)
	switch platform {
	case ci.GitLab:
		h.env = gitlabEnv(h.ws, h.gl.URL())
	case ci.Jenkins:
		h.env = jenkinsEnv(h.ws, h.gh.URL())
		h.git = jenkinsGit(t, h.ws)
	default:
		h.env = map[string]string{"GITHUB_API_URL": h.gh.URL(), "MODELCI_WORKING_DIRECTORY": filepath.Join(h.ws, "ml")}
	}
	return h
}

// noImage rewrites the project's config without image.repository.
func (h *ciHarness) noImage(t *testing.T) {
	t.Helper()
	p := filepath.Join(h.ws, "ml", "modelci.yaml")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "image:\n  repository: ghcr.io/acme/house-prices\n", "", 1)
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (h *ciHarness) run(t *testing.T) (*Outcome, error) {
	t.Helper()
	h.stdout.Reset()
	h.differ.calls = nil
	h.publisher.calls = nil
	return Run(context.Background(), proc.Env{
		Getenv:     func(k string) string { return h.env[k] },
		Stdout:     &h.stdout,
		HTTPClient: h.gl.Client(),
		Clock:      h.clock,
		Rand:       func() float64 { return 0.5 },
		Run:        gitRunner(h.git),
	}, Options{Overrides: h.ov}, Deps{Trainer: LocalTrainer{Workers: 1}, Comparer: h.differ, Shipper: h.publisher})
}

func glCounts(srv *gitlabtest.Server) map[string]int {
	out := map[string]int{}
	for _, r := range srv.Requests() {
		p := r.Path
		switch {
		case strings.HasSuffix(p, "/notes"):
			p = "notes"
		case strings.Contains(p, "/notes/"):
			p = "note"
		}
		out[r.Method+" "+p]++
	}
	return out
}

// checkPlainLog: outside GitHub Actions there are no workflow commands, and
// no secret is ever printed (there is no ::add-mask:: to hide it).
func checkPlainLog(t *testing.T, log string, files ...string) {
	t.Helper()
	if strings.Contains(log, "::add-mask::") || strings.Contains(log, "::group::") || strings.Contains(log, "::warning") || strings.Contains(log, "::error") {
		t.Errorf("GitHub workflow commands outside GitHub Actions:\n%s", log)
	}
	texts := append([]string{log}, files...)
	for _, text := range texts {
		for _, s := range []string{glProjectToken, glReadAPIToken, glJobToken, ghPAT, ghReadOnlyPAT, registrySecret} {
			if strings.Contains(text, s) {
				t.Errorf("secret %q printed", s)
			}
		}
	}
}

func (h *ciHarness) artifact(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(h.ws, "ml", ReportFile))
	if err != nil {
		t.Fatalf("no report artifact: %v", err)
	}
	return string(b)
}

// TestGitLabMergeRequest: a GitLab MR pipeline creates the note, a second
// pipeline edits it; one note of ours at the end.
func TestGitLabMergeRequest(t *testing.T) {
	t.Parallel()
	h := newCIHarness(t, ci.GitLab)
	h.gl.Seed(glProjectID, glIID, glAlice, "Please check the RMSE", false)
	o, err := h.run(t)
	log := h.stdout.String()
	if err != nil {
		t.Fatalf("first run: %v\n%s", err, log)
	}
	if o.Event.Platform != ci.GitLab || o.Event.Kind != ci.KindPullRequest || o.Event.Number != glIID {
		t.Errorf("event %+v", o.Event)
	}
	if got := glCounts(h.gl); fmt.Sprint(got) != fmt.Sprint(map[string]int{"GET /user": 1, "GET notes": 1, "POST notes": 1}) {
		t.Errorf("first run requests %v", got)
	}
	for _, r := range h.gl.Requests() {
		if r.Auth != "PRIVATE-TOKEN" {
			t.Errorf("%s %s sent %q, want PRIVATE-TOKEN", r.Method, r.Path, r.Auth)
		}
	}
	if o.Comment == nil || o.Comment.Outcome != sticky.Created || !strings.HasPrefix(o.Comment.URL, "https://gitlab.example.com/acme/house-prices/-/merge_requests/7#note_") {
		t.Errorf("comment %+v", o.Comment)
	}
	c := h.differ.calls[0]
	if wantSpec(c) != "registry (fallback git:"+diffBase+")" || c.SHA != headCommit || c.Ref != "better-model" || c.Dir != filepath.Join(h.ws, "ml") {
		t.Errorf("diff request: baseline %s, challenger %s %s, workdir %s", wantSpec(c), c.Ref, c.SHA, c.Dir)
	}
	for _, s := range []string{"modelci run on gitlab: merge_request_event (pull_request #7 into main) in acme/house-prices", "section_start:", "Merge request note", "MR note created", "report written to ml/" + ReportFile} {
		if !strings.Contains(log, s) {
			t.Errorf("log lacks %q\n%s", s, log)
		}
	}
	if strings.Count(log, "section_start:") != strings.Count(log, "section_end:") {
		t.Errorf("unbalanced sections")
	}
	art := h.artifact(t)
	if !strings.Contains(art, sticky.Marker(modelName)) || o.ArtifactPath != filepath.Join(h.ws, "ml", ReportFile) {
		t.Errorf("artifact %s: %q", o.ArtifactPath, art)
	}
	checkPlainLog(t, log, art)
	first := o.Comment.ID

	// A new commit: the same note is edited.
	h.differ.text = "rmse 1.0 → 0.8"
	o, err = h.run(t)
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, h.stdout.String())
	}
	if got := glCounts(h.gl); fmt.Sprint(got) != fmt.Sprint(map[string]int{"GET /user": 2, "GET notes": 2, "POST notes": 1, "PUT note": 1}) {
		t.Errorf("requests after two runs %v", got)
	}
	if o.Comment == nil || o.Comment.Outcome != sticky.Updated || o.Comment.ID != first {
		t.Errorf("second comment %+v, want note %d updated", o.Comment, first)
	}
	var ours []gitlabtest.Note
	notes := h.gl.Notes(glProjectID, glIID)
	for _, n := range notes {
		if n.Author.ID == glBot.ID && strings.Contains(n.Body, sticky.Marker(modelName)) {
			ours = append(ours, n)
		}
	}
	if len(notes) != 2 || len(ours) != 1 || !strings.Contains(ours[0].Body, "rmse 1.0 → 0.8") {
		t.Errorf("%d notes, %d ours (%+v)", len(notes), len(ours), ours)
	}
	checkPlainLog(t, h.stdout.String(), h.artifact(t))
}

// TestGitLabWithoutProjectToken: with only CI_JOB_TOKEN, no request is sent,
// the log names MODELCI_GITLAB_TOKEN, the report is in the log and the
// artifact, and the run succeeds (or fails only on its gates).
func TestGitLabWithoutProjectToken(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		setup   func(h *ciHarness)
		wantErr error
		logHas  []string
	}{
		{name: "no MODELCI_GITLAB_TOKEN", setup: func(h *ciHarness) { delete(h.env, "MODELCI_GITLAB_TOKEN") },
			logHas: []string{"MODELCI_GITLAB_TOKEN is not set"}},
		{name: "MODELCI_GITLAB_TOKEN holds the job token", setup: func(h *ciHarness) { h.env["MODELCI_GITLAB_TOKEN"] = glJobToken },
			logHas: []string{"MODELCI_GITLAB_TOKEN holds the job's CI_JOB_TOKEN"}},
		{name: "a fork's pipeline, gates failing: exit 3, still no note", setup: func(h *ciHarness) {
			delete(h.env, "MODELCI_GITLAB_TOKEN")
			h.env["CI_MERGE_REQUEST_SOURCE_PROJECT_ID"], h.env["CI_PROJECT_ID"] = "9999", "9999"
			h.differ.gatesPassed = false
		}, wantErr: ErrGateFailed, logHas: []string{"comes from a fork", DocsGitLabForkMR, "error: quality gates failed for model house-prices; see the report in the job log and modelci-report.md"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newCIHarness(t, ci.GitLab)
			tc.setup(h)
			o, err := h.run(t)
			log := h.stdout.String()
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v\n%s", err, tc.wantErr, log)
				}
			} else if err != nil {
				t.Fatalf("err = %v\n%s", err, log)
			}
			if n := len(h.gl.Requests()); n != 0 {
				t.Errorf("%d GitLab requests, want none", n)
			}
			if o.Comment != nil || !strings.Contains(o.CommentSkipped, "CI_JOB_TOKEN") {
				t.Errorf("comment %+v, skipped %q", o.Comment, o.CommentSkipped)
			}
			for _, s := range append(tc.logHas, "warning: no MR note:", "project access token", "api scope", "Reporter role", DocsGitLabJobToken, DocsGitLabProjectToken, DocsGitLabMaskedVar, sticky.Marker(modelName)) {
				if !strings.Contains(log, s) {
					t.Errorf("log lacks %q\n%s", s, log)
				}
			}
			art := h.artifact(t)
			if !strings.Contains(art, "No MR note: a project access token is needed in MODELCI_GITLAB_TOKEN") || !strings.Contains(art, sticky.Marker(modelName)) {
				t.Errorf("artifact:\n%s", art)
			}
			checkPlainLog(t, log, art)
		})
	}
}

// TestGitLabTokenRefused: a token without the api scope is refused by
// GitLab; the run says what the token needs and succeeds.
func TestGitLabTokenRefused(t *testing.T) {
	t.Parallel()
	h := newCIHarness(t, ci.GitLab)
	h.env["MODELCI_GITLAB_TOKEN"] = glReadAPIToken
	o, err := h.run(t)
	log := h.stdout.String()
	if err != nil {
		t.Fatalf("err = %v\n%s", err, log)
	}
	if got := glCounts(h.gl); fmt.Sprint(got) != fmt.Sprint(map[string]int{"GET /user": 1, "GET notes": 1, "POST notes": 1}) {
		t.Errorf("requests %v", got)
	}
	var ce *CommentError
	if !errors.As(o.CommentErr, &ce) {
		t.Errorf("CommentErr = %v", o.CommentErr)
	}
	for _, s := range []string{"warning: could not create the merge request note on merge request !7 of project 4711: GitLab refused MODELCI_GITLAB_TOKEN (GitLab: 403 Forbidden: insufficient_scope", "api scope"} {
		if !strings.Contains(log, s) {
			t.Errorf("log lacks %q\n%s", s, log)
		}
	}
	if art := h.artifact(t); !strings.Contains(art, "No MR note: GitLab refused MODELCI_GITLAB_TOKEN") {
		t.Errorf("artifact:\n%s", art)
	}
	checkPlainLog(t, log, h.artifact(t))
}

// TestGitLabBaselines: without an image, the MR compares with its diff
// base, or with origin/<target> when GitLab gives no diff base.
func TestGitLabBaselines(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		setup func(h *ciHarness)
		want  string
	}{
		{"diff base sha", func(h *ciHarness) {}, "git:" + diffBase},
		{"no diff base: the target branch at origin", func(h *ciHarness) { delete(h.env, "CI_MERGE_REQUEST_DIFF_BASE_SHA") }, "git:origin/main"},
		{"--base-ref as given", func(h *ciHarness) { h.ov.BaseRef = "release/2024" }, "git:release/2024"},
		{"baseline input wins", func(h *ciHarness) { h.env["MODELCI_BASELINE"] = "none" }, "none"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newCIHarness(t, ci.GitLab)
			h.noImage(t)
			delete(h.env, "CI_REGISTRY_IMAGE")
			tc.setup(h)
			if _, err := h.run(t); err != nil {
				t.Fatalf("%v\n%s", err, h.stdout.String())
			}
			if got := wantSpec(h.differ.calls[0]); got != tc.want {
				t.Errorf("baseline %s, want %s", got, tc.want)
			}
		})
	}
}

// TestGitLabDefaultBranch: a push pipeline on CI_DEFAULT_BRANCH packages and
// pushes the image, to CI_REGISTRY_IMAGE unless image.repository is set.
func TestGitLabDefaultBranch(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		noImage  bool
		branch   string
		source   string
		wantRepo string
	}{
		{"no image configured: CI_REGISTRY_IMAGE", true, "main", "push", "registry.example.com/acme/house-prices"},
		{"image.repository wins", false, "main", "push", "ghcr.io/acme/house-prices"},
		{"another branch: no push", true, "feature", "push", ""},
		{"a scheduled pipeline on main: no push", true, "main", "schedule", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newCIHarness(t, ci.GitLab)
			if tc.noImage {
				h.noImage(t)
			}
			for k := range h.env {
				if strings.HasPrefix(k, "CI_MERGE_REQUEST_") {
					delete(h.env, k)
				}
			}
			h.env["CI_PIPELINE_SOURCE"], h.env["CI_COMMIT_BRANCH"], h.env["CI_COMMIT_SHA"] = tc.source, tc.branch, headCommit
			o, err := h.run(t)
			if err != nil {
				t.Fatalf("%v\n%s", err, h.stdout.String())
			}
			if tc.wantRepo == "" {
				if len(h.publisher.calls) != 0 || o.Event.Kind != ci.KindOther {
					t.Errorf("kind %s, %d pushes", o.Event.Kind, len(h.publisher.calls))
				}
				return
			}
			if len(h.publisher.calls) != 1 {
				t.Fatalf("%d pushes\n%s", len(h.publisher.calls), h.stdout.String())
			}
			c := h.publisher.calls[0]
			if c.Repository != tc.wantRepo || c.SHA != headCommit || c.Ref != "refs/heads/main" || c.Password != "" {
				t.Errorf("publish request %+v", c)
			}
			if o.Published == nil || o.Published.Digest != digest || wantSpec(h.differ.calls[0]) != "none" {
				t.Errorf("published %+v, baseline %s", o.Published, wantSpec(h.differ.calls[0]))
			}
			if len(h.gl.Requests()) != 0 {
				t.Error("the GitLab API was called on a push")
			}
			checkPlainLog(t, h.stdout.String(), h.artifact(t))
		})
	}
}

// TestJenkinsPullRequest: a Jenkins multibranch PR build posts the sticky
// GitHub comment through the GitHub code path, names the PR head (not
// Jenkins' local merge commit) and compares with the merged target.
func TestJenkinsPullRequest(t *testing.T) {
	t.Parallel()
	h := newCIHarness(t, ci.Jenkins)
	h.gh.Seed(repoOwner, repoName, 42, githubtest.Account{Login: "alice", ID: 583231, Type: "User"}, "LGTM")
	o, err := h.run(t)
	log := h.stdout.String()
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if got := apiCounts(h.gh); fmt.Sprint(got) != fmt.Sprint(map[string]int{"GET /user": 1, "GET list": 1, "POST list": 1}) {
		t.Errorf("GitHub requests %v", got)
	}
	cs := h.gh.Comments(repoOwner, repoName, 42)
	if len(cs) != 2 || cs[1].User.Login != ciBot.Login || !strings.Contains(cs[1].Body, sticky.Marker(modelName)) {
		t.Errorf("comments %+v", cs)
	}
	if o.Comment == nil || o.Comment.Outcome != sticky.Created || o.Comment.Author != ciBot.Login {
		t.Errorf("comment %+v", o.Comment)
	}
	c := h.differ.calls[0]
	if wantSpec(c) != "registry (fallback git:"+targetCommit+")" || c.SHA != headCommit || c.Ref != "better-model" {
		t.Errorf("diff request: baseline %s, challenger %s %s", wantSpec(c), c.Ref, c.SHA)
	}
	for _, s := range []string{"modelci run on jenkins: change-request (pull_request #42 into main) in acme/house-prices", "==> Pull request comment", "PR comment created",
		"the report names the pull request's head " + headCommit[:12] + ", not the checked-out commit " + jenkinsMerged[:12],
		"is Jenkins' merge of main " + targetCommit[:12] + " into the PR head " + headCommit[:12]} {
		if !strings.Contains(log, s) {
			t.Errorf("log lacks %q\n%s", s, log)
		}
	}
	checkPlainLog(t, log, h.artifact(t))

	// The next build edits the same comment.
	h.differ.text = "rmse 1.0 → 0.7"
	if o, err = h.run(t); err != nil || o.Comment == nil || o.Comment.Outcome != sticky.Updated {
		t.Fatalf("second build: %+v %v", o.Comment, err)
	}
	if cs := h.gh.Comments(repoOwner, repoName, 42); len(cs) != 2 || !strings.Contains(cs[1].Body, "0.7") {
		t.Errorf("comments after the second build %+v", cs)
	}
}

// TestJenkinsForkWarning: a fork's PR built with a token bound is warned
// about, as pull_request_target is on GitHub.
func TestJenkinsForkWarning(t *testing.T) {
	t.Parallel()
	h := newCIHarness(t, ci.Jenkins)
	h.env["CHANGE_FORK"] = "mallory"
	o, err := h.run(t)
	log := h.stdout.String()
	if err != nil || !o.Event.Fork {
		t.Fatalf("fork %v, err %v\n%s", o.Event.Fork, err, log)
	}
	if !strings.Contains(log, "warning: this pull request comes from a fork (CHANGE_FORK), and a GitHub token is bound") || !strings.Contains(log, DocsPwnRequests) {
		t.Errorf("no fork warning:\n%s", log)
	}
	h2 := newCIHarness(t, ci.Jenkins)
	if _, err := h2.run(t); err != nil || strings.Contains(h2.stdout.String(), "comes from a fork") {
		t.Errorf("a warning without a fork: %v\n%s", err, h2.stdout.String())
	}
}

// TestJenkinsWithoutCommentRights: no token, or a token that may not
// comment: the build says what is missing and succeeds.
func TestJenkinsWithoutCommentRights(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		token    string
		requests int
		logHas   string
	}{
		{"no token", "", 0, "warning: no PR comment: no GitHub token: set GITHUB_TOKEN or MODELCI_GITHUB_TOKEN (in Jenkins, bind a credential with withCredentials)"},
		{"a read-only token", ghReadOnlyPAT, 3, "A fine-grained personal access token needs Pull requests: Read and write"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newCIHarness(t, ci.Jenkins)
			h.env["GITHUB_TOKEN"] = tc.token
			o, err := h.run(t)
			log := h.stdout.String()
			if err != nil {
				t.Fatalf("%v\n%s", err, log)
			}
			if n := len(h.gh.Requests()); n != tc.requests || o.Comment != nil {
				t.Errorf("%d GitHub requests (want %d), comment %+v", n, tc.requests, o.Comment)
			}
			if !strings.Contains(log, tc.logHas) {
				t.Errorf("log lacks %q\n%s", tc.logHas, log)
			}
			checkPlainLog(t, log, h.artifact(t))
		})
	}
}

// TestJenkinsBranch: a build of main pushes the image of GIT_COMMIT; a
// build of another branch only reports.
func TestJenkinsBranch(t *testing.T) {
	t.Parallel()
	for _, branch := range []string{"main", "feature"} {
		h := newCIHarness(t, ci.Jenkins)
		for _, k := range []string{"CHANGE_ID", "CHANGE_TARGET", "CHANGE_BRANCH", "CHANGE_URL"} {
			delete(h.env, k)
		}
		h.env["BRANCH_NAME"], h.env["GIT_COMMIT"] = branch, headCommit
		o, err := h.run(t)
		if err != nil {
			t.Fatalf("%s: %v\n%s", branch, err, h.stdout.String())
		}
		pushed := len(h.publisher.calls) == 1
		if pushed != (branch == "main") || (pushed && (h.publisher.calls[0].SHA != headCommit || h.publisher.calls[0].Repository != "ghcr.io/acme/house-prices")) {
			t.Errorf("%s: kind %s, publish calls %+v", branch, o.Event.Kind, h.publisher.calls)
		}
		if len(h.gh.Requests()) != 0 {
			t.Errorf("%s: GitHub called", branch)
		}
	}
}

// TestGenericCI: any CI drives modelci run with flags.
func TestGenericCI(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		env      map[string]string
		ov       ci.Overrides
		wantErr  error
		kind     ci.Kind
		baseline string
		comments int
		pushed   bool
		logHas   string
	}{
		{
			name: "a pull request with a token, a repository and a number: the GitHub comment",
			env:  map[string]string{"GITHUB_TOKEN": ghPAT},
			ov:   ci.Overrides{Event: "pr", PRNumber: "44", Repository: "acme/house-prices", BaseRef: "origin/main"},
			kind: ci.KindPullRequest, baseline: "registry (fallback git:origin/main)", comments: 1, logHas: "PR comment created",
		},
		{
			name: "the same from MODELCI_* variables",
			env:  map[string]string{"MODELCI_GITHUB_TOKEN": ghPAT, "MODELCI_EVENT": "pr", "MODELCI_PR_NUMBER": "44", "MODELCI_REPOSITORY": "acme/house-prices", "MODELCI_BASE_REF": "origin/main"},
			kind: ci.KindPullRequest, baseline: "registry (fallback git:origin/main)", comments: 1,
		},
		{
			name: "a pull request without a repository: reported, not commented",
			env:  map[string]string{"GITHUB_TOKEN": ghPAT},
			ov:   ci.Overrides{Event: "pr", PRNumber: "44", BaseRef: "origin/main"},
			kind: ci.KindPullRequest, baseline: "registry (fallback git:origin/main)", logHas: "pass --repo owner/name",
		},
		{
			name: "a pull request without a base: exit 2",
			ov:   ci.Overrides{Event: "pr"}, wantErr: ErrUsage, logHas: "pass --base-ref",
		},
		{
			name: "--event push: the image is pushed",
			ov:   ci.Overrides{Event: "push"}, kind: ci.KindPushDefault, baseline: "none", pushed: true,
		},
		{
			name: "no CI and no flags: a local run writes the image as an OCI layout",
			kind: ci.KindLocal, baseline: "none", pushed: true, logHas: "wrote the image to the OCI layout ",
		},
		{
			name: "a bad flag: exit 2", ov: ci.Overrides{Event: "deploy"}, wantErr: ErrUsage, logHas: `--event "deploy": want pr, push, other or local`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newCIHarness(t, ci.Generic)
			for k, v := range tc.env {
				h.env[k] = v
			}
			h.ov = tc.ov
			o, err := h.run(t)
			log := h.stdout.String()
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v\n%s", err, log)
				}
			} else if err != nil {
				t.Fatalf("%v\n%s", err, log)
			}
			if tc.kind != "" && o.Event.Kind != tc.kind {
				t.Errorf("kind %s, want %s", o.Event.Kind, tc.kind)
			}
			if tc.baseline != "" && (len(h.differ.calls) != 1 || wantSpec(h.differ.calls[0]) != tc.baseline) {
				t.Errorf("differ calls %v, want %s", baselines(h.differ.calls), tc.baseline)
			}
			if got := len(h.gh.Comments(repoOwner, repoName, 44)); got != tc.comments {
				t.Errorf("%d comments, want %d", got, tc.comments)
			}
			if (len(h.publisher.calls) == 1) != tc.pushed {
				t.Errorf("publish calls %+v", h.publisher.calls)
			}
			if tc.kind == ci.KindLocal && len(h.publisher.calls) == 1 {
				// A local run writes a layout and pushes nowhere.
				if c := h.publisher.calls[0]; c.Repository != "" || filepath.Base(c.Layout) != "image" {
					t.Errorf("local publish request %+v", c)
				}
			}
			if tc.logHas != "" && !strings.Contains(log, tc.logHas) {
				t.Errorf("log lacks %q\n%s", tc.logHas, log)
			}
			checkPlainLog(t, log)
		})
	}
}

// gitRunner runs the fake git of a harness as the environment's command
// runner (nil: no git); any other command fails.
func gitRunner(git func(ctx context.Context, dir string, args ...string) ([]byte, error)) proc.Runner {
	if git == nil {
		return nil
	}
	return func(ctx context.Context, c proc.Command) ([]byte, error) {
		if c.Name != "git" {
			return nil, fmt.Errorf("unexpected command %s %v", c.Name, c.Args)
		}
		return git(ctx, c.Dir, c.Args...)
	}
}
