package ci

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/proc"
)

const (
	headSHA  = "1111111111111111111111111111111111111111"
	baseSHA  = "2222222222222222222222222222222222222222"
	mergeSHA = "3333333333333333333333333333333333333333"
	mainSHA  = "4444444444444444444444444444444444444444"
)

// gitlabMR is the environment of a merge request pipeline; see
// https://docs.gitlab.com/ci/variables/predefined_variables/#predefined-variables-for-merge-request-pipelines.
func gitlabMR() map[string]string {
	return map[string]string{
		"CI": "true", "GITLAB_CI": "true",
		"CI_PIPELINE_SOURCE":                   "merge_request_event",
		"CI_COMMIT_SHA":                        headSHA,
		"CI_COMMIT_REF_NAME":                   "feature/better-model",
		"CI_DEFAULT_BRANCH":                    "main",
		"CI_PROJECT_ID":                        "4711",
		"CI_PROJECT_NAMESPACE":                 "acme/ml",
		"CI_PROJECT_NAME":                      "house-prices",
		"CI_PROJECT_PATH":                      "acme/ml/house-prices",
		"CI_PROJECT_URL":                       "https://gitlab.example.com/acme/ml/house-prices",
		"CI_PROJECT_DIR":                       "/builds/acme/ml/house-prices",
		"CI_API_V4_URL":                        "https://gitlab.example.com/api/v4",
		"CI_SERVER_URL":                        "https://gitlab.example.com",
		"CI_REGISTRY":                          "registry.example.com",
		"CI_REGISTRY_IMAGE":                    "registry.example.com/acme/ml/house-prices",
		"CI_REGISTRY_USER":                     "gitlab-ci-token",
		"CI_REGISTRY_PASSWORD":                 "job-token-secret",
		"CI_JOB_TOKEN":                         "job-token-secret",
		"GITLAB_USER_LOGIN":                    "alice",
		"CI_MERGE_REQUEST_IID":                 "7",
		"CI_MERGE_REQUEST_PROJECT_ID":          "4711",
		"CI_MERGE_REQUEST_PROJECT_PATH":        "acme/ml/house-prices",
		"CI_MERGE_REQUEST_PROJECT_URL":         "https://gitlab.example.com/acme/ml/house-prices",
		"CI_MERGE_REQUEST_REF_PATH":            "refs/merge-requests/7/head",
		"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME":  "feature/better-model",
		"CI_MERGE_REQUEST_SOURCE_PROJECT_ID":   "4711",
		"CI_MERGE_REQUEST_SOURCE_PROJECT_PATH": "acme/ml/house-prices",
		"CI_MERGE_REQUEST_TARGET_BRANCH_NAME":  "main",
		"CI_MERGE_REQUEST_DIFF_BASE_SHA":       baseSHA,
		"CI_MERGE_REQUEST_EVENT_TYPE":          "detached",
	}
}

// gitlabBranch is a branch pipeline.
func gitlabBranch(branch string) map[string]string {
	env := gitlabMR()
	for k := range env {
		if strings.HasPrefix(k, "CI_MERGE_REQUEST_") {
			delete(env, k)
		}
	}
	env["CI_PIPELINE_SOURCE"] = "push"
	env["CI_COMMIT_SHA"] = mainSHA
	env["CI_COMMIT_BRANCH"] = branch
	env["CI_COMMIT_REF_NAME"] = branch
	return env
}

// jenkinsPR is a multibranch build of a GitHub pull request; see
// https://www.jenkins.io/doc/book/pipeline/multibranch/#additional-environment-variables.
func jenkinsPR() map[string]string {
	return map[string]string{
		"JENKINS_URL":   "https://jenkins.example.com/",
		"BUILD_NUMBER":  "12",
		"WORKSPACE":     "/var/jenkins/workspace/house-prices_PR-42",
		"BRANCH_NAME":   "PR-42",
		"CHANGE_ID":     "42",
		"CHANGE_TARGET": "main",
		"CHANGE_BRANCH": "feature/better-model",
		"CHANGE_URL":    "https://github.com/acme/house-prices/pull/42",
		"CHANGE_AUTHOR": "alice",
		"GIT_COMMIT":    mergeSHA,
		"GIT_URL":       "https://github.com/acme/house-prices.git",
	}
}

