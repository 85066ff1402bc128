package image

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelci/modelci/internal/proc"
)

// TestDetectCI: the platform's word on pull requests and forks blocks a
// push, whatever MODELCI_* says, and the commit and a release tag give
// the default tags.
func TestDetectCI(t *testing.T) {
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
		// blocked is a part of PushBlocked's reason; "" means not blocked.
		blocked string
		tags    []string
	}{
		{"github push to main", gh(nil), pushMain, "", []string{"abc", "latest"}},
		{"github push to a branch", gh(map[string]string{"GITHUB_REF": "refs/heads/feature"}), pushMain, "", []string{"abc", "latest"}},
		{"github release tag", gh(map[string]string{"GITHUB_REF": "refs/tags/v1.4.2"}), pushMain, "", []string{"abc", "latest", "1.4.2", "1.4", "1"}},
		{"github pre-release tag", gh(map[string]string{"GITHUB_REF": "refs/tags/v2.0.0-rc.1"}), pushMain, "", []string{"abc", "2.0.0-rc.1"}},
		{"github pull request", gh(map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/3/merge"}), prSame, "pull request", []string{"abc", "latest"}},
		{"github fork pull request", gh(map[string]string{"GITHUB_EVENT_NAME": "pull_request_target"}), prFork, "fork", []string{"abc", "latest"}},
		{"github push in a fork", gh(nil), forkPush, "fork", []string{"abc", "latest"}},
		{"github push, unreadable payload", gh(nil), `not json`, "", []string{"abc", "latest"}},
		{"gitlab default branch", map[string]string{"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_SHA": "def", "CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main"}, "", "", []string{"def", "latest"}},
		{"gitlab merge request", map[string]string{"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "4", "CI_COMMIT_SHA": "def"}, "", "pull request", []string{"def", "latest"}},
		{"gitlab fork merge request", map[string]string{"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "4", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "9", "CI_PROJECT_ID": "1"}, "", "fork", []string{"latest"}},
		{"gitlab tag", map[string]string{"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_SHA": "def", "CI_COMMIT_TAG": "v0.3.0", "CI_DEFAULT_BRANCH": "main"}, "", "", []string{"def", "latest", "0.3.0", "0.3"}},
		{"gitlab fork merge request, pipeline in the fork", map[string]string{"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "4", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "9", "CI_PROJECT_ID": "9", "CI_MERGE_REQUEST_PROJECT_ID": "1", "CI_COMMIT_SHA": "def"}, "", "fork", []string{"def", "latest"}},
		{"jenkins build of main", map[string]string{"JENKINS_URL": "https://j/", "BRANCH_NAME": "main", "GIT_COMMIT": "fed"}, "", "", []string{"fed", "latest"}},
		{"jenkins build of another branch", map[string]string{"JENKINS_URL": "https://j/", "BRANCH_NAME": "feature", "GIT_COMMIT": "fed"}, "", "", []string{"fed", "latest"}},
		{"jenkins pull request", map[string]string{"JENKINS_URL": "https://j/", "BRANCH_NAME": "PR-3", "CHANGE_ID": "3", "CHANGE_TARGET": "main", "GIT_COMMIT": "fed"}, "", "pull request", []string{"fed", "latest"}},
		{"jenkins pull request from a fork", map[string]string{"JENKINS_URL": "https://j/", "CHANGE_ID": "3", "CHANGE_FORK": "mallory", "GIT_COMMIT": "fed"}, "", "fork", []string{"fed", "latest"}},
		{"MODELCI_EVENT cannot make a merge request pushable", map[string]string{"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "4", "MODELCI_EVENT": "push", "CI_COMMIT_SHA": "def"}, "", "pull request", []string{"def", "latest"}},
		{"local", map[string]string{}, "", "", []string{"latest"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ci := DetectCI(envOf(tc.env), event(tc.payload))
			reason := ci.PushBlocked()
			if (reason == "") != (tc.blocked == "") || !strings.Contains(reason, tc.blocked) {
				t.Errorf("PushBlocked = %q, want %q (ci %+v)", reason, tc.blocked, ci)
			}
			if got := DefaultTags(ci); !slices.Equal(got, tc.tags) {
				t.Errorf("DefaultTags = %q, want %q", got, tc.tags)
			}
		})
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
	git := func(out string, err error) proc.Runner {
		return func(_ context.Context, c proc.Command) ([]byte, error) {
			if c.Name != "git" || strings.Join(c.Args, " ") != "log -1 --format=%ct" {
				return nil, errors.New("unexpected command")
			}
			return []byte(out), err
		}
	}
	cases := []struct {
		name   string
		env    map[string]string
		run    proc.Runner
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
