package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelci/modelci/internal/apifake"
	"github.com/modelci/modelci/internal/gitlab/gitlabtest"
	"github.com/modelci/modelci/internal/sticky"
)

const (
	projectID   = 4711
	projectPath = "acme/ml/house-prices"
	iid         = 7
	model       = "house-prices"

	projectToken = "glpat-project-token-0001"
	personal     = "glpat-personal-token-0002"
	readOnly     = "glpat-read-api-token-0003"
	jobToken     = "glcbt-job-token-0004"
)

var (
	bot      = gitlabtest.User{ID: 9001, Username: "project_4711_bot_1a2b", Bot: true}
	alice    = gitlabtest.User{ID: 42, Username: "alice"}
	reviewer = gitlabtest.User{ID: 43, Username: "reviewer"}
	start    = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

	notesAPI = fmt.Sprintf("/projects/%d/merge_requests/%d/notes", projectID, iid)
)

func report(text string) string {
	return sticky.Marker(model) + "\n### Model report: " + model + "\n\n" + text + "\n"
}

type fixture struct {
	srv   *gitlabtest.Server
	clock *apifake.Clock
}

func newFixture(t *testing.T, o gitlabtest.Options) *fixture {
	t.Helper()
	srv := gitlabtest.New(o)
	t.Cleanup(srv.Close)
	srv.AddToken(projectToken, gitlabtest.Token{User: bot})
	srv.AddToken(personal, gitlabtest.Token{User: alice})
	srv.AddToken(readOnly, gitlabtest.Token{User: bot, ReadOnly: true})
	srv.AddJobToken(jobToken)
	srv.AddMergeRequest(projectID, projectPath, iid)
	return &fixture{srv: srv, clock: apifake.NewClock(start)}
}

