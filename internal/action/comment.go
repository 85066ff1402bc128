package action

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/modelci/modelci/internal/ci"
	"github.com/modelci/modelci/internal/github"
	"github.com/modelci/modelci/internal/gitlab"
	"github.com/modelci/modelci/internal/sticky"
)

// Commenter writes the report as the sticky comment of a pull request (a
// GitHub issue comment) or merge request (a GitLab note).
type Commenter interface {
	// Target names the pull or merge request, e.g. "acme/house#42".
	Target() string
	// Upsert creates, edits or leaves the report comment of model as mode
	// says. A failure the platform can explain is a *CommentError.
	Upsert(ctx context.Context, model, body string, mode sticky.Mode) (*CommentResult, error)
}

// CommentResult is the comment after Upsert.
type CommentResult struct {
	Outcome sticky.Outcome
	// ID and URL identify the comment (zero when skipped).
	ID  int64
	URL string
	// Truncated says the body was cut to fit the platform's limit.
	Truncated bool
	// Reason explains a skip.
	Reason string
	// Author is the account the comment was written as.
	Author string
}

// CommentError is a failure with advice: which permission or token is
// missing and where to get it.
type CommentError struct {
	// Title heads the annotation (GitHub Actions).
	Title string
	// Advice is the warning; Note the line for the report's notes.
	Advice, Note string
	Err          error
}

func (e *CommentError) Error() string { return e.Err.Error() }

// Unwrap returns the client's error.
func (e *CommentError) Unwrap() error { return e.Err }

// commentStage names the stage by where the comment goes.
func (r *runner) commentStage() string {
	if r.ev.Forge == ci.ForgeGitLab {
		return "Merge request note"
	}
	return "Pull request comment"
}

// what is "PR comment" or "MR note", for the log.
func (r *runner) what() string {
	if r.ev.Forge == ci.ForgeGitLab {
		return "MR note"
	}
	return "PR comment"
}

// comment upserts the PR comment or MR note. Failing to comment never
// fails the run: the report is in the job summary or log either way.
func (r *runner) comment(ctx context.Context) {
	ev, in := r.ev, r.in
	skip := func(reason string) {
		r.out.CommentSkipped = reason
		r.log.Infof("no %s: %s", r.what(), reason)
	}
	switch {
	case in.Comment == sticky.ModeNever:
		skip("comment: never")
		return
	case ev.ReadOnly:
		reason := fmt.Sprintf("%s, so GitHub gives this workflow a read-only token (%s)", ev.ReadOnlyReason, DocsForkToken)
		skip(reason)
		r.log.WarningTitled("modelci: no PR comment on a fork",
			"%s: modelci wrote the report to the job summary and did not comment. To comment on pull requests from forks, keep this workflow on pull_request (read-only, untrusted code) with the report uploaded as an artifact, and post it from a second workflow triggered by workflow_run, which runs in the base repository with a write token and never checks out the fork's code: %s (background: %s)",
			reason, DocsWorkflowRun, DocsPwnRequests)
		r.notes = append(r.notes, fmt.Sprintf("No PR comment: %s. See the workflow_run pattern: %s", reason, DocsWorkflowRun))
		return
	}
	c, err := r.commenter()
	if err != nil {
		r.out.CommentErr = err
		r.log.Warningf("no %s: %v", r.what(), err)
		return
	}
	if c == nil {
		return
	}
	res, err := c.Upsert(ctx, r.cfg.Name, r.out.Diff.Markdown, in.Comment)
	if err != nil {
		r.out.CommentErr = err
		var ce *CommentError
		if errors.As(err, &ce) {
			r.log.WarningTitled(ce.Title, "%s", ce.Advice)
			r.notes = append(r.notes, ce.Note)
			return
		}
		r.log.Warningf("could not write the %s on %s: %v. The report is in %s.", r.what(), c.Target(), err, r.reportWhere())
		r.notes = append(r.notes, fmt.Sprintf("No %s: the API call failed; see the log.", r.what()))
		return
	}
	r.out.Comment = res
	switch res.Outcome {
	case sticky.Skipped:
		r.log.Infof("%s skipped: %s", r.what(), res.Reason)
	default:
		r.log.Infof("%s %s: %s (as %s)", r.what(), res.Outcome, res.URL, res.Author)
	}
	if res.Truncated {
		r.log.Warningf("the report was longer than the %s limit and was cut there; %s has all of it", r.what(), r.reportWhere())
	}
}