func jenkinsBranch(branch string) map[string]string {
	return map[string]string{
		"JENKINS_URL": "https://jenkins.example.com/",
		"WORKSPACE":   "/var/jenkins/workspace/house-prices_main",
		"BRANCH_NAME": branch,
		"GIT_COMMIT":  mainSHA,
		"GIT_URL":     "https://jenkins:s3cret@github.com/acme/house-prices.git",
	}
}

func with(env map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

// fakeGit answers `git log -1 --format=...` and `git rev-parse HEAD` for a
// HEAD with the given parents and committer.
func fakeGit(head string, parents []string, committer, email string) gitFunc {
	return func(_ context.Context, args ...string) ([]byte, error) {
		switch strings.Join(args, " ") {
		case "rev-parse HEAD":
			return []byte(head + "\n"), nil
		case "log -1 --format=%H %P%n%cn%n%ce HEAD":
			return []byte(strings.Join(append([]string{head}, parents...), " ") + "\n" + committer + "\n" + email + "\n"), nil
		}
		return nil, fmt.Errorf("unexpected git %v", args)
	}
}

// runGit runs git commands through g, nil for nil (git not consulted).
func runGit(g gitFunc) proc.Runner {
	if g == nil {
		return nil
	}
	return func(ctx context.Context, c proc.Command) ([]byte, error) { return g(ctx, c.Args...) }
}

func TestDetect(t *testing.T) {
	t.Parallel()
	jenkinsMergeGit := fakeGit(mergeSHA, []string{headSHA, baseSHA}, "Jenkins", "nobody@nowhere")
	cases := []struct {
		name string
		env  map[string]string
		git  gitFunc
		ov   Overrides
		want Event
		// notes that must appear
		notes   []string
		wantErr string
	}{
		{
			name: "GitLab merge request pipeline",
			env:  gitlabMR(),
			want: Event{Platform: GitLab, Name: "merge_request_event", Kind: KindPullRequest, Owner: "acme/ml", Repo: "house-prices",
				SHA: headSHA, Ref: "refs/merge-requests/7/head", Actor: "alice", DefaultBranch: "main",
				Number: 7, BaseSHA: baseSHA, BaseRef: "main", HeadSHA: headSHA, HeadRef: "feature/better-model",
				BaseRepo: "acme/ml/house-prices", HeadRepo: "acme/ml/house-prices", InPullRequest: true,
				Forge: ForgeGitLab, APIURL: "https://gitlab.example.com/api/v4", ProjectID: "4711",
				WebURL: "https://gitlab.example.com/acme/ml/house-prices", PRURL: "https://gitlab.example.com/acme/ml/house-prices/-/merge_requests/7",
				ReportSHA: headSHA, ReportRef: "feature/better-model", Workspace: "/builds/acme/ml/house-prices",
				Registry: ContainerRegistry{Host: "registry.example.com", Image: "registry.example.com/acme/ml/house-prices"}},
		},
		{
			name: "GitLab merged results pipeline: the report names the source head, not the merge commit",
			env:  with(gitlabMR(), "CI_COMMIT_SHA", mergeSHA, "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA", headSHA, "CI_MERGE_REQUEST_TARGET_BRANCH_SHA", mainSHA, "CI_MERGE_REQUEST_EVENT_TYPE", "merged_result"),
			want: func() Event {
				e := gitlabMRWant()
				e.SHA = mergeSHA
				return e
			}(),
		},
		{
			name: "GitLab merge request from a fork, pipeline in the fork: notes go to the parent project",
			env:  with(gitlabMR(), "CI_PROJECT_ID", "9999", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "9999", "CI_MERGE_REQUEST_SOURCE_PROJECT_PATH", "mallory/house-prices"),
			want: func() Event {
				e := gitlabMRWant()
				e.Fork, e.HeadRepo = true, "mallory/house-prices"
				return e
			}(),
		},
		{
			name: "GitLab branch pipeline on the default branch",
			env:  gitlabBranch("main"),
			want: Event{Platform: GitLab, Name: "push", Kind: KindPushDefault, Owner: "acme/ml", Repo: "house-prices",
				SHA: mainSHA, Ref: "refs/heads/main", Actor: "alice", DefaultBranch: "main",
				APIURL: "https://gitlab.example.com/api/v4", ProjectID: "4711", WebURL: "https://gitlab.example.com/acme/ml/house-prices",
				Workspace: "/builds/acme/ml/house-prices", Registry: ContainerRegistry{Host: "registry.example.com", Image: "registry.example.com/acme/ml/house-prices"}},
		},
		{
			name: "GitLab branch pipeline on another branch",
			env:  gitlabBranch("feature"),
			want: func() Event { e := gitlabBranchWant(); e.Kind, e.Ref = KindOther, "refs/heads/feature"; return e }(),
		},
		{
			name: "GitLab scheduled pipeline on the default branch is not a push",
			env:  with(gitlabBranch("main"), "CI_PIPELINE_SOURCE", "schedule"),
			want: func() Event { e := gitlabBranchWant(); e.Kind, e.Name = KindOther, "schedule"; return e }(),
		},
		{
			name: "GitLab tag pipeline",
			env:  with(gitlabBranch("main"), "CI_COMMIT_BRANCH", "", "CI_COMMIT_TAG", "v1.2.0"),
			want: func() Event { e := gitlabBranchWant(); e.Kind, e.Ref = KindOther, "refs/tags/v1.2.0"; return e }(),
		},
		{
			name: "GitLab CI/CD for a GitHub repository: an external pull request",
			env: with(gitlabBranch("feature"), "CI_PIPELINE_SOURCE", "external_pull_request_event", "CI_COMMIT_BRANCH", "",
				"CI_EXTERNAL_PULL_REQUEST_IID", "12", "CI_EXTERNAL_PULL_REQUEST_TARGET_BRANCH_NAME", "main",
				"CI_EXTERNAL_PULL_REQUEST_TARGET_BRANCH_SHA", baseSHA, "CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_NAME", "feature",
				"CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_SHA", headSHA, "CI_EXTERNAL_PULL_REQUEST_TARGET_REPOSITORY", "acme/house-prices",
				"CI_EXTERNAL_PULL_REQUEST_SOURCE_REPOSITORY", "acme/house-prices"),
			want: Event{Platform: GitLab, Name: "external_pull_request_event", Kind: KindPullRequest, Owner: "acme", Repo: "house-prices",
				SHA: mainSHA, Actor: "alice", DefaultBranch: "main", Number: 12, BaseSHA: baseSHA, BaseRef: "main", HeadSHA: headSHA, HeadRef: "feature",
				BaseRepo: "acme/house-prices", HeadRepo: "acme/house-prices", InPullRequest: true, Forge: ForgeGitHub, APIURL: "https://api.github.com",
				ProjectID: "4711", WebURL: "https://gitlab.example.com/acme/ml/house-prices", ReportSHA: headSHA, ReportRef: "feature",
				Workspace: "/builds/acme/ml/house-prices", Registry: ContainerRegistry{Host: "registry.example.com", Image: "registry.example.com/acme/ml/house-prices"}},
		},
		{
			name: "Jenkins PR merged with the target: the PR head and the merged target from HEAD's parents",
			env:  jenkinsPR(), git: jenkinsMergeGit,
			want: Event{Platform: Jenkins, Name: "change-request", Kind: KindPullRequest, Owner: "acme", Repo: "house-prices",
				SHA: mergeSHA, Actor: "alice", DefaultBranch: "main", Number: 42, BaseSHA: baseSHA, BaseRef: "main",
				HeadSHA: headSHA, HeadRef: "feature/better-model", BaseRepo: "acme/house-prices", InPullRequest: true,
				Forge: ForgeGitHub, APIURL: "https://api.github.com", WebURL: "https://github.com/acme/house-prices",
				PRURL: "https://github.com/acme/house-prices/pull/42", ReportSHA: headSHA, ReportRef: "feature/better-model",
				Workspace: "/var/jenkins/workspace/house-prices_PR-42"},
			notes: []string{"is Jenkins' merge of main " + baseSHA[:12] + " into the PR head " + headSHA[:12]},
		},
		{
			name: "Jenkins PR built at its head: GIT_COMMIT is the head, the base is the target branch",
			env:  with(jenkinsPR(), "GIT_COMMIT", headSHA), git: fakeGit(headSHA, []string{mainSHA}, "Alice", "alice@example.com"),
			want: func() Event { e := jenkinsPRWant(); e.SHA, e.BaseSHA = headSHA, ""; return e }(),
		},
		{
			name: "Jenkins PR whose head is the author's own merge commit: not Jenkins', so it is the head",
			env:  with(jenkinsPR(), "GIT_COMMIT", headSHA), git: fakeGit(headSHA, []string{mainSHA, baseSHA}, "Alice", "alice@example.com"),
			want: func() Event { e := jenkinsPRWant(); e.SHA, e.BaseSHA = headSHA, ""; return e }(),
		},
		{
			name:  "Jenkins PR without git: GIT_COMMIT is taken as the head, with a note",
			env:   with(jenkinsPR(), "GIT_COMMIT", headSHA),
			want:  func() Event { e := jenkinsPRWant(); e.SHA, e.BaseSHA = headSHA, ""; return e }(),
			notes: []string{"the PR head is GIT_COMMIT " + headSHA[:12] + " (git was not consulted)"},
		},
		{
			name: "Jenkins PR on GitHub Enterprise, repository from --repo",
			env:  with(jenkinsPR(), "CHANGE_URL", "https://ghe.example.com/acme/house-prices/pull/42", "GITHUB_API_URL", "https://ghe.example.com/api/v3/"),
			git:  jenkinsMergeGit, ov: Overrides{Repository: "ml-team/house"},
			want: func() Event {
				e := jenkinsPRWant()
				e.Owner, e.Repo, e.APIURL, e.PRURL = "ml-team", "house", "https://ghe.example.com/api/v3", "https://ghe.example.com/acme/house-prices/pull/42"
				return e
			}(),
		},
		{
			name: "Jenkins PR of a GitLab merge request (GitLab Branch Source)",
			env:  with(jenkinsPR(), "CHANGE_URL", "https://gitlab.example.com/acme/ml/house-prices/-/merge_requests/42", "GIT_URL", "https://gitlab.example.com/acme/ml/house-prices.git"),
			git:  jenkinsMergeGit,
			want: func() Event {
				e := jenkinsPRWant()
				e.Forge, e.Owner, e.Repo, e.ProjectID, e.BaseRepo = ForgeGitLab, "acme/ml", "house-prices", "acme/ml/house-prices", "acme/ml/house-prices"
				e.APIURL, e.PRURL, e.WebURL = "https://gitlab.example.com/api/v4", "https://gitlab.example.com/acme/ml/house-prices/-/merge_requests/42", "https://gitlab.example.com/acme/ml/house-prices"
				return e
			}(),
		},
		{
			name: "Jenkins PR from a fork",
			env:  with(jenkinsPR(), "CHANGE_FORK", "mallory"), git: jenkinsMergeGit,
			want: func() Event { e := jenkinsPRWant(); e.Fork = true; return e }(),
		},
		{
			name: "Jenkins build of main: a push to the default branch; credentials stripped from GIT_URL",
			env:  jenkinsBranch("main"),
			want: Event{Platform: Jenkins, Name: "branch", Kind: KindPushDefault, SHA: mainSHA, Ref: "refs/heads/main", DefaultBranch: "main",
				APIURL: "https://api.github.com", WebURL: "https://github.com/acme/house-prices", Workspace: "/var/jenkins/workspace/house-prices_main"},
		},
		{
			name: "Jenkins build of another branch",
			env:  jenkinsBranch("feature"),
			want: func() Event { e := jenkinsBranchWant(); e.Kind, e.Ref = KindOther, "refs/heads/feature"; return e }(),
		},
		{
			name: "Jenkins: the primary branch is the default branch",
			env:  with(jenkinsBranch("trunk"), "BRANCH_IS_PRIMARY", "true"),
			want: func() Event { e := jenkinsBranchWant(); e.Ref, e.DefaultBranch = "refs/heads/trunk", "trunk"; return e }(),
		},
		{
			name: "Jenkins: MODELCI_DEFAULT_BRANCH names the default branch",
			env:  with(jenkinsBranch("develop"), "MODELCI_DEFAULT_BRANCH", "develop"),
			want: func() Event {
				e := jenkinsBranchWant()
				e.Ref, e.DefaultBranch = "refs/heads/develop", "develop"
				return e
			}(),
		},
		{
			name: "Jenkins plain job: GIT_BRANCH origin/main, commit from git",
			env:  with(jenkinsBranch(""), "BRANCH_NAME", "", "GIT_BRANCH", "origin/main", "GIT_COMMIT", ""),
			git:  fakeGit(mainSHA, nil, "", ""),
			want: jenkinsBranchWant(),
		},
		{
			name: "Jenkins tag build",
			env:  with(jenkinsBranch("v1.0.0"), "TAG_NAME", "v1.0.0"),
			want: func() Event {
				e := jenkinsBranchWant()
				e.Name, e.Kind, e.Ref = "tag", KindOther, "refs/tags/v1.0.0"
				return e
			}(),
		},
		{
			name: "generic CI with flags: a pull request on GitHub",
			env:  map[string]string{"CI": "true"}, git: fakeGit(headSHA, nil, "", ""),
			ov: Overrides{Event: "pr", PRNumber: "5", Repository: "acme/house-prices", BaseRef: "main"},
			want: Event{Platform: Generic, Name: "flags", Kind: KindPullRequest, Owner: "acme", Repo: "house-prices", SHA: headSHA,
				DefaultBranch: "main", Number: 5, BaseRef: "main", BaseRepo: "acme/house-prices", InPullRequest: true, Forge: ForgeGitHub, baseVerbatim: true},
		},
		{
			name: "generic CI with MODELCI_* variables, flags winning",
			env:  map[string]string{"MODELCI_EVENT": "push", "MODELCI_PR_NUMBER": "9", "MODELCI_REPOSITORY": "acme/other", "MODELCI_BASE_REF": "develop", "GITHUB_API_URL": "https://ghe.example.com/api/v3"},
			ov:   Overrides{Event: "pr", Repository: "acme/house-prices"},
			want: Event{Platform: Generic, Name: "flags", Kind: KindPullRequest, Owner: "acme", Repo: "house-prices", DefaultBranch: "main",
				Number: 9, BaseRef: "develop", BaseRepo: "acme/house-prices", InPullRequest: true, Forge: ForgeGitHub, APIURL: "https://ghe.example.com/api/v3", baseVerbatim: true},
		},
		{
			name: "generic CI: --pr-number alone makes a pull request",
			env:  map[string]string{}, ov: Overrides{PRNumber: "3"},
			want: Event{Platform: Generic, Name: "flags", Kind: KindPullRequest, DefaultBranch: "main", Number: 3, InPullRequest: true},
		},
		{
			name: "generic CI: --event push",
			env:  map[string]string{}, ov: Overrides{Event: "push"},
			want: Event{Platform: Generic, Name: "flags", Kind: KindPushDefault, DefaultBranch: "main"},
		},
		{
			name: "flags override detection: a GitLab branch pipeline compared as a PR with --base-ref",
			env:  gitlabBranch("feature"), ov: Overrides{Event: "pr", BaseRef: "release"},
			want: func() Event {
				e := gitlabBranchWant()
				e.Kind, e.Ref, e.BaseRef, e.InPullRequest, e.baseVerbatim = KindPullRequest, "refs/heads/feature", "release", true, true
				return e
			}(),
		},
		{
			name: "--base-ref replaces the detected base sha",
			env:  gitlabMR(), ov: Overrides{BaseRef: "origin/release"},
			want: func() Event {
				e := gitlabMRWant()
				e.BaseRef, e.BaseSHA, e.baseVerbatim = "origin/release", "", true
				return e
			}(),
		},
		{
			name: "no CI and no flags: a local run", env: map[string]string{},
			want: Event{Platform: Generic, Name: "local", Kind: KindLocal, DefaultBranch: "main"},
		},
		{
			name: "--event local", env: map[string]string{}, ov: Overrides{Event: "local"},
			want: Event{Platform: Generic, Name: "flags", Kind: KindLocal, DefaultBranch: "main"},
		},
		{
			name: "bad flags are all reported", env: map[string]string{},
			ov:      Overrides{Event: "merge", PRNumber: "x", Repository: "acme"},
			want:    Event{Platform: Generic, Name: "flags", DefaultBranch: "main"},
			wantErr: `--repo "acme": want owner/name; --pr-number "x": want a positive whole number; --event "merge": want pr, push, other or local`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev, err := Detect(context.Background(), proc.Env{Getenv: func(k string) string { return tc.env[k] }, Run: runGit(tc.git)}, tc.ov)
			if tc.wantErr != "" {
				if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			notes := ev.Notes
			got := *ev
			got.Notes = nil
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", tc.want) {
				t.Errorf("event\n got %+v\nwant %+v", got, tc.want)
			}
			for _, n := range tc.notes {
				if !strings.Contains(strings.Join(notes, "\n"), n) {
					t.Errorf("notes %q lack %q", notes, n)
				}
			}
			for _, n := range notes {
				for _, secret := range []string{"job-token-secret", "s3cret"} {
					if strings.Contains(n, secret) {
						t.Errorf("a note prints a secret: %q", n)
					}
				}
			}
		})
	}
}

