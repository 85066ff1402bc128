package ci

import (
	"strconv"
	"strings"
)

// fromGitLab reads GitLab's predefined variables:
// https://docs.gitlab.com/ci/variables/predefined_variables/.
func fromGitLab(getenv func(string) string) *Event {
	e := &Event{
		Platform:      GitLab,
		Name:          getenv("CI_PIPELINE_SOURCE"),
		SHA:           getenv("CI_COMMIT_SHA"),
		Actor:         getenv("GITLAB_USER_LOGIN"),
		DefaultBranch: getenv("CI_DEFAULT_BRANCH"),
		Owner:         getenv("CI_PROJECT_NAMESPACE"),
		Repo:          getenv("CI_PROJECT_NAME"),
		WebURL:        getenv("CI_PROJECT_URL"),
		Workspace:     getenv("CI_PROJECT_DIR"),
		ProjectID:     getenv("CI_PROJECT_ID"),
		Registry:      ContainerRegistry{Host: getenv("CI_REGISTRY"), Image: getenv("CI_REGISTRY_IMAGE")},
	}
	e.APIURL = strings.TrimRight(getenv("CI_API_V4_URL"), "/")
	if e.APIURL == "" {
		if s := strings.TrimRight(getenv("CI_SERVER_URL"), "/"); s != "" {
			e.APIURL = s + "/api/v4"
		}
	}
	switch {
	case getenv("CI_COMMIT_TAG") != "":
		e.Ref = "refs/tags/" + getenv("CI_COMMIT_TAG")
	case getenv("CI_COMMIT_BRANCH") != "":
		e.Ref = "refs/heads/" + getenv("CI_COMMIT_BRANCH")
	case getenv("CI_MERGE_REQUEST_REF_PATH") != "":
		e.Ref = getenv("CI_MERGE_REQUEST_REF_PATH")
	}
	switch {
	case getenv("CI_MERGE_REQUEST_IID") != "":
		// A merge request pipeline: CI_COMMIT_SHA is the source branch's
		// head, or in a merged results pipeline the merge commit, with the
		// head in CI_MERGE_REQUEST_SOURCE_BRANCH_SHA.
		e.Kind, e.InPullRequest, e.Forge = KindPullRequest, true, ForgeGitLab
		e.Number, _ = strconv.Atoi(getenv("CI_MERGE_REQUEST_IID"))
		e.BaseRef = getenv("CI_MERGE_REQUEST_TARGET_BRANCH_NAME")
		e.BaseSHA = getenv("CI_MERGE_REQUEST_DIFF_BASE_SHA")
		e.HeadRef = getenv("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")
		e.HeadSHA = firstOf(getenv("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA"), e.SHA)
		e.BaseRepo = getenv("CI_MERGE_REQUEST_PROJECT_PATH")
		e.HeadRepo = getenv("CI_MERGE_REQUEST_SOURCE_PROJECT_PATH")
		// Notes go to the project that holds the merge request. In a
		// pipeline of a fork's merge request that runs in the fork,
		// CI_PROJECT_ID is the fork.
		target := firstOf(getenv("CI_MERGE_REQUEST_PROJECT_ID"), e.ProjectID)
		if src := getenv("CI_MERGE_REQUEST_SOURCE_PROJECT_ID"); src != "" && target != "" && src != target {
			e.Fork = true
		}
		e.ProjectID = target
		if u := getenv("CI_MERGE_REQUEST_PROJECT_URL"); u != "" {
			e.PRURL = u + "/-/merge_requests/" + strconv.Itoa(e.Number)
		}
		e.ReportSHA, e.ReportRef = e.HeadSHA, e.HeadRef
		if e.Number <= 0 {
			e.Notes = append(e.Notes, "CI_MERGE_REQUEST_IID "+strconv.Quote(getenv("CI_MERGE_REQUEST_IID"))+" is not a number")
		}
	case getenv("CI_EXTERNAL_PULL_REQUEST_IID") != "":
		// GitLab CI/CD for a GitHub repository: the PR lives on GitHub.
		e.Kind, e.InPullRequest, e.Forge = KindPullRequest, true, ForgeGitHub
		e.Number, _ = strconv.Atoi(getenv("CI_EXTERNAL_PULL_REQUEST_IID"))
		e.BaseRef = getenv("CI_EXTERNAL_PULL_REQUEST_TARGET_BRANCH_NAME")
		e.BaseSHA = getenv("CI_EXTERNAL_PULL_REQUEST_TARGET_BRANCH_SHA")
		e.HeadRef = getenv("CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_NAME")
		e.HeadSHA = firstOf(getenv("CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_SHA"), e.SHA)
		e.BaseRepo = getenv("CI_EXTERNAL_PULL_REQUEST_TARGET_REPOSITORY")
		e.HeadRepo = getenv("CI_EXTERNAL_PULL_REQUEST_SOURCE_REPOSITORY")
		e.Fork = e.HeadRepo != "" && e.BaseRepo != "" && !strings.EqualFold(e.HeadRepo, e.BaseRepo)
		// The GitHub repository comes from --repo; GitLab's own API is not
		// where this PR lives.
		e.Owner, e.Repo, e.APIURL = "", "", strings.TrimRight(getenv("GITHUB_API_URL"), "/")
		if o, r, ok := splitRepository(e.BaseRepo); ok {
			e.Owner, e.Repo = o, r
		}
		if e.APIURL == "" {
			e.APIURL = "https://api.github.com"
		}
		e.ReportSHA, e.ReportRef = e.HeadSHA, e.HeadRef
	case e.Name == "push" && e.DefaultBranch != "" && e.Branch() == e.DefaultBranch:
		e.Kind = KindPushDefault
	default:
		e.Kind = KindOther
	}
	return e
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