// commenter builds the Commenter of the build's forge. A nil Commenter
// with a nil error means the comment was skipped, and said why.
func (r *runner) commenter() (Commenter, error) {
	ev, in := r.ev, r.in
	skip := func(reason string, warn bool, note string) (Commenter, error) {
		r.out.CommentSkipped = reason
		if warn {
			r.log.Warningf("no %s: %s", r.what(), reason)
		} else {
			r.log.Infof("no %s: %s", r.what(), reason)
		}
		if note != "" {
			r.notes = append(r.notes, note)
		}
		return nil, nil
	}
	switch ev.Forge {
	case ci.ForgeGitHub:
		switch {
		case ev.Owner == "" || ev.Repo == "":
			return skip("the GitHub repository is not known; pass --repo owner/name (or set MODELCI_REPOSITORY)", true, "")
		case ev.Number <= 0:
			return skip("the pull request number is not known; pass --pr-number (or set MODELCI_PR_NUMBER)", true, "")
		case in.GitHubToken == "" && r.platform == ci.GitHub:
			return skip("the github_token input is empty", true, "")
		case in.GitHubToken == "":
			return skip("no GitHub token: set GITHUB_TOKEN or "+EnvGitHubToken+" (in Jenkins, bind a credential with withCredentials)", true, "No PR comment: no GitHub token was given.")
		}
		client, err := github.NewClient(github.Options{
			Token:      in.GitHubToken,
			APIURL:     ev.APIURL,
			HTTPClient: r.env.HTTPClient,
			Clock:      r.env.Clock,
			Rand:       r.env.Rand,
			Logf:       r.log.Infof,
			UserAgent:  "modelci",
			Author:     in.GitHubAuthor,
		})
		if err != nil {
			return nil, err
		}
		return &githubCommenter{c: client, owner: ev.Owner, repo: ev.Repo, number: ev.Number, platform: r.platform, where: r.reportWhere()}, nil
	case ci.ForgeGitLab:
		job := r.getenv(EnvJobToken)
		if in.GitLabToken == "" || in.GitLabToken == job {
			reason := EnvGitLabToken + " is not set"
			if in.GitLabToken != "" {
				reason = EnvGitLabToken + " holds the job's CI_JOB_TOKEN"
			}
			advice := fmt.Sprintf("%s, and a CI/CD job token (CI_JOB_TOKEN) cannot write merge request notes: GitLab accepts job tokens on a few endpoints only, and the notes API is not one of them (%s). Create a project access token with the api scope and the Reporter role or higher (%s), and add it as a masked CI/CD variable named %s (%s). The report is in %s.",
				reason, DocsGitLabJobToken, DocsGitLabProjectToken, EnvGitLabToken, DocsGitLabMaskedVar, r.reportWhere())
			if ev.Fork {
				advice += fmt.Sprintf(" This merge request comes from a fork: its pipelines run in the fork, without the parent project's CI/CD variables (%s).", DocsGitLabForkMR)
			}
			return skip(advice, true, fmt.Sprintf("No MR note: a project access token is needed in %s (CI_JOB_TOKEN cannot write notes).", EnvGitLabToken))
		}
		if ev.ProjectID == "" || ev.Number <= 0 {
			return skip("the GitLab project or merge request IID is not known", true, "")
		}
		client, err := gitlab.NewClient(gitlab.Options{
			Token:      in.GitLabToken,
			TokenKind:  gitlab.PrivateToken,
			APIURL:     ev.APIURL,
			HTTPClient: r.env.HTTPClient,
			Clock:      r.env.Clock,
			Rand:       r.env.Rand,
			Logf:       r.log.Infof,
			UserAgent:  "modelci",
		})
		if err != nil {
			return nil, err
		}
		return &gitlabCommenter{c: client, project: ev.ProjectID, iid: ev.Number, prURL: ev.PRURL, where: r.reportWhere()}, nil
	}
	return skip("the pull request's host is not known; for a GitHub pull request pass --repo owner/name and --pr-number", true, "")
}