func (f *fixture) client(t *testing.T, token string, kind TokenKind) *Client {
	t.Helper()
	c, err := NewClient(Options{Token: token, TokenKind: kind, APIURL: f.srv.URL(), HTTPClient: f.srv.Client(), Clock: f.clock, Rand: func() float64 { return 0.5 }, UserAgent: "modelci-test"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// counts summarises the requests as "METHOD path" → count, with the notes
// collection shortened to "notes" and a note to "note".
func counts(srv *gitlabtest.Server) map[string]int {
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

func ours(srv *gitlabtest.Server, u gitlabtest.User) []gitlabtest.Note {
	var out []gitlabtest.Note
	for _, n := range srv.Notes(projectID, iid) {
		if n.Author.ID == u.ID && sticky.Carries(n.Body, sticky.Marker(model)) {
			out = append(out, n)
		}
	}
	return out
}

func TestUpsert(t *testing.T) {
	t.Parallel()
	body := report("rmse 1.00 → 0.90")
	cases := []struct {
		name    string
		opts    gitlabtest.Options
		token   string
		kind    TokenKind
		project string
		mode    sticky.Mode
		setup   func(f *fixture)
		want    map[string]int
		outcome sticky.Outcome
		own     int // our report notes at the end
		all     int
		sleeps  []time.Duration
		wantErr func(error) bool
		check   func(t *testing.T, f *fixture, res *Result)
	}{
		{
			name: "project access token: create when there is none", token: projectToken, mode: sticky.ModeAuto,
			setup:   func(f *fixture) { f.srv.Seed(projectID, iid, reviewer, "LGTM", false) },
			want:    map[string]int{"GET /user": 1, "GET notes": 1, "POST notes": 1},
			outcome: sticky.Created, own: 1, all: 2,
			check: func(t *testing.T, f *fixture, res *Result) {
				if res.Author.ID != bot.ID || !res.Author.Bot {
					t.Errorf("author = %+v, want the project bot", res.Author)
				}
				for _, r := range f.srv.Requests() {
					if r.Auth != "PRIVATE-TOKEN" {
						t.Errorf("%s %s authenticated with %q, want PRIVATE-TOKEN", r.Method, r.Path, r.Auth)
					}
				}
			},
		},
		{
			name: "edit ours, leave others alone", token: projectToken, mode: sticky.ModeAuto,
			setup: func(f *fixture) {
				f.srv.Seed(projectID, iid, reviewer, "first", false)
				f.srv.Seed(projectID, iid, bot, report("rmse 1.00"), false)
				f.srv.Seed(projectID, iid, reviewer, "second", false)
			},
			want:    map[string]int{"GET /user": 1, "GET notes": 1, "PUT note": 1},
			outcome: sticky.Updated, own: 1, all: 3,
		},
		{
			name: "bearer token and a project path instead of the ID", token: personal, kind: BearerToken, project: projectPath, mode: sticky.ModeAuto,
			setup:   func(f *fixture) { f.srv.Seed(projectID, iid, alice, report("old"), false) },
			want:    map[string]int{"GET /user": 1, "GET notes": 1, "PUT note": 1},
			outcome: sticky.Updated, own: 1, all: 1,
			check: func(t *testing.T, f *fixture, res *Result) {
				for _, r := range f.srv.Requests() {
					if r.Auth != "Bearer" {
						t.Errorf("%s %s authenticated with %q, want Bearer", r.Method, r.Path, r.Auth)
					}
					if r.Path != "/user" && !strings.HasPrefix(r.Path, "/projects/acme%2Fml%2Fhouse-prices/") {
						t.Errorf("path %s does not name the project by its escaped path", r.Path)
					}
				}
			},
		},
		{
			name: "unchanged body sends no write", token: projectToken, mode: sticky.ModeAuto,
			setup:   func(f *fixture) { f.srv.Seed(projectID, iid, bot, strings.ReplaceAll(body, "\n", "\r\n"), false) },
			want:    map[string]int{"GET /user": 1, "GET notes": 1},
			outcome: sticky.Unchanged, own: 1, all: 1,
		},
		{
			name: "250 notes: three pages of 100, the newest of ours is edited", token: projectToken, mode: sticky.ModeAuto,
			setup: func(f *fixture) {
				for i := 0; i < 250; i++ {
					switch i {
					case 5:
						f.srv.Seed(projectID, iid, bot, report("old run"), false)
					case 230:
						f.srv.Seed(projectID, iid, bot, report("newer run"), false)
					default:
						f.srv.Seed(projectID, iid, reviewer, fmt.Sprintf("note %d", i), false)
					}
				}
			},
			want:    map[string]int{"GET /user": 1, "GET notes": 3, "PUT note": 1},
			outcome: sticky.Updated, own: 2, all: 250,
			check: func(t *testing.T, f *fixture, res *Result) {
				own := ours(f.srv, bot)
				if own[0].Body != report("old run") || own[1].Body != body || res.NoteID != own[1].ID {
					t.Errorf("edited the wrong note: %q, %q (id %d)", own[0].Body, own[1].Body, res.NoteID)
				}
				pages := []string{}
				for _, r := range f.srv.Requests() {
					if r.Method == http.MethodGet && r.Path == notesAPI {
						if r.Query.Get("per_page") != "100" {
							t.Errorf("per_page=%q, want 100", r.Query.Get("per_page"))
						}
						pages = append(pages, r.Query.Get("page"))
					}
				}
				if fmt.Sprint(pages) != "[1 2 3]" {
					t.Errorf("pages %v", pages)
				}
			},
		},
		{
			name: "beyond 10,000 items: no totals, X-Next-Page still followed", opts: gitlabtest.Options{OmitTotals: true}, token: projectToken, mode: sticky.ModeAuto,
			setup: func(f *fixture) {
				for i := 0; i < 150; i++ {
					f.srv.Seed(projectID, iid, reviewer, fmt.Sprintf("note %d", i), false)
				}
				f.srv.Seed(projectID, iid, bot, report("old"), false)
			},
			want:    map[string]int{"GET /user": 1, "GET notes": 2, "PUT note": 1},
			outcome: sticky.Updated, own: 1, all: 151,
		},
		{
			name: "only a Link header: rel=next is followed", opts: gitlabtest.Options{OmitNextPage: true}, token: projectToken, mode: sticky.ModeAuto,
			setup: func(f *fixture) {
				f.srv.Seed(projectID, iid, bot, report("old"), false)
				for i := 0; i < 220; i++ {
					f.srv.Seed(projectID, iid, reviewer, fmt.Sprintf("note %d", i), false)
				}
			},
			want:    map[string]int{"GET /user": 1, "GET notes": 3, "PUT note": 1},
			outcome: sticky.Updated, own: 1, all: 221,
		},
		{
			name: "another model's report holding our marker in its data, or ours below the first line, is not ours", token: projectToken, mode: sticky.ModeAuto,
			setup: func(f *fixture) {
				f.srv.Seed(projectID, iid, bot, sticky.Marker("churn")+"\n"+sticky.Marker(model)+"\n| `"+sticky.Marker(model)+"` |\n", false)
				f.srv.Seed(projectID, iid, bot, "Quoting the bot:\n"+report("old"), false)
			},
			want:    map[string]int{"GET /user": 1, "GET notes": 1, "POST notes": 1},
			outcome: sticky.Created, own: 1, all: 3,
			check: func(t *testing.T, f *fixture, res *Result) {
				if n := f.srv.Notes(projectID, iid)[0]; !sticky.Carries(n.Body, sticky.Marker("churn")) {
					t.Errorf("churn's report was overwritten with %q", n.Body)
				}
			},
		},
		{
			name: "someone else's note with our marker, a system note and another model's report are not ours", token: projectToken, mode: sticky.ModeAuto,
			setup: func(f *fixture) {
				f.srv.Seed(projectID, iid, reviewer, report("copied by a human"), false)
				f.srv.Seed(projectID, iid, bot, report("system"), true)
				f.srv.Seed(projectID, iid, bot, sticky.Marker("house-prices-v2")+"\nother\n", false)
			},
			want:    map[string]int{"GET /user": 1, "GET notes": 1, "POST notes": 1},
			outcome: sticky.Created, own: 2, all: 4,
			check: func(t *testing.T, f *fixture, res *Result) {
				if n := f.srv.Notes(projectID, iid)[0]; n.Body != report("copied by a human") {
					t.Errorf("the reviewer's note was changed to %q", n.Body)
				}
			},
		},
		{
			name: "always: a new note per changed report", token: projectToken, mode: sticky.ModeAlways,
			setup:   func(f *fixture) { f.srv.Seed(projectID, iid, bot, report("run 1"), false) },
			want:    map[string]int{"GET /user": 1, "GET notes": 1, "POST notes": 1},
			outcome: sticky.Created, own: 2, all: 2,
		},
		{
			name: "update-only: none yet, none created", token: projectToken, mode: sticky.ModeUpdateOnly,
			want:    map[string]int{"GET /user": 1, "GET notes": 1},
			outcome: sticky.Skipped, own: 0, all: 0,
		},
		{
			name: "never: no request", token: projectToken, mode: sticky.ModeNever,
			want: map[string]int{}, outcome: sticky.Skipped,
		},
		{
			name: "429 on the POST: Retry-After honoured, one note", token: projectToken, mode: sticky.ModeAuto,
			setup: func(f *fixture) {
				f.srv.Inject(gitlabtest.Fault{Method: "POST", Path: notesAPI, Status: 429, Header: http.Header{"Retry-After": {"6"}}, Body: `{"message":"429 Too Many Requests"}`})
			},
			want:    map[string]int{"GET /user": 1, "GET notes": 1, "POST notes": 2},
			outcome: sticky.Created, own: 1, all: 1, sleeps: []time.Duration{6 * time.Second},
		},
		{
			name: "429 on the listing with RateLimit-Reset", token: projectToken, mode: sticky.ModeAuto,
			setup: func(f *fixture) {
				f.srv.Inject(gitlabtest.Fault{Method: "GET", Path: notesAPI, Status: 429, Header: http.Header{"Ratelimit-Remaining": {"0"}, "Ratelimit-Reset": {fmt.Sprint(start.Add(9 * time.Second).Unix())}}, Body: `{"message":"429 Too Many Requests"}`})
			},
			want:    map[string]int{"GET /user": 1, "GET notes": 2, "POST notes": 1},
			outcome: sticky.Created, own: 1, all: 1, sleeps: []time.Duration{10 * time.Second},
		},
		{
			name: "502 on the POST that took effect: listed again, not posted twice", token: projectToken, mode: sticky.ModeAuto,
			setup: func(f *fixture) {
				f.srv.Inject(gitlabtest.Fault{Method: "POST", Path: notesAPI, Status: 502, Body: `{"message":"502 Bad Gateway"}`, Apply: true})
			},
			want:    map[string]int{"GET /user": 1, "GET notes": 2, "POST notes": 1},
			outcome: sticky.Created, own: 1, all: 1, sleeps: []time.Duration{750 * time.Millisecond},
		},
		{
			name: "502 on the POST that did not take effect: posted again", token: projectToken, mode: sticky.ModeAuto,
			setup: func(f *fixture) {
				f.srv.Inject(gitlabtest.Fault{Method: "POST", Path: notesAPI, Status: 502, Body: `{"message":"502 Bad Gateway"}`})
			},
			want:    map[string]int{"GET /user": 1, "GET notes": 2, "POST notes": 2},
			outcome: sticky.Created, own: 1, all: 1, sleeps: []time.Duration{750 * time.Millisecond},
		},
		{
			name: "503 on the listing is retried with backoff", token: projectToken, mode: sticky.ModeAuto,
			setup: func(f *fixture) {
				f.srv.Inject(gitlabtest.Fault{Method: "GET", Path: notesAPI, Status: 503, Body: `{"message":"503"}`})
			},
			want:    map[string]int{"GET /user": 1, "GET notes": 2, "POST notes": 1},
			outcome: sticky.Created, own: 1, all: 1, sleeps: []time.Duration{750 * time.Millisecond},
		},
		{
			name: "job token: GitLab refuses it, nothing is written", token: jobToken, kind: JobToken, mode: sticky.ModeAuto,
			want: map[string]int{"GET /user": 1}, all: 0,
			wantErr: func(err error) bool {
				var pe *PermissionError
				return errors.As(err, &pe) && pe.Kind == JobToken && pe.Err.Status == http.StatusUnauthorized
			},
		},
		{
			name: "read_api token: the POST is refused with insufficient_scope", token: readOnly, mode: sticky.ModeAuto,
			want: map[string]int{"GET /user": 1, "GET notes": 1, "POST notes": 1}, all: 0,
			wantErr: func(err error) bool {
				var pe *PermissionError
				return errors.As(err, &pe) && pe.Err.Status == http.StatusForbidden && strings.Contains(pe.Error(), "insufficient_scope") && pe.Op == "create the merge request note"
			},
		},
		{
			name: "unknown token: 401", token: "glpat-revoked", mode: sticky.ModeAuto,
			want: map[string]int{"GET /user": 1},
			wantErr: func(err error) bool {
				var pe *PermissionError
				return errors.As(err, &pe) && pe.Err.Status == http.StatusUnauthorized && !strings.Contains(err.Error(), "glpat-revoked")
			},
		},
		{
			name: "unknown merge request: 404, not a permission problem", token: projectToken, project: "999", mode: sticky.ModeAuto,
			want: map[string]int{"GET /user": 1, "GET notes": 1},
			wantErr: func(err error) bool {
				var pe *PermissionError
				return status(err) == http.StatusNotFound && !errors.As(err, &pe) && strings.Contains(err.Error(), "404")
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tc.opts)
			if tc.setup != nil {
				tc.setup(f)
			}
			project := tc.project
			if project == "" {
				project = fmt.Sprint(projectID)
			}
			res, err := f.client(t, tc.token, tc.kind).Upsert(context.Background(), project, iid, model, body, tc.mode)
			if tc.wantErr != nil {
				if err == nil || !tc.wantErr(err) {
					t.Fatalf("err = %v", err)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if res.Outcome != tc.outcome {
				t.Errorf("outcome %s, want %s", res.Outcome, tc.outcome)
			}
			got := counts(f.srv)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("requests %v, want %v", got, tc.want)
			}
			if n := len(ours(f.srv, bot)) + len(ours(f.srv, alice)); n != tc.own {
				t.Errorf("%d report notes of ours, want %d", n, tc.own)
			}
			if n := len(f.srv.Notes(projectID, iid)); n != tc.all {
				t.Errorf("%d notes, want %d", n, tc.all)
			}
			if s := f.clock.Sleeps(); fmt.Sprint(s) != fmt.Sprint(tc.sleeps) {
				t.Errorf("sleeps %v, want %v", s, tc.sleeps)
			}
			if tc.wantErr == nil && tc.outcome != sticky.Skipped && tc.outcome != sticky.Unchanged {
				// This run's report is the newest of ours.
				own := append(ours(f.srv, bot), ours(f.srv, alice)...)
				if last := own[len(own)-1]; last.Body != body || last.ID != res.NoteID {
					t.Errorf("note %d has %q, want this report", last.ID, last.Body)
				}
			}
			if tc.check != nil && err == nil {
				tc.check(t, f, res)
			}
		})
	}
}

// TestUpsertTwice: the first run creates the note, the second edits it.
func TestUpsertTwice(t *testing.T) {
	t.Parallel()
	f := newFixture(t, gitlabtest.Options{})
	c := f.client(t, projectToken, PrivateToken)
	ctx := context.Background()
	first, err := c.Upsert(ctx, fmt.Sprint(projectID), iid, model, report("run 1"), sticky.ModeAuto)
	if err != nil || first.Outcome != sticky.Created {
		t.Fatalf("first run: %+v, %v", first, err)
	}
	second, err := c.Upsert(ctx, fmt.Sprint(projectID), iid, model, report("run 2"), sticky.ModeAuto)
	if err != nil || second.Outcome != sticky.Updated || second.NoteID != first.NoteID {
		t.Fatalf("second run: %+v, %v", second, err)
	}
	notes := f.srv.Notes(projectID, iid)
	if len(notes) != 1 || notes[0].Body != report("run 2") {
		t.Errorf("notes = %+v", notes)
	}
	// GET /user is asked once per client.
	if got := counts(f.srv); fmt.Sprint(got) != fmt.Sprint(map[string]int{"GET /user": 1, "GET notes": 2, "POST notes": 1, "PUT note": 1}) {
		t.Errorf("requests %v", got)
	}
}

func TestUpsertRefusesBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t, gitlabtest.Options{})
	c := f.client(t, projectToken, PrivateToken)
	ctx := context.Background()
	cases := []struct {
		name    string
		project string
		iid     int
		body    string
		want    error
		text    string
	}{
		{"no marker", "1", 1, "no marker here", ErrNoMarker, ""},
		{"marker below the first line", "1", 1, "intro\n" + report("x"), ErrNoMarker, ""},
		{"too long", "1", 1, report(strings.Repeat("é", MaxNoteChars)), ErrTooLong, ""},
		{"no project", "", 1, report("x"), nil, "need a project"},
		{"no IID", "1", 0, report("x"), nil, "need a project"},
	}
	for _, tc := range cases {
		_, err := c.Upsert(ctx, tc.project, tc.iid, model, tc.body, sticky.ModeAuto)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
	if n := len(f.srv.Requests()); n != 0 {
		t.Errorf("%d requests sent for bad input", n)
	}
	if _, err := c.Upsert(ctx, "1", 1, model, report("x"), "sometimes"); err == nil {
		t.Error("an unknown mode was accepted")
	}
}

func TestNewClient(t *testing.T) {
	t.Parallel()
	hc := &http.Client{}
	cases := []struct {
		name string
		o    Options
		base string
		err  string
	}{
		{"default URL", Options{Token: "t", HTTPClient: hc}, DefaultAPIURL, ""},
		{"self-managed, trailing slash", Options{Token: "t", HTTPClient: hc, APIURL: "https://git.example.com/api/v4/"}, "https://git.example.com/api/v4", ""},
		{"credentials in the URL are dropped", Options{Token: "t", HTTPClient: hc, APIURL: "https://u:p@git.example.com/api/v4"}, "https://git.example.com/api/v4", ""},
		{"no token", Options{HTTPClient: hc}, "", "no token"},
		{"no HTTP client", Options{Token: "t"}, "", "no HTTP client"},
		{"not a URL", Options{Token: "t", HTTPClient: hc, APIURL: "git.example.com"}, "", "not an http(s) URL"},
		{"bad kind", Options{Token: "t", HTTPClient: hc, TokenKind: "cookie"}, "", "unknown token kind"},
	}
	for _, tc := range cases {
		c, err := NewClient(tc.o)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err = %v, want %q", tc.name, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case c.BaseURL() != tc.base:
			t.Errorf("%s: base %s, want %s", tc.name, c.BaseURL(), tc.base)
		}
	}
}

// TestLinkToAnotherHost: a rel="next" Link to another host is not followed,
// so the token never leaves the API's host.
func TestLinkToAnotherHost(t *testing.T) {
	t.Parallel()
	c, err := NewClient(Options{Token: "t", HTTPClient: &http.Client{}, APIURL: "https://git.example.com/api/v4"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		h    http.Header
		page int
		link string
	}{
		{http.Header{"X-Next-Page": {"3"}}, 3, ""},
		{http.Header{"X-Next-Page": {""}, "Link": {`<https://git.example.com/api/v4/x?page=2>; rel="next"`}}, 0, ""},
		{http.Header{"Link": {`<https://git.example.com/api/v4/x?page=2>; rel="next", <https://git.example.com/api/v4/x?page=1>; rel="first"`}}, 0, "https://git.example.com/api/v4/x?page=2"},
		{http.Header{"Link": {`<https://evil.example.net/x?page=2>; rel="next"`}}, 0, ""},
		{http.Header{"Link": {`<http://git.example.com/api/v4/x?page=2>; rel="next"`}}, 0, ""},
		{http.Header{}, 0, ""},
	}
	for _, tc := range cases {
		page, link := c.nextPage(tc.h)
		got := ""
		if link != nil {
			got = link.String()
		}
		if page != tc.page || got != tc.link {
			t.Errorf("%v: page %d, link %q; want %d, %q", tc.h, page, got, tc.page, tc.link)
		}
	}
}
