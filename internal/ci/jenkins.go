package ci

import (
	"github.com/modelci/modelci/internal/revision"

	"context"
	"net/url"
	"strconv"
	"strings"
)

// Jenkins' merge of a pull request: the Git plugin (MergeWithGitSCMExtension,
// used by GitHub Branch Source's "merge with the target" discovery strategy)
// checks out the PR head and merges the target revision into it, as this
// committer. The merge commit exists only in the Jenkins workspace, and
// GIT_COMMIT names it.
const (
	jenkinsMergeCommitter = "Jenkins"
	jenkinsMergeEmail     = "nobody@nowhere"
)

// fromJenkins reads a Jenkins build: multibranch variables
// (https://www.jenkins.io/doc/book/pipeline/multibranch/#additional-environment-variables)
// and the Git plugin's GIT_COMMIT, GIT_BRANCH and GIT_URL.
func fromJenkins(ctx context.Context, getenv func(string) string, git gitFunc, ov Overrides) *Event {
	e := &Event{
		Platform:  Jenkins,
		SHA:       getenv("GIT_COMMIT"),
		Workspace: getenv("WORKSPACE"),
		WebURL:    webURL(getenv("GIT_URL")),
		Actor:     getenv("CHANGE_AUTHOR"),
	}
	e.APIURL = strings.TrimRight(getenv("GITHUB_API_URL"), "/")
	if e.APIURL == "" {
		e.APIURL = "https://api.github.com"
	}
	branch := getenv("BRANCH_NAME")
	if branch == "" {
		// A plain (not multibranch) job: the Git plugin's origin/<branch>.
		branch = strings.TrimPrefix(getenv("GIT_BRANCH"), "origin/")
	}
	e.DefaultBranch = ov.DefaultBranch
	switch {
	case e.DefaultBranch != "":
	case getenv("BRANCH_IS_PRIMARY") == "true" && getenv("CHANGE_ID") == "":
		e.DefaultBranch = branch
	default:
		e.DefaultBranch = "main"
	}
	if e.SHA == "" {
		e.SHA = gitHead(ctx, git)
	}
	if id := getenv("CHANGE_ID"); id != "" {
		e.Name = "change-request"
		e.Kind, e.InPullRequest = KindPullRequest, true
		e.PRURL = getenv("CHANGE_URL")
		e.BaseRef = getenv("CHANGE_TARGET")
		e.HeadRef = firstOf(getenv("CHANGE_BRANCH"), branch)
		e.Fork = getenv("CHANGE_FORK") != ""
		if n, err := strconv.Atoi(id); err == nil && n > 0 {
			e.Number = n
		} else {
			e.Notes = append(e.Notes, "CHANGE_ID "+strconv.Quote(id)+" is not a number")
		}
		e.Forge, e.Owner, e.Repo, e.ProjectID = parseChangeURL(e.PRURL)
		if e.Forge == ForgeGitLab {
			if u, err := url.Parse(e.PRURL); err == nil {
				e.APIURL = u.Scheme + "://" + u.Host + "/api/v4"
			}
			if s := strings.TrimRight(getenv("MODELCI_GITLAB_API_URL"), "/"); s != "" {
				e.APIURL = s
			}
		}
		if e.Owner != "" {
			e.BaseRepo = e.Owner + "/" + e.Repo
		}
		e.HeadSHA = e.SHA
		jenkinsMerge(ctx, git, e)
		e.ReportSHA, e.ReportRef = e.HeadSHA, e.HeadRef
		return e
	}
	if tag := getenv("TAG_NAME"); tag != "" {
		e.Name, e.Ref, e.Kind = "tag", "refs/tags/"+tag, KindOther
		return e
	}
	e.Name = "branch"
	if branch != "" {
		e.Ref = "refs/heads/" + branch
	}
	e.Kind = KindOther
	if branch != "" && branch == e.DefaultBranch {
		e.Kind = KindPushDefault
	}
	return e
}

// gitHead returns the commit checked out, when git can tell.
func gitHead(ctx context.Context, git gitFunc) string {
	if git == nil {
		return ""
	}
	out, err := git(ctx, "rev-parse", "HEAD")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// jenkinsMerge recognises Jenkins' local merge commit at HEAD: two parents,
// committed by Jenkins <nobody@nowhere>. Its first parent is the PR head,
// its second the target revision that was merged in; those become HeadSHA
// and BaseSHA. Any other HEAD (the PR head itself, or a merge commit the
// author pushed) is the PR head.
func jenkinsMerge(ctx context.Context, git gitFunc, e *Event) {
	if git == nil {
		e.Notes = append(e.Notes, "the PR head is GIT_COMMIT "+revision.Short(e.SHA)+" (git was not consulted)")
		return
	}
	out, err := git(ctx, "log", "-1", "--format=%H %P%n%cn%n%ce", "HEAD")
	if err != nil {
		e.Notes = append(e.Notes, "git log HEAD failed, so the PR head is GIT_COMMIT "+revision.Short(e.SHA)+": "+strings.TrimSpace(err.Error()))
		return
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 3 {
		return
	}
	shas := strings.Fields(lines[0])
	if len(shas) == 0 {
		return
	}
	head := shas[0]
	if e.SHA == "" {
		e.SHA = head
	}
	if len(shas) == 3 && strings.TrimSpace(lines[1]) == jenkinsMergeCommitter && strings.TrimSpace(lines[2]) == jenkinsMergeEmail {
		e.HeadSHA, e.BaseSHA = shas[1], shas[2]
		e.Notes = append(e.Notes, "HEAD "+revision.Short(head)+" is Jenkins' merge of "+e.BaseRef+" "+revision.Short(e.BaseSHA)+" into the PR head "+revision.Short(e.HeadSHA)+": the report names the PR head, the baseline is "+revision.Short(e.BaseSHA))
		return
	}
	e.HeadSHA = head
}

// parseChangeURL reads CHANGE_URL: https://github.com/owner/repo/pull/N
// (GitHub, GitHub Enterprise) or https://host/group/project/-/merge_requests/N
// (GitLab).
func parseChangeURL(raw string) (forge Forge, owner, repo, project string) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return "", "", "", ""
	}
	path := strings.Trim(u.Path, "/")
	if p, _, ok := strings.Cut(path, "/-/merge_requests/"); ok && p != "" {
		i := strings.LastIndex(p, "/")
		if i < 0 {
			return ForgeGitLab, "", p, p
		}
		return ForgeGitLab, p[:i], p[i+1:], p
	}
	parts := strings.Split(path, "/")
	if len(parts) == 4 && parts[2] == "pull" && parts[0] != "" && parts[1] != "" {
		return ForgeGitHub, parts[0], parts[1], ""
	}
	return "", "", "", ""
}
