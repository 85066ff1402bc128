package image

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDetectCIAndDecidePush(t *testing.T) {
	t.Parallel()
	event := func(payload string) func(string) ([]byte, error) {
		return func(string) ([]byte, error) { return []byte(payload), nil }
	}
	pushMain := `{"repository":{"default_branch":"main","fork":false,"full_name":"acme/repo"}}`
	prSame := `{"repository":{"default_branch":"main","full_name":"acme/repo"},"pull_request":{"head":{"repo":{"full_name":"acme/repo"}}}}`
	prFork := `{"repository":{"default_branch":"main","full_name":"acme/repo"},"pull_request":{"head":{"repo":{"full_name":"mallory/repo","fork":true}}}}`
	forkPush := `{"repository":{"default_branch":"main","fork":true,"full_name":"mallory/repo"}}`
	gh := func(extra map[string]string) map[string]string {
		m := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_SHA": "abc", "GITHUB_REF": "refs/heads/main", "GITHUB_EVENT_PATH": "/ev.json", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/repo"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name    string
		env     map[string]string
		payload string
		mode    string
		push    bool
		reason  string
		tags    []string
	}{
		{"github push to main, auto", gh(nil), pushMain, "auto", true, "", []string{"abc", "latest"}},
		{"github push to a branch, auto", gh(map[string]string{"GITHUB_REF": "refs/heads/feature"}), pushMain, "auto", false, "not the default branch", []string{"abc", "latest"}},
		{"github push to a branch, true", gh(map[string]string{"GITHUB_REF": "refs/heads/feature"}), pushMain, "true", true, "", []string{"abc", "latest"}},
		{"github release tag", gh(map[string]string{"GITHUB_REF": "refs/tags/v1.4.2"}), pushMain, "", true, "", []string{"abc", "latest", "1.4.2", "1.4", "1"}},
		{"github pre-release tag", gh(map[string]string{"GITHUB_REF": "refs/tags/v2.0.0-rc.1"}), pushMain, "auto", true, "", []string{"abc", "2.0.0-rc.1"}},
		{"github pull request, true", gh(map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/3/merge"}), prSame, "true", false, "pull request", []string{"abc", "latest"}},
		{"github fork pull request", gh(map[string]string{"GITHUB_EVENT_NAME": "pull_request_target"}), prFork, "true", false, "fork", []string{"abc", "latest"}},
		{"github push in a fork", gh(nil), forkPush, "true", false, "fork", []string{"abc", "latest"}},
		{"github push, false", gh(nil), pushMain, "false", false, "push is false", []string{"abc", "latest"}},
		{"github unknown default branch", gh(nil), `not json`, "auto", false, "default branch is not known", []string{"abc", "latest"}},
		{"gitlab default branch", map[string]string{"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_SHA": "def", "CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main"}, "", "auto", true, "", []string{"def", "latest"}},
		{"gitlab merge request", map[string]string{"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "4", "CI_COMMIT_SHA": "def"}, "", "true", false, "pull request", []string{"def", "latest"}},
		{"gitlab fork merge request", map[string]string{"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "4", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "9", "CI_PROJECT_ID": "1"}, "", "true", false, "fork", []string{"latest"}},
		{"gitlab tag", map[string]string{"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_SHA": "def", "CI_COMMIT_TAG": "v0.3.0", "CI_DEFAULT_BRANCH": "main"}, "", "auto", true, "", []string{"def", "latest", "0.3.0", "0.3"}},
		{"gitlab fork merge request, pipeline in the fork", map[string]string{"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "4", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "9", "CI_PROJECT_ID": "9", "CI_MERGE_REQUEST_PROJECT_ID": "1", "CI_COMMIT_SHA": "def"}, "", "true", false, "fork", []string{"def", "latest"}},
		{"jenkins build of main", map[string]string{"JENKINS_URL": "https://j/", "BRANCH_NAME": "main", "GIT_COMMIT": "fed"}, "", "auto", true, "", []string{"fed", "latest"}},
		{"jenkins build of another branch", map[string]string{"JENKINS_URL": "https://j/", "BRANCH_NAME": "feature", "GIT_COMMIT": "fed"}, "", "auto", false, "not the default branch", []string{"fed", "latest"}},
		{"jenkins pull request", map[string]string{"JENKINS_URL": "https://j/", "BRANCH_NAME": "PR-3", "CHANGE_ID": "3", "CHANGE_TARGET": "main", "GIT_COMMIT": "fed"}, "", "true", false, "pull request", []string{"fed", "latest"}},
		{"jenkins pull request from a fork", map[string]string{"JENKINS_URL": "https://j/", "CHANGE_ID": "3", "CHANGE_FORK": "mallory", "GIT_COMMIT": "fed"}, "", "true", false, "fork", []string{"fed", "latest"}},
		{"MODELCI_EVENT cannot make a merge request pushable", map[string]string{"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "4", "MODELCI_EVENT": "push", "CI_COMMIT_SHA": "def"}, "", "true", false, "pull request", []string{"def", "latest"}},
		{"local, auto", map[string]string{}, "", "auto", false, "not a CI build", []string{"latest"}},
		{"local, true", map[string]string{}, "", "true", true, "", []string{"latest"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ci := DetectCI(envOf(tc.env), event(tc.payload))
			push, reason, err := DecidePush(tc.mode, ci)
			if err != nil {
				t.Fatal(err)
			}
			if push != tc.push || !strings.Contains(reason, tc.reason) {
				t.Errorf("DecidePush = %v, %q; want %v, %q (ci %+v)", push, reason, tc.push, tc.reason, ci)
			}
			if got := DefaultTags(ci); !slices.Equal(got, tc.tags) {
				t.Errorf("DefaultTags = %q, want %q", got, tc.tags)
			}
		})
	}
	if _, _, err := DecidePush("sometimes", CIInfo{}); err == nil {
		t.Error("DecidePush accepted an unknown mode")
	}
}

func TestSemverTags(t *testing.T) {
	t.Parallel()
	cases := []struct {
		tag  string
		want []string
		ver  string
	}{
		{"v1.2.3", []string{"1.2.3", "1.2", "1"}, "1.2.3"},
		{"1.2.3", []string{"1.2.3", "1.2", "1"}, "1.2.3"},
		{"v0.4.1", []string{"0.4.1", "0.4"}, "0.4.1"},
		{"v1.0.0-beta.2", []string{"1.0.0-beta.2"}, "1.0.0-beta.2"},
		{"v1.2.3+build.5", []string{"1.2.3_build.5", "1.2.3", "1.2", "1"}, "1.2.3+build.5"},
		{"release-7", nil, ""},
		{"v1.2", nil, ""},
		{"v01.2.3", nil, ""},
		{"", nil, ""},
	}
	for _, tc := range cases {
		if got := SemverTags(tc.tag); !slices.Equal(got, tc.want) {
			t.Errorf("SemverTags(%q) = %q, want %q", tc.tag, got, tc.want)
		}
		if got := SemverVersion(tc.tag); got != tc.ver {
			t.Errorf("SemverVersion(%q) = %q, want %q", tc.tag, got, tc.ver)
		}
		for _, tag := range SemverTags(tc.tag) {
			if !ValidTag(tag) {
				t.Errorf("SemverTags(%q) gives the invalid tag %q", tc.tag, tag)
			}
		}
	}
}

func TestCreatedTime(t *testing.T) {
	t.Parallel()
	git := func(out string, err error) Runner {
		return func(_ context.Context, c Command) ([]byte, error) {
			if c.Name != "git" || strings.Join(c.Args, " ") != "log -1 --format=%ct" {
				return nil, errors.New("unexpected command")
			}
			return []byte(out), err
		}
	}
	cases := []struct {
		name   string
		env    map[string]string
		run    Runner
		want   time.Time
		source string
		err    string
	}{
		{"SOURCE_DATE_EPOCH wins", map[string]string{"SOURCE_DATE_EPOCH": "1700000000"}, git("1600000000\n", nil), time.Unix(1700000000, 0), "SOURCE_DATE_EPOCH", ""},
		{"commit time", nil, git("1600000000\n", nil), time.Unix(1600000000, 0), "commit time", ""},
		{"no git: epoch 0 with a note", nil, git("", errors.New("not a git repository")), time.Unix(0, 0), "no SOURCE_DATE_EPOCH and no git commit", ""},
		{"bad SOURCE_DATE_EPOCH", map[string]string{"SOURCE_DATE_EPOCH": "yesterday"}, git("1", nil), time.Time{}, "", "SOURCE_DATE_EPOCH"},
		{"negative SOURCE_DATE_EPOCH", map[string]string{"SOURCE_DATE_EPOCH": "-5"}, git("1", nil), time.Time{}, "", "non-negative"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, source, err := CreatedTime(context.Background(), envOf(tc.env), tc.run, os.TempDir())
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tc.want) || !strings.Contains(source, tc.source) {
				t.Errorf("CreatedTime = %s (%s), want %s (%s)", got, source, tc.want, tc.source)
			}
		})
	}
}