func gitlabMRWant() Event {
	return Event{Platform: GitLab, Name: "merge_request_event", Kind: KindPullRequest, Owner: "acme/ml", Repo: "house-prices",
		SHA: headSHA, Ref: "refs/merge-requests/7/head", Actor: "alice", DefaultBranch: "main",
		Number: 7, BaseSHA: baseSHA, BaseRef: "main", HeadSHA: headSHA, HeadRef: "feature/better-model",
		BaseRepo: "acme/ml/house-prices", HeadRepo: "acme/ml/house-prices", InPullRequest: true,
		Forge: ForgeGitLab, APIURL: "https://gitlab.example.com/api/v4", ProjectID: "4711",
		WebURL: "https://gitlab.example.com/acme/ml/house-prices", PRURL: "https://gitlab.example.com/acme/ml/house-prices/-/merge_requests/7",
		ReportSHA: headSHA, ReportRef: "feature/better-model", Workspace: "/builds/acme/ml/house-prices",
		Registry: ContainerRegistry{Host: "registry.example.com", Image: "registry.example.com/acme/ml/house-prices"}}
}

func gitlabBranchWant() Event {
	return Event{Platform: GitLab, Name: "push", Kind: KindPushDefault, Owner: "acme/ml", Repo: "house-prices",
		SHA: mainSHA, Ref: "refs/heads/main", Actor: "alice", DefaultBranch: "main",
		APIURL: "https://gitlab.example.com/api/v4", ProjectID: "4711", WebURL: "https://gitlab.example.com/acme/ml/house-prices",
		Workspace: "/builds/acme/ml/house-prices", Registry: ContainerRegistry{Host: "registry.example.com", Image: "registry.example.com/acme/ml/house-prices"}}
}

