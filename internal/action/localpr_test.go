package action

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelci/modelci/internal/ci"
	"github.com/modelci/modelci/internal/github/githubtest"
	"github.com/modelci/modelci/internal/proc"
	"github.com/modelci/modelci/internal/sticky"
)

// localPRVars reads the variables the README's "Simulating a pull request
// locally" tells a newcomer to export, in order.
func localPRVars(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "### Simulating a pull request locally\n")
	if !ok {
		t.Fatal(`README.md has no "### Simulating a pull request locally" section`)
	}
	if i := strings.Index(section, "\n#"); i >= 0 {
		section = section[:i]
	}
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^export ([A-Z_]+)=`).FindAllStringSubmatch(section, -1) {
		names = append(names, m[1])
	}
	return names
}

// copyDir copies the files of src (one level deep) into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestExampleEventParses: examples/github/pull_request-event.json is a
// pull_request event of a same-repository branch, so the simulated run may
// comment.
func TestExampleEventParses(t *testing.T) {
	t.Parallel()
	path := filepath.Join(repoRoot, "examples", "github", "pull_request-event.json")
	payload, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := ci.ParseGitHub(ci.GitHubContext{EventName: "pull_request", EventPath: path, Repository: "acme/house-prices", Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != ci.KindPullRequest || ev.Number != 1 || ev.BaseRef != "main" || ev.HeadRef != "my-branch" || ev.Fork || ev.ReadOnly || ev.DefaultBranch != "main" {
		t.Errorf("event = %+v", ev)
	}
}

// TestSimulatedPullRequest follows the README's "Simulating a pull request
// locally" with the example project and event file: the variables it
// exports, GITHUB_API_URL pointing at a fake GitHub on 127.0.0.1 without
// any /api/v3, and a personal token. The run trains, compares with main
// and leaves one sticky report comment on the example's pull request.
func TestSimulatedPullRequest(t *testing.T) {
	t.Parallel()
	srv := githubtest.New(githubtest.Options{})
	t.Cleanup(srv.Close)
	const token = "ghp_FAKE_local_simulation_0001"
	octocat := githubtest.Account{Login: "octocat", ID: 583231, Type: "User"}
	srv.AddToken(token, githubtest.Token{Account: octocat})
	srv.AddPullRequest("acme", "house-prices", 1)

	// The run writes dist/modelci into the project: work on a copy.
	ws := t.TempDir()
	copyDir(t, filepath.Join(repoRoot, "examples", "house-prices"), filepath.Join(ws, "examples", "house-prices"))
	event, err := filepath.Abs(filepath.Join(repoRoot, "examples", "github", "pull_request-event.json"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"GITHUB_EVENT_NAME":         "pull_request",
		"GITHUB_EVENT_PATH":         event,
		"GITHUB_REPOSITORY":         "acme/house-prices",
		"GITHUB_API_URL":            srv.URL(),
		"GITHUB_TOKEN":              token,
		"GITHUB_WORKSPACE":          ws,
		"GITHUB_SHA":                "8f4a3c2e1d0b9a8776655443322110ffeeddccbb",
		"MODELCI_WORKING_DIRECTORY": "examples/house-prices",
		"MODELCI_BASE_REF":          "main",
	}
	documented := localPRVars(t)
	var names []string
	for k := range env {
		names = append(names, k)
	}
	slices.Sort(names)
	sortedDoc := slices.Clone(documented)
	slices.Sort(sortedDoc)
	if !slices.Equal(names, sortedDoc) {
		t.Fatalf("the README exports %v; this test sets %v", documented, names)
	}

	differ := &fakeDiffer{gatesPassed: true}
	var stdout bytes.Buffer
	out, err := Run(context.Background(), proc.Env{
		Getenv:     func(k string) string { return env[k] },
		Stdout:     &stdout,
		HTTPClient: srv.Client(),
		Clock:      githubtest.NewClock(time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)),
		Rand:       func() float64 { return 0.5 },
	}, Options{}, Deps{Trainer: LocalTrainer{Workers: 1}, Comparer: differ, Shipper: &fakePublisher{}})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stdout.String())
	}
	if out.Event.Kind != ci.KindPullRequest || out.Event.Number != 1 {
		t.Errorf("event = %+v", out.Event)
	}
	if len(differ.calls) != 1 || differ.calls[0].Baseline.Raw != "git:main" {
		t.Fatalf("differ calls = %+v, want one with baseline git:main", differ.calls)
	}
	if out.CommentErr != nil || out.Comment == nil {
		t.Fatalf("comment: %+v, %v (skipped: %s)\n%s", out.Comment, out.CommentErr, out.CommentSkipped, stdout.String())
	}
	comments := srv.Comments("acme", "house-prices", 1)
	if len(comments) != 1 || comments[0].User.Login != "octocat" || !sticky.Carries(comments[0].Body, sticky.Marker("house-prices")) {
		t.Fatalf("comments = %+v", comments)
	}
	// GITHUB_API_URL is the root as given: /user, not /api/v3/user.
	var paths []string
	for _, r := range srv.Requests() {
		paths = append(paths, r.Method+" "+r.Path)
	}
	want := []string{"GET /user", "GET /repos/acme/house-prices/issues/1/comments", "POST /repos/acme/house-prices/issues/1/comments"}
	if !slices.Equal(paths, want) {
		t.Errorf("requests %v, want %v", paths, want)
	}
	// The token appears only in the ::add-mask:: command that hides it.
	for _, line := range strings.Split(stdout.String(), "\n") {
		if strings.Contains(line, token) && line != "::add-mask::"+token {
			t.Errorf("the token was printed: %q", line)
		}
	}
}