// githubCommenter is the sticky issue comment of a GitHub pull request.
type githubCommenter struct {
	c           *github.Client
	owner, repo string
	number      int
	platform    ci.Platform
	where       string
}

func (g *githubCommenter) Target() string {
	return g.owner + "/" + g.repo + "#" + strconv.Itoa(g.number)
}

func (g *githubCommenter) Upsert(ctx context.Context, model, body string, mode sticky.Mode) (*CommentResult, error) {
	res, err := g.c.Upsert(ctx, g.owner, g.repo, g.number, model, body, mode)
	if err != nil {
		var pe *github.PermissionError
		if !errors.As(err, &pe) {
			return nil, err
		}
		if g.platform == ci.GitHub {
			return nil, &CommentError{
				Title: "modelci: missing permission " + pe.Permission,
				Advice: fmt.Sprintf("could not %s: the workflow's token lacks `%s`. Add `permissions: { %s }` to the job (%s). The report is in the job summary. (%s)",
					pe.Op, pe.Permission, pe.Permission, DocsPermissions, pe.GitHubSaid()),
				Note: fmt.Sprintf("No PR comment: the token lacks `%s`; add it to the job's `permissions`.", pe.Permission),
				Err:  err,
			}
		}
		return nil, &CommentError{
			Title: "modelci: the GitHub token lacks " + pe.Permission,
			Advice: fmt.Sprintf("could not %s on %s: the GitHub token (GITHUB_TOKEN or %s) may not write pull request comments. A fine-grained personal access token needs Pull requests: Read and write on the repository, a classic one the repo scope (public_repo for a public repository), a GitHub App Pull requests: write (%s). The report is in %s. (%s)",
				pe.Op, g.Target(), EnvGitHubToken, DocsGitHubCommentToken, g.where, pe.GitHubSaid()),
			Note: "No PR comment: the GitHub token may not write pull request comments; see the log.",
			Err:  err,
		}
	}
	return &CommentResult{Outcome: res.Outcome, ID: res.CommentID, URL: res.URL, Truncated: res.Truncated, Reason: res.Reason, Author: res.Author.Login}, nil
}

// gitlabCommenter is the sticky note of a GitLab merge request.
type gitlabCommenter struct {
	c       *gitlab.Client
	project string
	iid     int
	prURL   string
	where   string
}

func (g *gitlabCommenter) Target() string {
	return "merge request !" + strconv.Itoa(g.iid) + " of project " + g.project
}

func (g *gitlabCommenter) Upsert(ctx context.Context, model, body string, mode sticky.Mode) (*CommentResult, error) {
	res, err := g.c.Upsert(ctx, g.project, g.iid, model, body, mode)
	if err != nil {
		var pe *gitlab.PermissionError
		if !errors.As(err, &pe) {
			return nil, err
		}
		return nil, &CommentError{
			Title: "modelci: GitLab refused " + EnvGitLabToken,
			Advice: fmt.Sprintf("could not %s on %s: GitLab refused %s (%s). The token needs the api scope and the Reporter role or higher in the project, and must not be expired or revoked: create a project access token (%s) and store it as a masked CI/CD variable %s (%s). The report is in %s.",
				pe.Op, g.Target(), EnvGitLabToken, pe.GitLabSaid(), DocsGitLabProjectToken, EnvGitLabToken, DocsGitLabMaskedVar, g.where),
			Note: "No MR note: GitLab refused " + EnvGitLabToken + "; see the log.",
			Err:  err,
		}
	}
	out := &CommentResult{Outcome: res.Outcome, ID: res.NoteID, Reason: res.Reason, Author: res.Author.Username}
	if res.NoteID != 0 {
		out.URL = "note " + strconv.FormatInt(res.NoteID, 10)
		if g.prURL != "" {
			out.URL = g.prURL + "#note_" + strconv.FormatInt(res.NoteID, 10)
		}
	}
	return out, nil
}