func jenkinsPRWant() Event {
	return Event{Platform: Jenkins, Name: "change-request", Kind: KindPullRequest, Owner: "acme", Repo: "house-prices",
		SHA: mergeSHA, Actor: "alice", DefaultBranch: "main", Number: 42, BaseSHA: baseSHA, BaseRef: "main",
		HeadSHA: headSHA, HeadRef: "feature/better-model", BaseRepo: "acme/house-prices", InPullRequest: true,
		Forge: ForgeGitHub, APIURL: "https://api.github.com", WebURL: "https://github.com/acme/house-prices",
		PRURL: "https://github.com/acme/house-prices/pull/42", ReportSHA: headSHA, ReportRef: "feature/better-model",
		Workspace: "/var/jenkins/workspace/house-prices_PR-42"}
}

func jenkinsBranchWant() Event {
	return Event{Platform: Jenkins, Name: "branch", Kind: KindPushDefault, SHA: mainSHA, Ref: "refs/heads/main", DefaultBranch: "main",
		APIURL: "https://api.github.com", WebURL: "https://github.com/acme/house-prices", Workspace: "/var/jenkins/workspace/house-prices_main"}
}

// TestJenkinsMergeRealGit builds the commit graph Jenkins' Git plugin makes
// for a PR discovered with "merge with the target" — check out the PR head,
// merge the target into it as Jenkins <nobody@nowhere> — and checks the
// detection against real git output.
func TestJenkinsMergeRealGit(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	run := func(env []string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	alice := []string{"GIT_AUTHOR_NAME=Alice", "GIT_AUTHOR_EMAIL=alice@example.com", "GIT_COMMITTER_NAME=Alice", "GIT_COMMITTER_EMAIL=alice@example.com"}
	jenkins := []string{"GIT_AUTHOR_NAME=Jenkins", "GIT_AUTHOR_EMAIL=nobody@nowhere", "GIT_COMMITTER_NAME=Jenkins", "GIT_COMMITTER_EMAIL=nobody@nowhere"}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run(nil, "init", "-q", "-b", "main")
	write("a.txt", "1\n")
	run(alice, "add", ".")
	run(alice, "commit", "-q", "-m", "base")
	run(nil, "checkout", "-q", "-b", "feature")
	write("b.txt", "pr\n")
	run(alice, "add", ".")
	run(alice, "commit", "-q", "-m", "pr change")
	head := run(nil, "rev-parse", "HEAD")
	run(nil, "checkout", "-q", "main")
	write("c.txt", "main moved on\n")
	run(alice, "add", ".")
	run(alice, "commit", "-q", "-m", "main change")
	target := run(nil, "rev-parse", "HEAD")
	// Jenkins: check out the PR head (detached), merge the target into it.
	run(nil, "checkout", "-q", head)
	run(jenkins, "merge", "-q", "--no-edit", target)
	merge := run(nil, "rev-parse", "HEAD")
	git := func(ctx context.Context, args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		return cmd.Output()
	}
	env := with(jenkinsPR(), "GIT_COMMIT", merge)
	ev, err := Detect(context.Background(), proc.Env{Getenv: func(k string) string { return env[k] }, Run: runGit(git)}, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if ev.SHA != merge || ev.HeadSHA != head || ev.BaseSHA != target || ev.ReportSHA != head {
		t.Errorf("sha %s head %s base %s report %s; want merge %s, head %s, target %s", ev.SHA, ev.HeadSHA, ev.BaseSHA, ev.ReportSHA, merge, head, target)
	}
	// The same PR built at its head (the "head" discovery strategy).
	run(nil, "checkout", "-q", head)
	env = with(jenkinsPR(), "GIT_COMMIT", head)
	ev, err = Detect(context.Background(), proc.Env{Getenv: func(k string) string { return env[k] }, Run: runGit(git)}, Overrides{})
	if err != nil || ev.HeadSHA != head || ev.BaseSHA != "" {
		t.Errorf("head build: head %s base %s err %v", ev.HeadSHA, ev.BaseSHA, err)
	}
}

// TestPullRequestTargetStays: no flag or variable turns GitHub's
// pull_request_target into something modelci would run unasked.
func TestPullRequestTargetStays(t *testing.T) {
	t.Parallel()
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request_target", "GITHUB_REPOSITORY": "acme/house-prices",
		"GITHUB_EVENT_PATH": filepath.Join("..", "..", "testdata", "events", "pull_request_target.json"), "MODELCI_EVENT": "pr"}
	for _, ov := range []Overrides{{}, {Event: "push"}, {PRNumber: "1"}} {
		ev, err := Detect(context.Background(), proc.Env{Getenv: func(k string) string { return env[k] }, ReadFile: os.ReadFile}, ov)
		if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "pull_request_target") || ev.Kind != KindPullRequestTarget || ev.Number != 44 {
			t.Errorf("%+v: kind %s, number %d, err %v", ov, ev.Kind, ev.Number, err)
		}
	}
}

