package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	gogithub "github.com/google/go-github/v60/github"

	"github.com/modelci/modelci/internal/github/githubtest"
	"github.com/modelci/modelci/internal/sticky"
)

const (
	owner = "acme"
	repo  = "house"
	pr    = 7
	model = "house-prices"

	pat       = "ghp_personal_token_0001"
	actionsTk = "ghs_installation_token_0002"
	readOnly  = "ghs_readonly_token_0003"
)

var (
	octo     = githubtest.Account{Login: "octo-ci", ID: 101, Type: "User"}
	reviewer = githubtest.Account{Login: "reviewer", ID: 202, Type: "User"}
	start    = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

	listPath = fmt.Sprintf("/repos/%s/%s/issues/%d/comments", owner, repo, pr)
)

func editPath(id int64) string {
	return fmt.Sprintf("/repos/%s/%s/issues/comments/%d", owner, repo, id)
}

func report(text string) string {
	return Marker(model) + "\n### Model report: " + model + "\n\n" + text + "\n"
}

func otherReport(name, text string) string {
	return Marker(name) + "\n" + text + "\n"
}

// fixture is a fake GitHub with the tokens of the tests and a client.
type fixture struct {
	srv   *githubtest.Server
	clock *githubtest.Clock
}

func newFixture(t *testing.T, prefix string) *fixture {
	t.Helper()
	srv := githubtest.New(githubtest.Options{Prefix: prefix})
	t.Cleanup(srv.Close)
	srv.AddToken(pat, githubtest.Token{Account: octo})
	srv.AddToken(actionsTk, githubtest.Token{Account: githubtest.ActionsBot, Installation: true})
	srv.AddToken(readOnly, githubtest.Token{Account: githubtest.ActionsBot, Installation: true, ReadOnly: true})
	srv.AddPullRequest(owner, repo, pr)
	return &fixture{srv: srv, clock: githubtest.NewClock(start)}
}