func TestDetectPlatform(t *testing.T) {
	t.Parallel()
	cases := []struct {
		env  map[string]string
		want Platform
	}{
		{map[string]string{"GITHUB_ACTIONS": "true"}, GitHub},
		{map[string]string{"GITHUB_EVENT_NAME": "push"}, GitHub},
		{map[string]string{"GITLAB_CI": "true"}, GitLab},
		{map[string]string{"GITLAB_CI": "false"}, Generic},
		{map[string]string{"JENKINS_URL": "https://j/"}, Jenkins},
		{map[string]string{"JENKINS_URL": "https://j/", "GITHUB_EVENT_NAME": "push"}, GitHub},
		{map[string]string{"CI": "true"}, Generic},
	}
	for _, tc := range cases {
		if got := DetectPlatform(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.env, got, tc.want)
		}
	}
}

func TestParseChangeURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		url                  string
		forge                Forge
		owner, repo, project string
	}{
		{"https://github.com/acme/house-prices/pull/42", ForgeGitHub, "acme", "house-prices", ""},
		{"https://ghe.example.com/acme/house/pull/7/", ForgeGitHub, "acme", "house", ""},
		{"https://gitlab.com/g/sub/p/-/merge_requests/3", ForgeGitLab, "g/sub", "p", "g/sub/p"},
		{"https://bitbucket.org/acme/house/pull-requests/3", "", "", "", ""},
		{"not a url", "", "", "", ""},
		{"", "", "", "", ""},
	}
	for _, tc := range cases {
		f, o, r, p := parseChangeURL(tc.url)
		if f != tc.forge || o != tc.owner || r != tc.repo || p != tc.project {
			t.Errorf("%q: %q %q %q %q", tc.url, f, o, r, p)
		}
	}
}