func (f *fixture) client(t *testing.T, token string) *Client {
	t.Helper()
	c, err := NewClient(Options{
		Token:      token,
		APIURL:     f.srv.URL(),
		HTTPClient: f.srv.Client(),
		Clock:      f.clock,
		Rand:       func() float64 { return 0.5 },
		UserAgent:  "modelci-test",
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// counts summarises the recorded requests as "METHOD path" → count, with
// the listing path shortened to "list" and comment paths to "comment".
func counts(srv *githubtest.Server) map[string]int {
	out := map[string]int{}
	for _, r := range srv.Requests() {
		p := r.Path
		switch {
		case p == listPath:
			p = "list"
		case strings.Contains(p, "/issues/comments/"):
			p = "comment"
		}
		out[r.Method+" "+p]++
	}
	return out
}

func ownReports(srv *githubtest.Server, login, marker string) []githubtest.Comment {
	var out []githubtest.Comment
	for _, c := range srv.Comments(owner, repo, pr) {
		if c.User.Login == login && sticky.Carries(c.Body, marker) {
			out = append(out, c)
		}
	}
	return out
}

func TestUpsert(t *testing.T) {
	t.Parallel()
	marker := Marker(model)
	newBody := report("rmse 1.00 → 0.90")
	type check func(t *testing.T, f *fixture, res *Result, err error)
	cases := []struct {
		name  string
		token string
		mode  Mode
		body  string
		setup func(t *testing.T, f *fixture)
		// want are the exact request counts; total is checked too.
		want       map[string]int
		outcome    Outcome
		own        int // our report comments at the end
		all        int // all comments at the end
		sleeps     []time.Duration
		wantErr    func(error) bool
		extraCheck check
	}{
		{
			name: "create when there is none", token: pat, mode: ModeAuto, body: newBody,
			setup: func(t *testing.T, f *fixture) {
				f.srv.Seed(owner, repo, pr, reviewer, "LGTM")
			},
			want:    map[string]int{"GET /user": 1, "GET list": 1, "POST list": 1},
			outcome: Created, own: 1, all: 2,
		},
		{
			name: "edit ours, leave others alone", token: pat, mode: ModeAuto, body: newBody,
			setup: func(t *testing.T, f *fixture) {
				f.srv.Seed(owner, repo, pr, reviewer, "first")
				f.srv.Seed(owner, repo, pr, octo, report("rmse 1.00"))
				f.srv.Seed(owner, repo, pr, reviewer, "second")
			},
			want:    map[string]int{"GET /user": 1, "GET list": 1, "PATCH comment": 1},
			outcome: Updated, own: 1, all: 3,
		},
		{
			name: "unchanged body sends no write", token: pat, mode: ModeAuto, body: newBody,
			setup: func(t *testing.T, f *fixture) {
				// GitHub hands back CRLF line endings for bodies written in the browser.
				f.srv.Seed(owner, repo, pr, octo, strings.ReplaceAll(newBody, "\n", "\r\n"))
			},
			want:    map[string]int{"GET /user": 1, "GET list": 1},
			outcome: Unchanged, own: 1, all: 1,
		},
		{
			name: "all pages are read and the newest of ours is edited", token: pat, mode: ModeAuto, body: newBody,
			setup: func(t *testing.T, f *fixture) {
				for i := 0; i < 250; i++ {
					switch i {
					case 5:
						f.srv.Seed(owner, repo, pr, octo, report("old run"))
					case 230:
						f.srv.Seed(owner, repo, pr, octo, report("newer run"))
					default:
						f.srv.Seed(owner, repo, pr, reviewer, fmt.Sprintf("comment %d", i))
					}
				}
			},
			// 250 comments at 100 a page: 3 pages.
			want:    map[string]int{"GET /user": 1, "GET list": 3, "PATCH comment": 1},
			outcome: Updated, own: 2, all: 250,
			extraCheck: func(t *testing.T, f *fixture, res *Result, err error) {
				own := ownReports(f.srv, octo.Login, marker)
				if own[0].Body != report("old run") || own[1].Body != newBody {
					t.Errorf("edited the wrong comment: bodies %q, %q", own[0].Body, own[1].Body)
				}
				if res.CommentID != own[1].ID {
					t.Errorf("CommentID = %d, want %d", res.CommentID, own[1].ID)
				}
				for _, r := range f.srv.Requests() {
					if r.Method == http.MethodGet && r.Path == listPath && r.Query.Get("per_page") != "100" {
						t.Errorf("listing with per_page=%q, want 100", r.Query.Get("per_page"))
					}
				}
			},
		},
		{
			name: "someone else's comment with our marker is not ours", token: pat, mode: ModeAuto, body: newBody,
			setup: func(t *testing.T, f *fixture) {
				f.srv.Seed(owner, repo, pr, reviewer, report("copied by a human"))
			},
			want:    map[string]int{"GET /user": 1, "GET list": 1, "POST list": 1},
			outcome: Created, own: 1, all: 2,
			extraCheck: func(t *testing.T, f *fixture, res *Result, err error) {
				if c := f.srv.Comments(owner, repo, pr)[0]; c.Body != report("copied by a human") {
					t.Errorf("the reviewer's comment was changed to %q", c.Body)
				}
			},
		},
		{
			name: "another model's report is not ours", token: pat, mode: ModeAuto, body: newBody,
			setup: func(t *testing.T, f *fixture) {
				f.srv.Seed(owner, repo, pr, octo, otherReport("house-prices-v2", "other"))
				f.srv.Seed(owner, repo, pr, octo, otherReport("house", "other"))
			},
			want:    map[string]int{"GET /user": 1, "GET list": 1, "POST list": 1},
			outcome: Created, own: 1, all: 3,
		},
		{
			name: "another model's report whose data holds our marker is not ours", token: pat, mode: ModeAuto, body: newBody,
			setup: func(t *testing.T, f *fixture) {
				// A column named like our marker, as an older renderer
				// left it: raw, on a line of its own and inside a cell.
				f.srv.Seed(owner, repo, pr, octo, otherReport("churn", marker+"\n| `"+marker+"` | 0.5 |"))
			},
			want:    map[string]int{"GET /user": 1, "GET list": 1, "POST list": 1},
			outcome: Created, own: 1, all: 2,
			extraCheck: func(t *testing.T, f *fixture, res *Result, err error) {
				if c := f.srv.Comments(owner, repo, pr)[0]; !sticky.Carries(c.Body, Marker("churn")) {
					t.Errorf("churn's report was overwritten with %q", c.Body)
				}
			},
		},
		{
			name: "our marker below the first line is not ours", token: pat, mode: ModeAuto, body: newBody,
			setup: func(t *testing.T, f *fixture) {
				f.srv.Seed(owner, repo, pr, octo, "Quoting the bot:\n"+report("old"))
				f.srv.Seed(owner, repo, pr, octo, " "+report("old"))
			},
			want:    map[string]int{"GET /user": 1, "GET list": 1, "POST list": 1},
			outcome: Created, own: 1, all: 3,
		},
		{
			name: "our marker on a CRLF first line is ours", token: pat, mode: ModeAuto, body: newBody,
			setup: func(t *testing.T, f *fixture) {
				f.srv.Seed(owner, repo, pr, octo, strings.ReplaceAll(report("old"), "\n", "\r\n"))
			},
			want:    map[string]int{"GET /user": 1, "GET list": 1, "PATCH comment": 1},
			outcome: Updated, own: 1, all: 1,
		},
		{
			name: "GITHUB_TOKEN: GET /user is refused, github-actions[bot] is us", token: actionsTk, mode: ModeAuto, body: newBody,
			setup: func(t *testing.T, f *fixture) {
				f.srv.Seed(owner, repo, pr, githubtest.ActionsBot, report("old"))
				f.srv.Seed(owner, repo, pr, octo, report("a PAT run"))
			},
			want:    map[string]int{"GET /user": 1, "GET list": 1, "PATCH comment": 1},
			outcome: Updated, own: 1, all: 2,
			extraCheck: func(t *testing.T, f *fixture, res *Result, err error) {
				if res.Author.Login != ActionsBot || !res.Author.Bot {
					t.Errorf("author = %+v, want %s (bot)", res.Author, ActionsBot)
				}
				if own := ownReports(f.srv, githubtest.ActionsBot.Login, marker); own[0].Body != newBody {
					t.Errorf("bot comment body = %q", own[0].Body)
				}
			},
		},
		{
			name: "always: a new comment per changed report", token: pat, mode: ModeAlways, body: newBody,
			setup: func(t *testing.T, f *fixture) {
				f.srv.Seed(owner, repo, pr, octo, report("run 1"))
			},
			want:    map[string]int{"GET /user": 1, "GET list": 1, "POST list": 1},
			outcome: Created, own: 2, all: 2,
		},
		{
			name: "always: a re-run with the same report posts nothing", token: pat, mode: ModeAlways, body: newBody,
			setup: func(t *testing.T, f *fixture) {
				f.srv.Seed(owner, repo, pr, octo, report("run 1"))
				f.srv.Seed(owner, repo, pr, octo, newBody)
			},
			want:    map[string]int{"GET /user": 1, "GET list": 1},
			outcome: Unchanged, own: 2, all: 2,
		},
		{
			name: "update-only: no comment yet, none created", token: pat, mode: ModeUpdateOnly, body: newBody,
			want:    map[string]int{"GET /user": 1, "GET list": 1},
			outcome: Skipped, own: 0, all: 0,
		},
		{
			name: "update-only: the existing one is edited", token: pat, mode: ModeUpdateOnly, body: newBody,
			setup: func(t *testing.T, f *fixture) {
				f.srv.Seed(owner, repo, pr, octo, report("old"))
			},
			want:    map[string]int{"GET /user": 1, "GET list": 1, "PATCH comment": 1},
			outcome: Updated, own: 1, all: 1,
		},
		{
			name: "never: no request at all", token: pat, mode: ModeNever, body: newBody,
			want:    map[string]int{},
			outcome: Skipped, own: 0, all: 0,
		},
		{
			name: "secondary rate limit on the POST: wait Retry-After, then one comment", token: pat, mode: ModeAuto, body: newBody,
			setup: func(t *testing.T, f *fixture) {
				f.srv.Inject(githubtest.SecondaryRateLimit(http.MethodPost, listPath, 7))
			},
			want:    map[string]int{"GET /user": 1, "GET list": 1, "POST list": 2},
			outcome: Created, own: 1, all: 1,
			sleeps: []time.Duration{7 * time.Second},
		},
		{
			name: "secondary rate limit without Retry-After: wait a minute, then two", token: pat, mode: ModeAuto, body: newBody,
			setup: func(t *testing.T, f *fixture) {
				fault := githubtest.SecondaryRateLimit(http.MethodGet, listPath, -1)
				fault.Times = 2
				f.srv.Inject(fault)
			},
			want:    map[string]int{"GET /user": 1, "GET list": 3, "POST list": 1},
			outcome: Created, own: 1, all: 1,
			sleeps: []time.Duration{time.Minute, 2 * time.Minute},
		},
		{
			name: "429 on the listing: Retry-After honoured", token: pat, mode: ModeAuto, body: newBody,
			setup: func(t *testing.T, f *fixture) {
				f.srv.Inject(githubtest.TooManyRequests(http.MethodGet, listPath, 3))
			},
			want:    map[string]int{"GET /user": 1, "GET list": 2, "POST list": 1},
			outcome: Created, own: 1, all: 1,
			sleeps: []time.Duration{3 * time.Second},
		},
		{
			name: "429 with an exhausted budget: wait until X-RateLimit-Reset", token: pat, mode: ModeAuto, body: newBody,
			setup: func(t *testing.T, f *fixture) {
				fault := githubtest.TooManyRequests(http.MethodGet, "/user", -1)
				fault.Header.Set("X-RateLimit-Remaining", "0")
				fault.Header.Set("X-RateLimit-Reset", fmt.Sprint(start.Add(42*time.Second).Unix()))
				f.srv.Inject(fault)
			},
			want:    map[string]int{"GET /user": 2, "GET list": 1, "POST list": 1},
			outcome: Created, own: 1, all: 1,
			sleeps: []time.Duration{43 * time.Second},
		},
		{
			name: "primary rate limit resetting soon: wait for the reset", token: pat, mode: ModeAuto, body: newBody,
			setup: func(t *testing.T, f *fixture) {
				f.srv.Inject(githubtest.PrimaryRateLimit(http.MethodGet, listPath, start.Add(20*time.Second)))
			},
			want:    map[string]int{"GET /user": 1, "GET list": 2, "POST list": 1},
			outcome: Created, own: 1, all: 1,
			sleeps: []time.Duration{21 * time.Second},
		},
		{
			name: "secondary rate limit longer than the budget: give up at once", token: pat, mode: ModeAuto, body: newBody,
			setup: func(t *testing.T, f *fixture) {
				f.srv.Inject(githubtest.SecondaryRateLimit(http.MethodPost, listPath, 600))
			},
			want: map[string]int{"GET /user": 1, "GET list": 1, "POST list": 1},
			own:  0, all: 0,
			wantErr: func(err error) bool { var e *gogithub.AbuseRateLimitError; return errors.As(err, &e) },
		},
		{
			name: "502 on the PATCH twice: backoff with jitter, then edited", token: pat, mode: ModeAuto, body: newBody,
			setup: func(t *testing.T, f *fixture) {
				id := f.srv.Seed(owner, repo, pr, octo, report("old"))
				fault := githubtest.BadGateway(http.MethodPatch, editPath(id))
				fault.Times = 2
				f.srv.Inject(fault)
			},
			want:    map[string]int{"GET /user": 1, "GET list": 1, "PATCH comment": 3},
			outcome: Updated, own: 1, all: 1,
			// Equal jitter with rand 0.5: 1s → 0.75s, 2s → 1.5s.
			sleeps: []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond},
		},
		{
			name: "502 on a POST that landed: no duplicate", token: pat, mode: ModeAuto, body: newBody,
			setup: func(t *testing.T, f *fixture) {
				fault := githubtest.BadGateway(http.MethodPost, listPath)
				fault.Apply = true
				f.srv.Inject(fault)
			},
			want:    map[string]int{"GET /user": 1, "GET list": 2, "POST list": 1},
			outcome: Created, own: 1, all: 1,
			sleeps: []time.Duration{750 * time.Millisecond},
		},
		{
			name: "502 on a POST that did not land: posted again", token: pat, mode: ModeAuto, body: newBody,
			setup: func(t *testing.T, f *fixture) {
				f.srv.Inject(githubtest.BadGateway(http.MethodPost, listPath))
			},
			want:    map[string]int{"GET /user": 1, "GET list": 2, "POST list": 2},
			outcome: Created, own: 1, all: 1,
			sleeps: []time.Duration{750 * time.Millisecond},
		},
		{
			name: "503 on every GET /user: five tries, then the error", token: pat, mode: ModeAuto, body: newBody,
			setup: func(t *testing.T, f *fixture) {
				fault := githubtest.BadGateway(http.MethodGet, "/user")
				fault.Status, fault.Times = http.StatusServiceUnavailable, 10
				f.srv.Inject(fault)
			},
			want: map[string]int{"GET /user": 5},
			own:  0, all: 0,
			sleeps:  []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second, 6 * time.Second},
			wantErr: func(err error) bool { return apiStatus(err) == http.StatusServiceUnavailable },
		},
		{
			name: "read-only token: a PermissionError naming pull-requests: write", token: readOnly, mode: ModeAuto, body: newBody,
			want: map[string]int{"GET /user": 1, "GET list": 1, "POST list": 1},
			own:  0, all: 0,
			wantErr: func(err error) bool {
				var pe *PermissionError
				return errors.As(err, &pe) && pe.Permission == "pull-requests: write" &&
					pe.Accepted == "issues=write; pull_requests=write" &&
					strings.Contains(err.Error(), "Resource not accessible by integration")
			},
		},
		{
			name: "body too long: 422, cut once, posted", token: pat, mode: ModeAuto,
			body:    report("| metric | value |\n|---|---|\n" + strings.Repeat("| rmse | 1.2345 |\n", 5000)),
			want:    map[string]int{"GET /user": 1, "GET list": 1, "POST list": 2},
			outcome: Created, own: 1, all: 1,
			extraCheck: func(t *testing.T, f *fixture, res *Result, err error) {
				if !res.Truncated {
					t.Error("Truncated = false")
				}
				c := f.srv.Comments(owner, repo, pr)[0]
				if n := utf8.RuneCountInString(c.Body); n > githubtest.MaxBody {
					t.Errorf("stored body has %d characters", n)
				}
				if !strings.HasPrefix(c.Body, marker) || !strings.HasSuffix(c.Body, TruncationNote+"\n") {
					t.Errorf("cut body lost its marker or note: %q … %q", c.Body[:60], c.Body[len(c.Body)-60:])
				}
				if !strings.Contains(c.Body, "| rmse | 1.2345 |\n\n> [!NOTE]") {
					t.Error("cut is not at a line boundary")
				}
			},
		},
		{
			name: "bad token: 401, one request", token: "ghp_unknown", mode: ModeAuto, body: newBody,
			want:    map[string]int{"GET /user": 1},
			wantErr: func(err error) bool { return apiStatus(err) == http.StatusUnauthorized },
		},
		{
			name: "body without the marker: refused before any request", token: pat, mode: ModeAuto, body: "### report\n",
			want:    map[string]int{},
			wantErr: func(err error) bool { return errors.Is(err, ErrNoMarker) },
		},
		{
			name: "body with the marker below the first line: refused before any request", token: pat, mode: ModeAuto, body: "### report\n" + report("x"),
			want:    map[string]int{},
			wantErr: func(err error) bool { return errors.Is(err, ErrNoMarker) },
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, "/api/v3")
			if tc.setup != nil {
				tc.setup(t, f)
			}
			before := len(f.srv.Requests())
			if before != 0 {
				t.Fatalf("setup sent %d requests", before)
			}
			c := f.client(t, tc.token)
			res, err := c.Upsert(context.Background(), owner, repo, pr, model, tc.body, tc.mode)
			if tc.wantErr != nil {
				if err == nil || !tc.wantErr(err) {
					t.Fatalf("error = %v (%T), not the expected one", err, err)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if res.Outcome != tc.outcome {
				t.Errorf("outcome = %s, want %s", res.Outcome, tc.outcome)
			}
			got := counts(f.srv)
			total := 0
			for _, n := range tc.want {
				total += n
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || len(f.srv.Requests()) != total {
				t.Errorf("requests = %v (total %d), want %v (total %d)", got, len(f.srv.Requests()), tc.want, total)
			}
			if n := len(f.srv.Comments(owner, repo, pr)); n != tc.all {
				t.Errorf("%d comments at the end, want %d", n, tc.all)
			}
			login := octo.Login
			if tc.token != pat {
				login = githubtest.ActionsBot.Login
			}
			own := ownReports(f.srv, login, marker)
			if len(own) != tc.own {
				t.Errorf("%d report comments of ours at the end, want %d", len(own), tc.own)
			}
			if tc.wantErr == nil && tc.outcome != Skipped && len(own) > 0 {
				if last := own[len(own)-1]; !sticky.SameBody(last.Body, tc.body) && !res.Truncated {
					t.Errorf("newest report body = %q, want %q", last.Body, tc.body)
				}
				if res.CommentID == 0 || !strings.Contains(res.URL, fmt.Sprintf("#issuecomment-%d", res.CommentID)) {
					t.Errorf("result names comment %d at %q", res.CommentID, res.URL)
				}
			}
			if got := f.clock.Sleeps(); fmt.Sprint(got) != fmt.Sprint(tc.sleeps) && !(len(got) == 0 && len(tc.sleeps) == 0) {
				t.Errorf("sleeps = %v, want %v", got, tc.sleeps)
			}
			if tc.extraCheck != nil {
				tc.extraCheck(t, f, res, err)
			}
		})
	}
}

// TestUpsertTwiceIsSticky runs one client three times, the last with an
// unchanged body: one comment, created then edited in place, and the
// token's account is asked once.
func TestUpsertTwiceIsSticky(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "/api/v3")
	c := f.client(t, actionsTk)
	for i, body := range []string{report("a"), report("b"), report("b")} {
		if _, err := c.Upsert(context.Background(), owner, repo, pr, model, body, ModeAuto); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	if got := counts(f.srv); fmt.Sprint(got) != fmt.Sprint(map[string]int{"GET /user": 1, "GET list": 3, "POST list": 1, "PATCH comment": 1}) {
		t.Errorf("requests = %v", got)
	}
	if cs := f.srv.Comments(owner, repo, pr); len(cs) != 1 || cs[0].Body != report("b") {
		t.Errorf("comments = %+v", cs)
	}
}

// TestAPIURLAsGiven: GITHUB_API_URL is the API root as given. A GitHub
// Enterprise Server value (https://HOST/api/v3) reaches a server that only
// answers under /api/v3, and a plain root such as a local fake
// (http://127.0.0.1:PORT) is not given an /api/v3 it does not have, as
// go-github's WithEnterpriseURLs would.
func TestAPIURLAsGiven(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, prefix string
		apiURL       func(srv *githubtest.Server) string
		path         string // of GET /user on the server
		status       int
	}{
		{"GHES /api/v3", "/api/v3", func(s *githubtest.Server) string { return s.URL() }, "/api/v3/user", http.StatusOK},
		{"GHES /api/v3/", "/api/v3", func(s *githubtest.Server) string { return s.URL() + "/" }, "/api/v3/user", http.StatusOK},
		{"local fake at the root", "", func(s *githubtest.Server) string { return s.URL() }, "/user", http.StatusOK},
		{"local fake at the root, trailing slash", "", func(s *githubtest.Server) string { return s.URL() + "/" }, "/user", http.StatusOK},
		{"a bare GHES host is not completed", "/api/v3", func(s *githubtest.Server) string { return strings.TrimSuffix(s.URL(), "/api/v3") }, "/user", http.StatusNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tc.prefix)
			apiURL := tc.apiURL(f.srv)
			c, err := NewClient(Options{Token: pat, APIURL: apiURL, HTTPClient: f.srv.Client(), Clock: f.clock})
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.TrimSuffix(apiURL, "/") + "/"; c.BaseURL() != want {
				t.Errorf("BaseURL = %s, want %s", c.BaseURL(), want)
			}
			_, err = c.Author(context.Background())
			if (err == nil) != (tc.status == http.StatusOK) || (err != nil && apiStatus(err) != tc.status) {
				t.Fatalf("GET /user: %v, want status %d", err, tc.status)
			}
			if tc.status != http.StatusOK {
				return
			}
			res, err := c.Upsert(context.Background(), owner, repo, pr, model, report("x"), ModeAuto)
			if err != nil || res.Outcome != Created {
				t.Fatalf("Upsert: %+v, %v", res, err)
			}
			if n := len(f.srv.Comments(owner, repo, pr)); n != 1 {
				t.Errorf("%d comments, want 1", n)
			}
			var got []string
			for _, r := range f.srv.Requests() {
				got = append(got, r.Method+" "+r.Path)
			}
			// The fake records paths without its prefix.
			want := fmt.Sprint([]string{"GET /user", "GET " + listPath, "POST " + listPath})
			if fmt.Sprint(got) != want {
				t.Errorf("requests %v, want %s", got, want)
			}
		})
	}
	// The fake refuses paths outside /api/v3, as GHES does.
	f := newFixture(t, "/api/v3")
	root := strings.TrimSuffix(f.srv.URL(), "/api/v3")
	c, err := NewClient(Options{Token: pat, APIURL: "https://api.github.com", HTTPClient: &http.Client{Transport: &rewrite{target: mustParse(root), base: f.srv.Client().Transport}}, Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Author(context.Background()); apiStatus(err) != http.StatusNotFound {
		t.Errorf("github.com paths on a GHES server: %v, want 404", err)
	}
}

func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// rewrite sends requests for api.github.com to the fake server.
type rewrite struct {
	target *url.URL
	base   http.RoundTripper
	hosts  []string
}

func (r *rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	r.hosts = append(r.hosts, req.URL.Host)
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host = r.target.Scheme, r.target.Host
	return r.base.RoundTrip(req)
}

// TestGitHubDotCom: without GITHUB_API_URL (or with github.com's), the
// client talks to api.github.com at the root path with a Bearer token.
func TestGitHubDotCom(t *testing.T) {
	t.Parallel()
	for _, apiURL := range []string{"", "https://api.github.com", "https://api.github.com/"} {
		f := newFixture(t, "")
		target, _ := url.Parse(f.srv.URL())
		rw := &rewrite{target: target, base: f.srv.Client().Transport}
		c, err := NewClient(Options{Token: pat, APIURL: apiURL, HTTPClient: &http.Client{Transport: rw}, Clock: f.clock})
		if err != nil {
			t.Fatal(err)
		}
		if c.BaseURL() != "https://api.github.com/" {
			t.Errorf("APIURL %q: BaseURL = %s", apiURL, c.BaseURL())
		}
		res, err := c.Upsert(context.Background(), owner, repo, pr, model, report("x"), ModeAuto)
		if err != nil || res.Outcome != Created {
			t.Fatalf("APIURL %q: %v %v", apiURL, res, err)
		}
		for _, h := range rw.hosts {
			if h != "api.github.com" {
				t.Errorf("APIURL %q: request to host %s", apiURL, h)
			}
		}
		if len(rw.hosts) != 3 {
			t.Errorf("APIURL %q: %d requests, want 3", apiURL, len(rw.hosts))
		}
	}
}

func TestAPIURLs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, base, upload string
		bad              bool
	}{
		{in: "", base: "https://api.github.com/", upload: "https://uploads.github.com/"},
		{in: "https://api.github.com", base: "https://api.github.com/", upload: "https://uploads.github.com/"},
		{in: "https://api.github.com/", base: "https://api.github.com/", upload: "https://uploads.github.com/"},
		{in: "https://ghe.example.com/api/v3", base: "https://ghe.example.com/api/v3/", upload: "https://ghe.example.com/api/uploads/"},
		{in: " https://ghe.example.com/api/v3/ ", base: "https://ghe.example.com/api/v3/", upload: "https://ghe.example.com/api/uploads/"},
		{in: "https://api.acme.ghe.com", base: "https://api.acme.ghe.com/", upload: "https://uploads.acme.ghe.com/"},
		{in: "http://127.0.0.1:8080", base: "http://127.0.0.1:8080/", upload: "http://127.0.0.1:8080/"},
		{in: "http://127.0.0.1:8080/github/", base: "http://127.0.0.1:8080/github/", upload: "http://127.0.0.1:8080/github/"},
		{in: "https://user:secret@ghe.example.com/api/v3?x=1#f", base: "https://ghe.example.com/api/v3/", upload: "https://ghe.example.com/api/uploads/"},
		{in: "ftp://x/api/v3", bad: true},
		{in: "not a url", bad: true},
		{in: "127.0.0.1:8080", bad: true},
	}
	for _, tc := range cases {
		base, upload, err := apiURLs(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: no error", tc.in)
			}
			continue
		}
		if err != nil || base.String() != tc.base || upload.String() != tc.upload {
			t.Errorf("%q: got %v %v %v; want %q %q", tc.in, base, upload, err, tc.base, tc.upload)
		}
	}
}

func TestNewClientNeedsTokenAndHTTPClient(t *testing.T) {
	t.Parallel()
	if _, err := NewClient(Options{Token: "", HTTPClient: &http.Client{}}); err == nil || !strings.Contains(err.Error(), "github_token") {
		t.Errorf("empty token: %v", err)
	}
	if _, err := NewClient(Options{Token: "x"}); err == nil {
		t.Error("nil HTTP client accepted")
	}
}