func TestBaseSpec(t *testing.T) {
	t.Parallel()
	cases := []struct {
		e    Event
		want string
	}{
		{Event{BaseSHA: baseSHA, BaseRef: "main"}, "git:" + baseSHA},
		{Event{BaseRef: "main"}, "git:origin/main"},
		{Event{BaseRef: "origin/main"}, "git:origin/main"},
		{Event{BaseRef: "release", baseVerbatim: true}, "git:release"},
		{Event{}, ""},
	}
	for _, tc := range cases {
		if got := tc.e.BaseSpec(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.e, got, tc.want)
		}
	}
}

// TestDetectGitHub reads recorded payloads through Options.ReadFile.
func TestDetectGitHub(t *testing.T) {
	t.Parallel()
	events := filepath.Join("..", "..", "testdata", "events")
	base := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/house-prices", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_WORKSPACE": "/github/workspace"}
	cases := []struct {
		name, event, file string
		readErr           error
		kind              Kind
		fork, readOnly    bool
		inPR, forkRepo    bool
		wantErr           string
	}{
		{name: "push to main", event: "push", file: "push_main.json", kind: KindPushDefault},
		{name: "push to a branch", event: "push", file: "push_branch.json", kind: KindOther},
		{name: "pull request from a fork", event: "pull_request", file: "pull_request_fork.json", kind: KindPullRequest, fork: true, readOnly: true, inPR: true},
		{name: "pull request, payload unreadable", event: "pull_request", file: "pull_request_opened.json", readErr: os.ErrPermission, kind: KindPullRequest, inPR: true, wantErr: "read the event payload"},
		{name: "pull_request_review counts as a PR for image pushes", event: "pull_request_review", file: "pull_request_opened.json", kind: KindOther, inPR: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := with(base, "GITHUB_EVENT_NAME", tc.event, "GITHUB_EVENT_PATH", filepath.Join(events, tc.file))
			read := os.ReadFile
			if tc.readErr != nil {
				read = func(string) ([]byte, error) { return nil, tc.readErr }
			}
			ev, err := Detect(context.Background(), proc.Env{Getenv: func(k string) string { return env[k] }, ReadFile: read}, Overrides{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if ev.Platform != GitHub || ev.Kind != tc.kind || ev.Fork != tc.fork || ev.ReadOnly != tc.readOnly || ev.InPullRequest != tc.inPR || ev.ForkRepository != tc.forkRepo {
				t.Errorf("event %+v", ev)
			}
			if ev.Forge != ForgeGitHub || ev.APIURL != "https://api.github.com" || ev.WebURL != "https://github.com/acme/house-prices" || ev.Workspace != "/github/workspace" || ev.ReportSHA != "" {
				t.Errorf("forge %s, API %s, web %s, workspace %s, report sha %q", ev.Forge, ev.APIURL, ev.WebURL, ev.Workspace, ev.ReportSHA)
			}
		})
	}
}
